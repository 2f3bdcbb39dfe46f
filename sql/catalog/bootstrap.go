package catalog

import (
	"context"

	"github.com/ordodb/ordo/sql/kvapi"
)

// DefaultDatabases exist after Bootstrap, each with the schema public.
var DefaultDatabases = []string{"defaultdb", "postgres"}

// PublicSchema is the default schema's name.
const PublicSchema = "public"

// Bootstrap creates the default databases and schemas unless they exist.
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

func bootstrapTxn(ctx context.Context, c *Txn) error {
	_, done, err := c.KV.Get(ctx, bootstrapKey(), kvapi.LockExclusive)
	if err != nil || done {
		return err
	}
	for _, name := range DefaultDatabases {
		if _, err := CreateDatabase(ctx, c, name); err != nil {
			return err
		}
	}
	return c.KV.Put(ctx, bootstrapKey(), []byte{1})
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
