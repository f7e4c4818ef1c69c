package main

import "sync"

// chunkSize is the unit a message is gathered in while its DATA frames arrive.
const chunkSize = 64 * 1024

// bufferPool recycles message memory across a worker's streams: chunks for messages in flight,
// and contiguous buffers for the few being walked at any moment (about one per running goroutine).
type bufferPool struct {
	chunks sync.Pool
	wholes sync.Pool
}

func (p *bufferPool) chunk() *[chunkSize]byte {
	if c, ok := p.chunks.Get().(*[chunkSize]byte); ok {
		return c
	}
	return new([chunkSize]byte)
}

func (p *bufferPool) putChunk(c *[chunkSize]byte) { p.chunks.Put(c) }

// contiguous returns a buffer with room for size bytes; one too small is left to the collector.
func (p *bufferPool) contiguous(size int) *[]byte {
	if b, ok := p.wholes.Get().(*[]byte); ok && cap(*b) >= size {
		return b
	}
	b := make([]byte, 0, size)
	return &b
}

func (p *bufferPool) putContiguous(b *[]byte) { p.wholes.Put(b) }
