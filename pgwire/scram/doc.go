// Package scram implements the server side of SCRAM-SHA-256 (RFC 5802, RFC
// 7677) as PostgreSQL uses it, plus the stored verifier format
// ("SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>").
//
// The exchange is a pure state machine: ServerSession takes the client's
// messages and returns the server's, with randomness (the server nonce) and
// the verifier supplied by the caller. It does no I/O and reads no clock.
//
// An unknown user runs a mock exchange (NewMockServerSession) whose salt is
// derived from the user name and a secret the caller supplies (ordo's is
// cluster-wide, kept in the catalog), so an attacker cannot tell an unknown
// user from a wrong password; it always fails at the final step.
//
// Channel binding is not offered (only "SCRAM-SHA-256" is advertised), so the
// client's GS2 flag must be 'n' or 'y'; 'p' is rejected. Passwords are used
// as given (no SASLprep); ASCII passwords are unaffected.
package scram
