package main

import (
	"crypto/sha256"
	"fmt"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/protobuf/proto"
)

func TestPlacedNode(t *testing.T) {
	ps := &places{KubeClusters: []string{"c0"}, Zones: []string{"region-0a", "region-0b", "region-0c"}, FirstIndex: 4}
	metadata := map[string][]byte{}
	// Stream 0 of this connect is stream 4 of the run: the second zone.
	at := ps.placeOf(0, metadata)
	if at.zone != "region-0b" {
		t.Fatalf("zone %q, want region-0b", at.zone)
	}
	field := encodeNodeAt("n-1", "bench", at.metadata, at.zone)
	// bench/loadgen/wire.ts writes the same bytes (test/bench/loadgen-node.test.ts pins this digest).
	if digest := fmt.Sprintf("%x", sha256.Sum256(field)); digest != "aff3491a09f2582f61ae0c6e13690a5dc642e777014660548097bed4c71f494f" {
		t.Fatalf("placed node digest %s", digest)
	}
	req := decodeRequest(t, appendRequest(nil, nil, field, nil, cdsTypeField, nil))
	node := req.GetNode()
	if node.GetLocality().GetZone() != "region-0b" || node.GetMetadata().GetFields()[kubeClusterKey].GetStringValue() != "c0" {
		t.Fatalf("node says %v", node)
	}
	if got := ps.placeOf(2, metadata).zone; got != "region-0a" {
		t.Fatalf("stream 6 of the run in %q, want region-0a", got)
	}
	var none *places
	if p := none.placeOf(3, metadata); p.zone != "" || p.metadata != nil {
		t.Fatalf("no places declared %v", p)
	}
}

func TestCheckZone(t *testing.T) {
	cla := assignment("svc", []testEndpoint{{"10.0.0.1", corev3.HealthStatus_HEALTHY}}, []testEndpoint{{"10.0.0.2", corev3.HealthStatus_DRAINING}}, []testEndpoint{{"10.0.0.3", corev3.HealthStatus_HEALTHY}})
	// Localities za, zb, zc: za at priority 0, zb and zc at 1.
	cla.Endpoints[1].Priority = 1
	cla.Endpoints[2].Priority = 1
	bytes, err := proto.Marshal(cla)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		own  string
		want *zoneCheck
	}{
		{"za", &zoneCheck{zone: "za", ownZoneFirst: true}},
		{"zb", &zoneCheck{zone: "zb", ownZoneFirst: false}},
		{"", nil},
	} {
		got, err := checkZone(tc.own, bytes, 0, len(bytes))
		if err != nil {
			t.Fatal(err)
		}
		if (got == nil) != (tc.want == nil) || (got != nil && *got != *tc.want) {
			t.Fatalf("own zone %q: %v, want %v", tc.own, got, tc.want)
		}
	}
	// Two zones at priority 0: not the client's zone alone.
	cla.Endpoints[1].Priority = 0
	bytes, _ = proto.Marshal(cla)
	if got, _ := checkZone("za", bytes, 0, len(bytes)); got.ownZoneFirst {
		t.Fatal("za and zb at priority 0 passed as za first")
	}
}
