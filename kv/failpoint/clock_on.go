//go:build failpoints

package failpoint

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// skew is the clock fault in effect: the wall clock is off by offset, or,
// with period, alternates between right and off by offset every period
// (testing.md §4.4, Jepsen's strobe).
type skew struct {
	offset, period time.Duration
	since          time.Time
}

var clock atomic.Pointer[skew]

// Now is the wall clock ordo reads for what is not a duration — the start
// time that orders transactions' priorities, SQL's now() — skewed as
// /debug/clock says. The monotonic reading is dropped, so the skew acts as
// a real clock step would (durations are measured with time.Since on
// time.Now, never with this).
func Now() time.Time {
	t := time.Now()
	s := clock.Load()
	if s == nil {
		return t
	}
	if s.period > 0 && (t.Sub(s.since)/s.period)%2 == 0 {
		return t
	}
	return t.Round(0).Add(s.offset)
}

// setClock parses "off", "offset=D" or "strobe=D/P" (D may be negative).
func setClock(spec string) error {
	spec = strings.TrimSpace(spec)
	switch {
	case spec == "off":
		clock.Store(nil)
		return nil
	case strings.HasPrefix(spec, "offset="):
		d, err := time.ParseDuration(strings.TrimPrefix(spec, "offset="))
		if err != nil {
			return fmt.Errorf("failpoint: clock: %w", err)
		}
		clock.Store(&skew{offset: d})
		return nil
	case strings.HasPrefix(spec, "strobe="):
		d, p, ok := strings.Cut(strings.TrimPrefix(spec, "strobe="), "/")
		off, err1 := time.ParseDuration(d)
		period, err2 := time.ParseDuration(p)
		if !ok || err1 != nil || err2 != nil || period <= 0 {
			return fmt.Errorf("failpoint: clock: %q is not strobe=OFFSET/PERIOD", spec)
		}
		clock.Store(&skew{offset: off, period: period, since: time.Now()})
		return nil
	}
	return fmt.Errorf("failpoint: clock: %q: want off, offset=D or strobe=D/PERIOD", spec)
}

// clockHandler serves /debug/clock: GET shows the skew, PUT sets it.
func clockHandler(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		s := clock.Load()
		switch {
		case s == nil:
			fmt.Fprintln(w, "off")
		case s.period > 0:
			fmt.Fprintf(w, "strobe=%s/%s\n", s.offset, s.period)
		default:
			fmt.Fprintf(w, "offset=%s\n", s.offset)
		}
	case http.MethodPut:
		body, err := io.ReadAll(io.LimitReader(r.Body, 256))
		if err == nil {
			err = setClock(string(body))
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintln(w, "ok")
	default:
		http.Error(w, "GET or PUT /debug/clock", http.StatusMethodNotAllowed)
	}
}
