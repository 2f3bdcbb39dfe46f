package copyfmt

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
)

// Signature opens every binary COPY stream.
var Signature = []byte("PGCOPY\n\xff\r\n\x00")

// Decoder parses a COPY FROM stream one row at a time.
type Decoder struct {
	r    *bufio.Reader
	o    Options
	line int    // lines (rows for binary) consumed so far
	raw  []byte // the current line, escapes intact
	buf  []byte // unescaped field bytes of the current row
	ends []int  // end offsets of the fields in buf
	null []bool
	out  [][]byte
	done bool
	// started is set once the binary header has been read.
	started bool
}

// NewDecoder returns a decoder for r; o must have been validated.
func NewDecoder(r io.Reader, o Options) *Decoder {
	return &Decoder{r: bufio.NewReaderSize(r, 64<<10), o: o}
}

// Line is the 1-based number of the line (row, for binary) last returned.
func (d *Decoder) Line() int { return d.line }

// Next returns the next row's fields (nil entries are NULL), or io.EOF
// after the last row. The slices are reused by the next call.
func (d *Decoder) Next() ([][]byte, error) {
	if d.done {
		return nil, io.EOF
	}
	var err error
	if d.o.Format == Binary {
		err = d.nextBinary()
	} else {
		err = d.nextLine()
	}
	if err == io.EOF {
		d.done = true
	}
	if err != nil {
		return nil, err
	}
	return d.fields(), nil
}

func (d *Decoder) fields() [][]byte {
	d.out = d.out[:0]
	start := 0
	for i, end := range d.ends {
		if d.null[i] {
			d.out = append(d.out, nil)
		} else {
			d.out = append(d.out, d.buf[start:end:end])
		}
		start = end
	}
	return d.out
}

func (d *Decoder) reset() {
	if d.buf == nil {
		d.buf = make([]byte, 0, 256) // an empty field must not be nil (NULL)
	}
	d.buf, d.ends, d.null = d.buf[:0], d.ends[:0], d.null[:0]
}

func (d *Decoder) endField(null bool) {
	d.ends = append(d.ends, len(d.buf))
	d.null = append(d.null, null)
}

// nextLine reads and splits one text or CSV row, skipping the header.
func (d *Decoder) nextLine() error {
	for {
		if err := d.readLine(); err != nil {
			return err
		}
		if d.o.Header && d.line == 1 {
			continue
		}
		if isEndMarker(d.raw) {
			return io.EOF
		}
		d.reset()
		if d.o.Format == CSV {
			return d.splitCSV()
		}
		return d.splitText()
	}
}

func isEndMarker(line []byte) bool {
	return string(line) == `\.`
}

// readLine collects the next line into d.raw without its terminator. A
// newline escaped by a backslash (text) or inside quotes (CSV) is data.
func (d *Decoder) readLine() error {
	d.raw = d.raw[:0]
	inQuote, escaped := false, false
	for {
		c, err := d.r.ReadByte()
		if err == io.EOF {
			return d.lastLine(inQuote)
		}
		if err != nil {
			return err
		}
		if c == '\n' && !inQuote && !escaped {
			d.line++
			d.raw = bytes.TrimSuffix(d.raw, []byte{'\r'})
			return nil
		}
		d.raw = append(d.raw, c)
		inQuote, escaped = d.step(c, inQuote, escaped)
	}
}

// step advances the quoting state over one byte.
func (d *Decoder) step(c byte, inQuote, escaped bool) (bool, bool) {
	if d.o.Format != CSV {
		return false, !escaped && c == '\\'
	}
	if escaped {
		return inQuote, false
	}
	if inQuote && c == d.o.Escape && d.o.Escape != d.o.Quote {
		if p, err := d.r.Peek(1); err == nil && (p[0] == d.o.Quote || p[0] == d.o.Escape) {
			return true, true
		}
	}
	if c == d.o.Quote {
		return !inQuote, false
	}
	return inQuote, false
}

// lastLine handles end of input: a final line without a newline is a row.
func (d *Decoder) lastLine(inQuote bool) error {
	if len(d.raw) == 0 {
		return io.EOF
	}
	d.line++
	if inQuote {
		return formatErr(d.line, "unterminated CSV quoted field")
	}
	return nil
}

// splitText splits d.raw on the delimiter and undoes backslash escapes.
func (d *Decoder) splitText() error {
	line, delim := d.raw, d.o.Delimiter
	start := 0
	for i := 0; ; i++ {
		if i < len(line) && line[i] == '\\' && i+1 < len(line) {
			i++
			continue
		}
		if i < len(line) && line[i] != delim {
			continue
		}
		raw := line[start:i]
		if string(raw) == d.o.Null {
			d.endField(true)
		} else {
			d.buf = appendUnescaped(d.buf, raw)
			d.endField(false)
		}
		if i >= len(line) {
			return nil
		}
		start = i + 1
	}
}

// appendUnescaped decodes the text format's backslash sequences.
func appendUnescaped(dst, s []byte) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			dst = append(dst, c)
			continue
		}
		i++
		var n int
		c, n = unescape(s[i:])
		dst = append(dst, c)
		i += n - 1
	}
	return dst
}

