// Package docker tests ordo as its users deploy it with Docker: the image
// FROM scratch that `make docker` builds around the static binary, and the
// 3-node cluster of ../../docker-compose.yml. It has no production code.
//
// compose_test.go builds the image under a tag of its own, brings the
// cluster up under a project name of its own (so runs by several engineers
// on one Docker engine do not meet), runs SQL through the host's psql
// against node 1's SQL port (published on 127.0.0.1 at a port Docker
// picks), kills another node's container, shows reads and writes still
// succeed, restarts it and waits for it to rejoin, then kills the third node
// so that writes need the restarted one. `docker-compose down -v` and the
// removal of the image and binary run in t.Cleanup, on failure too. No
// image is pulled; the only networks are loopback and the compose network.
//
// The test needs docker, docker-compose, make, readelf and psql; it fails
// (it does not skip) when one is missing, since CI has them all. Its
// invariants: it never touches a container, volume or image it did not
// create, and it finishes (or fails) within its budgets: six minutes for
// `make docker` (seconds with a warm build cache), four for the cluster
// part (about 30s here), both ended early enough before go test's -timeout
// for the cleanup to run; an interrupt (SIGINT, SIGTERM) also cleans up.
package docker
