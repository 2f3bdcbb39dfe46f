package scram

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
)

type serverState int

const (
	stateClientFirst serverState = iota
	stateClientFinal
	stateDone
)

// ServerSession is one server-side SCRAM exchange.
type ServerSession struct {
	v           *Verifier
	mock        bool
	serverNonce string
	state       serverState

	gs2Header       string
	clientFirstBare string
	serverFirst     string
	nonce           string // client nonce + server nonce
}

// NewServerSession starts an exchange for a known user. serverNonce must be
// fresh random printable characters (no ','), e.g. base64 of 18 random bytes.
func NewServerSession(v *Verifier, serverNonce string) *ServerSession {
	return &ServerSession{v: v, serverNonce: serverNonce}
}

// NewMockServerSession starts an exchange that looks like a real one and
// always fails with ErrAuthFailed.
func NewMockServerSession(v *Verifier, serverNonce string) *ServerSession {
	return &ServerSession{v: v, mock: true, serverNonce: serverNonce}
}

// ClientFirst handles client-first-message and returns server-first-message.
func (s *ServerSession) ClientFirst(msg []byte) ([]byte, error) {
	if s.state != stateClientFirst {
		return nil, ErrState
	}
	gs2, bare, err := splitClientFirst(string(msg))
	if err != nil {
		return nil, err
	}
	clientNonce, err := parseClientFirstBare(bare)
	if err != nil {
		return nil, err
	}
	s.gs2Header, s.clientFirstBare = gs2, bare
	s.nonce = clientNonce + s.serverNonce
	s.serverFirst = fmt.Sprintf("r=%s,s=%s,i=%d", s.nonce,
		base64.StdEncoding.EncodeToString(s.v.Salt), s.v.Iterations)
	s.state = stateClientFinal
	return []byte(s.serverFirst), nil
}

// splitClientFirst splits off and checks the GS2 header ("n,," / "y,," with an
// optional authzid).
func splitClientFirst(msg string) (gs2, bare string, err error) {
	if msg == "" {
		return "", "", ErrMalformed
	}
	switch msg[0] {
	case 'n', 'y':
		if len(msg) < 2 || msg[1] != ',' {
			return "", "", ErrMalformed
		}
	case 'p':
		return "", "", ErrChannelBinding
	default:
		return "", "", ErrMalformed
	}
	rest := msg[2:]
	authz, after, ok := strings.Cut(rest, ",")
	if !ok || (authz != "" && !strings.HasPrefix(authz, "a=")) {
		return "", "", ErrMalformed
	}
	return msg[:len(msg)-len(after)], after, nil
}

// parseClientFirstBare returns the client nonce of "n=user,r=nonce[,ext]".
// The user name is ignored, as in PostgreSQL (the startup packet's counts).
func parseClientFirstBare(bare string) (string, error) {
	parts := strings.Split(bare, ",")
	if len(parts) < 2 || strings.HasPrefix(parts[0], "m=") {
		return "", ErrMalformed
	}
	if !strings.HasPrefix(parts[0], "n=") || !strings.HasPrefix(parts[1], "r=") {
		return "", ErrMalformed
	}
	nonce := parts[1][2:]
	if nonce == "" || !printable(nonce) {
		return "", ErrMalformed
	}
	return nonce, nil
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e || s[i] == ',' {
			return false
		}
	}
	return true
}

// ClientFinal handles client-final-message and returns server-final-message.
// A wrong proof (or any proof in a mock exchange) gives ErrAuthFailed.
func (s *ServerSession) ClientFinal(msg []byte) ([]byte, error) {
	if s.state != stateClientFinal {
		return nil, ErrState
	}
	s.state = stateDone
	withoutProof, proof, err := s.parseClientFinal(string(msg))
	if err != nil {
		return nil, err
	}
	authMessage := s.clientFirstBare + "," + s.serverFirst + "," + withoutProof
	clientSig := hmacSHA256(s.v.StoredKey, []byte(authMessage))
	clientKey := make([]byte, len(proof))
	for i := range proof {
		clientKey[i] = proof[i] ^ clientSig[i]
	}
	got := sha256.Sum256(clientKey)
	if s.mock || !hmac.Equal(got[:], s.v.StoredKey) {
		return nil, ErrAuthFailed
	}
	serverSig := hmacSHA256(s.v.ServerKey, []byte(authMessage))
	return []byte("v=" + base64.StdEncoding.EncodeToString(serverSig)), nil
}

// parseClientFinal checks "c=...,r=...[,ext],p=..." and returns the message
// without its proof and the decoded proof.
func (s *ServerSession) parseClientFinal(msg string) (string, []byte, error) {
	idx := strings.LastIndex(msg, ",p=")
	if idx < 0 {
		return "", nil, ErrMalformed
	}
	withoutProof, proofB64 := msg[:idx], msg[idx+3:]
	parts := strings.Split(withoutProof, ",")
	if len(parts) < 2 || !strings.HasPrefix(parts[0], "c=") || !strings.HasPrefix(parts[1], "r=") {
		return "", nil, ErrMalformed
	}
	cb, err := base64.StdEncoding.DecodeString(parts[0][2:])
	if err != nil || !bytes.Equal(cb, []byte(s.gs2Header)) {
		return "", nil, ErrMalformed
	}
	if parts[1][2:] != s.nonce {
		return "", nil, ErrMalformed
	}
	proof, err := base64.StdEncoding.DecodeString(proofB64)
	if err != nil || len(proof) != sha256.Size {
		return "", nil, ErrMalformed
	}
	return withoutProof, proof, nil
}
