package catalog

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ordodb/ordo/kv/keys"
	"github.com/ordodb/ordo/kv/keys/encoding"
	"github.com/ordodb/ordo/sql/kvapi"
)

// RootUser is the superuser every cluster has from its bootstrap. It has no
// password: whether it may log in without one is up to the node's
// host-based rules.
const RootUser = "root"

// RootOID is root's role OID: PostgreSQL's bootstrap superuser's OID, so
// that owners reported by pg_catalog (pg_get_userbyid(10)) name it.
const RootOID = 10

// User is a role of the system catalog.
type User struct {
	Name string `json:"name"`
	// OID is the role's pg_authid.oid, allocated from the descriptor ID
	// counter (RootOID for root).
	OID       uint64 `json:"oid"`
	Superuser bool   `json:"superuser,omitempty"`
	CanLogin  bool   `json:"can_login,omitempty"`
	// Verifier is the SCRAM-SHA-256 secret in PostgreSQL's text form
	// (SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>); empty
	// when the user has no password. The password itself is never stored.
	Verifier string `json:"verifier,omitempty"`
}

// Errors of user changes, for callers to branch on.
var (
	ErrUserExists  = errors.New("catalog: role exists")
	ErrUserMissing = errors.New("catalog: role does not exist")
)

func userPrefix() []byte { return append(keys.CatalogPrefix(), "user/"...) }

func userKey(name string) []byte {
	return encoding.AppendString(userPrefix(), name, encoding.Ascending)
}

// GetUser returns the user named name, nil if there is none.
func (c *Txn) GetUser(ctx context.Context, name string, lock kvapi.Lock) (*User, error) {
	v, found, err := c.KV.Get(ctx, userKey(name), lock)
	if err != nil || !found {
		return nil, err
	}
	return decodeUser(name, v)
}

func decodeUser(name string, v []byte) (*User, error) {
	u := new(User)
	if err := json.Unmarshal(v, u); err != nil {
		return nil, fmt.Errorf("catalog: role %q: %w", name, err)
	}
	return u, nil
}

// CreateUser adds u, allocating its OID when u.OID is 0. It fails with
// ErrUserExists when the name is taken.
func (c *Txn) CreateUser(ctx context.Context, u *User) error {
	if u.OID == 0 {
		id, err := c.AllocID(ctx)
		if err != nil {
			return err
		}
		u.OID = id
	}
	b, err := json.Marshal(u)
	if err != nil {
		return err
	}
	err = c.KV.Insert(ctx, userKey(u.Name), b)
	if errors.Is(err, kvapi.ErrKeyExists) {
		return fmt.Errorf("%w: %q", ErrUserExists, u.Name)
	}
	return err
}

// PutUser overwrites an existing user (read first with LockExclusive).
func (c *Txn) PutUser(ctx context.Context, u *User) error {
	b, err := json.Marshal(u)
	if err != nil {
		return err
	}
	return c.KV.Put(ctx, userKey(u.Name), b)
}

// DeleteUser removes the user named name; ErrUserMissing if there is none.
func (c *Txn) DeleteUser(ctx context.Context, name string) error {
	u, err := c.GetUser(ctx, name, kvapi.LockExclusive)
	if err != nil {
		return err
	}
	if u == nil {
		return fmt.Errorf("%w: %q", ErrUserMissing, name)
	}
	return c.KV.Delete(ctx, userKey(name))
}

// ListUsers returns every user in name order, locking the span.
func (c *Txn) ListUsers(ctx context.Context, lock kvapi.Lock) ([]User, error) {
	p := userPrefix()
	kvs, err := c.KV.Scan(ctx, p, keys.PrefixEnd(p), 0, false, lock)
	if err != nil {
		return nil, err
	}
	out := make([]User, 0, len(kvs))
	for _, kv := range kvs {
		_, name, err := encoding.DecodeString(kv.Key[len(p):], encoding.Ascending)
		if err != nil {
			return nil, fmt.Errorf("catalog: bad role key: %w", err)
		}
		u, err := decodeUser(name, kv.Value)
		if err != nil {
			return nil, err
		}
		out = append(out, *u)
	}
	return out, nil
}

func mockAuthSecretKey() []byte { return append(keys.CatalogPrefix(), "mock-auth-secret"...) }

// bootstrapMockAuthSecret creates the cluster's secret for mock
// authentication exchanges (see MockAuthSecret) unless it exists.
func bootstrapMockAuthSecret(ctx context.Context, c *Txn) error {
	_, found, err := c.KV.Get(ctx, mockAuthSecretKey(), kvapi.LockExclusive)
	if err != nil || found {
		return err
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return fmt.Errorf("catalog: mock auth secret: %w", err)
	}
	return c.KV.Put(ctx, mockAuthSecretKey(), secret)
}

// MockAuthSecret returns the cluster's random secret from which the salts of
// mock SCRAM exchanges for unknown users are derived: the same on every
// node and across restarts, like a real user's salt (PostgreSQL keeps its
// mock_auth_nonce in pg_control for the same reason).
func (c *Txn) MockAuthSecret(ctx context.Context) ([]byte, error) {
	v, found, err := c.KV.Get(ctx, mockAuthSecretKey(), kvapi.LockShared)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, errors.New("catalog: no mock auth secret (not bootstrapped)")
	}
	return v, nil
}
