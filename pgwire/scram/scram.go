package scram

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Mechanism is the SASL mechanism name.
const Mechanism = "SCRAM-SHA-256"

// DefaultIterations is PostgreSQL's default scram_iterations.
const DefaultIterations = 4096

// MinIterations is the lowest iteration count accepted in a verifier.
const MinIterations = 4096

var (
	// ErrMalformed reports a message that does not follow the SCRAM grammar.
	ErrMalformed = errors.New("scram: malformed SCRAM message")
	// ErrChannelBinding reports a channel binding request the server did not offer.
	ErrChannelBinding = errors.New("scram: channel binding not supported")
	// ErrAuthFailed reports a wrong proof, or any proof for a mock exchange.
	ErrAuthFailed = errors.New("scram: authentication failed")
	// ErrState reports a message out of order.
	ErrState = errors.New("scram: unexpected message")
)

// Verifier is a stored SCRAM-SHA-256 secret.
type Verifier struct {
	Iterations int
	Salt       []byte
	StoredKey  []byte
	ServerKey  []byte
}

// NewVerifier derives a verifier from a password.
func NewVerifier(password string, salt []byte, iterations int) (*Verifier, error) {
	if iterations < 1 {
		return nil, fmt.Errorf("scram: iterations %d < 1", iterations)
	}
	salted, err := pbkdf2.Key(sha256.New, password, salt, iterations, sha256.Size)
	if err != nil {
		return nil, fmt.Errorf("scram: pbkdf2: %w", err)
	}
	clientKey := hmacSHA256(salted, []byte("Client Key"))
	stored := sha256.Sum256(clientKey)
	return &Verifier{
		Iterations: iterations,
		Salt:       append([]byte(nil), salt...),
		StoredKey:  stored[:],
		ServerKey:  hmacSHA256(salted, []byte("Server Key")),
	}, nil
}

// String formats the verifier as PostgreSQL stores it in pg_authid.
func (v *Verifier) String() string {
	enc := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("%s$%d:%s$%s:%s", Mechanism, v.Iterations, enc(v.Salt), enc(v.StoredKey), enc(v.ServerKey))
}

// ParseVerifier parses PostgreSQL's stored form.
func ParseVerifier(s string) (*Verifier, error) {
	rest, ok := strings.CutPrefix(s, Mechanism+"$")
	if !ok {
		return nil, fmt.Errorf("scram: verifier: not %s", Mechanism)
	}
	iterSalt, keys, ok := strings.Cut(rest, "$")
	if !ok {
		return nil, errors.New("scram: verifier: missing keys")
	}
	iterStr, saltStr, ok1 := strings.Cut(iterSalt, ":")
	storedStr, serverStr, ok2 := strings.Cut(keys, ":")
	if !ok1 || !ok2 {
		return nil, errors.New("scram: verifier: malformed")
	}
	iter, err := strconv.Atoi(iterStr)
	if err != nil || iter < 1 {
		return nil, errors.New("scram: verifier: bad iteration count")
	}
	v := &Verifier{Iterations: iter}
	dec := base64.StdEncoding.DecodeString
	if v.Salt, err = dec(saltStr); err != nil {
		return nil, fmt.Errorf("scram: verifier: salt: %w", err)
	}
	if v.StoredKey, err = dec(storedStr); err != nil || len(v.StoredKey) != sha256.Size {
		return nil, errors.New("scram: verifier: bad StoredKey")
	}
	if v.ServerKey, err = dec(serverStr); err != nil || len(v.ServerKey) != sha256.Size {
		return nil, errors.New("scram: verifier: bad ServerKey")
	}
	return v, nil
}

// MockVerifier returns a stable fake verifier for an unknown user: the salt
// depends only on the user name and secret, as PostgreSQL's mock does, so two
// attempts for the same unknown user look alike.
func MockVerifier(user string, secret []byte) *Verifier {
	salt := hmacSHA256(secret, []byte("salt:"+user))[:16]
	return &Verifier{
		Iterations: DefaultIterations,
		Salt:       salt,
		StoredKey:  hmacSHA256(secret, []byte("stored:"+user)),
		ServerKey:  hmacSHA256(secret, []byte("server:"+user)),
	}
}

func hmacSHA256(key, msg []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write(msg)
	return h.Sum(nil)
}

// CheckPassword reports whether password matches v (cleartext password
// authentication against a SCRAM verifier).
func (v *Verifier) CheckPassword(password string) bool {
	w, err := NewVerifier(password, v.Salt, v.Iterations)
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare(w.StoredKey, v.StoredKey) == 1 &&
		subtle.ConstantTimeCompare(w.ServerKey, v.ServerKey) == 1
}
