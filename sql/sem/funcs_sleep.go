package sem

import (
	"math"
	"time"

	"github.com/ordodb/ordo/sql/types"
)

// maxSleep bounds pg_sleep so that a huge argument cannot overflow a
// time.Duration.
const maxSleep = 24 * time.Hour

func init() {
	funcs["pg_sleep"] = funcDef{args: []types.T{types.Float8}, strict: true, ret: retT(types.Text), fn: pgSleep}
}

// pgSleep is pg_sleep(seconds): it waits, or returns the context's error
// as soon as the statement is cancelled (CancelRequest, statement_timeout).
// PostgreSQL's result type is void, whose text form is the empty string.
func pgSleep(c *Ctx, a []types.Datum) (types.Datum, error) {
	secs := a[0].(float64)
	if math.IsNaN(secs) || secs <= 0 {
		return "", nil
	}
	d := maxSleep
	if secs < maxSleep.Seconds() {
		d = time.Duration(secs * float64(time.Second))
	}
	t := time.NewTimer(d)
	defer t.Stop()
	if c.Context == nil {
		<-t.C
		return "", nil
	}
	select {
	case <-t.C:
		return "", nil
	case <-c.Context.Done():
		return nil, c.Context.Err()
	}
}
