// Package settings is the registry of ordo's cluster settings: typed,
// validated, documented values that operators change at run time with SQL
// (SET CLUSTER SETTING kv.range_max_bytes = 262144, SHOW CLUSTER SETTINGS)
// and that are stored replicated in the system keyspace, one key per
// setting under keys.SettingsPrefix().
//
// It is a pure core: it parses SQL-ish text ('15s', 262144, '64 MiB', true),
// validates it against a setting's type and bounds, formats values for SHOW,
// and encodes them to bytes and back. Storage, the SQL statements and
// propagation to running components are the caller's.
//
// The loop. The node reads every key under keys.SettingsPrefix() at start
// (Registry.Load) and again whenever one changes, building an immutable
// Values snapshot that it publishes (for example in an atomic.Pointer);
// components read the snapshot they hold with typed handles
// (RangeMaxBytes.Get(v)). SET CLUSTER SETTING parses with Registry.Parse,
// writes Encode(value) at Key(name) through Raft, and the new snapshot
// follows from the write.
//
// Invariants:
//   - A Values holds, for every registered setting, a value of the setting's
//     type that passed its validation; a setting never set has its default.
//   - Values are immutable: With, WithValue and Reset return a new snapshot.
//   - Decode(name, Encode(v)) == v for every valid v, and Decode refuses
//     bytes of another type or outside the setting's bounds, so a stored
//     value never bypasses validation.
//   - Unknown names and bad values are errors that say what was expected
//     (UnknownError, InvalidValueError; errors.Is ErrUnknown and
//     ErrInvalidValue), never panics. Registering a bad setting is a bug and
//     panics at init.
//
// Cluster is the registry of ordo's own settings; Cluster.Defaults() is the
// snapshot before anything was set.
package settings
