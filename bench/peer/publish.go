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
// the peer than one version for the whole snapshot). A scoped node (one that declares its
// dependencies) is keyed by its set instead: one snapshot per distinct set, holding only the
// set's clusters and assignments, set again only when one of its services changes.
type snapshotPublisher struct {
	c  cache.SnapshotCache
	mu sync.Mutex
	// nodes maps each snapshot key to its set (nil: every service).
	nodes     map[string][]string
	current   *cache.Snapshot
	clusters  map[string]types.ResourceWithTTL
	endpoints map[string]types.ResourceWithTTL
	cdsVer    int
	edsVer    int
}

func newSnapshotPublisher() *snapshotPublisher {
	return &snapshotPublisher{
		c:         cache.NewSnapshotCache(true, setHash{}, nil),
		nodes:     map[string][]string{},
		clusters:  map[string]types.ResourceWithTTL{},
		endpoints: map[string]types.ResourceWithTTL{},
	}
}

func (s *snapshotPublisher) cache() cache.Cache { return s.c }

// callbacks gives a node its snapshot on its first request, before the cache opens the watch.
func (s *snapshotPublisher) callbacks() server.Callbacks {
	return server.CallbackFuncs{StreamRequestFunc: func(_ int64, req *discovery.DiscoveryRequest) error {
		id := setHash{}.ID(req.GetNode())
		if id == "" {
			return nil
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if _, known := s.nodes[id]; known {
			return nil
		}
		deps := dependencies(req.GetNode())
		s.nodes[id] = deps
		if s.current != nil {
			return s.c.SetSnapshot(context.Background(), id, s.snapshotOf(deps))
		}
		return nil
	}}
}

// snapshotOf is the snapshot for a set: the shared one for every service, else the set's own.
// Called with mu held.
func (s *snapshotPublisher) snapshotOf(deps []string) *cache.Snapshot {
	if deps == nil {
		return s.current
	}
	snap := &cache.Snapshot{}
	clusters := make(map[string]types.ResourceWithTTL, len(deps))
	endpoints := make(map[string]types.ResourceWithTTL, len(deps))
	for _, name := range deps {
		if c, ok := s.clusters[name]; ok {
			clusters[name] = c
			endpoints[name] = s.endpoints[name]
		}
	}
	snap.Resources[types.Cluster] = cache.Resources{Version: strconv.Itoa(s.cdsVer), Items: clusters}
	snap.Resources[types.Endpoint] = cache.Resources{Version: strconv.Itoa(s.edsVer), Items: endpoints}
	return snap
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
	s.publish(nil)
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
	s.publish(services)
}

// publish sets the snapshot of every node key whose set names one of changed (nil: all).
func (s *snapshotPublisher) publish(changed []string) {
	s.mu.Lock()
	s.current = s.snapshot()
	ids := make([]string, 0, len(s.nodes))
	snaps := make([]*cache.Snapshot, 0, len(s.nodes))
	for id, deps := range s.nodes {
		if deps != nil && changed != nil && !intersects(deps, changed) {
			continue
		}
		ids = append(ids, id)
		snaps = append(snaps, s.snapshotOf(deps))
	}
	s.mu.Unlock()
	for i, id := range ids {
		if err := s.c.SetSnapshot(context.Background(), id, snaps[i]); err != nil {
			fmt.Fprintf(os.Stderr, "set snapshot %s: %v\n", id, err)
		}
	}
}

// linearPublisher serves EDS from a LinearCache (one entry per assignment, only changed ones are
// sent) and CDS from one snapshot shared by every node, muxed by type as Contour does. A scoped
// node's CDS comes from a second LinearCache instead: its wildcard CDS request is turned into an
// explicit subscription to the names it declared (see callbacks), and its EDS request already
// names only the clusters it was sent, so each stream is subscribed to its own set.
type linearPublisher struct {
	eds      *cache.LinearCache
	cds      *cache.LinearCache
	other    cache.SnapshotCache
	mux      *cache.MuxCache
	clusters map[string]types.Resource
	cdsVer   int
}

type constantHash struct{}

func (constantHash) ID(*corev3.Node) string { return "mesh" }

func newLinearPublisher() *linearPublisher {
	eds := cache.NewLinearCache(resource.EndpointType)
	cds := cache.NewLinearCache(resource.ClusterType)
	other := cache.NewSnapshotCache(true, constantHash{}, nil)
	classify := func(typeURL string, node *corev3.Node) string {
		switch {
		case typeURL == resource.EndpointType:
			return "eds"
		case typeURL == resource.ClusterType && dependencies(node) != nil:
			return "cds"
		}
		return "other"
	}
	return &linearPublisher{
		eds:   eds,
		cds:   cds,
		other: other,
		mux: &cache.MuxCache{
			Classify:      func(r *cache.Request) string { return classify(r.GetTypeUrl(), r.GetNode()) },
			ClassifyDelta: func(r *cache.DeltaRequest) string { return classify(r.GetTypeUrl(), r.GetNode()) },
			Caches:        map[string]cache.Cache{"eds": eds, "cds": cds, "other": other},
		},
		clusters: map[string]types.Resource{},
	}
}

func (l *linearPublisher) cache() cache.Cache { return l.mux }

// callbacks names a scoped node's declared services in each of its CDS requests before the
// server reads the subscription from it (the load generator, like Envoy, asks for CDS by
// wildcard), so the CDS LinearCache watches exactly those names for the stream.
func (l *linearPublisher) callbacks() server.Callbacks {
	return server.CallbackFuncs{StreamRequestFunc: func(_ int64, req *discovery.DiscoveryRequest) error {
		if req.GetTypeUrl() != resource.ClusterType {
			return nil
		}
		if deps := dependencies(req.GetNode()); deps != nil {
			req.ResourceNames = deps
		}
		return nil
	}}
}

func (l *linearPublisher) load(m *mesh) {
	assignments := map[string]types.Resource{}
	for _, name := range m.serviceNames() {
		l.clusters[name] = buildCluster(name)
		assignments[name] = m.buildAssignment(name)
	}
	l.eds.SetResources(assignments)
	l.publishClusters()
	clusters := make(map[string]types.Resource, len(l.clusters))
	for name, c := range l.clusters {
		clusters[name] = c
	}
	l.cds.SetResources(clusters)
}

func (l *linearPublisher) update(m *mesh, services []string) {
	clustersChanged := false
	clustersAdded := map[string]types.Resource{}
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
			clustersAdded[name] = l.clusters[name]
			clustersChanged = true
		}
		toUpdate[name] = m.buildAssignment(name)
	}
	if clustersChanged {
		if err := l.cds.UpdateResources(clustersAdded, toDelete); err != nil {
			fmt.Fprintf(os.Stderr, "linear cluster update: %v\n", err)
		}
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
