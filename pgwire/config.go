package pgwire

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/ordodb/ordo/pgwire/pgwirebase"
)

// Aliases for the contract types, so users of pgwire can name them here.
type (
	Executor      = pgwirebase.Executor
	Session       = pgwirebase.Session
	Statement     = pgwirebase.Statement
	Portal        = pgwirebase.Portal
	ResultWriter  = pgwirebase.ResultWriter
	Authenticator = pgwirebase.Authenticator
	UserInfo      = pgwirebase.UserInfo
)

// Defaults of Config.
const (
	DefaultMaxMessageSize = 16 << 20
	DefaultMaxConnections = 100
	DefaultAuthTimeout    = 10 * time.Second
	// DefaultServerVersion is a PostgreSQL 15 version string naming ordo:
	// libpq, lib/pq and psycopg2 parse the leading "15.0".
	DefaultServerVersion = "15.0 (ordo)"
	DefaultTimeZone      = "Etc/UTC"
)

// Canceller delivers a CancelRequest to the session it names, wherever that
// session lives. The default delivers to this server's sessions only; a node
// that routes cancels between nodes injects its own (and calls
// Server.CancelLocal for its own sessions). It must not block for long and
// must not reveal whether the key matched.
type Canceller interface {
	Cancel(ctx context.Context, pid uint32, secret []byte)
}

// Config configures a Server. The zero value of each field is its default.
type Config struct {
	// Executor runs SQL. Required.
	Executor Executor
	// Authenticator looks up users. When nil, every user exists, has no
	// password and is a superuser (usable only with trust rules).
	Authenticator Authenticator
	// HBA decides the authentication method per connection; nil trusts all.
	HBA *HBA
	// TLS, when set, lets clients upgrade with SSLRequest.
	TLS *tls.Config
	// MaxMessageSize bounds a message body, checked before allocating.
	MaxMessageSize int
	// MaxConnections bounds concurrent sessions; more get SQLSTATE 53300.
	MaxConnections int
	// AuthTimeout bounds the time from accept to the end of authentication.
	AuthTimeout time.Duration
	// ServerVersion is reported as server_version.
	ServerVersion string
	// TimeZone is the default TimeZone reported to sessions.
	TimeZone string
	// Canceller routes CancelRequests; nil delivers locally.
	Canceller Canceller
	// NextProcessID returns the process ID for BackendKeyData. The default
	// counts from 1. A cluster may embed the node ID to route cancels.
	NextProcessID func() uint32
	// Rand is the source of secrets and nonces; crypto/rand when nil.
	Rand io.Reader
	// Now is the clock used for deadlines; time.Now when nil.
	Now func() time.Time
	// Logger receives connection-level events; discarded when nil.
	Logger *slog.Logger
	// Metrics count connections; nil records into a private, unregistered
	// set.
	Metrics *Metrics

	// TestingKnobs are hooks for tests.
	TestingKnobs TestingKnobs
}

// TestingKnobs are hooks for tests only.
type TestingKnobs struct {
	// AfterAuth, when set, is called when a session has authenticated.
	AfterAuth func()
	// OnPanic, when set, is called with the value of a panic recovered in
	// a connection (fuzz tests use it to fail).
	OnPanic func(v any)
}

func (c *Config) validate() error {
	if c.Executor == nil {
		return errors.New("pgwire: Config.Executor is required")
	}
	if c.MaxMessageSize <= 0 {
		c.MaxMessageSize = DefaultMaxMessageSize
	}
	if c.MaxConnections <= 0 {
		c.MaxConnections = DefaultMaxConnections
	}
	if c.AuthTimeout <= 0 {
		c.AuthTimeout = DefaultAuthTimeout
	}
	if c.ServerVersion == "" {
		c.ServerVersion = DefaultServerVersion
	}
	if c.TimeZone == "" {
		c.TimeZone = DefaultTimeZone
	}
	if c.HBA == nil {
		c.HBA = TrustAll()
	}
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Metrics == nil {
		c.Metrics = NewMetrics()
	}
	return nil
}
