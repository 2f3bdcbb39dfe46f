// Package sets checks histories of the sets workload: clients add unique
// elements (one INSERT each) and, after the run, one final read returns
// every element in the set.
//
// Checks, against the final read (the ok read invoked last):
//
//   - Lost: an ok add that completed before the final read was invoked is
//     missing from it.
//   - Unexpected: the final read holds an element no add attempted, or one
//     whose add failed definitely (fail means it never took effect).
//   - Duplicate: the final read holds an element more than once.
//   - No final read: no ok read exists, so nothing was checked.
//
// An add whose outcome is unknown (info), or that was concurrent with the
// final read, may go either way: present it counts as recovered, absent as
// not recovered; neither is an anomaly. Ok reads other than the final one
// are checked for Unexpected and Duplicate only.
//
// Conventions for the workload: each add's Element is unique per run (and
// nonzero); an ok read lists what it saw in Elements. The checker is pure:
// it reads nothing but its arguments.
package sets
