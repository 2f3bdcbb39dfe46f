package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ordodb/ordo/tests/checker/history"
)

// Config describes a run. The zero value of the optional fields is the
// default.
type Config struct {
	// URLs are postgres:// URLs; client i connects to URLs[i mod len].
	URLs []string
	// Clients is the number of concurrent clients. Default 8.
	Clients int
	// Duration is how long clients run operations. Required.
	Duration time.Duration
	// Seed seeds the generators; client i uses (Seed, i).
	Seed uint64
	// Isolation is the level of every transaction. Default serializable.
	Isolation pgx.TxIsoLevel
	// Timeout bounds one transaction attempt. Default 5 s.
	Timeout time.Duration
	// Progress, if set, receives a progress line every ProgressEvery
	// (default 1 s).
	Progress      io.Writer
	ProgressEvery time.Duration
	// Nodes is the cluster size for the report (default len(URLs)).
	Nodes int
	// Nemesis names the faults injected meanwhile, for the report
	// (default "none").
	Nemesis string
	// During, if set, runs while the clients do, with a context that ends
	// when their time is up and a function that records a nemesis event in
	// the history. Run waits for it (its faults healed) before the final
	// read.
	During func(ctx context.Context, event func(history.Op) history.Op)
}

func (c Config) withDefaults() (Config, error) {
	if len(c.URLs) == 0 || c.Duration <= 0 {
		return c, errors.New("verify: config needs URLs and a positive Duration")
	}
	if c.Clients <= 0 {
		c.Clients = 8
	}
	if c.Isolation == "" {
		c.Isolation = pgx.Serializable
	}
	if c.Timeout <= 0 {
		c.Timeout = 5 * time.Second
	}
	if c.ProgressEvery <= 0 {
		c.ProgressEvery = time.Second
	}
	if c.Nodes <= 0 {
		c.Nodes = len(c.URLs)
	}
	if c.Nemesis == "" {
		c.Nemesis = "none"
	}
	return c, nil
}

// finalAttempts bounds the attempts at the final read.
const finalAttempts = 20

// run is the state of one Run.
type run struct {
	cfg   Config
	w     Workload
	base  time.Time
	rec   *history.Recorder
	count [history.Info + 1]atomic.Int64
}

// Run sets the workload up, runs it for cfg.Duration, takes the final read
// and checks the history. The error is a setup failure or a malformed
// history; anomalies are in the report.
func Run(ctx context.Context, cfg Config, w Workload) (*Report, []history.Op, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, nil, err
	}
	if err := setup(ctx, cfg, w); err != nil {
		return nil, nil, fmt.Errorf("verify: %s: setup: %w", w.Name(), err)
	}
	r := &run{cfg: cfg, w: w, base: time.Now()}
	r.rec = history.NewRecorder(func() int64 { return int64(time.Since(r.base)) })
	during := r.during(ctx)
	r.clients(ctx)
	elapsed := time.Since(r.base)
	<-during
	r.final(ctx)
	ops := r.rec.History()
	start := time.Now()
	v, err := w.Check(ops)
	if err != nil {
		return nil, ops, fmt.Errorf("verify: %s: %w", w.Name(), err)
	}
	return newReport(cfg, w.Name(), elapsed, time.Since(start), ops, v), ops, nil
}

func setup(ctx context.Context, cfg Config, w Workload) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, cfg.URLs[0])
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	return w.Setup(ctx, conn)
}

// clients runs every client until the duration is over (or ctx is done),
// printing progress meanwhile.
// Transactions in flight when the time is up run to their end: only ctx
// cancels them.
func (r *run) clients(ctx context.Context) {
	end := r.base.Add(r.cfg.Duration)
	var clients sync.WaitGroup
	for i := range r.cfg.Clients {
		clients.Go(func() { r.client(ctx, i, end) })
	}
	if r.cfg.Progress == nil {
		clients.Wait()
		return
	}
	pctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); r.progress(pctx) }()
	clients.Wait()
	stop()
	<-done
}

