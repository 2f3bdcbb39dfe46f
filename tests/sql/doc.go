// Package sql runs sqllogictest-style scripts (testdata/*.test) against
// ordo and against a real PostgreSQL 15, so every expected result in them is
// PostgreSQL's before ordo is held to it.
//
// A script is a sequence of records separated by blank lines; lines
// starting with # are comments:
//
//	statement ok
//	CREATE TABLE t (a INT PRIMARY KEY, b TEXT)
//
//	statement error 23505
//	INSERT INTO t VALUES (1, 'x'), (1, 'y')
//
//	query IT rowsort
//	SELECT a, b FROM t
//	----
//	1 x
//
// "statement ok" must succeed; "statement error CODE" must fail with that
// SQLSTATE, and "statement error CODE MESSAGE" with that SQLSTATE and
// exactly that message (the primary text, without detail or position); "query TYPES [rowsort|nosort]" must return rows with one column
// per letter of TYPES (I integer, T text, R float or numeric, B boolean;
// the letters are checked as a column count) whose text form, values
// separated by one space, equals the lines after ----. NULL prints as NULL
// and the empty string as (empty). rowsort sorts actual and expected lines
// before comparing; without it the order must match (so such a query needs
// an ORDER BY that fixes it).
//
// Every script runs in a fresh database: a new single-node in-process ordo
// cluster per script, and a new database on one PostgreSQL server started
// for the test run (tests/pgtest). The statements go over the simple query
// protocol, so both servers produce the text forms themselves.
//
// Running the tests with -rewrite replaces every query's expected rows with
// what PostgreSQL returns (ordo is not consulted); review the diff.
//
// PostgreSQL is required: when its binaries are missing the test fails (it
// never skips), as CI installs Debian's postgresql-15.
package sql
