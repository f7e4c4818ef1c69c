package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/envoyproxy/go-control-plane/pkg/server/v3"
)

// snapshotPublisher keeps one snapshot per node ID, set for every node on every change, as
// Dyplomat does. Versions are per type, so an endpoint change does not resend CDS (kinder to
// the peer than one version for the whole snapshot).
type snapshotPublisher struct {
	c         cache.SnapshotCache
	mu        sync.Mutex
	nodes     map[string]bool
	current   *cache.Snapshot
	clusters  map[string]types.ResourceWithTTL
	endpoints map[string]types.ResourceWithTTL
	cdsVer    int
	edsVer    int
}

func newSnapshotPublisher() *snapshotPublisher {
	return &snapshotPublisher{
		c:         cache.NewSnapshotCache(true, cache.IDHash{}, nil),
		nodes:     map[string]bool{},
		clusters:  map[string]types.ResourceWithTTL{},
		endpoints: map[string]types.ResourceWithTTL{},
	}
}

func (s *snapshotPublisher) cache() cache.Cache { return s.c }

// callbacks gives a node its snapshot on its first request, before the cache opens the watch.
func (s *snapshotPublisher) callbacks() server.Callbacks {
	return server.CallbackFuncs{StreamRequestFunc: func(_ int64, req *discovery.DiscoveryRequest) error {
		id := req.GetNode().GetId()
		if id == "" {
			return nil
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.nodes[id] {
			return nil
		}
		s.nodes[id] = true
		if s.current != nil {
			return s.c.SetSnapshot(context.Background(), id, s.current)
		}
		return nil
	}}
}

func (s *snapshotPublisher) snapshot() *cache.Snapshot {
	snap := &cache.Snapshot{}
	snap.Resources[types.Cluster] = cache.Resources{Version: strconv.Itoa(s.cdsVer), Items: copyItems(s.clusters)}
	snap.Resources[types.Endpoint] = cache.Resources{Version: strconv.Itoa(s.edsVer), Items: copyItems(s.endpoints)}
	return snap
}

func copyItems(in map[string]types.ResourceWithTTL) map[string]types.ResourceWithTTL {
	out := make(map[string]types.ResourceWithTTL, len(in))
	for k, v := range in {
		out[k] = v
	}
	return out
}

func (s *snapshotPublisher) load(m *mesh) {
	for _, name := range m.serviceNames() {
		s.clusters[name] = types.ResourceWithTTL{Resource: buildCluster(name)}
		s.endpoints[name] = types.ResourceWithTTL{Resource: m.buildAssignment(name)}
	}
	s.cdsVer++
	s.edsVer++
	s.publish()
}

func (s *snapshotPublisher) update(m *mesh, services []string) {
	for _, name := range services {
		if len(m.services[name]) == 0 {
			delete(s.clusters, name)
			delete(s.endpoints, name)
			s.cdsVer++
			continue
		}
		if _, ok := s.clusters[name]; !ok {
			s.clusters[name] = types.ResourceWithTTL{Resource: buildCluster(name)}
			s.cdsVer++
		}
		s.endpoints[name] = types.ResourceWithTTL{Resource: m.buildAssignment(name)}
	}
	s.edsVer++
	s.publish()
}

func (s *snapshotPublisher) publish() {
	s.mu.Lock()
	s.current = s.snapshot()
	nodes := make([]string, 0, len(s.nodes))
	for id := range s.nodes {
		nodes = append(nodes, id)
	}
	s.mu.Unlock()
	for _, id := range nodes {
		if err := s.c.SetSnapshot(context.Background(), id, s.current); err != nil {
			fmt.Fprintf(os.Stderr, "set snapshot %s: %v\n", id, err)
		}
	}
}

// linearPublisher serves EDS from a LinearCache (one entry per assignment, only changed ones are
// sent) and CDS from one snapshot shared by every node, muxed by type as Contour does.
type linearPublisher struct {
	eds      *cache.LinearCache
	other    cache.SnapshotCache
	mux      *cache.MuxCache
	clusters map[string]types.Resource
	cdsVer   int
}

type constantHash struct{}

func (constantHash) ID(*corev3.Node) string { return "mesh" }

func newLinearPublisher() *linearPublisher {
	eds := cache.NewLinearCache(resource.EndpointType)
	other := cache.NewSnapshotCache(true, constantHash{}, nil)
	classify := func(typeURL string) string {
		if typeURL == resource.EndpointType {
			return "eds"
		}
		return "other"
	}
	return &linearPublisher{
		eds:   eds,
		other: other,
		mux: &cache.MuxCache{
			Classify:      func(r *cache.Request) string { return classify(r.GetTypeUrl()) },
			ClassifyDelta: func(r *cache.DeltaRequest) string { return classify(r.GetTypeUrl()) },
			Caches:        map[string]cache.Cache{"eds": eds, "other": other},
		},
		clusters: map[string]types.Resource{},
	}
}

func (l *linearPublisher) cache() cache.Cache            { return l.mux }
func (l *linearPublisher) callbacks() server.Callbacks { return server.CallbackFuncs{} }

func (l *linearPublisher) load(m *mesh) {
	assignments := map[string]types.Resource{}
	for _, name := range m.serviceNames() {
		l.clusters[name] = buildCluster(name)
		assignments[name] = m.buildAssignment(name)
	}
	l.eds.SetResources(assignments)
	l.publishClusters()
}

func (l *linearPublisher) update(m *mesh, services []string) {
	clustersChanged := false
	toUpdate := map[string]types.Resource{}
	var toDelete []string
	for _, name := range services {
		if len(m.services[name]) == 0 {
			delete(l.clusters, name)
			toDelete = append(toDelete, name)
			clustersChanged = true
			continue
		}
		if _, ok := l.clusters[name]; !ok {
			l.clusters[name] = buildCluster(name)
			clustersChanged = true
		}
		toUpdate[name] = m.buildAssignment(name)
	}
	if err := l.eds.UpdateResources(toUpdate, toDelete); err != nil {
		fmt.Fprintf(os.Stderr, "linear update: %v\n", err)
	}
	if clustersChanged {
		l.publishClusters()
	}
}

func (l *linearPublisher) publishClusters() {
	l.cdsVer++
	list := make([]types.Resource, 0, len(l.clusters))
	for _, c := range l.clusters {
		list = append(list, c)
	}
	snap, err := cache.NewSnapshot(strconv.Itoa(l.cdsVer), map[resource.Type][]types.Resource{resource.ClusterType: list})
	if err == nil {
		err = l.other.SetSnapshot(context.Background(), "mesh", snap)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "cluster snapshot: %v\n", err)
	}
}
