package main

// The HTTP/2 side of one simulated Envoy: its own TCP connection and one request stream (id 1),
// read and written by a single goroutine with golang.org/x/net/http2's Framer. Settings match
// the Node load generator (and nghttp2's habits): a 1 MiB stream window, the connection window
// raised to 4 MiB right after the preface, no push, default 16 KiB frames; windows are topped up
// once half is consumed, and the client's own DATA respects the server's windows.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

const (
	streamID         = 1
	streamWindow     = 1 << 20
	connWindow       = 4 << 20
	defaultWindow    = 65535
	defaultFrameSize = 16384
	readBufferSize   = 32 * 1024
	writeBufferSize  = 32 * 1024
	dialTimeout      = 60 * time.Second
)

// goneError is why a stream ended, reported as the worker's firstGone.
type goneError string

func (e goneError) Error() string { return string(e) }

// requestHeaders is the HPACK block of the ADS request, encoded once: every connection starts
// with an empty dynamic table, so the same bytes are valid on each.
func requestHeaders(port int) []byte {
	var buf bytes.Buffer
	enc := hpack.NewEncoder(&buf)
	for _, f := range [][2]string{
		{":method", "POST"}, {":scheme", "http"}, {":path", adsPath}, {":authority", "127.0.0.1:" + strconv.Itoa(port)},
		{"content-type", "application/grpc"}, {"te", "trailers"},
	} {
		_ = enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	return buf.Bytes()
}

type h2conn struct {
	conn net.Conn
	br   *bufio.Reader
	bw   *bufio.Writer
	fr   *http2.Framer

	// out holds gRPC messages not yet sent for want of send window; out[outOff:] is pending.
	out           []byte
	outOff        int
	connSendWin   int64
	streamSendWin int64
	peerInitial   int64
	peerMaxFrame  int
	// Received but not yet returned to the server with WINDOW_UPDATE.
	connUnacked   uint32
	streamUnacked uint32

	// A gRPC message being reassembled from DATA frames.
	pool   *bufferPool
	head   [5]byte
	headN  int
	chunks []*[chunkSize]byte
	msgLen int
	msgN   int
	inMsg  bool
}

func dial(port int, header []byte, pool *bufferPool) (*h2conn, error) {
	conn, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), dialTimeout)
	if err != nil {
		return nil, goneError("session: " + err.Error())
	}
	c := &h2conn{conn: conn, pool: pool, connSendWin: defaultWindow, streamSendWin: defaultWindow, peerInitial: defaultWindow, peerMaxFrame: defaultFrameSize}
	c.br = bufio.NewReaderSize(conn, readBufferSize)
	c.bw = bufio.NewWriterSize(conn, writeBufferSize)
	c.fr = http2.NewFramer(c.bw, c.br)
	c.fr.SetReuseFrames()
	c.fr.SetMaxReadFrameSize(defaultFrameSize)
	c.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	if _, err := c.bw.WriteString(http2.ClientPreface); err != nil {
		return nil, c.writeErr(err)
	}
	if err := c.fr.WriteSettings(http2.Setting{ID: http2.SettingEnablePush, Val: 0}, http2.Setting{ID: http2.SettingInitialWindowSize, Val: streamWindow}); err != nil {
		return nil, c.writeErr(err)
	}
	if err := c.fr.WriteWindowUpdate(0, connWindow-defaultWindow); err != nil {
		return nil, c.writeErr(err)
	}
	if err := c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: streamID, BlockFragment: header, EndHeaders: true}); err != nil {
		return nil, c.writeErr(err)
	}
	return c, nil
}

func (c *h2conn) close() { _ = c.conn.Close() }

func (c *h2conn) writeErr(err error) error { return goneError("session: " + err.Error()) }

// send moves as much of the pending output into DATA frames as the server's windows allow.
func (c *h2conn) send() error {
	for c.outOff < len(c.out) {
		n := int64(len(c.out) - c.outOff)
		n = min(n, int64(c.peerMaxFrame), c.connSendWin, c.streamSendWin)
		if n <= 0 {
			return nil
		}
		if err := c.fr.WriteData(streamID, false, c.out[c.outOff:c.outOff+int(n)]); err != nil {
			return c.writeErr(err)
		}
		c.outOff += int(n)
		c.connSendWin -= n
		c.streamSendWin -= n
	}
	c.out = c.out[:0]
	c.outOff = 0
	return nil
}

// flushIfIdle writes the batch out unless another whole frame is already buffered for reading.
func (c *h2conn) flushIfIdle() error {
	if c.bw.Buffered() == 0 {
		return nil
	}
	if n := c.br.Buffered(); n >= 9 {
		h, _ := c.br.Peek(9)
		if n >= 9+(int(h[0])<<16|int(h[1])<<8|int(h[2])) {
			return nil
		}
	}
	if err := c.bw.Flush(); err != nil {
		return c.writeErr(err)
	}
	return nil
}

