package main

// The worker's shared state: counts, drain times and the watched addresses, with the same
// semantics as bench/loadgen/worker.ts. Streams run on their own goroutines and report here.

import (
	"sync"
	"sync/atomic"
)

// watchSet maps a service to the addresses whose DRAINING flip is timed. It is replaced, never
// changed, so streams read it without a lock.
type watchSet map[string]map[string]struct{}

type worker struct {
	events *eventWriter
	// watched is read by every stream on every EDS response.
	watched   atomic.Pointer[watchSet]
	bytes     atomic.Int64
	responses atomic.Int64
	// outOfScope counts resources sent to scoped streams outside their sets.
	outOfScope atomic.Int64

	mu           sync.Mutex
	streams      int
	alive        int
	full         int
	fullReported bool
	lastFullAt   *float64
	firstGone    *string
	drains       map[string]*drainTimes
	// drainService is the service of each watched address.
	drainService map[string]string
	services     map[string]map[string]struct{}
	// scopes counts the live streams depending on each service.
	scopes scopeCounts

	buffers bufferPool

	namesMu sync.Mutex
	// names is the list handed out last; nameLists every list handed out, by its names.
	names     *nameList
	nameLists map[string]*nameList
}

func newWorker(events *eventWriter) *worker {
	w := &worker{events: events, drains: map[string]*drainTimes{}, drainService: map[string]string{}, services: map[string]map[string]struct{}{}}
	w.publishWatched()
	return w
}

// publishWatched copies the services map for the streams; called with mu held (or before any stream).
func (w *worker) publishWatched() {
	set := make(watchSet, len(w.services))
	for service, ips := range w.services {
		copied := make(map[string]struct{}, len(ips))
		for ip := range ips {
			copied[ip] = struct{}{}
		}
		set[service] = copied
	}
	w.watched.Store(&set)
}

func (w *worker) watch(service, ip string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	ips := w.services[service]
	if ips == nil {
		ips = map[string]struct{}{}
		w.services[service] = ips
	}
	ips[ip] = struct{}{}
	w.drains[ip] = &drainTimes{Received: []float64{}, Acked: []float64{}}
	w.drainService[ip] = service
	w.publishWatched()
	// A worker none of whose streams depends on the service is done at once.
	w.checkDone(ip)
}

func (w *worker) collect(ips []string) map[string]*drainTimes {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[string]*drainTimes{}
	for _, ip := range ips {
		if times := w.drains[ip]; times != nil {
			times.Expected = w.scopes.expected(w.drainService[ip])
			out[ip] = times
		}
		delete(w.drains, ip)
		delete(w.drainService, ip)
		for _, watched := range w.services {
			delete(watched, ip)
		}
	}
	w.publishWatched()
	return out
}

func (w *worker) status() statusEvent {
	w.mu.Lock()
	defer w.mu.Unlock()
	return statusEvent{Event: "status", Streams: w.streams, Alive: w.alive, Full: w.full, Bytes: w.bytes.Load(), Responses: w.responses.Load(), OutOfScope: w.outOfScope.Load(), FirstGone: w.firstGone, LastFullAt: w.lastFullAt}
}

// checkFull and checkDone are called with mu held; like the Node worker, done may be sent more
// than once for an address (the orchestrator keeps a set).
func (w *worker) checkFull() {
	if !w.fullReported && w.streams > 0 && w.full >= w.alive {
		w.fullReported = true
		at := nowMs()
		if w.lastFullAt != nil {
			at = *w.lastFullAt
		}
		w.events.send(map[string]any{"event": "full", "at": at})
	}
}

func (w *worker) checkDone(ip string) {
	if times := w.drains[ip]; times != nil && len(times.Received) >= w.scopes.expected(w.drainService[ip]) {
		w.events.send(map[string]any{"event": "done", "ip": ip})
	}
}

func (w *worker) onFull(at float64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.full++
	w.lastFullAt = &at
	w.checkFull()
}

// onDraining records a stream's DRAINING flip of ip; leaked when the stream does not depend on
// the address's service; zone, for a stream that declared one, what priority 0 held.
func (w *worker) onDraining(ip string, receivedAt, ackedAt float64, leaked bool, zone *zoneCheck) {
	w.mu.Lock()
	defer w.mu.Unlock()
	times := w.drains[ip]
	if times == nil {
		return
	}
	if zone != nil && zone.ownZoneFirst {
		if times.OwnZoneFirst == nil {
			times.OwnZoneFirst = map[string]int{}
		}
		times.OwnZoneFirst[zone.zone]++
	} else if zone != nil {
		times.WrongZone++
	}
	if leaked {
		times.Leaked++
		return
	}
	times.Received = append(times.Received, receivedAt)
	times.Acked = append(times.Acked, ackedAt)
	w.checkDone(ip)
}

func (w *worker) onGone(wasFull bool, reason string, sc *scope) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.alive--
	w.scopes.add(sc, -1)
	if wasFull {
		w.full--
	}
	if w.firstGone == nil {
		w.firstGone = &reason
	}
	w.checkFull()
	for ip := range w.drains {
		w.checkDone(ip)
	}
}

// sharedNames returns the worker's list for a sorted cluster list, so that streams holding the
// same list (all of them unscoped, those of one dependency set scoped) share one copy, one
// encoding and one index. The last list handed out is compared first, without allocating.
func (w *worker) sharedNames(names [][]byte) *nameList {
	w.namesMu.Lock()
	defer w.namesMu.Unlock()
	if w.names != nil && w.names.equal(names) {
		return w.names
	}
	key := joinNames(names)
	list := w.nameLists[key]
	if list == nil {
		list = newNameList(names)
		// Bounded: a run has one list per dependency set, and changes to a set are few.
		if w.nameLists == nil || len(w.nameLists) >= maxNameLists {
			w.nameLists = map[string]*nameList{}
		}
		w.nameLists[key] = list
	}
	w.names = list
	return list
}

const maxNameLists = 4096

func joinNames(names [][]byte) string {
	size := 0
	for _, n := range names {
		size += len(n) + 1
	}
	out := make([]byte, 0, size)
	for _, n := range names {
		out = append(out, n...)
		out = append(out, 0)
	}
	return string(out)
}
