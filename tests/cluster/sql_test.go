package cluster

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

func (c *InProcess) pgConn(t *testing.T, i int) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, fmt.Sprintf("postgres://root@%s/defaultdb?sslmode=disable", c.SQLAddrs[i]))
	if err != nil {
		t.Fatalf("connect to node %d: %v", i+1, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func sqlState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// SQL through any node of a cluster sees one database.
func TestSQLAcrossNodes(t *testing.T) {
	c := StartInProcess(t, 3)
	ctx := context.Background()
	n1, n3 := c.pgConn(t, 0), c.pgConn(t, 2)
	if _, err := n1.Exec(ctx, `CREATE TABLE users (id BIGSERIAL PRIMARY KEY, name TEXT UNIQUE NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	if _, err := n1.Exec(ctx, `INSERT INTO users (name) VALUES ('alice'), ('bob')`); err != nil {
		t.Fatal(err)
	}
	_, err := n3.Exec(ctx, `INSERT INTO users (name) VALUES ('alice')`)
	if sqlState(err) != "23505" {
		t.Fatalf("duplicate through another node: %v", err)
	}
	var n int
	if err := n3.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("count through node 3: %d %v", n, err)
	}
}

// Registration: clients on all nodes race to register the same names; each
// name is taken exactly once and every loser gets 23505, never 40001.
func TestSQLRegistrationRace(t *testing.T) {
	c := StartInProcess(t, 3)
	ctx := context.Background()
	if _, err := c.pgConn(t, 0).Exec(ctx, `CREATE TABLE accounts (id BIGSERIAL PRIMARY KEY, username TEXT UNIQUE NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	const names, clients = 50, 12
	var wins [names]atomic.Int32
	var wg sync.WaitGroup
	for cl := 0; cl < clients; cl++ {
		conn := c.pgConn(t, cl%3)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < names; i++ {
				_, err := conn.Exec(ctx, `INSERT INTO accounts (username) VALUES ($1)`, fmt.Sprintf("user%03d", (i+cl)%names))
				switch code := sqlState(err); {
				case err == nil:
					wins[(i+cl)%names].Add(1)
				case code == "23505":
				default:
					var pe *pgconn.PgError
					errors.As(err, &pe)
					t.Errorf("client %d: %v (SQLSTATE %s) detail: %s", cl, err, code, pe.Detail)
				}
			}
		}()
	}
	wg.Wait()
	for i := range wins {
		if w := wins[i].Load(); w != 1 {
			t.Errorf("user%03d registered %d times", i, w)
		}
	}
}

// The registration run: 32 clients across 3 nodes insert random
// names from a pool of 1,000 for 30 s. Every name is taken exactly once (by
// the client that was told so), every loser got 23505 and never 40001, and
// the ids are unique.
func TestSQLRegistration32Clients(t *testing.T) {
	c := StartInProcess(t, 3)
	ctx := context.Background()
	if _, err := c.pgConn(t, 0).Exec(ctx, `CREATE TABLE users (id BIGSERIAL PRIMARY KEY, name TEXT UNIQUE NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	const pool, clients = 1000, 32
	var winner [pool]atomic.Int32 // client+1 that was told it registered the name
	var wins, losses atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(30 * time.Second)
	for cl := 0; cl < clients; cl++ {
		conn := c.pgConn(t, cl%3)
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(cl), 9))
			for time.Now().Before(deadline) {
				n := rng.IntN(pool)
				_, err := conn.Exec(ctx, `INSERT INTO users (name) VALUES ($1)`, fmt.Sprintf("name%04d", n))
				switch code := sqlState(err); {
				case err == nil:
					wins.Add(1)
					if !winner[n].CompareAndSwap(0, int32(cl+1)) {
						t.Errorf("name%04d registered twice (clients %d and %d)", n, winner[n].Load()-1, cl)
					}
				case code == "23505":
					losses.Add(1)
				default:
					t.Errorf("client %d: %v (SQLSTATE %s)", cl, err, code)
					return
				}
			}
		}()
	}
	wg.Wait()
	rows, err := c.pgConn(t, 1).Query(ctx, `SELECT id, name FROM users`)
	if err != nil {
		t.Fatal(err)
	}
	ids, names := map[int64]bool{}, map[string]bool{}
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			t.Fatal(err)
		}
		if ids[id] || names[name] {
			t.Errorf("duplicate row id %d name %s", id, name)
		}
		ids[id], names[name] = true, true
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	for n := range winner {
		told := winner[n].Load() != 0
		if told != names[fmt.Sprintf("name%04d", n)] {
			t.Errorf("name%04d: a client was told %v, the table has it %v", n, told, !told)
		}
	}
	t.Logf("%d registrations, %d refusals (23505), %d rows", wins.Load(), losses.Load(), len(names))
}
