// Package pgtest starts a real PostgreSQL 15 server for tests, so protocol
// expectations can be proven against PostgreSQL itself before ordo is held
// to them.
//
// The server runs from the Debian postgresql-15 binaries
// (/usr/lib/postgresql/15/bin, or $ORDO_PG_BIN) in a fresh temporary data
// directory with trust authentication, listening on 127.0.0.1 only, with
// TimeZone Etc/UTC. PostgreSQL refuses to run as root, so when the test runs
// as root the data directory is owned by, and the server runs as, the
// "postgres" user (through runuser).
//
// Missing binaries fail the test with a clear message: these tests are part
// of CI and must never silently skip.
package pgtest
