package main

import (
	"sort"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

type endpoint struct {
	Pod     string `json:"pod"`
	Service string `json:"service"`
	Cluster string `json:"cluster"`
	IP      string `json:"ip"`
	Port    uint32 `json:"port"`
	Region  string `json:"region"`
	Zone    string `json:"zone"`
}

type podState struct {
	endpoint
	draining bool
}

// mesh holds the pods by service, as an informer-fed store would.
type mesh struct {
	pods     map[string]*podState
	services map[string]map[string]*podState
}

func newMesh() *mesh {
	return &mesh{pods: map[string]*podState{}, services: map[string]map[string]*podState{}}
}

func (m *mesh) put(e endpoint) {
	p := &podState{endpoint: e}
	m.pods[e.Pod] = p
	byPod := m.services[e.Service]
	if byPod == nil {
		byPod = map[string]*podState{}
		m.services[e.Service] = byPod
	}
	byPod[e.Pod] = p
}

func (m *mesh) drain(pod string) (string, bool) {
	p, ok := m.pods[pod]
	if !ok {
		return "", false
	}
	p.draining = true
	return p.Service, true
}

func (m *mesh) remove(pod string) (string, bool) {
	p, ok := m.pods[pod]
	if !ok {
		return "", false
	}
	delete(m.pods, pod)
	delete(m.services[p.Service], pod)
	return p.Service, true
}

func (m *mesh) serviceNames() []string {
	names := make([]string, 0, len(m.services))
	for name, pods := range m.services {
		if len(pods) > 0 {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// buildCluster has the shape Herald generates: EDS over ADS, no merge window.
func buildCluster(name string) *clusterv3.Cluster {
	return &clusterv3.Cluster{
		Name:                 name,
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
		EdsClusterConfig: &clusterv3.Cluster_EdsClusterConfig{
			EdsConfig: &corev3.ConfigSource{
				ResourceApiVersion:    corev3.ApiVersion_V3,
				ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
			},
		},
		ConnectTimeout: durationpb.New(time.Second),
		LbPolicy:       clusterv3.Cluster_ROUND_ROBIN,
		CommonLbConfig: &clusterv3.Cluster_CommonLbConfig{UpdateMergeWindow: durationpb.New(0)},
	}
}

// buildAssignment groups a service's endpoints by locality, as Herald does (weight = healthy count).
func (m *mesh) buildAssignment(service string) *endpointv3.ClusterLoadAssignment {
	pods := make([]*podState, 0, len(m.services[service]))
	for _, p := range m.services[service] {
		pods = append(pods, p)
	}
	sort.Slice(pods, func(i, j int) bool {
		a, b := pods[i], pods[j]
		if a.Region != b.Region {
			return a.Region < b.Region
		}
		if a.Zone != b.Zone {
			return a.Zone < b.Zone
		}
		return a.IP < b.IP
	})
	cla := &endpointv3.ClusterLoadAssignment{ClusterName: service}
	var group *endpointv3.LocalityLbEndpoints
	healthy := uint32(0)
	flush := func() {
		if group != nil {
			group.LoadBalancingWeight = wrapperspb.UInt32(max(1, healthy))
			cla.Endpoints = append(cla.Endpoints, group)
		}
	}
	for _, p := range pods {
		if group == nil || group.Locality.Region != p.Region || group.Locality.Zone != p.Zone {
			flush()
			group = &endpointv3.LocalityLbEndpoints{Locality: &corev3.Locality{Region: p.Region, Zone: p.Zone}}
			healthy = 0
		}
		status := corev3.HealthStatus_HEALTHY
		if p.draining {
			status = corev3.HealthStatus_DRAINING
		} else {
			healthy++
		}
		group.LbEndpoints = append(group.LbEndpoints, &endpointv3.LbEndpoint{
			HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{
				Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
					Address:       p.IP,
					PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: p.Port},
				}}},
			}},
			HealthStatus: status,
		})
	}
	flush()
	return cla
}
