package main

// Where a simulated Envoy says it runs, as bench/loadgen/worker.ts placeOf deals it out: its kube
// cluster in the Node metadata (herald.io/kube-cluster) and its zone in node.locality.zone, so
// Herald serves it the assignment variant of that view. A stream that declared a zone checks,
// on every assignment that carries a timed drain, that priority 0 holds its zone and nothing
// else; anything else is counted as an error.

// kubeClusterKey is the Node metadata key Herald reads a client's kube cluster from.
const kubeClusterKey = "herald.io/kube-cluster"

// places is the connect command's declaration: stream g of the run (g = FirstIndex + its index
// in the connect) declares KubeClusters[g mod len] and Zones[g mod len]; an empty list, none.
type places struct {
	KubeClusters []string `json:"kubeClusters"`
	Zones        []string `json:"zones"`
	FirstIndex   int      `json:"firstIndex"`
}

// place is one stream's declaration: metadata is the encoded Node.metadata field (nil for none),
// zone "" for none.
type place struct {
	metadata []byte
	zone     string
}

// placeOf is the i-th stream of the connect's place; the metadata is encoded once per kube
// cluster by the caller's cache.
func (p *places) placeOf(i int, metadata map[string][]byte) place {
	if p == nil {
		return place{}
	}
	g := p.FirstIndex + i
	out := place{}
	if len(p.KubeClusters) > 0 {
		name := p.KubeClusters[g%len(p.KubeClusters)]
		if metadata[name] == nil {
			metadata[name] = encodeKubeCluster(name)
		}
		out.metadata = metadata[name]
	}
	if len(p.Zones) > 0 {
		out.zone = p.Zones[g%len(p.Zones)]
	}
	return out
}

// encodeKubeCluster is Node.metadata (field 3): a Struct whose fields map (1) has one entry, key
// (1) herald.io/kube-cluster and a Value (2) with string_value (3).
func encodeKubeCluster(name string) []byte {
	entry := appendLenField(nil, 1, []byte(kubeClusterKey))
	entry = appendLenField(entry, 2, appendLenField(nil, 3, []byte(name)))
	return appendLenField(nil, 3, appendLenField(nil, 1, entry))
}

// zoneCheck is one stream's view of a drain: its zone, and whether every priority-0 locality of
// the assignment was in it (and there was one).
type zoneCheck struct {
	zone         string
	ownZoneFirst bool
}

// priorityZeroZones calls found with the zone of every priority-0 locality of a
// ClusterLoadAssignment: its endpoints (2), each a LocalityLbEndpoints whose locality (1) has
// zone (2) and whose priority (5) is 0 when absent.
func priorityZeroZones(buf []byte, start, end int, found func(zone []byte)) error {
	cla := newReader(buf, start, end)
	for cla.next() {
		if cla.field != 2 || cla.wire != wireLen {
			continue
		}
		priority := uint64(0)
		var zone []byte
		locality := newReader(buf, cla.start, cla.end)
		for locality.next() {
			if locality.field == 5 && locality.wire == wireVarint {
				priority = locality.value
			} else if locality.field == 1 && locality.wire == wireLen {
				where := newReader(buf, locality.start, locality.end)
				for where.next() {
					if where.field == 2 && where.wire == wireLen {
						zone = where.bytes()
					}
				}
				if where.err != nil {
					return where.err
				}
			}
		}
		if locality.err != nil {
			return locality.err
		}
		if priority == 0 {
			found(zone)
		}
	}
	return cla.err
}

// checkZone is the stream's zoneCheck of one assignment; nil when it declared no zone.
func checkZone(own string, buf []byte, start, end int) (*zoneCheck, error) {
	if own == "" {
		return nil, nil
	}
	seen, others := 0, 0
	err := priorityZeroZones(buf, start, end, func(zone []byte) {
		seen++
		if string(zone) != own {
			others++
		}
	})
	if err != nil {
		return nil, err
	}
	return &zoneCheck{zone: own, ownZoneFirst: seen > 0 && others == 0}, nil
}
