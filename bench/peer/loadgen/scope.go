package main

// Scoped Envoys: each declares the services it calls in its Node metadata, under
// herald.io/dependencies as a ListValue of strings, and should then be sent exactly those
// clusters and their assignments. A stream of a scoped Envoy counts anything else it is sent as
// out of scope, and a drain of a service it did not declare as a leak.

import "sort"

// dependenciesKey is the Node metadata key Herald reads a client's declared services from.
const dependenciesKey = "herald.io/dependencies"

// scope is one dependency set, shared by the streams that declare it.
type scope struct {
	names   []string
	members map[string]struct{}
	// metadata is the encoded Node.metadata field (3) that declares names.
	metadata []byte
}

func newScope(names []string) *scope {
	sorted := append([]string(nil), names...)
	sort.Strings(sorted)
	s := &scope{names: sorted, members: make(map[string]struct{}, len(sorted))}
	for _, n := range sorted {
		s.members[n] = struct{}{}
	}
	s.metadata = encodeDependencies(sorted)
	return s
}

// has reports whether the set holds name; the nil scope (an unscoped Envoy) holds every name.
func (s *scope) has(name []byte) bool {
	if s == nil {
		return true
	}
	_, ok := s.members[string(name)]
	return ok
}

// encodeDependencies is Node.metadata (field 3), a google.protobuf.Struct whose fields map (1)
// has one entry: key (1) herald.io/dependencies, value (2) a Value whose list_value (6) is a
// ListValue of values (1), each a Value with string_value (3).
func encodeDependencies(names []string) []byte {
	var list []byte
	for _, n := range names {
		list = appendLenField(list, 1, appendLenField(nil, 3, []byte(n)))
	}
	value := appendLenField(nil, 6, list)
	entry := appendLenField(nil, 1, []byte(dependenciesKey))
	entry = appendLenField(entry, 2, value)
	return appendLenField(nil, 3, appendLenField(nil, 1, entry))
}

// scopeCounts tracks, for the worker, how many live streams depend on each service: a drain of
// a service is done once every live dependent has it.
type scopeCounts struct {
	// unscoped streams depend on every service.
	unscoped   int
	dependents map[string]int
}

func (c *scopeCounts) add(s *scope, delta int) {
	if s == nil {
		c.unscoped += delta
		return
	}
	if c.dependents == nil {
		c.dependents = map[string]int{}
	}
	for _, n := range s.names {
		c.dependents[n] += delta
	}
}

func (c *scopeCounts) expected(service string) int { return c.unscoped + c.dependents[service] }
