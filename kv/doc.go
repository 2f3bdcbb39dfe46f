// Package kv is the client side of ordo's key-value layer, used by the SQL
// layer, the server's own bookkeeping and the `ordo kv` tool.
//
// DB offers Get, Put, Delete, CAS, Increment, Scan and DeleteRange on any key.
// Underneath, a DistSender finds the range that holds a key (a range cache,
// filled by scanning the meta range), sends the request to the replica it
// believes holds the lease, and follows NotLeaseholder hints and
// RangeKeyMismatch descriptors, retrying with a bound and a backoff. A write
// whose outcome it cannot know (the RPC may have been delivered) comes back
// as an ambiguous error and is never retried, so a write is applied at most
// once per call.
package kv
