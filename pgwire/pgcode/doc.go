// Package pgcode holds PostgreSQL SQLSTATE codes and a small error type that
// carries one. It is a leaf: it imports only the standard library, so every
// layer (sql, pgwire, kv adapters) may use it.
//
// Errors signal their SQLSTATE through the behaviour interface
//
//	interface{ SQLState() string }
//
// which pgwire looks for with errors.As; Error is one implementation.
package pgcode
