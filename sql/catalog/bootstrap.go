package catalog

import (
	"context"

	"github.com/ordodb/ordo/sql/kvapi"
)

// DefaultDatabases exist after Bootstrap, each with the schema public.
var DefaultDatabases = []string{"defaultdb", "postgres"}

// PublicSchema is the default schema's name.
const PublicSchema = "public"

// Bootstrap creates the default databases and schemas, and the superuser
// root, unless they exist.
// It is idempotent and safe to run concurrently (the marker key is read
// with an exclusive lock).
func Bootstrap(ctx context.Context, db kvapi.DB) error {
	kv, err := db.Begin(ctx)
	if err != nil {
		return err
	}
	if err := bootstrapTxn(ctx, NewTxn(kv)); err != nil {
		_ = kv.Rollback(ctx)
		return err
	}
	return kv.Commit(ctx)
}

// bootstrapVersion is the value of the bootstrap marker: 1 when the
// default databases exist, 2 when root exists too. A cluster bootstrapped
// by an older version is brought up to date by the next Bootstrap.
const bootstrapVersion = 2

func bootstrapTxn(ctx context.Context, c *Txn) error {
	v, done, err := c.KV.Get(ctx, bootstrapKey(), kvapi.LockExclusive)
	if err != nil {
		return err
	}
	have := 0
	if done && len(v) == 1 {
		have = int(v[0])
	}
	if have >= bootstrapVersion {
		return nil
	}
	if have < 1 {
		for _, name := range DefaultDatabases {
			if _, err := CreateDatabase(ctx, c, name); err != nil {
				return err
			}
		}
	}
	if err := bootstrapRoot(ctx, c); err != nil {
		return err
	}
	if err := bootstrapMockAuthSecret(ctx, c); err != nil {
		return err
	}
	return c.KV.Put(ctx, bootstrapKey(), []byte{bootstrapVersion})
}

// bootstrapRoot creates the superuser root, with no password, unless a
// role of that name exists.
func bootstrapRoot(ctx context.Context, c *Txn) error {
	u, err := c.GetUser(ctx, RootUser, kvapi.LockExclusive)
	if err != nil || u != nil {
		return err
	}
	return c.CreateUser(ctx, &User{Name: RootUser, OID: RootOID, Superuser: true, CanLogin: true})
}

// CreateDatabase creates a database with its public schema.
func CreateDatabase(ctx context.Context, c *Txn, name string) (uint64, error) {
	id, err := c.create(ctx, 0, &Descriptor{Kind: KindDatabase, Name: name})
	if err != nil {
		return 0, err
	}
	_, err = c.create(ctx, id, &Descriptor{Kind: KindSchema, Name: PublicSchema})
	return id, err
}

// Create allocates an ID for d, binds its name under parent and writes it.
func (c *Txn) create(ctx context.Context, parent uint64, d *Descriptor) (uint64, error) {
	id, err := c.AllocID(ctx)
	if err != nil {
		return 0, err
	}
	d.ID, d.ParentID = id, parent
	if err := c.CreateName(ctx, parent, d.Name, id); err != nil {
		return 0, err
	}
	return id, c.Put(ctx, d)
}

// Create is create for callers outside the package.
func (c *Txn) Create(ctx context.Context, parent uint64, d *Descriptor) (uint64, error) {
	return c.create(ctx, parent, d)
}