// during starts cfg.During until the clients' time is up; the channel is
// closed when it has returned.
func (r *run) during(ctx context.Context) <-chan struct{} {
	done := make(chan struct{})
	if r.cfg.During == nil {
		close(done)
		return done
	}
	go func() {
		defer close(done)
		dctx, cancel := context.WithDeadline(ctx, r.base.Add(r.cfg.Duration))
		defer cancel()
		r.cfg.During(dctx, r.rec.Event)
	}()
	return done
}

// client is one logical process (renamed after every info result).
func (r *run) client(ctx context.Context, i int, end time.Time) {
	rng := rand.New(rand.NewPCG(r.cfg.Seed, uint64(i)))
	url := r.cfg.URLs[i%len(r.cfg.URLs)]
	p := r.rec.NewProcess()
	var conn *pgx.Conn
	defer func() { closeConn(conn) }()
	for time.Now().Before(end) && ctx.Err() == nil {
		if conn == nil {
			if conn = r.connect(ctx, url); conn == nil {
				continue
			}
		}
		var st history.Status
		var broken bool
		p, st, broken = r.one(ctx, conn, p, r.w.Next(rng))
		if st == history.Info || broken {
			closeConn(conn)
			conn = nil
		}
	}
}

// connect dials url, pausing briefly after a failure; nil if it failed.
func (r *run) connect(ctx context.Context, url string) *pgx.Conn {
	cctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	conn, err := pgx.Connect(cctx, url)
	if err == nil {
		return conn
	}
	select {
	case <-time.After(100 * time.Millisecond):
	case <-ctx.Done():
	}
	return nil
}

func closeConn(conn *pgx.Conn) {
	if conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(ctx)
	}
}

// one records and runs one operation for process p and returns the process
// to use next, the status, and whether the connection must be replaced.
// A transaction in flight is not cancelled when the run's time is up, only
// when ctx is.
func (r *run) one(ctx context.Context, conn *pgx.Conn, p int, op history.Op) (int, history.Status, bool) {
	inv := r.rec.Invoke(p, op)
	res, st, err := r.txn(ctx, conn, inv)
	if st != history.Ok {
		res = inv
		res.Error = err.Error()
	}
	r.count[st].Add(1)
	return r.rec.Complete(res, st), st, connBroken(err) || conn.IsClosed()
}

// txn runs op in one transaction and classifies the outcome.
func (r *run) txn(ctx context.Context, conn *pgx.Conn, op history.Op) (history.Op, history.Status, error) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	if ce, ok := r.w.(ConnExecer); ok {
		res, err := ce.ExecConn(ctx, conn, op)
		if err != nil {
			return op, Classify(err, AtCommit), err
		}
		return res, history.Ok, nil
	}
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: r.cfg.Isolation})
	if err != nil {
		return op, Classify(err, BeforeCommit), err
	}
	res, err := r.w.Exec(ctx, tx, op)
	if err != nil {
		if rerr := tx.Rollback(ctx); rerr != nil && !connBroken(err) {
			err = fmt.Errorf("%w (rollback: %w)", err, rerr)
		}
		return op, Classify(err, BeforeCommit), err
	}
	err = tx.Commit(ctx)
	return res, Classify(err, AtCommit), err
}

// final takes the workload's final read on a fresh process, retrying until
// one attempt is ok (bounded).
func (r *run) final(ctx context.Context) {
	for i := range finalAttempts {
		if ctx.Err() != nil {
			return
		}
		conn := r.connect(ctx, r.cfg.URLs[i%len(r.cfg.URLs)])
		if conn == nil {
			continue
		}
		_, st, _ := r.one(ctx, conn, r.rec.NewProcess(), r.w.Final())
		closeConn(conn)
		if st == history.Ok {
			return
		}
	}
}

// progress prints a line every ProgressEvery until ctx is done.
func (r *run) progress(ctx context.Context) {
	t := time.NewTicker(r.cfg.ProgressEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fmt.Fprintf(r.cfg.Progress, "%s: %3.0fs/%.0fs  %d ok  %d fail  %d info\n", r.w.Name(),
				time.Since(r.base).Seconds(), r.cfg.Duration.Seconds(),
				r.count[history.Ok].Load(), r.count[history.Fail].Load(), r.count[history.Info].Load())
		}
	}
}

// execAll runs statements outside any explicit transaction.
func execAll(ctx context.Context, conn *pgx.Conn, stmts ...string) error {
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}
