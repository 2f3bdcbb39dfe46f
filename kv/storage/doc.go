// Package storage wraps the one Pebble instance each node keeps. The Raft
// log, HardState, applied state and the ranges' data all live in it (see
// package keys for the layout), so one batch can cover log appends of many
// ranges and one fsync makes them durable.
//
// Invariant: a failed write or sync is fatal. The engine calls its OnFatal
// hook and refuses every later write; it never carries on as if the data
// were durable (fail-stop).
package storage
