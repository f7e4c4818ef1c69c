package main

// The worker against a real go-control-plane ADS server (grpc-go) on loopback: full config on
// every stream, a drain seen and ACKed by every stream, EDS ACKs larger than the server's
// initial 64 KiB window (so they wait for WINDOW_UPDATE), and the server decoding them intact.
// Scoped Envoys against a server that keys snapshots by the declared set: each stream holds its
// own set, a drain is done once every dependent has it, and what a server sends outside a
// stream's set is counted (out of scope, and leaked drains).

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc"
)

type oneNode struct{}

func (oneNode) ID(*corev3.Node) string { return "all" }

const (
	testClusters = 1500
	testStreams  = 20
)

func clusterName(i int) string { return fmt.Sprintf("service-%04d-%s", i, strings.Repeat("x", 40)) }

func testSnapshot(t *testing.T, version string, drainingIP string) *cache.Snapshot {
	t.Helper()
	var clusters, assignments []types.Resource
	for i := range testClusters {
		name := clusterName(i)
		clusters = append(clusters, &clusterv3.Cluster{Name: name})
		eps := []testEndpoint{{fmt.Sprintf("10.%d.%d.1", i/250, i%250), corev3.HealthStatus_HEALTHY}, {fmt.Sprintf("10.%d.%d.2", i/250, i%250), corev3.HealthStatus_HEALTHY}}
		for j := range eps {
			if eps[j].ip == drainingIP {
				eps[j].health = corev3.HealthStatus_DRAINING
			}
		}
		assignments = append(assignments, assignment(name, eps))
	}
	snap, err := cache.NewSnapshot(version, map[resource.Type][]types.Resource{resource.ClusterType: clusters, resource.EndpointType: assignments})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

type event struct {
	Event      string                 `json:"event"`
	IP         string                 `json:"ip"`
	At         float64                `json:"at"`
	Alive      int                    `json:"alive"`
	Full       int                    `json:"full"`
	Responses  int                    `json:"responses"`
	Bytes      int64                  `json:"bytes"`
	OutOfScope int64                  `json:"outOfScope"`
	FirstGone  *string                `json:"firstGone"`
	Drains     map[string]*drainTimes `json:"drains"`
}

// serveADS serves xds on a loopback port; the caller stops the server.
func serveADS(t *testing.T, xds server.Server) (*grpc.Server, int) {
	t.Helper()
	grpcServer := grpc.NewServer()
	discoveryv3.RegisterAggregatedDiscoveryServiceServer(grpcServer, xds)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = grpcServer.Serve(lis) }()
	return grpcServer, lis.Addr().(*net.TCPAddr).Port
}

// eventPipe is a worker's stdout whose events arrive, decoded, on events.
func eventPipe(t *testing.T, events chan<- event) io.Writer {
	reader, writer := io.Pipe()
	go func() {
		lines := bufio.NewScanner(reader)
		lines.Buffer(make([]byte, 1<<16), 1<<24)
		for lines.Scan() {
			var e event
			if err := json.Unmarshal(lines.Bytes(), &e); err != nil {
				t.Errorf("bad event %q: %v", lines.Text(), err)
				continue
			}
			events <- e
		}
	}()
	return writer
}

// waitEvent returns the next event named want, failing the test at the deadline.
func waitEvent(t *testing.T, events <-chan event, want string) event {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case e := <-events:
			if e.Event == want {
				return e
			}
		case <-deadline:
			t.Fatalf("no %q event within 30 s", want)
		}
	}
}

