package scram

import (
	"encoding/base64"
	"errors"
	"testing"
)

// RFC 7677 section 3.
const (
	rfcClientFirst = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
	rfcServerNonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
	rfcServerFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
	rfcClientFinal = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
	rfcServerFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
)

func rfcVerifier(t *testing.T) *Verifier {
	t.Helper()
	salt, _ := base64.StdEncoding.DecodeString("W22ZaJ0SNY7soEsUEjb6gQ==")
	v, err := NewVerifier("pencil", salt, 4096)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestRFC7677Vector(t *testing.T) {
	s := NewServerSession(rfcVerifier(t), rfcServerNonce)
	sf, err := s.ClientFirst([]byte(rfcClientFirst))
	if err != nil || string(sf) != rfcServerFirst {
		t.Fatalf("server-first = %q, %v", sf, err)
	}
	fin, err := s.ClientFinal([]byte(rfcClientFinal))
	if err != nil || string(fin) != rfcServerFinal {
		t.Fatalf("server-final = %q, %v", fin, err)
	}
}

func TestVerifierRoundTrip(t *testing.T) {
	v := rfcVerifier(t)
	p, err := ParseVerifier(v.String())
	if err != nil {
		t.Fatal(err)
	}
	if p.String() != v.String() || !p.CheckPassword("pencil") || p.CheckPassword("pencil2") {
		t.Fatalf("round trip: %s vs %s", p, v)
	}
	for _, bad := range []string{"", "md5abc", "SCRAM-SHA-256$x:AA==$AA==:AA==", "SCRAM-SHA-256$4096:AA==$AA==:AA==", "SCRAM-SHA-256$4096"} {
		if _, err := ParseVerifier(bad); err == nil {
			t.Errorf("ParseVerifier(%q) succeeded", bad)
		}
	}
}

func TestExchangeErrors(t *testing.T) {
	tests := []struct {
		name        string
		first       string
		final       string
		wantFirst   error
		wantFinal   error
		mockSession bool
	}{
		{name: "bad gs2", first: "x,,n=user,r=abc", wantFirst: ErrMalformed},
		{name: "channel binding", first: "p=tls-server-end-point,,n=,r=abc", wantFirst: ErrChannelBinding},
		{name: "missing nonce", first: "n,,n=user", wantFirst: ErrMalformed},
		{name: "missing user", first: "n,,r=abc", wantFirst: ErrMalformed},
		{name: "mandatory ext", first: "n,,m=x,n=user,r=abc", wantFirst: ErrMalformed},
		{name: "empty", first: "", wantFirst: ErrMalformed},
		{name: "wrong proof", first: rfcClientFirst, final: "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", wantFinal: ErrAuthFailed},
		{name: "wrong nonce", first: rfcClientFirst, final: "c=biws,r=rOprNGfwEbeRWgbNEkqO,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", wantFinal: ErrMalformed},
		{name: "wrong binding", first: rfcClientFirst, final: "c=eSws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", wantFinal: ErrMalformed},
		{name: "no proof", first: rfcClientFirst, final: "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0", wantFinal: ErrMalformed},
		{name: "mock right proof", first: rfcClientFirst, final: rfcClientFinal, wantFinal: ErrAuthFailed, mockSession: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewServerSession(rfcVerifier(t), rfcServerNonce)
			if tt.mockSession {
				s = NewMockServerSession(rfcVerifier(t), rfcServerNonce)
			}
			_, err := s.ClientFirst([]byte(tt.first))
			if !errors.Is(err, tt.wantFirst) {
				t.Fatalf("ClientFirst: %v, want %v", err, tt.wantFirst)
			}
			if err != nil {
				return
			}
			if _, err := s.ClientFinal([]byte(tt.final)); !errors.Is(err, tt.wantFinal) {
				t.Fatalf("ClientFinal: %v, want %v", err, tt.wantFinal)
			}
		})
	}
}

func TestMockVerifierStable(t *testing.T) {
	a := MockVerifier("nobody", []byte("k"))
	b := MockVerifier("nobody", []byte("k"))
	c := MockVerifier("other", []byte("k"))
	if a.String() != b.String() || a.String() == c.String() {
		t.Fatal("mock verifier must be stable per user and differ between users")
	}
}

func FuzzSCRAMServer(f *testing.F) {
	f.Add([]byte(rfcClientFirst), []byte(rfcClientFinal))
	f.Add([]byte("n,a=x,n=,r=q"), []byte("c=,r=,p="))
	v := MockVerifier("u", []byte("s"))
	f.Fuzz(func(t *testing.T, first, final []byte) {
		s := NewServerSession(v, "srv")
		if _, err := s.ClientFirst(first); err != nil {
			return
		}
		_, _ = s.ClientFinal(final)
	})
}