// serve reads frames until the stream is gone, passing every DATA payload's size to onData and
// every complete gRPC message to onMessage; writes are flushed once no whole frame is waiting.
// Unpadded DATA on the stream is read straight into the message chunks, not through the Framer,
// saving a copy of every byte received.
func (c *h2conn) serve(onData func(n int), onMessage func(msg []byte) error) error {
	for {
		if err := c.flushIfIdle(); err != nil {
			return err
		}
		fh, err := c.fr.ReadFrameHeader()
		if err != nil {
			return readErr(err)
		}
		if fh.Type == http2.FrameData && fh.StreamID == streamID && !fh.Flags.Has(http2.FlagDataPadded) {
			if err := c.consumed(fh.StreamID, fh.Length); err != nil {
				return err
			}
			onData(int(fh.Length))
			if err := c.reassemble(c.br, int(fh.Length), onMessage); err != nil {
				return err
			}
			if fh.Flags.Has(http2.FlagDataEndStream) {
				return goneError("stream closed")
			}
			continue
		}
		f, err := c.fr.ReadFrameForHeader(fh)
		if err != nil {
			return readErr(err)
		}
		if err := c.handle(f, onData, onMessage); err != nil {
			return err
		}
	}
}

func readErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return goneError("session: connection closed by the server")
	}
	return goneError("session: " + err.Error())
}

func (c *h2conn) handle(f http2.Frame, onData func(n int), onMessage func(msg []byte) error) error {
	switch f := f.(type) {
	case *http2.DataFrame:
		if err := c.consumed(f.StreamID, f.Length); err != nil {
			return err
		}
		if f.StreamID != streamID {
			return nil
		}
		data := f.Data()
		onData(len(data))
		if err := c.reassemble(bytes.NewReader(data), len(data), onMessage); err != nil {
			return err
		}
		if f.StreamEnded() {
			return goneError("stream closed")
		}
	case *http2.MetaHeadersFrame:
		if f.StreamID != streamID {
			return nil
		}
		if status := f.PseudoValue("status"); status != "" && status != "200" {
			return goneError("stream: HTTP status " + status)
		}
		if f.StreamEnded() {
			return goneError(fmt.Sprintf("stream closed (grpc-status %s: %s)", headerValue(f, "grpc-status"), headerValue(f, "grpc-message")))
		}
	case *http2.SettingsFrame:
		if f.IsAck() {
			return nil
		}
		err := f.ForeachSetting(func(s http2.Setting) error {
			switch s.ID {
			case http2.SettingInitialWindowSize:
				c.streamSendWin += int64(s.Val) - c.peerInitial
				c.peerInitial = int64(s.Val)
			case http2.SettingMaxFrameSize:
				c.peerMaxFrame = int(s.Val)
			}
			return nil
		})
		if err != nil {
			return goneError("session: " + err.Error())
		}
		if err := c.fr.WriteSettingsAck(); err != nil {
			return c.writeErr(err)
		}
		return c.send()
	case *http2.WindowUpdateFrame:
		switch f.StreamID {
		case 0:
			c.connSendWin += int64(f.Increment)
		case streamID:
			c.streamSendWin += int64(f.Increment)
		}
		return c.send()
	case *http2.PingFrame:
		if !f.IsAck() {
			if err := c.fr.WritePing(true, f.Data); err != nil {
				return c.writeErr(err)
			}
		}
	case *http2.GoAwayFrame:
		return goneError("goaway (" + f.ErrCode.String() + ")")
	case *http2.RSTStreamFrame:
		if f.StreamID == streamID {
			return goneError("stream: RST_STREAM " + f.ErrCode.String())
		}
	}
	return nil
}

// consumed returns received flow-control credit once half a window has been used, as nghttp2 does.
func (c *h2conn) consumed(stream uint32, n uint32) error {
	c.connUnacked += n
	if c.connUnacked >= connWindow/2 {
		if err := c.fr.WriteWindowUpdate(0, c.connUnacked); err != nil {
			return c.writeErr(err)
		}
		c.connUnacked = 0
	}
	if stream != streamID {
		return nil
	}
	c.streamUnacked += n
	if c.streamUnacked >= streamWindow/2 {
		if err := c.fr.WriteWindowUpdate(streamID, c.streamUnacked); err != nil {
			return c.writeErr(err)
		}
		c.streamUnacked = 0
	}
	return nil
}

func headerValue(f *http2.MetaHeadersFrame, name string) string {
	for _, h := range f.RegularFields() {
		if h.Name == name {
			return h.Value
		}
	}
	return ""
}
