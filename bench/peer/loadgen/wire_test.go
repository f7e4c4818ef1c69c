package main

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

type testEndpoint struct {
	ip     string
	health corev3.HealthStatus
}

func assignment(name string, localities ...[]testEndpoint) *endpointv3.ClusterLoadAssignment {
	cla := &endpointv3.ClusterLoadAssignment{ClusterName: name}
	for i, eps := range localities {
		loc := &endpointv3.LocalityLbEndpoints{
			Locality:            &corev3.Locality{Zone: "z" + string(rune('a'+i))},
			LoadBalancingWeight: wrapperspb.UInt32(1),
		}
		for _, ep := range eps {
			loc.LbEndpoints = append(loc.LbEndpoints, &endpointv3.LbEndpoint{
				HealthStatus: ep.health,
				HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{
					Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
						Address: ep.ip, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 8080},
					}}},
				}},
			})
		}
		cla.Endpoints = append(cla.Endpoints, loc)
	}
	return cla
}

func marshalResponse(t *testing.T, version, typeURL, nonce string, resources ...proto.Message) []byte {
	t.Helper()
	out := &discoveryv3.DiscoveryResponse{VersionInfo: version, TypeUrl: typeURL, Nonce: nonce}
	for _, r := range resources {
		a, err := anypb.New(r)
		if err != nil {
			t.Fatal(err)
		}
		out.Resources = append(out.Resources, a)
	}
	b, err := proto.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func resourceNames(t *testing.T, msg []byte, r *response) []string {
	t.Helper()
	var names []string
	for i := 0; i < len(r.resources); i += 2 {
		name, err := firstStringField(msg, r.resources[i], r.resources[i+1])
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, string(name))
	}
	return names
}

func TestParseResponseClusters(t *testing.T) {
	msg := marshalResponse(t, "v7", cdsType, "n-42",
		&clusterv3.Cluster{Name: "svc-b", EdsClusterConfig: &clusterv3.Cluster_EdsClusterConfig{ServiceName: "ignored-service-name"}},
		&clusterv3.Cluster{Name: "svc-a"},
		&clusterv3.Cluster{Name: "svc-c", LbPolicy: clusterv3.Cluster_RING_HASH},
	)
	var r response
	if err := parseResponse(msg, &r); err != nil {
		t.Fatal(err)
	}
	if string(r.version) != "v7" || string(r.typeURL) != cdsType || string(r.nonce) != "n-42" {
		t.Fatalf("got version %q type %q nonce %q", r.version, r.typeURL, r.nonce)
	}
	if got := resourceNames(t, msg, &r); !slices.Equal(got, []string{"svc-b", "svc-a", "svc-c"}) {
		t.Fatalf("names %q", got)
	}
}

func TestDrainingWalker(t *testing.T) {
	cases := []struct {
		name string
		cla  *endpointv3.ClusterLoadAssignment
		want []string
	}{
		{"none draining", assignment("a", []testEndpoint{{"10.0.0.1", corev3.HealthStatus_HEALTHY}, {"10.0.0.2", corev3.HealthStatus_UNKNOWN}}), nil},
		{"one of three", assignment("b", []testEndpoint{{"10.0.0.1", corev3.HealthStatus_HEALTHY}, {"10.0.0.2", corev3.HealthStatus_DRAINING}, {"10.0.0.3", corev3.HealthStatus_UNHEALTHY}}), []string{"10.0.0.2"}},
		{"across localities", assignment("c", []testEndpoint{{"10.1.0.1", corev3.HealthStatus_DRAINING}}, []testEndpoint{{"10.2.0.1", corev3.HealthStatus_DEGRADED}, {"10.2.0.2", corev3.HealthStatus_DRAINING}}), []string{"10.1.0.1", "10.2.0.2"}},
		{"other unhealthy states are not draining", assignment("d", []testEndpoint{{"10.0.0.1", corev3.HealthStatus_TIMEOUT}, {"10.0.0.2", corev3.HealthStatus_UNHEALTHY}}), nil},
		{"empty assignment", &endpointv3.ClusterLoadAssignment{ClusterName: "e"}, nil},
	}
	resources := make([]proto.Message, len(cases))
	for i, c := range cases {
		resources[i] = c.cla
	}
	msg := marshalResponse(t, "3", edsType, "9", resources...)
	var r response
	if err := parseResponse(msg, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.resources) != 2*len(cases) {
		t.Fatalf("%d resource bounds for %d resources", len(r.resources), len(cases))
	}
	names := resourceNames(t, msg, &r)
	for i, c := range cases {
		if names[i] != c.cla.ClusterName {
			t.Errorf("%s: name %q, want %q", c.name, names[i], c.cla.ClusterName)
		}
		var got []string
		if err := forEachDraining(msg, r.resources[2*i], r.resources[2*i+1], func(ip []byte) { got = append(got, string(ip)) }); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: draining %q, want %q", c.name, got, c.want)
		}
	}
}