func TestStreamsAgainstGoControlPlane(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	snapshots := cache.NewSnapshotCache(true, oneNode{}, nil)
	if err := snapshots.SetSnapshot(ctx, "all", testSnapshot(t, "1", "")); err != nil {
		t.Fatal(err)
	}
	var fullAcks atomic.Int64
	var badAcks atomic.Int64
	callbacks := server.CallbackFuncs{StreamRequestFunc: func(_ int64, req *discoveryv3.DiscoveryRequest) error {
		if req.TypeUrl == resource.EndpointType && req.VersionInfo == "2" {
			if len(req.ResourceNames) == testClusters && req.ResourceNames[0] == clusterName(0) && req.ResourceNames[testClusters-1] == clusterName(testClusters-1) {
				fullAcks.Add(1)
			} else {
				badAcks.Add(1)
			}
		}
		return nil
	}}
	grpcServer, port := serveADS(t, server.NewServer(ctx, snapshots, callbacks))
	defer grpcServer.Stop()

	events := make(chan event, 64)
	w := newWorker(newEventWriter(eventPipe(t, events)))
	before := nowMs()
	w.handle(command{Op: "connect", Port: port, Count: testStreams, Prefix: "t", ExpectedClusters: testClusters})
	full := waitEvent(t, events, "full")
	if full.At < before || full.At > nowMs() {
		t.Errorf("full at %f, outside [%f, now]", full.At, before)
	}
	w.handle(command{Op: "status"})
	status := waitEvent(t, events, "status")
	if status.Alive != testStreams || status.Full != testStreams || status.FirstGone != nil {
		t.Fatalf("status after full: %+v", status)
	}
	if status.Responses < 2*testStreams {
		t.Errorf("%d responses for %d streams (a CDS and an EDS response each at least)", status.Responses, testStreams)
	}

	// One drain: only the watched address of the watched service counts.
	target := clusterName(7)
	ip := "10.0.7.2"
	w.handle(command{Op: "watch", Service: target, IP: ip})
	drainAt := nowMs()
	if err := snapshots.SetSnapshot(ctx, "all", testSnapshot(t, "2", ip)); err != nil {
		t.Fatal(err)
	}
	if done := waitEvent(t, events, "done"); done.IP != ip {
		t.Fatalf("done for %q, want %q", done.IP, ip)
	}
	w.handle(command{Op: "collect", IPs: []string{ip, "10.9.9.9"}})
	collected := waitEvent(t, events, "collected")
	times := collected.Drains[ip]
	if times == nil || len(times.Received) != testStreams || len(times.Acked) != testStreams {
		t.Fatalf("collected %+v", collected.Drains)
	}
	for i := range times.Received {
		if times.Received[i] < drainAt || times.Acked[i] < times.Received[i] {
			t.Errorf("stream %d: received %f acked %f, drain set at %f", i, times.Received[i], times.Acked[i], drainAt)
		}
	}
	if _, extra := collected.Drains["10.9.9.9"]; extra {
		t.Errorf("an address never watched was collected")
	}

	// Every stream's ACK of version 2 reached the server whole, though each is > 64 KiB.
	deadline := time.Now().Add(30 * time.Second)
	for fullAcks.Load() < testStreams && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if fullAcks.Load() < testStreams || badAcks.Load() != 0 {
		t.Fatalf("server got %d whole EDS ACKs of version 2 (want %d) and %d with other names", fullAcks.Load(), testStreams, badAcks.Load())
	}
	if ack := len(appendRequest(nil, []byte("2"), nil, w.names.encoded, edsTypeField, []byte("1"))); ack <= 65535 {
		t.Fatalf("an EDS ACK is %d bytes; the test needs one above the server's initial window", ack)
	}

	// Streams the server ends are gone, with a reason.
	grpcServer.Stop()
	deadline = time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		w.handle(command{Op: "status"})
		if s := waitEvent(t, events, "status"); s.Alive == 0 {
			if s.FirstGone == nil || *s.FirstGone == "" {
				t.Fatalf("streams gone without a reason: %+v", s)
			}
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("streams still alive 30 s after the server stopped")
}

func TestDependenciesMetadata(t *testing.T) {
	sc := newScope([]string{"svc-b", "svc-a"})
	req := decodeRequest(t, appendRequest(nil, nil, encodeNodeWithMetadata("n-1", "bench", sc.metadata), nil, cdsTypeField, nil))
	node := req.GetNode()
	if node.GetId() != "n-1" || node.GetCluster() != "bench" || len(node.GetExtensions()) != envoyExtensions {
		t.Fatalf("node %v %v, %d extensions", node.GetId(), node.GetCluster(), len(node.GetExtensions()))
	}
	if got := declared(node); !slices.Equal(got, []string{"svc-a", "svc-b"}) {
		t.Fatalf("declared %v", got)
	}
	// test/bench/loadgen-node.test.ts pins the same digest: both load generators declare sets alike.
	if digest := fmt.Sprintf("%x", sha256.Sum256(encodeNodeWithMetadata("n-1", "bench", sc.metadata))); digest != "ecce57f94154c5a58fdcfb67362f27060dc94a8f536cd75f337df6dd6b983d78" {
		t.Errorf("scoped node digest %s", digest)
	}
	if !sc.has([]byte("svc-a")) || sc.has([]byte("svc-c")) || !(*scope)(nil).has([]byte("anything")) {
		t.Fatal("scope membership")
	}
	var counts scopeCounts
	counts.add(nil, 1)
	counts.add(sc, 2)
	counts.add(sc, -1)
	if counts.expected("svc-a") != 2 || counts.expected("svc-c") != 1 {
		t.Fatalf("expected %d and %d", counts.expected("svc-a"), counts.expected("svc-c"))
	}
}

// declared reads herald.io/dependencies the way a control plane does.
func declared(node *corev3.Node) []string {
	var out []string
	for _, v := range node.GetMetadata().GetFields()[dependenciesKey].GetListValue().GetValues() {
		out = append(out, v.GetStringValue())
	}
	return out
}

type bySet struct{}

func (bySet) ID(node *corev3.Node) string { return strings.Join(declared(node), ",") }

func setSnapshot(t *testing.T, version string, services []string, drainingIP string) *cache.Snapshot {
	t.Helper()
	var clusters, assignments []types.Resource
	for _, name := range services {
		clusters = append(clusters, &clusterv3.Cluster{Name: name})
		eps := []testEndpoint{{"10.0.0." + name[len(name)-1:], corev3.HealthStatus_HEALTHY}}
		if eps[0].ip == drainingIP {
			eps[0].health = corev3.HealthStatus_DRAINING
		}
		assignments = append(assignments, assignment(name, eps))
	}
	snap, err := cache.NewSnapshot(version, map[resource.Type][]types.Resource{resource.ClusterType: clusters, resource.EndpointType: assignments})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

func TestScopedStreams(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Set 0 declares a and b and gets exactly those; set 1 declares b and c but the server also
	// sends it a, as a control plane that ignored the declaration would.
	setA, setB := []string{"svc-1", "svc-2"}, []string{"svc-2", "svc-3"}
	sentToB := []string{"svc-1", "svc-2", "svc-3"}
	snapshots := cache.NewSnapshotCache(true, bySet{}, nil)
	publish := func(version, drainingIP string) {
		if err := snapshots.SetSnapshot(ctx, strings.Join(setB, ","), setSnapshot(t, version, sentToB, drainingIP)); err != nil {
			t.Fatal(err)
		}
		if err := snapshots.SetSnapshot(ctx, strings.Join(setA, ","), setSnapshot(t, version, setA, drainingIP)); err != nil {
			t.Fatal(err)
		}
	}
	publish("1", "")
	grpcServer, port := serveADS(t, server.NewServer(ctx, snapshots, server.CallbackFuncs{}))
	defer grpcServer.Stop()

	events := make(chan event, 64)
	w := newWorker(newEventWriter(eventPipe(t, events)))
	// Four streams, two per set; ExpectedClusters is the unscoped figure, which a scoped stream ignores.
	w.handle(command{Op: "connect", Port: port, Count: 4, Prefix: "s", ExpectedClusters: 99, Sets: [][]string{setA, setB}, SetOf: []int{0, 1, 0, 1}})
	waitEvent(t, events, "full")
	w.handle(command{Op: "status"})
	if status := waitEvent(t, events, "status"); status.Full != 4 || status.OutOfScope < 2*2 {
		t.Fatalf("status %+v: want 4 full and svc-1's cluster and assignment out of scope on both set-1 streams", status)
	}

	// svc-2 is in both sets: all four streams depend on it.
	w.handle(command{Op: "watch", Service: "svc-2", IP: "10.0.0.2"})
	publish("2", "10.0.0.2")
	if done := waitEvent(t, events, "done"); done.IP != "10.0.0.2" {
		t.Fatalf("done for %s", done.IP)
	}
	w.handle(command{Op: "collect", IPs: []string{"10.0.0.2"}})
	if times := waitEvent(t, events, "collected").Drains["10.0.0.2"]; times == nil || len(times.Received) != 4 || times.Expected != 4 || times.Leaked != 0 {
		t.Fatalf("drain of svc-2: %+v", times)
	}

	// svc-1 is only set 0's: done with its two streams; set 1's two are leaks.
	w.handle(command{Op: "watch", Service: "svc-1", IP: "10.0.0.1"})
	publish("3", "10.0.0.1")
	if done := waitEvent(t, events, "done"); done.IP != "10.0.0.1" {
		t.Fatalf("done for %s", done.IP)
	}
	deadline := time.Now().Add(30 * time.Second)
	for leaked(w, "10.0.0.1") < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	w.handle(command{Op: "collect", IPs: []string{"10.0.0.1"}})
	if times := waitEvent(t, events, "collected").Drains["10.0.0.1"]; times == nil || len(times.Received) != 2 || times.Expected != 2 || times.Leaked != 2 {
		t.Fatalf("drain of svc-1: %+v", times)
	}

	// A service no stream of the worker depends on is done as soon as it is watched.
	w.handle(command{Op: "watch", Service: "svc-9", IP: "10.0.0.9"})
	if done := waitEvent(t, events, "done"); done.IP != "10.0.0.9" {
		t.Fatalf("done for %s", done.IP)
	}
}

func leaked(w *worker, ip string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	if times := w.drains[ip]; times != nil {
		return times.Leaked
	}
	return 0
}
