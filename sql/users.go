package sql

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/pgwire/pgwirebase"
	"github.com/ordodb/ordo/pgwire/scram"
	"github.com/ordodb/ordo/sql/catalog"
	"github.com/ordodb/ordo/sql/exec"
	"github.com/ordodb/ordo/sql/kvapi"
	"github.com/ordodb/ordo/sql/sqlerr"
	"github.com/ordodb/ordo/sql/types"
)

// Role statements: CREATE USER/ROLE, ALTER USER/ROLE and DROP USER/ROLE
// change the users of the system catalog (catalog.User) in the statement's
// transaction, like any DDL. ordo has no privileges on objects: a role is
// either a superuser, who may create, alter and drop roles, or not, and may
// then change only its own password. Supported options: [NO]LOGIN,
// [NO]SUPERUSER, [ENCRYPTED] PASSWORD 'x' | NULL. A password is stored as
// its SCRAM-SHA-256 verifier; one given already in verifier form (as psql's
// \password sends it) is stored as is.

// SQLSTATEs of role statements beyond pgcode's.
const (
	insufficientPrivilege      pgcode.Code = "42501"
	reservedName               pgcode.Code = "42939"
	objectInUse                pgcode.Code = "55006"
	dependentObjectsStillExist pgcode.Code = "2BP01"
	syntaxError                pgcode.Code = "42601"
)

// rolePlan is the plan of a role statement; it runs in the statement's
// transaction through the catalog.
type rolePlan func(c *exec.Ctx) (*exec.Result, error)

func (p rolePlan) Columns() []exec.ResultCol              { return nil }
func (p rolePlan) Deps() []exec.Dep                       { return nil }
func (p rolePlan) Exec(c *exec.Ctx) (*exec.Result, error) { return p(c) }

// plan prepares ast: a role statement here, anything else with the
// planner.
func (s *Session) plan(ctx context.Context, params *[]types.T, ast *pg.Node) (exec.Plan, error) {
	if p := s.planRole(ast); p != nil {
		return p, nil
	}
	return s.planner(ctx, params).Prepare(ast)
}

// planRole returns the plan of a role statement, nil for other statements.
func (s *Session) planRole(n *pg.Node) exec.Plan {
	switch x := n.Node.(type) {
	case *pg.Node_CreateRoleStmt:
		return rolePlan(func(c *exec.Ctx) (*exec.Result, error) { return s.createRole(c, x.CreateRoleStmt) })
	case *pg.Node_AlterRoleStmt:
		return rolePlan(func(c *exec.Ctx) (*exec.Result, error) { return s.alterRole(c, x.AlterRoleStmt) })
	case *pg.Node_DropRoleStmt:
		return rolePlan(func(c *exec.Ctx) (*exec.Result, error) { return s.dropRoles(c, x.DropRoleStmt) })
	}
	return nil
}

// roleOptions are the options of CREATE or ALTER ROLE; nil fields were not
// given.
type roleOptions struct {
	login, superuser *bool
	password         *string
	clearPassword    bool // PASSWORD NULL
}

func parseRoleOptions(opts []*pg.Node) (roleOptions, error) {
	var o roleOptions
	seen := map[string]bool{}
	for _, n := range opts {
		d := n.GetDefElem()
		if d == nil {
			return o, sqlerr.Unsupported("role option")
		}
		if seen[d.Defname] {
			return o, pgcode.New(syntaxError, "conflicting or redundant options")
		}
		seen[d.Defname] = true
		if err := o.set(d); err != nil {
			return o, err
		}
	}
	return o, nil
}

func (o *roleOptions) set(d *pg.DefElem) error {
	switch d.Defname {
	case "canlogin":
		b := d.Arg.GetBoolean().GetBoolval()
		o.login = &b
	case "superuser":
		b := d.Arg.GetBoolean().GetBoolval()
		o.superuser = &b
	case "password":
		if d.Arg == nil {
			o.clearPassword = true
			return nil
		}
		pw := d.Arg.GetString_().GetSval()
		o.password = &pw
	default:
		return sqlerr.Unsupported("role option %q is not supported", d.Defname)
	}
	return nil
}

