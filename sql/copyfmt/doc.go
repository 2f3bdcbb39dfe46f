// Package copyfmt reads and writes the data streams of PostgreSQL's COPY:
// the text format (tab-separated, backslash escapes, \N for NULL, the
// optional "\." end marker), CSV (DELIMITER, QUOTE, ESCAPE, NULL, HEADER)
// and the binary format (PGCOPY signature, length-prefixed fields, the
// trailer optional on input as pgx omits it).
//
// A Decoder is a pull parser over an io.Reader: Next returns one row's
// fields at a time, so a COPY of any size holds one row (plus a bufio
// buffer) in memory. Fields are raw bytes: unescaped text for the text and
// CSV formats, the binary send representation for binary; nil is NULL.
// The slices returned by Next are valid until the next call. Converting
// fields to values of a column type is the caller's job.
//
// An Encoder writes rows of already formatted fields (text output for the
// text and CSV formats, binary send output for binary).
//
// Malformed input yields *FormatError carrying the 1-based line (text, CSV)
// or row (binary) number; callers map it to SQLSTATE 22P04.
package copyfmt
