//go:build failpoints

package failpoint

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestArmAndHit(t *testing.T) {
	for _, tc := range []struct{ spec, err string }{
		{"crash", ""}, {"2*sleep(5)", ""}, {"off", ""},
		{"boom", "unknown action"}, {"0*crash", "bad count"}, {"sleep(x)", "bad sleep"},
	} {
		err := Arm(CoordAfterPrepareAll, tc.spec)
		if (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("Arm(%q) = %v, want %q", tc.spec, err, tc.err)
		}
	}
	if err := Arm("noSuchPoint", "crash"); err == nil {
		t.Error("an unknown failpoint was armed")
	}
	if err := Arm(CoordAfterPrepareAll, "2*sleep(20)"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	Hit(CoordAfterPrepareAll)
	Hit(CoordAfterPrepareAll)
	if d := time.Since(start); d < 40*time.Millisecond {
		t.Errorf("two armed sleeps of 20 ms took %s", d)
	}
	if got := armed(); got != "" {
		t.Errorf("after its count ran out the failpoint is still armed: %q", got)
	}
}

func TestHandler(t *testing.T) {
	srv := httptest.NewServer(Handler())
	defer srv.Close()
	do := func(method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(b))
	}
	if code, _ := do("PUT", "/debug/failpoints/"+ParticipantAfterPrepareBeforeAck, "1*crash"); code != 200 {
		t.Fatalf("PUT: %d", code)
	}
	if _, body := do("GET", "/debug/failpoints", ""); body != ParticipantAfterPrepareBeforeAck+"=1*crash" {
		t.Fatalf("GET: %q", body)
	}
	if code, _ := do("PUT", "/debug/failpoints/nope", "crash"); code != 400 {
		t.Fatalf("PUT of an unknown failpoint: %d", code)
	}
	if code, _ := do("DELETE", "/debug/failpoints/"+ParticipantAfterPrepareBeforeAck, ""); code != 200 {
		t.Fatalf("DELETE: %d", code)
	}
	if _, body := do("GET", "/debug/failpoints", ""); body != "" {
		t.Fatalf("GET after DELETE: %q", body)
	}
}
