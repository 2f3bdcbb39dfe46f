package copyfmt

import "fmt"

// Format is a COPY data format.
type Format uint8

// The COPY formats.
const (
	Text Format = iota
	CSV
	Binary
)

func (f Format) String() string {
	switch f {
	case CSV:
		return "csv"
	case Binary:
		return "binary"
	}
	return "text"
}

// Options are the COPY options that shape the stream.
type Options struct {
	Format    Format
	Delimiter byte   // default '\t' (text) or ',' (CSV)
	Null      string // default `\N` (text) or "" (CSV)
	Quote     byte   // CSV only; default '"'
	Escape    byte   // CSV only; default Quote
	Header    bool   // CSV (and text on output): first line is a header
	// NullSet, QuoteSet, EscapeSet and DelimiterSet record which options
	// were given, so Validate can apply defaults.
	DelimiterSet, NullSet, QuoteSet, EscapeSet bool
}

// FormatError is malformed COPY input.
type FormatError struct {
	Line int // 1-based line (text, CSV) or row (binary); 0 = header
	Msg  string
}

func (e *FormatError) Error() string { return e.Msg }

func formatErr(line int, format string, args ...any) *FormatError {
	return &FormatError{Line: line, Msg: fmt.Sprintf(format, args...)}
}

// OptionError is an invalid combination of options (SQLSTATE 22023 or
// 0A000 in PostgreSQL; callers decide).
type OptionError struct{ Msg string }

func (e *OptionError) Error() string { return e.Msg }

// Validate fills defaults and checks the combination like PostgreSQL's
// ProcessCopyOptions.
func (o *Options) Validate() error {
	if o.Format == Binary {
		if o.DelimiterSet || o.NullSet {
			return &OptionError{"cannot specify DELIMITER or NULL in BINARY mode"}
		}
		if o.Header {
			return &OptionError{"cannot specify HEADER in BINARY mode"}
		}
		return nil
	}
	if !o.DelimiterSet {
		o.Delimiter = '\t'
		if o.Format == CSV {
			o.Delimiter = ','
		}
	}
	if !o.NullSet {
		o.Null = `\N`
		if o.Format == CSV {
			o.Null = ""
		}
	}
	if o.Format != CSV && (o.QuoteSet || o.EscapeSet) {
		return &OptionError{"COPY quote and escape available only in CSV mode"}
	}
	if !o.QuoteSet {
		o.Quote = '"'
	}
	if !o.EscapeSet {
		o.Escape = o.Quote
	}
	return o.check()
}

func (o *Options) check() error {
	switch {
	case o.Delimiter == '\r' || o.Delimiter == '\n':
		return &OptionError{"COPY delimiter cannot be newline or carriage return"}
	case o.Format == Text && o.Delimiter == '\\':
		return &OptionError{`COPY delimiter cannot be "\"`}
	case o.Format == CSV && o.Delimiter == o.Quote:
		return &OptionError{"COPY delimiter and quote must be different"}
	}
	for i := 0; i < len(o.Null); i++ {
		if o.Null[i] == '\r' || o.Null[i] == '\n' {
			return &OptionError{"COPY null representation cannot use newline or carriage return"}
		}
	}
	return nil
}
