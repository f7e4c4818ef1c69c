// herald-bench-peer: the go-control-plane comparison server for Herald's benchmark. It serves ADS
// on loopback and takes the same control commands as Herald's bench entry (one JSON object per
// line on stdin, one reply per line on stdout; see bench/mesh.ts).
//
//	-mode snapshot  SnapshotCache, one snapshot per node (Dyplomat's way)
//	-mode linear    LinearCache for EDS plus one shared snapshot for CDS (Contour's way)
//
// A node that declares the services it calls (Node metadata herald.io/dependencies) is served
// only those: in snapshot mode from one snapshot per distinct set, in linear mode from a CDS
// LinearCache it is subscribed to by name (scope.go, publish.go).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
)

type command struct {
	ID        int        `json:"id"`
	Op        string     `json:"op"`
	Endpoints []endpoint `json:"endpoints,omitempty"`
	Endpoint  *endpoint  `json:"endpoint,omitempty"`
	Pod       string     `json:"pod,omitempty"`
}

type reply struct {
	ID    int                `json:"id"`
	OK    bool               `json:"ok"`
	Error string             `json:"error,omitempty"`
	AtMs  float64            `json:"atMs,omitempty"`
	Stats map[string]float64 `json:"stats,omitempty"`
}

var out = struct {
	sync.Mutex
	enc *json.Encoder
}{enc: json.NewEncoder(os.Stdout)}

func send(v any) {
	out.Lock()
	defer out.Unlock()
	_ = out.enc.Encode(v)
}

func nowMs() float64 { return float64(time.Now().UnixNano()) / 1e6 }

func main() {
	mode := flag.String("mode", "snapshot", "snapshot (one snapshot per node) or linear (LinearCache for EDS)")
	addr := flag.String("addr", "127.0.0.1:0", "xDS listen address (loopback)")
	flag.Parse()

	ctx := context.Background()
	var p publisher
	switch *mode {
	case "snapshot":
		p = newSnapshotPublisher()
	case "linear":
		p = newLinearPublisher()
	default:
		fmt.Fprintf(os.Stderr, "unknown mode %q\n", *mode)
		os.Exit(2)
	}

	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "listen: %v\n", err)
		os.Exit(1)
	}
	// The options go-control-plane's own example server uses for many long-lived streams.
	grpcServer := grpc.NewServer(
		grpc.MaxConcurrentStreams(1000000),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 30 * time.Second, Timeout: 5 * time.Second}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 30 * time.Second, PermitWithoutStream: true}),
	)
	xds := server.NewServer(ctx, p.cache(), p.callbacks())
	discoverygrpc.RegisterAggregatedDiscoveryServiceServer(grpcServer, xds)
	go func() { _ = grpcServer.Serve(lis) }()
	send(map[string]any{"event": "listening", "port": lis.Addr().(*net.TCPAddr).Port})

	mesh := newMesh()
	in := bufio.NewReaderSize(os.Stdin, 1<<20)
	for {
		line, err := in.ReadBytes('\n')
		if len(line) > 1 {
			handle(line, mesh, p)
		}
		if err == io.EOF {
			grpcServer.Stop()
			return
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "stdin: %v\n", err)
			os.Exit(1)
		}
	}
}

// handle answers first and publishes after, as Herald's entry does: the reply carries the moment
// the change was observed, and the orchestrator starts waiting for the streams at once.
func handle(line []byte, m *mesh, p publisher) {
	var c command
	if err := json.Unmarshal(line, &c); err != nil {
		send(reply{ID: -1, Error: err.Error()})
		return
	}
	at := nowMs()
	var changed []string
	switch c.Op {
	case "load":
		for _, e := range c.Endpoints {
			m.put(e)
		}
		p.load(m)
		send(reply{ID: c.ID, OK: true, AtMs: nowMs()})
		return
	case "drain":
		service, ok := m.drain(c.Pod)
		if !ok {
			send(reply{ID: c.ID, Error: "unknown pod " + c.Pod})
			return
		}
		changed = []string{service}
	case "add":
		if c.Endpoint == nil {
			send(reply{ID: c.ID, Error: "add needs endpoint"})
			return
		}
		m.put(*c.Endpoint)
		changed = []string{c.Endpoint.Service}
	case "remove":
		service, ok := m.remove(c.Pod)
		if !ok {
			send(reply{ID: c.ID, Error: "unknown pod " + c.Pod})
			return
		}
		changed = []string{service}
	case "stats":
		send(reply{ID: c.ID, OK: true, Stats: map[string]float64{}})
		return
	case "quit":
		send(reply{ID: c.ID, OK: true})
		os.Exit(0)
	default:
		send(reply{ID: c.ID, Error: "unknown op " + c.Op})
		return
	}
	send(reply{ID: c.ID, OK: true, AtMs: at})
	p.update(m, changed)
}

// publisher is one way of feeding go-control-plane's caches.
type publisher interface {
	cache() cache.Cache
	callbacks() server.Callbacks
	load(m *mesh)
	update(m *mesh, services []string)
}
