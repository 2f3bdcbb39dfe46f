// Package clients holds end-to-end tests of unmodified PostgreSQL clients
// (pgbench 15, psql 15, pgx) against a real three-node ordo cluster started
// in the test process (tests/cluster.StartInProcess), and, where output is
// compared, against a real PostgreSQL 15 started by the tests (run as the
// "postgres" user through runuser when the tests run as root).
//
// The client binaries (/usr/bin/pgbench, /usr/bin/psql) and the PostgreSQL
// 15 server binaries (/usr/lib/postgresql/15/bin, or $ORDO_PG_BIN) are
// installed by .ci/run; missing binaries fail the tests rather than skip
// them. The package has no non-test code.
package clients
