//go:build !failpoints

package failpoint

import "net/http"

// Enabled reports whether this build has failpoints (-tags failpoints).
const Enabled = false

// Hit is where a failpoint sits; in this build it does nothing.
func Hit(string) {}

// Handler is nil in this build: no endpoint arms a failpoint.
func Handler() http.Handler { return nil }

// ArmFromEnv does nothing in this build.
func ArmFromEnv() error { return nil }
