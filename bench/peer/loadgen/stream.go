package main

// One simulated Envoy's xDS behaviour, mirroring bench/loadgen/ads-stream.ts: a CDS wildcard
// request first (with the node), then an EDS request naming every cluster it got (sorted), an
// ACK for every response (version, nonce, the same names), and a new EDS request whenever the
// CDS name list changes. A scoped Envoy declares its dependency set in the node, and counts
// whatever it is sent outside that set.

import (
	"bytes"
	"slices"
)

type adsStream struct {
	w                *worker
	node             []byte
	expectedClusters int
	// scope is the declared dependency set; nil for an Envoy that takes every service.
	scope *scope
	// zone is the zone it declared in node.locality, "" for none.
	zone string

	c          *h2conn
	clusters   *nameList
	edsVersion []byte
	edsNonce   []byte
	// assignments counts the EDS names seen until the stream first holds full config.
	assignments distinctNames
	full        bool
	// seen holds the drained addresses already seen DRAINING on this stream.
	seen    map[string]struct{}
	resp    response
	drained []drainedIP
	gone    bool
}

// drainedIP is a watched address a response flipped to DRAINING; leaked if the stream does not
// depend on its service.
type drainedIP struct {
	ip     string
	leaked bool
	zone   *zoneCheck
}

// newStream is one simulated Envoy; at is where it says it runs (its kube cluster not with a scope).
func newStream(w *worker, nodeID string, expectedClusters int, sc *scope, at place) *adsStream {
	s := &adsStream{w: w, expectedClusters: expectedClusters, scope: sc, zone: at.zone, seen: map[string]struct{}{}}
	if sc != nil {
		s.node = encodeNodeAt(nodeID, "bench", sc.metadata, at.zone)
		s.expectedClusters = len(sc.names)
	} else {
		s.node = encodeNodeAt(nodeID, "bench", at.metadata, at.zone)
	}
	return s
}

func (s *adsStream) run(port int, header []byte) {
	c, err := dial(port, header, &s.w.buffers)
	if err != nil {
		s.fail(err)
		return
	}
	s.c = c
	defer c.close()
	c.out = appendRequest(c.out, nil, s.node, nil, cdsTypeField, nil)
	if err := c.send(); err != nil {
		s.fail(err)
		return
	}
	s.node = nil
	s.fail(c.serve(s.onData, s.onMessage))
}

func (s *adsStream) fail(err error) {
	if s.gone {
		return
	}
	s.gone = true
	s.w.onGone(s.full, err.Error(), s.scope)
}

func (s *adsStream) onData(n int) { s.w.bytes.Add(int64(n)) }

func (s *adsStream) onMessage(msg []byte) error {
	receivedAt := nowMs()
	s.w.responses.Add(1)
	if err := parseResponse(msg, &s.resp); err != nil {
		return goneError("bad response: " + err.Error())
	}
	switch string(s.resp.typeURL) {
	case cdsType:
		return s.onClusters(msg)
	case edsType:
		return s.onAssignments(msg, receivedAt)
	}
	return nil
}

func (s *adsStream) onClusters(msg []byte) error {
	r := &s.resp
	names := make([][]byte, 0, len(r.resources)/2)
	for i := 0; i < len(r.resources); i += 2 {
		name, err := firstStringField(msg, r.resources[i], r.resources[i+1])
		if err != nil {
			return goneError("bad response: " + err.Error())
		}
		names = append(names, name)
		if !s.scope.has(name) {
			s.w.outOfScope.Add(1)
		}
	}
	if !slices.IsSortedFunc(names, bytes.Compare) {
		slices.SortFunc(names, bytes.Compare)
	}
	s.c.out = appendRequest(s.c.out, r.version, nil, nil, cdsTypeField, r.nonce)
	if !s.clusters.equal(names) {
		s.clusters = s.w.sharedNames(names)
		if !s.full {
			s.assignments.rebase(s.clusters)
		}
		s.c.out = appendRequest(s.c.out, s.edsVersion, nil, s.clusters.resourceNames(), edsTypeField, s.edsNonce)
	}
	return s.c.send()
}

func (s *adsStream) onAssignments(msg []byte, receivedAt float64) error {
	r := &s.resp
	watched := *s.w.watched.Load()
	s.drained = s.drained[:0]
	for i := 0; i < len(r.resources); i += 2 {
		name, err := firstStringField(msg, r.resources[i], r.resources[i+1])
		if err != nil {
			return goneError("bad response: " + err.Error())
		}
		if !s.full {
			s.assignments.add(name)
		}
		inScope := s.scope.has(name)
		if !inScope {
			s.w.outOfScope.Add(1)
		}
		ips, ok := watched[string(name)]
		if !ok {
			continue
		}
		first := len(s.drained)
		err = forEachDraining(msg, r.resources[i], r.resources[i+1], func(ip []byte) {
			if _, want := ips[string(ip)]; !want {
				return
			}
			if _, done := s.seen[string(ip)]; !done {
				s.drained = append(s.drained, drainedIP{ip: string(ip), leaked: !inScope})
			}
		})
		if err != nil {
			return goneError("bad response: " + err.Error())
		}
		// Only assignments that carry a timed drain are checked, so the check costs next to nothing.
		if len(s.drained) > first && s.zone != "" {
			check, err := checkZone(s.zone, msg, r.resources[i], r.resources[i+1])
			if err != nil {
				return goneError("bad response: " + err.Error())
			}
			for j := first; j < len(s.drained); j++ {
				s.drained[j].zone = check
			}
		}
	}
	s.edsVersion = append(s.edsVersion[:0], r.version...)
	s.edsNonce = append(s.edsNonce[:0], r.nonce...)
	s.c.out = appendRequest(s.c.out, r.version, nil, s.clusters.resourceNames(), edsTypeField, r.nonce)
	if err := s.c.send(); err != nil {
		return err
	}
	// Written as call.write() in ads-stream.ts writes: framed and queued for the socket, which
	// the read loop flushes once no whole frame is waiting.
	ackedAt := nowMs()
	for _, d := range s.drained {
		s.seen[d.ip] = struct{}{}
		s.w.onDraining(d.ip, receivedAt, ackedAt, d.leaked, d.zone)
	}
	if !s.full && s.clusters.size() >= s.expectedClusters && s.assignments.count >= s.expectedClusters {
		s.full = true
		s.assignments = distinctNames{}
		s.w.onFull(ackedAt)
	}
	return nil
}
