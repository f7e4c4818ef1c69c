package main

import (
	"slices"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/protobuf/types/known/structpb"
)

func nodeWith(t *testing.T, id string, deps any) *corev3.Node {
	t.Helper()
	node := &corev3.Node{Id: id}
	if deps != nil {
		md, err := structpb.NewStruct(map[string]any{dependenciesKey: deps})
		if err != nil {
			t.Fatal(err)
		}
		node.Metadata = md
	}
	return node
}

func TestDeclaredDependencies(t *testing.T) {
	list := nodeWith(t, "a", []any{"svc-2", " svc-1 ", "svc-2", ""})
	comma := nodeWith(t, "b", "svc-1, svc-2,,")
	if got := dependencies(list); !slices.Equal(got, []string{"svc-1", "svc-2"}) {
		t.Errorf("list: %v", got)
	}
	if got := dependencies(comma); !slices.Equal(got, []string{"svc-1", "svc-2"}) {
		t.Errorf("comma-separated: %v", got)
	}
	for _, node := range []*corev3.Node{nodeWith(t, "c", nil), nodeWith(t, "d", []any{}), nodeWith(t, "e", " , ")} {
		if got := dependencies(node); got != nil {
			t.Errorf("node %s declares %v", node.GetId(), got)
		}
	}
	// Equal declarations share a key; a node without one keeps its own.
	var hash setHash
	if hash.ID(list) != hash.ID(comma) || hash.ID(list) != "set:svc-1,svc-2" {
		t.Errorf("keys %q and %q", hash.ID(list), hash.ID(comma))
	}
	if id := hash.ID(nodeWith(t, "c", nil)); id != "c" {
		t.Errorf("unscoped key %q", id)
	}
	if !intersects([]string{"svc-1", "svc-3"}, []string{"svc-2", "svc-3"}) || intersects([]string{"svc-1"}, []string{"svc-2"}) {
		t.Error("intersects")
	}
}
