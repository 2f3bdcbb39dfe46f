// Package kverr holds the typed errors of the KV layer and their wire form.
// They are the errors a KV client branches on: route elsewhere
// (NotLeaseholder, RangeKeyMismatch, RangeNotFound), give up with an
// unknown outcome (Ambiguous), or fail (everything else).
package kverr
