package copyfmt

import (
	"bytes"
	"encoding/binary"
)

// Encoder formats COPY TO output, one CopyData payload per call. The
// returned slice is reused by the next call.
type Encoder struct {
	o   Options
	buf []byte
}

// NewEncoder returns an encoder; o must have been validated.
func NewEncoder(o Options) *Encoder { return &Encoder{o: o} }

// Header returns what precedes the rows: the binary signature, or the
// header line when HEADER was given; nil if nothing.
func (e *Encoder) Header(names []string) []byte {
	e.buf = e.buf[:0]
	if e.o.Format == Binary {
		e.buf = append(e.buf, Signature...)
		e.buf = binary.BigEndian.AppendUint32(e.buf, 0)
		e.buf = binary.BigEndian.AppendUint32(e.buf, 0)
		return e.buf
	}
	if !e.o.Header {
		return nil
	}
	fields := make([][]byte, len(names))
	for i, n := range names {
		fields[i] = []byte(n)
	}
	return e.Row(fields)
}

// Row formats one row of fields (nil = NULL).
func (e *Encoder) Row(fields [][]byte) []byte {
	e.buf = e.buf[:0]
	switch e.o.Format {
	case Binary:
		e.binaryRow(fields)
	case CSV:
		e.delimited(fields, e.appendCSV)
	default:
		e.delimited(fields, e.appendText)
	}
	return e.buf
}

// Trailer returns the binary trailer, nil for the other formats.
func (e *Encoder) Trailer() []byte {
	if e.o.Format != Binary {
		return nil
	}
	return []byte{0xff, 0xff}
}

func (e *Encoder) binaryRow(fields [][]byte) {
	e.buf = binary.BigEndian.AppendUint16(e.buf, uint16(len(fields)))
	for _, f := range fields {
		if f == nil {
			e.buf = binary.BigEndian.AppendUint32(e.buf, 0xffffffff)
			continue
		}
		e.buf = binary.BigEndian.AppendUint32(e.buf, uint32(len(f)))
		e.buf = append(e.buf, f...)
	}
}

func (e *Encoder) delimited(fields [][]byte, appendField func([]byte, bool)) {
	for i, f := range fields {
		if i > 0 {
			e.buf = append(e.buf, e.o.Delimiter)
		}
		if f == nil {
			e.buf = append(e.buf, e.o.Null...)
			continue
		}
		appendField(f, len(fields) == 1)
	}
	e.buf = append(e.buf, '\n')
}

// appendText escapes like PostgreSQL's CopyAttributeOutText.
func (e *Encoder) appendText(f []byte, _ bool) {
	for _, c := range f {
		switch c {
		case '\b':
			e.buf = append(e.buf, '\\', 'b')
		case '\f':
			e.buf = append(e.buf, '\\', 'f')
		case '\n':
			e.buf = append(e.buf, '\\', 'n')
		case '\r':
			e.buf = append(e.buf, '\\', 'r')
		case '\t':
			e.buf = append(e.buf, '\\', 't')
		case '\v':
			e.buf = append(e.buf, '\\', 'v')
		case '\\':
			e.buf = append(e.buf, '\\', '\\')
		default:
			if c == e.o.Delimiter {
				e.buf = append(e.buf, '\\')
			}
			e.buf = append(e.buf, c)
		}
	}
}

// appendCSV quotes like PostgreSQL's CopyAttributeOutCSV.
func (e *Encoder) appendCSV(f []byte, single bool) {
	if !e.needsQuote(f, single) {
		e.buf = append(e.buf, f...)
		return
	}
	e.buf = append(e.buf, e.o.Quote)
	for _, c := range f {
		if c == e.o.Quote || c == e.o.Escape {
			e.buf = append(e.buf, e.o.Escape)
		}
		e.buf = append(e.buf, c)
	}
	e.buf = append(e.buf, e.o.Quote)
}

func (e *Encoder) needsQuote(f []byte, single bool) bool {
	if string(f) == e.o.Null || (single && string(f) == `\.`) {
		return true
	}
	return bytes.IndexByte(f, e.o.Delimiter) >= 0 || bytes.IndexByte(f, e.o.Quote) >= 0 ||
		bytes.ContainsAny(f, "\r\n")
}