// verifierFor turns a PASSWORD value into what the catalog stores.
func verifierFor(c *exec.Ctx, password string) (string, error) {
	if password == "" {
		c.Notice(&pgcode.Error{Severity: pgcode.SeverityNotice, Code: pgcode.SuccessfulCompletion,
			Message: "empty string is not a valid password, clearing password"})
		return "", nil
	}
	if v, err := scram.ParseVerifier(password); err == nil {
		return v.String(), nil
	}
	if len(password) == 35 && strings.HasPrefix(password, "md5") {
		return "", sqlerr.Unsupported("MD5-encrypted passwords are not supported: give the password or its SCRAM-SHA-256 verifier")
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("sql: password salt: %w", err)
	}
	v, err := scram.NewVerifier(password, salt, scram.DefaultIterations)
	if err != nil {
		return "", err
	}
	return v.String(), nil
}

// apply sets o on u.
func (o roleOptions) apply(c *exec.Ctx, u *catalog.User) error {
	if o.login != nil {
		u.CanLogin = *o.login
	}
	if o.superuser != nil {
		u.Superuser = *o.superuser
	}
	if o.clearPassword {
		u.Verifier = ""
	}
	if o.password != nil {
		v, err := verifierFor(c, *o.password)
		if err != nil {
			return err
		}
		u.Verifier = v
	}
	return nil
}

func (s *Session) createRole(c *exec.Ctx, n *pg.CreateRoleStmt) (*exec.Result, error) {
	if !s.args.Superuser {
		return nil, pgcode.New(insufficientPrivilege, "permission denied to create role")
	}
	if strings.HasPrefix(n.Role, "pg_") {
		e := pgcode.New(reservedName, "role name %q is reserved", n.Role)
		e.Detail = `Role names starting with "pg_" are reserved.`
		return nil, e
	}
	o, err := parseRoleOptions(n.Options)
	if err != nil {
		return nil, err
	}
	u := &catalog.User{Name: n.Role, CanLogin: n.StmtType == pg.RoleStmtType_ROLESTMT_USER}
	if err := o.apply(c, u); err != nil {
		return nil, err
	}
	err = c.Cat.CreateUser(c.Context, u)
	if errors.Is(err, catalog.ErrUserExists) {
		return nil, pgcode.New(sqlerr.DuplicateObject, "role %q already exists", n.Role)
	}
	if err != nil {
		return nil, err
	}
	return &exec.Result{Tag: "CREATE ROLE"}, nil
}

// roleName resolves a role specification (a name or CURRENT_USER etc.).
func (s *Session) roleName(r *pg.RoleSpec) (string, error) {
	switch r.GetRoletype() {
	case pg.RoleSpecType_ROLESPEC_CSTRING:
		return r.Rolename, nil
	case pg.RoleSpecType_ROLESPEC_CURRENT_USER, pg.RoleSpecType_ROLESPEC_CURRENT_ROLE, pg.RoleSpecType_ROLESPEC_SESSION_USER:
		return s.args.User, nil
	}
	return "", pgcode.New(pgcode.UndefinedObject, "role %q does not exist", "public")
}

func errRoleMissing(name string) error {
	return pgcode.New(pgcode.UndefinedObject, "role %q does not exist", name)
}

func (s *Session) alterRole(c *exec.Ctx, n *pg.AlterRoleStmt) (*exec.Result, error) {
	name, err := s.roleName(n.Role)
	if err != nil {
		return nil, err
	}
	o, err := parseRoleOptions(n.Options)
	if err != nil {
		return nil, err
	}
	u, err := c.Cat.GetUser(c.Context, name, kvapi.LockExclusive)
	if err != nil {
		return nil, err
	}
	if u == nil {
		return nil, errRoleMissing(name)
	}
	if err := s.checkAlter(u, o); err != nil {
		return nil, err
	}
	if err := o.apply(c, u); err != nil {
		return nil, err
	}
	if err := c.Cat.PutUser(c.Context, u); err != nil {
		return nil, err
	}
	return &exec.Result{Tag: "ALTER ROLE"}, nil
}

