// Package keys defines ordo's key space: how replicated data, range-local
// state, Raft state and addressing records are laid out in one Pebble
// keyspace per node.
//
// The first byte of every key says what it is:
//
//	0x01 'r' <rangeID:8>  <suffix>      unreplicated, per replica: Raft log, HardState, truncated state
//	0x01 'R' <rangeID:8>  <suffix>      replicated, per range: applied state, descriptor copy
//	0x01 's' <name>                      store-local: the store ident
//	0x02 <end key>                       meta: range descriptor of the range ending at <end key>
//	0x03 <name>...                       system: node registry, liveness, id generators, settings
//	0x04 ...                             user and table data
//
// Local keys (0x01) are never addressed by a KV request: they belong to one
// node's store. Addressable keys start at MinAddressable. The meta range owns
// [MinAddressable, SystemMax) — meta and system keys — and never splits, so
// addressing needs nothing but the meta range's own descriptor.
package keys
