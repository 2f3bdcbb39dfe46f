package pgwire

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// AuthMethod is how a connection must authenticate.
type AuthMethod int

// Authentication methods, as named in pg_hba.conf.
const (
	AuthTrust    AuthMethod = iota // no password
	AuthPassword                   // cleartext password, checked against the SCRAM verifier
	AuthSCRAM                      // SCRAM-SHA-256
	AuthReject                     // refuse the connection
	AuthCert                       // a verified TLS client certificate whose CN is the user
)

var authMethodNames = map[string]AuthMethod{
	"trust": AuthTrust, "password": AuthPassword, "scram-sha-256": AuthSCRAM, "reject": AuthReject,
	"cert": AuthCert,
}

func (m AuthMethod) String() string {
	for name, v := range authMethodNames {
		if v == m {
			return name
		}
	}
	return fmt.Sprintf("AuthMethod(%d)", int(m))
}

// ConnType selects connections by transport security, as pg_hba.conf's
// first column does.
type ConnType int

// Connection types.
const (
	ConnAny   ConnType = iota // "host": TLS or not
	ConnTLS                   // "hostssl": TLS only
	ConnNoTLS                 // "hostnossl": plaintext only
)

var connTypeNames = map[string]ConnType{"host": ConnAny, "hostssl": ConnTLS, "hostnossl": ConnNoTLS}

// HBARule is one host-based authentication rule. Empty Databases or Users
// match all; an invalid (zero) Prefix matches every address.
type HBARule struct {
	Type      ConnType
	Databases []string
	Users     []string
	Prefix    netip.Prefix
	Method    AuthMethod
}

// HBA is an ordered rule list; the first matching rule decides. A connection
// that matches no rule is rejected.
type HBA struct {
	Rules []HBARule
}

// TrustAll is the rule set of a local demo: everybody in, no password.
func TrustAll() *HBA {
	return &HBA{Rules: []HBARule{{Type: ConnAny, Method: AuthTrust}}}
}

// HBAConn is what rules are matched against.
type HBAConn struct {
	Addr     netip.Addr // invalid when the peer is not an IP (e.g. a pipe)
	TLS      bool
	User     string
	Database string
}

// Match returns the first rule matching c.
func (h *HBA) Match(c HBAConn) (HBARule, bool) {
	for _, r := range h.Rules {
		if r.matches(c) {
			return r, true
		}
	}
	return HBARule{}, false
}

func (r HBARule) matches(c HBAConn) bool {
	switch {
	case r.Type == ConnTLS && !c.TLS, r.Type == ConnNoTLS && c.TLS:
		return false
	case len(r.Databases) > 0 && !slices.Contains(r.Databases, c.Database):
		return false
	case len(r.Users) > 0 && !slices.Contains(r.Users, c.User):
		return false
	case r.Prefix.IsValid() && (!c.Addr.IsValid() || !r.Prefix.Contains(c.Addr.Unmap())):
		return false
	}
	return true
}

// ParseHBA parses rules in pg_hba.conf's host-line form, one per line:
//
//	TYPE  DATABASE  USER  ADDRESS  METHOD
//	host  all       all   127.0.0.1/32  trust
//	hostssl all     all   0.0.0.0/0     scram-sha-256
//
// DATABASE and USER are "all" or comma-separated names; ADDRESS is "all", a
// CIDR prefix, or a single IP address. '#' starts a comment.
func ParseHBA(text string) (*HBA, error) {
	h := &HBA{}
	for i, line := range strings.Split(text, "\n") {
		line, _, _ = strings.Cut(line, "#")
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		r, err := parseHBALine(fields)
		if err != nil {
			return nil, fmt.Errorf("pgwire: hba line %d: %w", i+1, err)
		}
		h.Rules = append(h.Rules, r)
	}
	return h, nil
}

func parseHBALine(f []string) (HBARule, error) {
	if len(f) != 5 {
		return HBARule{}, fmt.Errorf("want 5 fields (type database user address method), got %d", len(f))
	}
	var r HBARule
	var ok bool
	if r.Type, ok = connTypeNames[f[0]]; !ok {
		return r, fmt.Errorf("unknown connection type %q", f[0])
	}
	r.Databases, r.Users = parseNameList(f[1]), parseNameList(f[2])
	if r.Method, ok = authMethodNames[f[4]]; !ok {
		return r, fmt.Errorf("unknown authentication method %q", f[4])
	}
	if r.Method == AuthCert && r.Type != ConnTLS {
		return r, fmt.Errorf("cert authentication is only supported on hostssl connections")
	}
	var err error
	r.Prefix, err = parseHBAAddr(f[3])
	return r, err
}

func parseNameList(s string) []string {
	if s == "all" {
		return nil
	}
	return strings.Split(s, ",")
}

func parseHBAAddr(s string) (netip.Prefix, error) {
	if s == "all" {
		return netip.Prefix{}, nil
	}
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return p, fmt.Errorf("bad address %q: %w", s, err)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("bad address %q: %w", s, err)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}
