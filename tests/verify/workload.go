package verify

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/ordodb/ordo/tests/checker/history"
)

// Workload is one client-side workload: it generates operations, runs them
// in a transaction and checks the history. Next may be called concurrently.
type Workload interface {
	// Name is the workload's name on the command line and in reports.
	Name() string
	// Setup creates the workload's tables afresh, dropping old ones.
	Setup(ctx context.Context, conn *pgx.Conn) error
	// Next returns the next operation's invocation.
	Next(rng *rand.Rand) history.Op
	// Final returns the invocation of the read taken after the run.
	Final() history.Op
	// Exec runs op inside tx and returns op with its results filled in.
	// It leaves op itself (and its slices) unchanged.
	Exec(ctx context.Context, tx pgx.Tx, op history.Op) (history.Op, error)
	// Check judges a history. The error is a malformed history (a harness
	// bug), never an anomaly.
	Check(ops []history.Op) (Verdict, error)
}

// ConnExecer is a workload whose operations are each several transactions
// in a row (sequential): the runner calls ExecConn on the connection
// instead of wrapping Exec in one transaction, and classifies its error as
// it would a COMMIT's.
type ConnExecer interface {
	ExecConn(ctx context.Context, conn *pgx.Conn, op history.Op) (history.Op, error)
}

// Verdict is a workload checker's judgement in the terms of a report.
type Verdict struct {
	Valid bool
	// Level names what the history satisfies: for list-append
	// "strict-serializable", "serializable" or "not serializable"; for the
	// register "linearizable", "not linearizable" or "unknown"; for the
	// others "valid" or "invalid".
	Level string
	// Counts holds every anomaly class checked, zero or not.
	Counts map[string]int
	// Figures is the workload's part of the summary line.
	Figures string
	// Checker is the checker's own one-line summary.
	Checker string
	// Explanation says in words what went wrong ("" when valid).
	Explanation string
}

// Names of the workloads New knows.
const (
	ListAppendName = "list-append"
	BankName       = "bank"
	// BankMultiTableName is the bank with each account in its own table.
	BankMultiTableName = "bank-multitable"
	RegisterName       = "register"
	SetsName           = "sets"
	G2Name             = "g2"
	RegistrationName   = "registration"
	CounterName        = "counter"
	CommentsName       = "comments"
	SequentialName     = "sequential"
)

// Workloads lists the workload names, in the order they are run.
var Workloads = []string{ListAppendName, BankName, BankMultiTableName, RegisterName, SetsName, G2Name,
	RegistrationName, CounterName, CommentsName, SequentialName}

// New returns a fresh workload by name.
func New(name string) (Workload, error) {
	switch name {
	case ListAppendName:
		return NewListAppend(ListAppendConfig{}), nil
	case BankName:
		return NewBank(BankConfig{}), nil
	case BankMultiTableName:
		return NewBank(BankConfig{MultiTable: true}), nil
	case RegisterName:
		return NewRegister(RegisterConfig{}), nil
	case SetsName:
		return NewSets(SetsConfig{}), nil
	case G2Name:
		return NewG2(G2Config{}), nil
	case RegistrationName:
		return NewRegistration(RegistrationConfig{}), nil
	case CounterName:
		return NewCounter(CounterConfig{}), nil
	case CommentsName:
		return NewComments(CommentsConfig{}), nil
	case SequentialName:
		return NewSequential(SequentialConfig{}), nil
	}
	return nil, fmt.Errorf("verify: unknown workload %q (want one of %v)", name, Workloads)
}

// countsOf converts a checker's typed counts, listing every class in all.
func countsOf[C ~string](all []C, got map[C]int) map[string]int {
	out := make(map[string]int, len(all))
	for _, c := range all {
		out[string(c)] = got[c]
	}
	for c, n := range got {
		if !slices.Contains(all, c) {
			out[string(c)] = n
		}
	}
	return out
}
