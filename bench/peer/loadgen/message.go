package main

// gRPC messages gathered from DATA frames, in memory recycled across a worker's streams.

import (
	"encoding/binary"
	"fmt"
	"io"
	"sync"
)

const (
	// chunkSize is the unit a message is gathered in while its DATA frames arrive.
	chunkSize  = 64 * 1024
	maxMessage = 64 * 1024 * 1024
)

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

// reassemble reads n bytes of DATA payload from r and splits them into gRPC messages (5-byte
// header, then the message). A message is gathered in pooled chunks as it arrives, and only one
// spanning several chunks is copied into a contiguous (pooled) buffer to be walked: thousands of
// streams each holding a whole first EDS response of ~1 MB from its first byte cost a gigabyte
// of fresh pages.
func (c *h2conn) reassemble(r io.Reader, n int, onMessage func(msg []byte) error) error {
	for n > 0 || (c.inMsg && c.msgN == c.msgLen) {
		if !c.inMsg {
			k := min(5-c.headN, n)
			if _, err := io.ReadFull(r, c.head[c.headN:c.headN+k]); err != nil {
				return readErr(err)
			}
			c.headN += k
			n -= k
			if c.headN < 5 {
				return nil
			}
			c.msgLen = int(binary.BigEndian.Uint32(c.head[1:5]))
			if c.msgLen > maxMessage {
				return goneError(fmt.Sprintf("message of %d bytes", c.msgLen))
			}
			c.msgN = 0
			c.inMsg = true
		}
		for c.msgN < c.msgLen && n > 0 {
			fill := c.msgN % chunkSize
			if fill == 0 {
				c.chunks = append(c.chunks, c.pool.chunk())
			}
			k := min(chunkSize-fill, c.msgLen-c.msgN, n)
			if _, err := io.ReadFull(r, c.chunks[len(c.chunks)-1][fill:fill+k]); err != nil {
				return readErr(err)
			}
			c.msgN += k
			n -= k
		}
		if c.msgN < c.msgLen {
			return nil
		}
		c.inMsg = false
		c.headN = 0
		if err := c.deliver(onMessage); err != nil {
			return err
		}
	}
	return nil
}

func (c *h2conn) deliver(onMessage func(msg []byte) error) error {
	defer c.releaseChunks()
	switch len(c.chunks) {
	case 0:
		return onMessage(nil)
	case 1:
		return onMessage(c.chunks[0][:c.msgLen])
	}
	whole := c.pool.contiguous(c.msgLen)
	defer c.pool.putContiguous(whole)
	msg := (*whole)[:0]
	for i, chunk := range c.chunks {
		msg = append(msg, chunk[:min(chunkSize, c.msgLen-i*chunkSize)]...)
	}
	return onMessage(msg)
}

func (c *h2conn) releaseChunks() {
	for i, chunk := range c.chunks {
		c.pool.putChunk(chunk)
		c.chunks[i] = nil
	}
	c.chunks = c.chunks[:0]
}
