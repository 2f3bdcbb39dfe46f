// Package register checks a key-value register history for
// linearizability with porcupine.
//
// The model is a set of independent registers, one per key (porcupine
// partitions the history by key and checks each part alone). A key that was
// never written reads as not-existing. Write sets the value; CAS sets it only
// when the key exists and holds Expected.
//
// Histories come from history.Op records through Operations, which applies
// etcd's conventions:
//
//   - Failed reads, and reads with unknown outcome, are dropped: they have no
//     effect.
//   - Failed writes and CASes are dropped: they definitely had no effect.
//   - Writes and CASes with unknown outcome (Info) get Return =
//     math.MaxInt64 and an Output with Unknown set, so the checker may place
//     them anywhere after their call, including after everything else
//     (which is the same as never). An unknown CAS applies if and only if it
//     is linearized where the register holds Expected.
//   - An Ok CAS whose precondition did not hold is recorded with Swapped =
//     false and checked as an observation.
//
// Check runs porcupine with a timeout and turns anything but Ok into an
// error: a timeout (Unknown) is a failure to fix, never a pass. Keep
// histories tractable: about 200 ops per key and 10 concurrent clients.
package register
