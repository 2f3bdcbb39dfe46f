// Package nemesis injects faults into a cluster of real ordo processes on
// loopback, for `ordo verify --nemesis` and the fault tests (testing.md §4,
// §7).
//
// # Cluster
//
// Cluster starts N `ordo start` processes. Node i (0-based) has its own
// loopback IP, 127.0.1.(i+1) (all of 127.0.0.0/8 is loopback on Linux), on
// which it listens for gRPC, SQL and HTTP. In front of its gRPC listener
// sits a Proxy owned by the harness; the proxy's address is the node's
// advertised address and its --join entry, so every node-to-node byte (Raft
// streams, kv and admin RPCs, bootstrap and join) passes through the
// destination's proxy. Each node dials its peers from its own IP (ordo
// start --peer-source-ip), so the proxy knows the source of every
// connection and applies the state of the directed link source → node:
// partitions are shaped per (source, destination) pair, one-way if wanted.
// SQL clients connect to each node's SQL port directly and are never
// faulted; the harness's own calls (init, probes to real listeners) come
// from 127.0.0.1 and are not either.
//
// # Faults
//
// Net holds the state of every directed link (Link: cut, delay and jitter,
// loss). A cut blackholes bytes (connections stall, as behind a DROP rule);
// a connection that lost bytes is closed when its link heals. Loss on a
// TCP link cannot drop bytes without breaking the stream, so it shows as
// a retransmission stall (LossStall) per lost chunk. Process faults act on
// the PIDs the Cluster holds: SIGKILL then restart on the same store, and
// SIGSTOP/SIGCONT.
//
// A Nemesis injects one kind of fault, chosen with the schedule's seeded
// rand, checks that it took effect (a probe across a cut gets no answer and
// one along a healthy link does; a paused process is in state 'T' in
// /proc/PID/stat; a killed process has exited; a delayed link answers no
// sooner than its delay; a lossy link lost chunks) and returns a Fault
// whose Heal undoes it and checks that too.
//
// # Loop
//
// Schedule.Run alternates quiet and fault windows until its context is
// done: wait Quiet (jittered), inject a fault, hold it for Hold (jittered),
// heal it. Each start and end is an event in the run's history (Process ==
// history.NemesisProcess, F "nemesis-start" / "nemesis-end", Value the
// fault). Recovery reads a finished history: for each heal, the time until
// an operation invoked after it completes ok.
//
// # Invariants
//
//   - At most one fault is active at a time, and every fault is bounded by
//     Hold and healed before Run returns, whatever ctx does; Cluster.Close
//     resumes paused processes, stops every process and closes every proxy.
//   - A fault whose effect cannot be confirmed is an error, never a silent
//     no-op (testing.md §9).
//   - The schedule is deterministic given the seed; the execution is not.
//
// Not here: clock faults (ordo reads no clock for correctness and has no
// test hook to skew one; testing.md §4.4), lease transfers and splits on
// demand (they need the admin RPCs of rpc/rpcpb), disk faults.
//
// This package imports only tests/checker/history of ordo's packages: it is
// shipped in the binary by `ordo verify`, like the workloads and checkers.
package nemesis
