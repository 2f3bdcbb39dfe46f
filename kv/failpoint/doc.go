// Package failpoint holds ordo's named failpoints: places in the commit
// protocol where a fault-injection run (tests/nemesis, `ordo verify
// --nemesis failpoint`) can make the process crash or stall at exactly
// that point.
//
// In a normal build (no build tag) Hit is an empty function the compiler
// removes, and there is no way to arm anything. Built with -tags
// failpoints, a failpoint is armed through the node's HTTP endpoint
// (PUT /debug/failpoints/NAME with the action as the body, DELETE to
// disarm, GET /debug/failpoints to list) or at start-up through
// ORDO_FAILPOINTS="NAME=ACTION;NAME=ACTION". Actions:
//
//	crash       the process SIGKILLs itself (as a power cut would, less
//	            the loss of unsynced data)
//	sleep(MS)   the goroutine that hit the point sleeps MS milliseconds
//	off         disarmed
//
// An action may be prefixed with a count, "1*crash", to fire that many
// times and then disarm.
//
// The package also holds the wall clock ordo reads where it wants a time
// rather than a duration (Now: transaction priorities, SQL's now()). With
// -tags failpoints, PUT /debug/clock skews it: "offset=1h", "offset=-10s",
// "strobe=10s/10ms" (off by 10 s every other 10 ms), "off". No safety
// decision of ordo reads a clock, so no skew may cause an anomaly; it may
// only cost liveness (a node whose clock runs ahead starts its
// transactions younger, so they lose more conflicts).
package failpoint

// The failpoints. Every name Hit is called with is one of these, and an
// unknown name is refused when arming.
const (
	// CoordAfterPrepareAll: the coordinator of a transaction over several
	// ranges has every participant prepared (or confirmed) and has not yet
	// sent the anchor its COMMIT.
	CoordAfterPrepareAll = "coordAfterPrepareAll"
	// CoordAfterCommitBeforeResolve: the anchor has answered the COMMIT
	// (the transaction committed) and the coordinator has not started
	// resolving the other participants.
	CoordAfterCommitBeforeResolve = "coordAfterCommitBeforeResolve"
	// ParticipantAfterPrepareBeforeAck: a participant's prepared record
	// has applied and the leaseholder has not yet answered the PREPARE.
	ParticipantAfterPrepareBeforeAck = "participantAfterPrepareBeforeAck"
)

// Names lists every failpoint.
var Names = []string{CoordAfterPrepareAll, CoordAfterCommitBeforeResolve, ParticipantAfterPrepareBeforeAck}
