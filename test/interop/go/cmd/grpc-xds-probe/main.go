// Command grpc-xds-probe is a proxyless gRPC client built on grpc-go's own xDS implementation. It
// resolves an xds:/// target through the control plane named in the bootstrap
// (GRPC_XDS_BOOTSTRAP_CONFIG or GRPC_XDS_BOOTSTRAP) and answers commands read from stdin, one per
// line, with one JSON line each on stdout:
//
//	call N    make N unary calls (raw bytes, empty request); reply: {"backends": {...}, "errors": n}
//	watch T   open another channel, to target T, and start it connecting; reply: {"watching": T}
//	quit      exit
//
// Every call has a deadline and the program exits when stdin closes, so a test that dies cannot
// leave it running.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	_ "google.golang.org/grpc/xds" // registers the xds:/// resolver and the xDS balancers
)

// maxCallsPerCommand bounds one command so a typo cannot keep the probe busy for hours.
const maxCallsPerCommand = 10_000

// maxWatched bounds the extra channels one probe opens.
const maxWatched = 1_000

type callReport struct {
	Backends  map[string]int `json:"backends"`
	Errors    int            `json:"errors"`
	LastError string         `json:"lastError,omitempty"`
}

type errorReport struct {
	Error string `json:"error"`
}

func main() {
	target := flag.String("target", "", "dial target, e.g. xds:///echo (required)")
	method := flag.String("method", "/herald.test.Echo/Who", "full method name to call")
	deadlineMs := flag.Int("deadline-ms", 5000, "deadline of each call, in milliseconds")
	waitForReady := flag.Bool("wait-for-ready", true, "queue calls until the channel is ready instead of failing fast")
	flag.Parse()
	if *target == "" || flag.NArg() != 0 || *deadlineMs <= 0 {
		flag.Usage()
		os.Exit(2)
	}

	conn, err := grpc.NewClient(*target,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(rawCodec{}), grpc.WaitForReady(*waitForReady)),
	)
	if err != nil {
		fmt.Fprintln(os.Stderr, "grpc-xds-probe:", err)
		os.Exit(1)
	}
	defer conn.Close()
	// Resolution starts with the first RPC otherwise; starting now lets the xDS watches run
	// while the test prepares its first command.
	conn.Connect()

	out := json.NewEncoder(os.Stdout)
	emit := func(v any) {
		if err := out.Encode(v); err != nil {
			fmt.Fprintln(os.Stderr, "grpc-xds-probe: stdout:", err)
			os.Exit(1)
		}
	}
	emit(map[string]string{"started": *target})

	deadline := time.Duration(*deadlineMs) * time.Millisecond
	var watched []*grpc.ClientConn
	defer func() {
		for _, w := range watched {
			w.Close()
		}
	}()

	scanner := bufio.NewScanner(os.Stdin)
	for scanner.Scan() {
		fields := strings.Fields(scanner.Text())
		if len(fields) == 0 {
			continue
		}
		switch {
		case fields[0] == "quit" && len(fields) == 1:
			return
		case fields[0] == "call" && len(fields) == 2:
			n, err := strconv.Atoi(fields[1])
			if err != nil || n < 0 || n > maxCallsPerCommand {
				emit(errorReport{Error: fmt.Sprintf("call: N must be an integer in 0..%d", maxCallsPerCommand)})
				continue
			}
			emit(callMany(conn, *method, n, deadline))
		case fields[0] == "watch" && len(fields) == 2:
			if len(watched) >= maxWatched {
				emit(errorReport{Error: fmt.Sprintf("watch: at most %d channels", maxWatched)})
				continue
			}
			w, err := grpc.NewClient(fields[1], grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				emit(errorReport{Error: "watch: " + err.Error()})
				continue
			}
			w.Connect()
			watched = append(watched, w)
			emit(map[string]string{"watching": fields[1]})
		default:
			emit(errorReport{Error: fmt.Sprintf("unknown command %q (want: call N | watch TARGET | quit)", scanner.Text())})
		}
	}
}

func callMany(conn *grpc.ClientConn, method string, n int, deadline time.Duration) callReport {
	report := callReport{Backends: map[string]int{}}
	for i := 0; i < n; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		var reply []byte
		err := conn.Invoke(ctx, method, []byte{}, &reply)
		cancel()
		if err != nil {
			report.Errors++
			report.LastError = err.Error()
			continue
		}
		report.Backends[string(reply)]++
	}
	return report
}

// rawCodec passes bytes through untouched: the echo service has no schema, only bytes.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) {
	switch b := v.(type) {
	case []byte:
		return b, nil
	case *[]byte:
		return *b, nil
	default:
		return nil, fmt.Errorf("rawCodec: cannot marshal %T", v)
	}
}

func (rawCodec) Unmarshal(data []byte, v any) error {
	p, ok := v.(*[]byte)
	if !ok {
		return fmt.Errorf("rawCodec: cannot unmarshal into %T", v)
	}
	*p = append((*p)[:0], data...)
	return nil
}

// Name is the content-subtype on the wire ("application/grpc+proto"), which every server accepts.
func (rawCodec) Name() string { return "proto" }
