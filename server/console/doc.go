// Package console is ordo's web console: a page of plain HTML, JavaScript
// and CSS embedded in the binary (no build step, nothing fetched from
// outside the node) that each node serves at / and /console/ on its HTTP
// status port.
//
// The page is a loop in the browser: it fetches /status once a second and
// redraws the cluster from the document (docs/console.md says what /status
// holds): the nodes with their liveness, the ranges as bars over the key
// space with their replicas and leaseholders, requests per second over the
// last minutes (the difference of the status counter between two polls),
// the lock waits (who waits for whom, on which key), in-doubt transactions
// and the cluster settings. It keeps no state on the server.
//
// Elements carry stable ids and data attributes (data-node-id,
// data-range-id, data-leaseholder, data-waiter-txn, data-holder-txn) so a
// test can assert on the DOM a headless browser renders; tests/console
// does. Changing them is changing an interface: update that test and
// docs/console.md with them.
package console
