// Package bench holds an end-to-end test of `ordo bench`: the built binary
// runs short workloads against a three-node ordo cluster started in the test
// process (tests/cluster.StartInProcess), and the test checks that each
// reports throughput and no unexpected errors. It asserts no timing:
// benchmarks are not tests. The package has no non-test code.
package bench
