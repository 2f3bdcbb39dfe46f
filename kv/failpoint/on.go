//go:build failpoints

package failpoint

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Enabled reports whether this build has failpoints (-tags failpoints).
const Enabled = true

// action is an armed failpoint's behaviour.
type action struct {
	crash bool
	sleep time.Duration
	// left is how many more times it fires; 0 is forever.
	left int
}

// registry is the process's armed failpoints. A failpoint build serves
// fault-injection runs only, so one registry per process is what is meant:
// the failpoint is a property of the process, as the crash is.
var registry struct {
	sync.Mutex
	armed map[string]*action
}

// Hit fires the failpoint name if it is armed.
func Hit(name string) {
	registry.Lock()
	a := registry.armed[name]
	if a == nil {
		registry.Unlock()
		return
	}
	if a.left > 0 {
		if a.left--; a.left == 0 {
			delete(registry.armed, name)
		}
	}
	crash, sleep := a.crash, a.sleep
	registry.Unlock()
	switch {
	case crash:
		fmt.Fprintf(os.Stderr, "failpoint %s: crash (SIGKILL)\n", name)
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is on its way
	case sleep > 0:
		time.Sleep(sleep)
	}
}

// Parse reads an action: "crash", "sleep(MS)" or "off", optionally "N*".
func parse(s string) (*action, error) {
	s = strings.TrimSpace(s)
	a := &action{}
	if n, rest, ok := strings.Cut(s, "*"); ok {
		k, err := strconv.Atoi(n)
		if err != nil || k <= 0 {
			return nil, fmt.Errorf("failpoint: bad count in %q", s)
		}
		a.left, s = k, rest
	}
	switch {
	case s == "off":
		return nil, nil
	case s == "crash":
		a.crash = true
	case strings.HasPrefix(s, "sleep(") && strings.HasSuffix(s, ")"):
		ms, err := strconv.Atoi(s[len("sleep(") : len(s)-1])
		if err != nil || ms <= 0 {
			return nil, fmt.Errorf("failpoint: bad sleep in %q", s)
		}
		a.sleep = time.Duration(ms) * time.Millisecond
	default:
		return nil, fmt.Errorf("failpoint: unknown action %q (want crash, sleep(MS) or off, optionally N*)", s)
	}
	return a, nil
}

// Arm sets failpoint name to the action spec ("off" disarms).
func Arm(name, spec string) error {
	if !slices.Contains(Names, name) {
		return fmt.Errorf("failpoint: unknown failpoint %q (known: %s)", name, strings.Join(Names, ", "))
	}
	a, err := parse(spec)
	if err != nil {
		return err
	}
	registry.Lock()
	defer registry.Unlock()
	if registry.armed == nil {
		registry.armed = map[string]*action{}
	}
	if a == nil {
		delete(registry.armed, name)
	} else {
		registry.armed[name] = a
	}
	return nil
}

// ArmFromEnv arms what ORDO_FAILPOINTS names ("NAME=ACTION;...").
func ArmFromEnv() error {
	var errs []error
	for _, part := range strings.Split(os.Getenv("ORDO_FAILPOINTS"), ";") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		name, spec, ok := strings.Cut(part, "=")
		if !ok {
			errs = append(errs, fmt.Errorf("failpoint: ORDO_FAILPOINTS: %q is not NAME=ACTION", part))
			continue
		}
		errs = append(errs, Arm(name, spec))
	}
	return errors.Join(errs...)
}

// armed lists the armed failpoints as "NAME=ACTION" lines.
func armed() string {
	registry.Lock()
	defer registry.Unlock()
	var lines []string
	for name, a := range registry.armed {
		spec := "crash"
		if !a.crash {
			spec = fmt.Sprintf("sleep(%d)", a.sleep.Milliseconds())
		}
		if a.left > 0 {
			spec = fmt.Sprintf("%d*%s", a.left, spec)
		}
		lines = append(lines, name+"="+spec)
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// Handler serves /debug/failpoints[/NAME]: GET lists the armed ones, PUT
// arms NAME with the body as action, DELETE disarms it; and /debug/clock
// (clock_on.go).
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/debug/clock" {
			clockHandler(w, r)
			return
		}
		name := strings.Trim(strings.TrimPrefix(r.URL.Path, "/debug/failpoints"), "/")
		switch {
		case r.Method == http.MethodGet && name == "":
			fmt.Fprintln(w, armed())
		case r.Method == http.MethodPut && name != "":
			body, err := io.ReadAll(io.LimitReader(r.Body, 256))
			if err == nil {
				err = Arm(name, string(body))
			}
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			fmt.Fprintln(w, "ok")
		case r.Method == http.MethodDelete && name != "":
			if err := Arm(name, "off"); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			fmt.Fprintln(w, "ok")
		default:
			http.Error(w, "GET /debug/failpoints, PUT or DELETE /debug/failpoints/NAME", http.StatusMethodNotAllowed)
		}
	})
}
