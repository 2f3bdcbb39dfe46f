package pgtype

import (
	"encoding/hex"
	"fmt"
	"strings"
)

// UUID is a 128-bit UUID.
type UUID [16]byte

// String formats as 8-4-4-4-12 lower-case hex.
func (u UUID) String() string {
	h := hex.EncodeToString(u[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// ParseUUID accepts the hyphenated form, with or without braces or hyphens.
func ParseUUID(s string) (UUID, error) {
	var u UUID
	t := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(s), "{"), "}")
	t = strings.ReplaceAll(t, "-", "")
	if len(t) != 32 {
		return u, fmt.Errorf("pgtype: invalid input syntax for type uuid: %q", s)
	}
	if _, err := hex.Decode(u[:], []byte(t)); err != nil {
		return u, fmt.Errorf("pgtype: invalid input syntax for type uuid: %q", s)
	}
	return u, nil
}
