// Command envoy-validate checks xDS resources against the protoc-gen-validate rules that Envoy
// enforces when it ingests config, using go-control-plane's generated types.
//
// Input (stdin): one JSON object per line, one of
//
//	{"source": "...", "any": "<base64 of a serialized google.protobuf.Any>"}
//	{"source": "...", "bootstrap": { ...envoy.config.bootstrap.v3.Bootstrap as JSON... }}
//	{"source": "...", "type": "<full message name>", "message": { ...that message as JSON... }}
//
// The third form covers files Envoy reads that are not a bootstrap, e.g. the
// envoy.service.discovery.v3.DiscoveryResponse of a path_config_source (SDS secrets from files).
//
// Output (stdout): one JSON object per input line, in order,
//
//	{"source": "...", "typeUrl": "...", "name": "...", "violations": ["...", ...]}
//
// then one summary line {"summary": {...}}. A line that cannot be decoded is reported as a
// violation of that line, so "zero violations" also means "everything decoded". The exit code is
// non-zero only for usage or I/O errors.
package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/anypb"
)

type input struct {
	Source    string          `json:"source"`
	Any       *string         `json:"any"`
	Bootstrap json.RawMessage `json:"bootstrap"`
	Type      string          `json:"type"`
	Message   json.RawMessage `json:"message"`
}

type result struct {
	Source     string   `json:"source"`
	TypeURL    string   `json:"typeUrl"`
	Name       string   `json:"name"`
	Violations []string `json:"violations"`
}

type summary struct {
	Items          int `json:"items"`
	WithViolations int `json:"withViolations"`
	Violations     int `json:"violations"`
}

const bootstrapTypeURL = "type.googleapis.com/envoy.config.bootstrap.v3.Bootstrap"

// Resource lines can be large (a big ClusterLoadAssignment in base64).
const maxLineBytes = 64 << 20

func main() {
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: envoy-validate < resources.ndjson\n\n"+
			"Reads {\"source\",\"any\"}, {\"source\",\"bootstrap\"} or {\"source\",\"type\",\"message\"} JSON lines and prints one result line per input\n"+
			"plus a summary line. Registered types: %d.\n", registeredTypeCount())
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "envoy-validate:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer) error {
	scanner := bufio.NewScanner(in)
	scanner.Buffer(make([]byte, 0, 1<<20), maxLineBytes)
	writer := bufio.NewWriter(out)
	encoder := json.NewEncoder(writer)
	var total summary
	for scanner.Scan() {
		line := scanner.Bytes()
		if len(trimSpace(line)) == 0 {
			continue
		}
		r := validateLine(line)
		total.Items++
		if len(r.Violations) > 0 {
			total.WithViolations++
			total.Violations += len(r.Violations)
		}
		if err := encoder.Encode(r); err != nil {
			return err
		}
	}
	if err := scanner.Err(); err != nil {
		return fmt.Errorf("reading stdin: %w", err)
	}
	if err := encoder.Encode(map[string]summary{"summary": total}); err != nil {
		return err
	}
	return writer.Flush()
}

func validateLine(line []byte) result {
	var in input
	if err := json.Unmarshal(line, &in); err != nil {
		return result{Violations: []string{"decode: line is not a JSON object: " + err.Error()}}
	}
	r := result{Source: in.Source, Violations: []string{}}
	given := 0
	for _, set := range []bool{in.Any != nil, in.Bootstrap != nil, in.Message != nil} {
		if set {
			given++
		}
	}
	switch {
	case given != 1:
		r.Violations = append(r.Violations, `decode: exactly one of "any", "bootstrap" and "message" is required`)
	case in.Any != nil:
		validateAnyInput(*in.Any, &r)
	case in.Bootstrap != nil:
		validateBootstrap(in.Bootstrap, &r)
	default:
		validateMessage(in.Type, in.Message, &r)
	}
	return r
}

func validateAnyInput(b64 string, r *result) {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		r.Violations = append(r.Violations, "decode: any is not base64: "+err.Error())
		return
	}
	var wrapper anypb.Any
	if err := proto.Unmarshal(raw, &wrapper); err != nil {
		r.Violations = append(r.Violations, "decode: not a google.protobuf.Any: "+err.Error())
		return
	}
	r.TypeURL = wrapper.GetTypeUrl()
	msg, err := wrapper.UnmarshalNew()
	if err != nil {
		r.Violations = append(r.Violations, fmt.Sprintf("decode: cannot unpack %q: %v", wrapper.GetTypeUrl(), err))
		return
	}
	r.Name = resourceName(msg)
	r.Violations = append(r.Violations, validateTree(msg, "")...)
}

func validateBootstrap(raw json.RawMessage, r *result) {
	r.TypeURL = bootstrapTypeURL
	var b bootstrapv3.Bootstrap
	if err := protojson.Unmarshal(raw, &b); err != nil {
		r.Violations = append(r.Violations, "decode: not an envoy.config.bootstrap.v3.Bootstrap: "+err.Error())
		return
	}
	r.Name = b.GetNode().GetId()
	r.Violations = append(r.Violations, validateTree(&b, "")...)
}

func validateMessage(fullName string, raw json.RawMessage, r *result) {
	r.TypeURL = "type.googleapis.com/" + fullName
	mt, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName(fullName))
	if err != nil {
		r.Violations = append(r.Violations, fmt.Sprintf("decode: unknown message type %q: %v", fullName, err))
		return
	}
	msg := mt.New().Interface()
	if err := protojson.Unmarshal(raw, msg); err != nil {
		r.Violations = append(r.Violations, fmt.Sprintf("decode: not a %s: %v", fullName, err))
		return
	}
	r.Name = resourceName(msg)
	r.Violations = append(r.Violations, validateTree(msg, "")...)
}

// resourceName is what xDS addresses the resource by: `name`, or `cluster_name` for a
// ClusterLoadAssignment.
func resourceName(msg proto.Message) string {
	fields := msg.ProtoReflect().Descriptor().Fields()
	for _, candidate := range []protoreflect.Name{"name", "cluster_name"} {
		if fd := fields.ByName(candidate); fd != nil && fd.Kind() == protoreflect.StringKind && fd.Cardinality() != protoreflect.Repeated {
			return msg.ProtoReflect().Get(fd).String()
		}
	}
	return ""
}

func trimSpace(b []byte) []byte {
	start, end := 0, len(b)
	for start < end && (b[start] == ' ' || b[start] == '\t' || b[start] == '\r') {
		start++
	}
	for end > start && (b[end-1] == ' ' || b[end-1] == '\t' || b[end-1] == '\r') {
		end--
	}
	return b[start:end]
}
