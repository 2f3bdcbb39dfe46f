package pgwire

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5/pgproto3"
)

// Startup packet bounds, as PostgreSQL's MAX_STARTUP_PACKET_LENGTH.
const (
	minStartupPacketLen = 8
	maxStartupPacketLen = 10000
)

// Errors of the framing layer. All of them end the connection.
var (
	errStartupLength = errors.New("pgwire: invalid length of startup packet")
	errMessageLength = errors.New("pgwire: invalid message length")
)

// unknownTypeError reports a message type byte no frontend sends.
type unknownTypeError struct{ typ byte }

func (e unknownTypeError) Error() string {
	return fmt.Sprintf("pgwire: invalid frontend message type %d", e.typ)
}

// tooLargeError reports a message whose declared length exceeds the limit;
// nothing of its body has been read or allocated.
type tooLargeError struct{ size, max int }

func (e tooLargeError) Error() string {
	return fmt.Sprintf("pgwire: message of %d bytes exceeds the limit of %d", e.size, e.max)
}

// frontendTypes are the message types a frontend may send after startup.
var frontendTypes = [256]bool{
	'B': true, 'C': true, 'D': true, 'E': true, 'F': true, 'H': true, 'P': true,
	'Q': true, 'S': true, 'X': true, 'c': true, 'd': true, 'f': true, 'p': true,
}

// msgReader reads frontend messages. Bodies are read in chunks so that a
// declared length is never allocated before the bytes arrive.
type msgReader struct {
	br      *bufio.Reader
	maxBody int
}

// syncNext reports whether the next message, already received, is a
// Sync: a client that sent Execute and Sync together waits for both.
func (r *msgReader) syncNext() bool {
	b, err := r.br.Peek(5)
	return err == nil && r.br.Buffered() >= 5 && b[0] == 'S' && b[1] == 0 && b[2] == 0 && b[3] == 0 && b[4] == 4
}

func newMsgReader(r io.Reader, maxBody int) *msgReader {
	return &msgReader{br: bufio.NewReaderSize(r, 8192), maxBody: maxBody}
}

// readStartup reads one length-prefixed startup-phase packet and returns its
// body (beginning with the 32-bit code).
func (r *msgReader) readStartup() ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r.br, hdr[:]); err != nil {
		return nil, err
	}
	n := int(int32(binary.BigEndian.Uint32(hdr[:])))
	if n < minStartupPacketLen || n > maxStartupPacketLen {
		return nil, errStartupLength
	}
	return r.readBody(n - 4)
}

// readMessage reads one typed message.
func (r *msgReader) readMessage() (byte, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r.br, hdr[:]); err != nil {
		return 0, nil, err
	}
	typ := hdr[0]
	if !frontendTypes[typ] {
		return typ, nil, unknownTypeError{typ}
	}
	n := int(int32(binary.BigEndian.Uint32(hdr[1:])))
	if n < 4 {
		return typ, nil, errMessageLength
	}
	if n-4 > r.maxBody {
		return typ, nil, tooLargeError{size: n - 4, max: r.maxBody}
	}
	body, err := r.readBody(n - 4)
	return typ, body, err
}

// readBody reads n bytes, growing the buffer as data arrives.
func (r *msgReader) readBody(n int) ([]byte, error) {
	const chunk = 64 << 10
	buf := make([]byte, 0, min(n, chunk))
	for len(buf) < n {
		want := min(n-len(buf), chunk)
		buf = append(buf, make([]byte, want)...)
		if _, err := io.ReadFull(r.br, buf[len(buf)-want:]); err != nil {
			return nil, unexpectedEOF(err)
		}
	}
	return buf, nil
}

// buffered reports how many bytes were received but not yet consumed.
func (r *msgReader) buffered() int { return r.br.Buffered() }

func unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// msgWriter buffers backend messages and writes them when asked or when the
// buffer grows past flushAt; the first write error sticks.
type msgWriter struct {
	w       io.Writer
	buf     []byte
	err     error
	flushAt int
}

func newMsgWriter(w io.Writer) *msgWriter {
	return &msgWriter{w: w, flushAt: 16 << 10}
}

func (w *msgWriter) send(msg pgproto3.BackendMessage) {
	if w.err != nil {
		return
	}
	buf, err := msg.Encode(w.buf)
	if err != nil {
		w.err = fmt.Errorf("pgwire: encode %T: %w", msg, err)
		return
	}
	w.buf = buf
	if len(w.buf) >= w.flushAt {
		w.flush()
	}
}

// sendRaw queues bytes that are already framed (e.g. the SSL answer).
func (w *msgWriter) sendRaw(b []byte) {
	if w.err == nil {
		w.buf = append(w.buf, b...)
	}
}

func (w *msgWriter) flush() error {
	if w.err != nil || len(w.buf) == 0 {
		return w.err
	}
	_, w.err = w.w.Write(w.buf)
	if cap(w.buf) > 64<<10 {
		w.buf = nil
	} else {
		w.buf = w.buf[:0]
	}
	return w.err
}
