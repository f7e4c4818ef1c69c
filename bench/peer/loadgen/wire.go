package main

// Just enough protobuf for a simulated Envoy, as bench/loadgen/wire.ts does it: DiscoveryRequests
// are appended by hand to a reused buffer and DiscoveryResponses are walked in place, decoding
// only names and the endpoints of watched assignments. Nothing here allocates per field.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
)

const (
	wireVarint  = 0
	wireFixed64 = 1
	wireLen     = 2
	wireFixed32 = 5

	cdsType        = "type.googleapis.com/envoy.config.cluster.v3.Cluster"
	edsType        = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"
	adsPath        = "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources"
	healthDraining = 3
)

var (
	errTruncated   = errors.New("truncated protobuf field")
	errLongVarint  = errors.New("varint too long")
	cdsTypeField   = appendLenField(nil, 4, []byte(cdsType))
	edsTypeField   = appendLenField(nil, 4, []byte(edsType))
	errBadWireType = errors.New("unsupported wire type")
)

func appendVarint(dst []byte, v uint64) []byte {
	for v >= 0x80 {
		dst = append(dst, byte(v)|0x80)
		v >>= 7
	}
	return append(dst, byte(v))
}

func varintSize(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// appendLenField appends a whole length-delimited field: tag, length, bytes.
func appendLenField(dst []byte, field int, b []byte) []byte {
	dst = append(dst, byte(field<<3|wireLen))
	dst = appendVarint(dst, uint64(len(b)))
	return append(dst, b...)
}

func lenFieldSize(n int) int { return 1 + varintSize(uint64(n)) + n }

// envoyExtensions is how many extensions the simulated Envoy lists in its Node, as a current
// Envoy build does (~300): its first request carries ~34 KB of Node. The names are made up; the
// count and sizes are typical. bench/loadgen/wire.ts writes the same bytes.
const envoyExtensions = 300

var extensionCategories = []string{"envoy.filters.http", "envoy.filters.network", "envoy.filters.listener", "envoy.transport_sockets.upstream", "envoy.access_loggers"}

// extensionsField is Node.extensions (field 9) repeated, the same for every simulated Envoy:
// encoded once per process, not once per connection.
var extensionsField = sync.OnceValue(func() []byte {
	var out []byte
	for i := 0; i < envoyExtensions; i++ {
		category := extensionCategories[i%len(extensionCategories)]
		ext := appendLenField(nil, 1, []byte(fmt.Sprintf("%s.ext_%d", category, i)))
		ext = appendLenField(ext, 2, []byte(category))
		ext = appendLenField(ext, 6, []byte(fmt.Sprintf("type.googleapis.com/envoy.extensions.ext_%d.v3.Config", i)))
		out = appendLenField(out, 9, ext)
	}
	return out
})

// encodeNode is the DiscoveryRequest.node field (2): Node.id (1), cluster (2),
// user_agent_name (6), extensions (9, each name 1, category 2, type_urls 6), client_features (10).
func encodeNode(id, cluster string) []byte { return encodeNodeWithMetadata(id, cluster, nil) }

// encodeNodeWithMetadata is encodeNode with an encoded Node.metadata field (3), nil for none.
func encodeNodeWithMetadata(id, cluster string, metadata []byte) []byte {
	return encodeNodeAt(id, cluster, metadata, "")
}

// encodeNodeAt is encodeNodeWithMetadata with Node.locality (4) holding zone (2); "" for no locality.
func encodeNodeAt(id, cluster string, metadata []byte, zone string) []byte {
	inner := appendLenField(nil, 1, []byte(id))
	inner = appendLenField(inner, 2, []byte(cluster))
	inner = append(inner, metadata...)
	if zone != "" {
		inner = appendLenField(inner, 4, appendLenField(nil, 2, []byte(zone)))
	}
	inner = appendLenField(inner, 6, []byte("envoy"))
	inner = append(inner, extensionsField()...)
	inner = appendLenField(inner, 10, []byte("envoy.lb.does_not_support_overprovisioning"))
	return appendLenField(nil, 2, inner)
}

// encodeNames is resource_names (field 3) repeated, encoded once and reused by every ACK.
func encodeNames(names []string) []byte {
	size := 0
	for _, n := range names {
		size += lenFieldSize(len(n))
	}
	out := make([]byte, 0, size)
	for _, n := range names {
		out = appendLenField(out, 3, []byte(n))
	}
	return out
}

// appendRequest appends a DiscoveryRequest inside its 5-byte gRPC message header. node and names
// are pre-encoded fields (nil to leave out); typeField is cdsTypeField or edsTypeField.
func appendRequest(dst, version, node, names, typeField, nonce []byte) []byte {
	size := len(node) + len(names) + len(typeField)
	if len(version) > 0 {
		size += lenFieldSize(len(version))
	}
	if len(nonce) > 0 {
		size += lenFieldSize(len(nonce))
	}
	dst = slices.Grow(dst, 5+size)
	dst = append(dst, 0, 0, 0, 0, 0)
	binary.BigEndian.PutUint32(dst[len(dst)-4:], uint32(size))
	if len(version) > 0 {
		dst = appendLenField(dst, 1, version)
	}
	dst = append(dst, node...)
	dst = append(dst, names...)
	dst = append(dst, typeField...)
	if len(nonce) > 0 {
		dst = appendLenField(dst, 5, nonce)
	}
	return dst
}

// fieldReader walks one message's fields; start/end bound the current length-delimited value.
type fieldReader struct {
	buf        []byte
	pos, limit int
	field      int
	wire       int
	value      uint64
	start, end int
	err        error
}

func newReader(buf []byte, begin, limit int) fieldReader {
	return fieldReader{buf: buf, pos: begin, limit: limit}
}

// next advances to the next field; false at the end of the message or on an error (see err).
func (r *fieldReader) next() bool {
	if r.err != nil || r.pos >= r.limit {
		return false
	}
	key, ok := r.varint()
	if !ok {
		return false
	}
	r.field = int(key >> 3)
	r.wire = int(key & 7)
	switch r.wire {
	case wireVarint:
		r.value, ok = r.varint()
		return ok
	case wireLen:
		length, ok := r.varint()
		if !ok {
			return false
		}
		if length > uint64(r.limit-r.pos) {
			r.err = errTruncated
			return false
		}
		r.start = r.pos
		r.end = r.pos + int(length)
		r.pos = r.end
	case wireFixed64:
		r.pos += 8
	case wireFixed32:
		r.pos += 4
	default:
		r.err = fmt.Errorf("%w %d", errBadWireType, r.wire)
		return false
	}
	if r.pos > r.limit {
		r.err = errTruncated
		return false
	}
	return true
}

func (r *fieldReader) bytes() []byte { return r.buf[r.start:r.end] }

func (r *fieldReader) varint() (uint64, bool) {
	var v uint64
	for shift := uint(0); shift < 70; shift += 7 {
		if r.pos >= r.limit {
			r.err = errTruncated
			return 0, false
		}
		b := r.buf[r.pos]
		r.pos++
		v |= uint64(b&0x7f) << shift
		if b < 0x80 {
			return v, true
		}
	}
	r.err = errLongVarint
	return 0, false
}

// response is a DiscoveryResponse walked in place: its slices point into the message buffer.
type response struct {
	version, typeURL, nonce []byte
	// resources holds [start, end) of each Any's value (the resource message), reused between calls.
	resources []int
}

func parseResponse(buf []byte, out *response) error {
	out.version, out.typeURL, out.nonce = nil, nil, nil
	out.resources = out.resources[:0]
	r := newReader(buf, 0, len(buf))
	for r.next() {
		if r.wire != wireLen {
			continue
		}
		switch r.field {
		case 1:
			out.version = r.bytes()
		case 4:
			out.typeURL = r.bytes()
		case 5:
			out.nonce = r.bytes()
		case 2:
			value := newReader(buf, r.start, r.end)
			for value.next() {
				if value.field == 2 && value.wire == wireLen {
					out.resources = append(out.resources, value.start, value.end)
					break
				}
			}
			if value.err != nil {
				return value.err
			}
		}
	}
	return r.err
}

// firstStringField is field 1 of a message: Cluster.name and ClusterLoadAssignment.cluster_name alike.
func firstStringField(buf []byte, start, end int) ([]byte, error) {
	r := newReader(buf, start, end)
	for r.next() {
		if r.field == 1 && r.wire == wireLen {
			return r.bytes(), nil
		}
	}
	return nil, r.err
}

// forEachDraining calls found with the address of every DRAINING endpoint in a
// ClusterLoadAssignment: endpoints(2) → lb_endpoints(2) {endpoint(1), health_status(2)}.
func forEachDraining(buf []byte, start, end int, found func(ip []byte)) error {
	cla := newReader(buf, start, end)
	for cla.next() {
		if cla.field != 2 || cla.wire != wireLen {
			continue
		}
		locality := newReader(buf, cla.start, cla.end)
		for locality.next() {
			if locality.field != 2 || locality.wire != wireLen {
				continue
			}
			health := uint64(0)
			epStart, epEnd := -1, -1
			lb := newReader(buf, locality.start, locality.end)
			for lb.next() {
				if lb.field == 2 && lb.wire == wireVarint {
					health = lb.value
				} else if lb.field == 1 && lb.wire == wireLen {
					epStart, epEnd = lb.start, lb.end
				}
			}
			if lb.err != nil {
				return lb.err
			}
			if health != healthDraining || epStart < 0 {
				continue
			}
			ip, err := socketAddress(buf, epStart, epEnd)
			if err != nil {
				return err
			}
			if ip != nil {
				found(ip)
			}
		}
		if locality.err != nil {
			return locality.err
		}
	}
	return cla.err
}

// socketAddress follows Endpoint.address(1) → Address.socket_address(1) → SocketAddress.address(2).
func socketAddress(buf []byte, start, end int) ([]byte, error) {
	for _, field := range [2]int{1, 1} {
		r := newReader(buf, start, end)
		found := false
		for r.next() {
			if r.field == field && r.wire == wireLen {
				start, end, found = r.start, r.end, true
				break
			}
		}
		if r.err != nil {
			return nil, r.err
		}
		if !found {
			return nil, nil
		}
	}
	r := newReader(buf, start, end)
	for r.next() {
		if r.field == 2 && r.wire == wireLen {
			return r.bytes(), nil
		}
	}
	return nil, r.err
}