// checkAlter applies PostgreSQL's rules as far as ordo has them: a
// superuser may change anything but root's superuser attribute; another
// role only its own password.
func (s *Session) checkAlter(u *catalog.User, o roleOptions) error {
	if (u.Superuser || o.superuser != nil) && !s.args.Superuser {
		return pgcode.New(insufficientPrivilege, "must be superuser to alter superuser roles or change superuser attribute")
	}
	if u.Name == catalog.RootUser && o.superuser != nil && !*o.superuser {
		return pgcode.New(insufficientPrivilege, "permission denied: bootstrap user must be superuser")
	}
	if s.args.Superuser {
		return nil
	}
	if u.Name != s.args.User || o.login != nil {
		return pgcode.New(insufficientPrivilege, "permission denied")
	}
	return nil
}

func (s *Session) dropRoles(c *exec.Ctx, n *pg.DropRoleStmt) (*exec.Result, error) {
	if !s.args.Superuser {
		return nil, pgcode.New(insufficientPrivilege, "permission denied to drop role")
	}
	for _, r := range n.Roles {
		if err := s.dropRole(c, r.GetRoleSpec(), n.MissingOk); err != nil {
			return nil, err
		}
	}
	return &exec.Result{Tag: "DROP ROLE"}, nil
}

func (s *Session) dropRole(c *exec.Ctx, r *pg.RoleSpec, missingOK bool) error {
	name, err := s.roleName(r)
	if err != nil {
		return err
	}
	switch name {
	case s.args.User:
		return pgcode.New(objectInUse, "current user cannot be dropped")
	case catalog.RootUser:
		return pgcode.New(dependentObjectsStillExist, "cannot drop role %s because it is required by the database system", name)
	}
	err = c.Cat.DeleteUser(c.Context, name)
	if errors.Is(err, catalog.ErrUserMissing) {
		if !missingOK {
			return errRoleMissing(name)
		}
		c.Notice(&pgcode.Error{Severity: pgcode.SeverityNotice, Code: pgcode.SuccessfulCompletion,
			Message: fmt.Sprintf("role %q does not exist, skipping", name)})
		return nil
	}
	return err
}

// LookupUser implements pgwirebase.Authenticator over the catalog. It
// bootstraps the catalog first, so root exists on a new cluster before its
// first session.
func (e *Executor) LookupUser(ctx context.Context, name string) (info pgwirebase.UserInfo, found bool, err error) {
	if err := e.maybeBootstrap(ctx); err != nil {
		return pgwirebase.UserInfo{}, false, err
	}
	err = e.retryInternal(ctx, func() error {
		info, found, err = e.lookupUserOnce(ctx, name)
		return err
	})
	return info, found, err
}

func (e *Executor) lookupUserOnce(ctx context.Context, name string) (pgwirebase.UserInfo, bool, error) {
	kv, err := e.cfg.DB.Begin(ctx)
	if err != nil {
		return pgwirebase.UserInfo{}, false, sqlerr.FromKV(err)
	}
	defer func() { _ = kv.Rollback(ctx) }()
	u, err := catalog.NewTxn(kv).GetUser(ctx, name, kvapi.LockShared)
	if err != nil || u == nil {
		return pgwirebase.UserInfo{}, false, sqlerr.FromKV(err)
	}
	if err := kv.Commit(ctx); err != nil {
		return pgwirebase.UserInfo{}, false, sqlerr.FromKV(err)
	}
	return pgwirebase.UserInfo{Name: u.Name, Superuser: u.Superuser, CanLogin: u.CanLogin, Verifier: u.Verifier}, true, nil
}

// MockAuthSecret implements pgwirebase.MockSecreter: the cluster-wide
// secret of mock SCRAM exchanges, kept in the catalog.
func (e *Executor) MockAuthSecret(ctx context.Context) (secret []byte, err error) {
	if err := e.maybeBootstrap(ctx); err != nil {
		return nil, err
	}
	err = e.retryInternal(ctx, func() error {
		secret, err = e.mockAuthSecretOnce(ctx)
		return err
	})
	return secret, err
}

func (e *Executor) mockAuthSecretOnce(ctx context.Context) ([]byte, error) {
	kv, err := e.cfg.DB.Begin(ctx)
	if err != nil {
		return nil, sqlerr.FromKV(err)
	}
	defer func() { _ = kv.Rollback(ctx) }()
	secret, err := catalog.NewTxn(kv).MockAuthSecret(ctx)
	if err != nil {
		return nil, sqlerr.FromKV(err)
	}
	return secret, sqlerr.FromKV(kv.Commit(ctx))
}
