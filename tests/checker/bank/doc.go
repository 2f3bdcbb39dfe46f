// Package bank checks histories of the bank workload: clients transfer
// amounts between a fixed set of accounts and read all balances in one
// transaction.
//
// Checks:
//
//   - Every ok read sees every account exactly (no nil/missing account, no
//     unexpected one), no negative balance (unless allowed), and balances
//     that sum to the initial total. A read failing any of these is an
//     anomaly of that class; fail and info reads are ignored.
//   - Final state: the ok read invoked last (taken after the faults healed)
//     must exist, and each account's balance in it must be reachable: the
//     initial balance, plus every ok transfer that completed before the
//     final read was invoked, plus any subset of the transfers whose effect
//     is uncertain (info, or ok but concurrent with the final read). A
//     balance outside those bounds means a lost acknowledged transfer or a
//     phantom one. Transfers invoked after the final read completed are left
//     out: the check assumes real-time order (strict serializability).
//     The bounds are per account, so the check is necessary, not sufficient.
//
// Conventions for the workload: a transfer that did not apply (for example
// insufficient funds) is recorded as Fail, never as Ok. The checker is
// pure; it reads nothing but its arguments.
package bank
