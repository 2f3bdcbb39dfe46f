//go:build !failpoints

package failpoint

import (
	"net/http"
	"time"
)

// Enabled reports whether this build has failpoints (-tags failpoints).
const Enabled = false

// Hit is where a failpoint sits; in this build it does nothing.
func Hit(string) {}

// Handler is nil in this build: no endpoint arms a failpoint.
func Handler() http.Handler { return nil }

// ArmFromEnv does nothing in this build.
func ArmFromEnv() error { return nil }

// Now is the wall clock ordo reads for what is not a duration — the start
// time that orders transactions' priorities, SQL's now(). In this build it
// is time.Now.
func Now() time.Time { return time.Now() }
