// Command ordo runs and administers ordo nodes.
//
//	ordo start --store DIR --listen-addr HOST:PORT [--join a,b,c] [--single-node]
//	ordo init --host ADDR
//	ordo demo --nodes 3
//	ordo kv put|get|del|scan|cas --host ADDR ...
//	ordo node status --host ADDR [--format json]
//	ordo range list --host ADDR [--format json]
//	ordo range split --host ADDR --key K
//
// Each subcommand is a function from its arguments to an exit code; the
// node itself is assembled by package server.
package main
