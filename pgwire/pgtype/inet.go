package pgtype

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// inet values are strings in PostgreSQL's text form: an address, with
// "/bits" only when the mask is shorter than the address ("127.0.0.1",
// "10.1.2.3/8", "::1"). Host bits are kept, as inet keeps them.

// PostgreSQL's address families in inet's binary form (PGSQL_AF_INET and
// PGSQL_AF_INET6).
const (
	inetFamily4 = 2
	inetFamily6 = 3
)

// parseInet parses an address with an optional "/bits" and returns its
// canonical text form.
func parseInet(s string) (string, error) {
	p, err := inetPrefix(s)
	if err != nil {
		return "", decodeErr(InetOID, []byte(s))
	}
	return inetText(p), nil
}

// inetPrefix is the address of s with its mask length (the full width
// when s has none).
func inetPrefix(s string) (netip.Prefix, error) {
	addr, bits, hasBits := strings.Cut(strings.TrimSpace(s), "/")
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap().WithZone("")
	n := a.BitLen()
	if hasBits {
		if n, err = strconv.Atoi(bits); err != nil || n < 0 || n > a.BitLen() {
			return netip.Prefix{}, fmt.Errorf("pgtype: bad mask %q", bits)
		}
	}
	return netip.PrefixFrom(a, n), nil
}

func inetText(p netip.Prefix) string {
	if p.Bits() == p.Addr().BitLen() {
		return p.Addr().String()
	}
	return p.Addr().String() + "/" + strconv.Itoa(p.Bits())
}

func inetValue(v any) (netip.Prefix, error) {
	s, ok := v.(string)
	if !ok {
		return netip.Prefix{}, typeErr(InetOID, v)
	}
	p, err := inetPrefix(s)
	if err != nil {
		return netip.Prefix{}, decodeErr(InetOID, []byte(s))
	}
	return p, nil
}

func appendInetText(dst []byte, v any) ([]byte, error) {
	p, err := inetValue(v)
	if err != nil {
		return nil, err
	}
	return append(dst, inetText(p)...), nil
}

// appendInetBinary writes family, bits, is_cidr (0), the address length
// and the address bytes.
func appendInetBinary(dst []byte, v any) ([]byte, error) {
	p, err := inetValue(v)
	if err != nil {
		return nil, err
	}
	fam := byte(inetFamily4)
	if p.Addr().Is6() {
		fam = inetFamily6
	}
	b := p.Addr().AsSlice()
	dst = append(dst, fam, byte(p.Bits()), 0, byte(len(b)))
	return append(dst, b...), nil
}

func decodeInetBinary(src []byte) (string, error) {
	if len(src) < 4 || int(src[3]) != len(src)-4 || (src[3] != 4 && src[3] != 16) {
		return "", decodeErr(InetOID, src)
	}
	a, _ := netip.AddrFromSlice(src[4:])
	if int(src[1]) > a.BitLen() {
		return "", decodeErr(InetOID, src)
	}
	return inetText(netip.PrefixFrom(a, int(src[1]))), nil
}
