//go:build failpoints

package failpoint

import (
	"testing"
	"time"
)

func TestClockSkew(t *testing.T) {
	defer func() { _ = setClock("off") }()
	for _, bad := range []string{"", "offset=x", "strobe=1s", "strobe=1s/0s", "jump"} {
		if err := setClock(bad); err == nil {
			t.Errorf("setClock(%q) accepted", bad)
		}
	}
	if err := setClock("offset=-1h"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(Now()); d < 59*time.Minute || d > 61*time.Minute {
		t.Fatalf("offset=-1h: Now is %s behind", d)
	}
	if err := setClock("strobe=10s/5ms"); err != nil {
		t.Fatal(err)
	}
	right, ahead := 0, 0
	deadline := time.Now().Add(5 * time.Second)
	for (right == 0 || ahead == 0) && time.Now().Before(deadline) {
		switch d := Now().Sub(time.Now()); {
		case d > 9*time.Second:
			ahead++
		case d < time.Second:
			right++
		}
	}
	if right == 0 || ahead == 0 {
		t.Fatalf("strobe: %d readings right, %d ahead", right, ahead)
	}
	if err := setClock("off"); err != nil {
		t.Fatal(err)
	}
	if d := Now().Sub(time.Now()); d > time.Second || d < -time.Second {
		t.Fatalf("off: Now is off by %s", d)
	}
}