func TestTruncatedResponseIsAnError(t *testing.T) {
	msg := marshalResponse(t, "1", edsType, "1", assignment("a", []testEndpoint{{"10.0.0.1", corev3.HealthStatus_DRAINING}}))
	var r response
	// Cut inside the resource: its length now runs past the end of the message.
	if err := parseResponse(msg[:len(msg)/2], &r); err == nil {
		t.Fatal("no error for a truncated response")
	}
}

// decodeRequest checks the gRPC message header and decodes the request with the real types.
func decodeRequest(t *testing.T, framed []byte) *discoveryv3.DiscoveryRequest {
	t.Helper()
	if len(framed) < 5 || framed[0] != 0 {
		t.Fatalf("bad gRPC header %v", framed[:min(5, len(framed))])
	}
	if size := binary.BigEndian.Uint32(framed[1:5]); int(size) != len(framed)-5 {
		t.Fatalf("header says %d bytes, message has %d", size, len(framed)-5)
	}
	req := &discoveryv3.DiscoveryRequest{}
	if err := proto.Unmarshal(framed[5:], req); err != nil {
		t.Fatal(err)
	}
	return req
}

func TestRequestEncoding(t *testing.T) {
	first := decodeRequest(t, appendRequest(nil, nil, encodeNode("herald-node-w0-17", "bench"), nil, cdsTypeField, nil))
	node := first.GetNode()
	if node.GetId() != "herald-node-w0-17" || node.GetCluster() != "bench" || node.GetUserAgentName() != "envoy" {
		t.Errorf("node %v %v %v", node.GetId(), node.GetCluster(), node.GetUserAgentName())
	}
	exts := node.GetExtensions()
	if len(exts) != envoyExtensions || exts[7].GetName() != "envoy.filters.listener.ext_7" || exts[7].GetCategory() != "envoy.filters.listener" ||
		len(exts[7].GetTypeUrls()) != 1 || exts[7].GetTypeUrls()[0] != "type.googleapis.com/envoy.extensions.ext_7.v3.Config" {
		t.Errorf("%d extensions, the eighth %v", len(exts), exts[min(7, len(exts)-1)])
	}
	if features := node.GetClientFeatures(); len(features) != 1 || features[0] != "envoy.lb.does_not_support_overprovisioning" {
		t.Errorf("client features %v", features)
	}
	// test/bench/loadgen-node.test.ts pins the same digest: both load generators send these bytes.
	if digest := fmt.Sprintf("%x", sha256.Sum256(encodeNode("n-1", "bench"))); digest != "92846a142a66ff314583f5d9f28fc35bf0d71fc632a88d148cd299b5305becc9" {
		t.Errorf("node digest %s", digest)
	}
	if size := len(encodeNode("herald-node-w0-17", "bench")); size < 30_000 || size > 40_000 {
		t.Errorf("an Envoy-sized node is 30-40 KB, this one %d bytes", size)
	}
	if first.TypeUrl != cdsType || first.VersionInfo != "" || first.ResponseNonce != "" || len(first.ResourceNames) != 0 {
		t.Errorf("CDS request %v", first)
	}

	cdsAck := decodeRequest(t, appendRequest(nil, []byte("v1"), nil, nil, cdsTypeField, []byte("n1")))
	if cdsAck.Node != nil || cdsAck.TypeUrl != cdsType || cdsAck.VersionInfo != "v1" || cdsAck.ResponseNonce != "n1" || len(cdsAck.ResourceNames) != 0 {
		t.Errorf("CDS ACK %v", cdsAck)
	}

	// Long names push lengths past one varint byte.
	names := make([]string, 600)
	for i := range names {
		names[i] = "service-with-a-long-enough-name-" + string(rune('a'+i%26)) + "-" + string(rune('A'+i/26))
	}
	slices.Sort(names)
	// Two messages back to back, as a CDS ACK and an EDS request are queued together.
	buf := appendRequest(nil, []byte("v1"), nil, nil, cdsTypeField, []byte("n1"))
	split := len(buf)
	buf = appendRequest(buf, []byte("12345678901234567890"), nil, encodeNames(names), edsTypeField, []byte("nonce-2"))
	eds := decodeRequest(t, buf[split:])
	if eds.TypeUrl != edsType || eds.VersionInfo != "12345678901234567890" || eds.ResponseNonce != "nonce-2" || eds.Node != nil {
		t.Errorf("EDS ACK %v", eds)
	}
	if !slices.Equal(eds.ResourceNames, names) {
		t.Errorf("EDS ACK names: %d, want %d", len(eds.ResourceNames), len(names))
	}
	if len(buf[split:]) < 15_000 {
		t.Errorf("EDS ACK is %d bytes; the test wants one larger than a 16 KiB frame's worth of names", len(buf[split:]))
	}
}
