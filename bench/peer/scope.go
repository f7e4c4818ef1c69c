package main

// Scoped Envoys: a client that declares the services it calls in its Node metadata
// (herald.io/dependencies, a list of strings or one comma-separated string) is served only
// those clusters and their assignments, by each publisher in go-control-plane's own terms:
// SnapshotCache keys one snapshot per distinct set; LinearCache subscribes the stream to the
// set's names.

import (
	"sort"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
)

const dependenciesKey = "herald.io/dependencies"

// dependencies is a node's declared set, sorted and without repeats; nil when it declares none.
func dependencies(node *corev3.Node) []string {
	value := node.GetMetadata().GetFields()[dependenciesKey]
	if value == nil {
		return nil
	}
	var names []string
	if list := value.GetListValue(); list != nil {
		for _, v := range list.GetValues() {
			if s := strings.TrimSpace(v.GetStringValue()); s != "" {
				names = append(names, s)
			}
		}
	} else {
		for _, s := range strings.Split(value.GetStringValue(), ",") {
			if s = strings.TrimSpace(s); s != "" {
				names = append(names, s)
			}
		}
	}
	if len(names) == 0 {
		return nil
	}
	sort.Strings(names)
	out := names[:1]
	for _, n := range names[1:] {
		if n != out[len(out)-1] {
			out = append(out, n)
		}
	}
	return out
}

// setHash keys a scoped node by its set, so that every Envoy of one app shares one snapshot, and
// any other node by its ID, as before.
type setHash struct{}

func (setHash) ID(node *corev3.Node) string {
	if deps := dependencies(node); deps != nil {
		return "set:" + strings.Join(deps, ",")
	}
	return node.GetId()
}

// intersects reports whether the sorted set names any of services.
func intersects(set []string, services []string) bool {
	for _, s := range services {
		i := sort.SearchStrings(set, s)
		if i < len(set) && set[i] == s {
			return true
		}
	}
	return false
}
