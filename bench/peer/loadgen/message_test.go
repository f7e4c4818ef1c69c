package main

import (
	"bytes"
	"encoding/binary"
	"testing"
)

func grpcFrame(msg []byte) []byte {
	out := make([]byte, 5, 5+len(msg))
	binary.BigEndian.PutUint32(out[1:], uint32(len(msg)))
	return append(out, msg...)
}

func patterned(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7) + seed
	}
	return b
}

// Messages of awkward sizes, fed in DATA payloads cut at every size from 1 byte up: each comes
// out whole, in order, and the pooled chunks are all handed back.
func TestReassembleAcrossAnyPayloadSplit(t *testing.T) {
	messages := [][]byte{patterned(10, 1), {}, patterned(chunkSize, 2), patterned(chunkSize+1, 3), patterned(3*chunkSize-5, 4), patterned(1, 5)}
	var stream []byte
	for _, m := range messages {
		stream = append(stream, grpcFrame(m)...)
	}
	for _, cut := range []int{1, 2, 4, 5, 6, 1000, 16384, chunkSize, chunkSize + 3, len(stream)} {
		c := &h2conn{pool: &bufferPool{}}
		var got [][]byte
		onMessage := func(msg []byte) error {
			got = append(got, bytes.Clone(msg))
			return nil
		}
		for off := 0; off < len(stream); off += cut {
			payload := stream[off:min(len(stream), off+cut)]
			if err := c.reassemble(bytes.NewReader(payload), len(payload), onMessage); err != nil {
				t.Fatalf("cut %d: %v", cut, err)
			}
			if len(c.chunks) > 3 {
				t.Fatalf("cut %d: %d chunks held", cut, len(c.chunks))
			}
		}
		if len(got) != len(messages) {
			t.Fatalf("cut %d: %d messages, want %d", cut, len(got), len(messages))
		}
		for i := range messages {
			if !bytes.Equal(got[i], messages[i]) {
				t.Errorf("cut %d: message %d differs (%d bytes, want %d)", cut, i, len(got[i]), len(messages[i]))
			}
		}
		if c.inMsg || c.headN != 0 || len(c.chunks) != 0 {
			t.Errorf("cut %d: state left over (inMsg %v, headN %d, chunks %d)", cut, c.inMsg, c.headN, len(c.chunks))
		}
	}
}

func TestReassembleRefusesHugeMessages(t *testing.T) {
	c := &h2conn{pool: &bufferPool{}}
	head := []byte{0, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(head[1:], maxMessage+1)
	if err := c.reassemble(bytes.NewReader(head), len(head), func([]byte) error { return nil }); err == nil {
		t.Fatal("a message over the limit was accepted")
	}
}