// unescape decodes the sequence after a backslash: the byte and how many
// input bytes it used.
func unescape(s []byte) (byte, int) {
	switch s[0] {
	case 'b':
		return '\b', 1
	case 'f':
		return '\f', 1
	case 'n':
		return '\n', 1
	case 'r':
		return '\r', 1
	case 't':
		return '\t', 1
	case 'v':
		return '\v', 1
	case 'x':
		if v, n := digits(s[1:], 16, 2); n > 0 {
			return v, n + 1
		}
	case '0', '1', '2', '3', '4', '5', '6', '7':
		return digits(s, 8, 3)
	}
	return s[0], 1
}

func digits(s []byte, base, max int) (byte, int) {
	v, n := 0, 0
	for n < len(s) && n < max {
		d := digitVal(s[n])
		if d < 0 || d >= base {
			break
		}
		v = v*base + d
		n++
	}
	return byte(v), n
}

func digitVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// splitCSV splits d.raw into CSV fields.
func (d *Decoder) splitCSV() error {
	line := d.raw
	for i := 0; ; {
		next, err := d.csvField(line, i)
		if err != nil {
			return err
		}
		if next >= len(line) {
			return nil
		}
		i = next + 1
	}
}

// csvField parses the field starting at i; it returns the offset of the
// delimiter ending it (or len(line)).
func (d *Decoder) csvField(line []byte, i int) (int, error) {
	o := d.o
	start, sawQuote, inQuote := i, false, false
	for ; i < len(line); i++ {
		c := line[i]
		if !inQuote {
			if c == o.Delimiter {
				break
			}
			if c == o.Quote {
				sawQuote, inQuote = true, true
				continue
			}
			d.buf = append(d.buf, c)
			continue
		}
		if c == o.Escape && i+1 < len(line) && (line[i+1] == o.Quote || line[i+1] == o.Escape) && (o.Escape != o.Quote || line[i+1] == o.Quote) {
			d.buf = append(d.buf, line[i+1])
			i++
			continue
		}
		if c == o.Quote {
			inQuote = false
			continue
		}
		d.buf = append(d.buf, c)
	}
	if inQuote {
		return 0, formatErr(d.line, "unterminated CSV quoted field")
	}
	null := !sawQuote && string(line[start:i]) == o.Null
	if null {
		d.buf = d.buf[:len(d.buf)-(i-start)]
	}
	d.endField(null)
	return i, nil
}

// readHeader checks the binary signature and skips the extension area.
func (d *Decoder) readHeader() error {
	var h [19]byte
	if err := d.readFull(h[:], 0, "COPY file signature not recognized"); err != nil {
		return err
	}
	if !bytes.Equal(h[:11], Signature) {
		return formatErr(0, "COPY file signature not recognized")
	}
	flags := binary.BigEndian.Uint32(h[11:15])
	if flags&(1<<16) != 0 {
		return formatErr(0, "COPY with OIDs is not supported")
	}
	if flags&0xffff0000&^(1<<16) != 0 {
		return formatErr(0, "unrecognized critical flags in COPY file header")
	}
	ext := binary.BigEndian.Uint32(h[15:19])
	if _, err := d.r.Discard(int(ext)); err != nil {
		return d.eofErr(err, 0, "invalid COPY file header (wrong length)")
	}
	return nil
}

// nextBinary reads one binary tuple; a trailer or a clean end of input
// after a tuple ends the stream.
func (d *Decoder) nextBinary() error {
	if !d.started {
		d.started = true
		if err := d.readHeader(); err != nil {
			return err
		}
	}
	var nb [2]byte
	if _, err := io.ReadFull(d.r, nb[:]); err != nil {
		if err == io.EOF {
			return io.EOF
		}
		return d.eofErr(err, d.line+1, "unexpected EOF in COPY data")
	}
	n := int16(binary.BigEndian.Uint16(nb[:]))
	if n == -1 {
		return io.EOF
	}
	d.line++
	d.reset()
	for i := 0; i < int(n); i++ {
		if err := d.binaryField(); err != nil {
			return err
		}
	}
	if n < 0 {
		return formatErr(d.line, "row field count is %d", n)
	}
	return nil
}

func (d *Decoder) binaryField() error {
	var lb [4]byte
	if err := d.readFull(lb[:], d.line, "unexpected EOF in COPY data"); err != nil {
		return err
	}
	l := int32(binary.BigEndian.Uint32(lb[:]))
	if l == -1 {
		d.endField(true)
		return nil
	}
	if l < 0 {
		return formatErr(d.line, "invalid field size")
	}
	start := len(d.buf)
	d.buf = append(d.buf, make([]byte, l)...)
	if err := d.readFull(d.buf[start:], d.line, "unexpected EOF in COPY data"); err != nil {
		return err
	}
	d.endField(false)
	return nil
}

// readFull fills b; running out of input is a FormatError with msg,
// other errors (a CopyFail, a broken connection) pass through.
func (d *Decoder) readFull(b []byte, line int, msg string) error {
	_, err := io.ReadFull(d.r, b)
	return d.eofErr(err, line, msg)
}

func (d *Decoder) eofErr(err error, line int, msg string) error {
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return formatErr(line, "%s", msg)
	}
	return err
}
