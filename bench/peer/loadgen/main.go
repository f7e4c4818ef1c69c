// herald-bench-loadgen: a load generator worker for Herald's benchmark, many simulated Envoys in
// one process. It takes the commands of bench/loadgen/worker.ts as JSON lines on stdin and
// writes the same events as JSON lines on stdout (logs on stderr); it exits when stdin closes.
// Go rather than node:http2 because at 10,000 streams the Node worker cost more CPU than the
// server it measures.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sync"
	"time"
)

type command struct {
	Op               string   `json:"op"`
	Port             int      `json:"port"`
	Count            int      `json:"count"`
	Prefix           string   `json:"prefix"`
	ExpectedClusters int      `json:"expectedClusters"`
	Service          string   `json:"service"`
	IP               string   `json:"ip"`
	IPs              []string `json:"ips"`
	// Sets and SetOf make a scoped connect: stream i declares Sets[SetOf[i]].
	Sets  [][]string `json:"sets"`
	SetOf []int      `json:"setOf"`
	// Places makes the streams declare a kube cluster and a zone (place.go).
	Places *places `json:"places"`
}

type drainTimes struct {
	Received []float64 `json:"received"`
	Acked    []float64 `json:"acked"`
	// Leaked counts streams that do not depend on the service and were sent the drain anyway.
	Leaked int `json:"leaked"`
	// Expected is how many live streams depend on the service, when collected.
	Expected int `json:"expected"`
	// OwnZoneFirst counts, by zone, the streams that declared a zone and were sent the drain with
	// every priority-0 locality in it; WrongZone those sent priority 0 empty or in another zone.
	OwnZoneFirst map[string]int `json:"ownZoneFirst,omitempty"`
	WrongZone    int            `json:"wrongZone,omitempty"`
}

type statusEvent struct {
	Event     string `json:"event"`
	Streams   int    `json:"streams"`
	Alive     int    `json:"alive"`
	Full      int    `json:"full"`
	Bytes     int64  `json:"bytes"`
	Responses int64  `json:"responses"`
	// OutOfScope counts resources sent to a scoped stream that its set does not name.
	OutOfScope int64    `json:"outOfScope"`
	FirstGone  *string  `json:"firstGone,omitempty"`
	LastFullAt *float64 `json:"lastFullAt,omitempty"`
}

// nowMs is the orchestrator's clock (performance.timeOrigin + performance.now()): Unix epoch ms.
func nowMs() float64 { return float64(time.Now().UnixNano()) / 1e6 }

// connectBatch streams are started, then the starter yields, so thousands of connections open
// "at once" without one burst starving the streams already reading.
const connectBatch = 200

func main() {
	// A CPU profile of the worker, for when the load generator itself needs looking at.
	if dir := os.Getenv("HERALD_BENCH_LOADGEN_PROFILE"); dir != "" {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("loadgen-%d.pprof", os.Getpid())))
		if err == nil && pprof.StartCPUProfile(f) == nil {
			defer pprof.StopCPUProfile()
		}
	}
	w := newWorker(newEventWriter(os.Stdout))
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 64*1024), 64*1024*1024)
	for in.Scan() {
		var cmd command
		if err := json.Unmarshal(in.Bytes(), &cmd); err != nil {
			fmt.Fprintf(os.Stderr, "herald-bench-loadgen: bad command: %v\n", err)
			continue
		}
		if cmd.Op == "close" {
			break
		}
		w.handle(cmd)
	}
	// Returning exits, which closes every connection, as the Node worker's close() does stream by stream.
}

type eventWriter struct {
	mu  sync.Mutex
	enc *json.Encoder
}

func newEventWriter(out io.Writer) *eventWriter { return &eventWriter{enc: json.NewEncoder(out)} }

func (e *eventWriter) send(v any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.enc.Encode(v); err != nil {
		fmt.Fprintf(os.Stderr, "herald-bench-loadgen: stdout: %v\n", err)
	}
}

func (w *worker) handle(cmd command) {
	switch cmd.Op {
	case "connect":
		w.connect(cmd)
	case "watch":
		w.watch(cmd.Service, cmd.IP)
	case "collect":
		w.events.send(map[string]any{"event": "collected", "drains": w.collect(cmd.IPs)})
	case "status":
		w.events.send(w.status())
	default:
		fmt.Fprintf(os.Stderr, "herald-bench-loadgen: unknown op %q\n", cmd.Op)
	}
}

func (w *worker) connect(cmd command) {
	scopes := make([]*scope, len(cmd.Sets))
	for i, set := range cmd.Sets {
		scopes[i] = newScope(set)
	}
	streamScopes := make([]*scope, cmd.Count)
	for i := range streamScopes {
		if i < len(cmd.SetOf) && cmd.SetOf[i] >= 0 && cmd.SetOf[i] < len(scopes) {
			streamScopes[i] = scopes[cmd.SetOf[i]]
		}
	}
	w.mu.Lock()
	w.streams += cmd.Count
	w.alive += cmd.Count
	for _, sc := range streamScopes {
		w.scopes.add(sc, 1)
	}
	w.mu.Unlock()
	header := requestHeaders(cmd.Port)
	metadata := map[string][]byte{}
	go func() {
		for i := 0; i < cmd.Count; i++ {
			s := newStream(w, fmt.Sprintf("%s-%d", cmd.Prefix, i), cmd.ExpectedClusters, streamScopes[i], cmd.Places.placeOf(i, metadata))
			go s.run(cmd.Port, header)
			if (i+1)%connectBatch == 0 {
				time.Sleep(time.Millisecond)
			}
		}
	}()
}
