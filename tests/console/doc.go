// Package console tests the web console end to end: an in-process cluster
// with HTTP status ports, ranges split and a lock wait held open, and
// headless Chromium rendering the console page, whose DOM must show every
// node, every range with its leaseholder, and who waits for whom
// (docs/console.md, "DOM contract"). It needs Debian's chromium; it skips
// without it unless CI is set.
package console
