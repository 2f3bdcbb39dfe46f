package settings

import (
	"fmt"
	"strings"
)

// MarkdownTable renders every setting of r as the table in
// docs/settings.md: name, type, default, accepted values and meaning.
func (r *Registry) MarkdownTable() string {
	var b strings.Builder
	b.WriteString("| Setting | Type | Default | Accepts | Meaning |\n")
	b.WriteString("|---|---|---|---|---|\n")
	for _, s := range r.Settings() {
		def := s.Default().String()
		if def == "" {
			def = "''"
		}
		fmt.Fprintf(&b, "| `%s` | %s | `%s` | %s | %s |\n", s.Name(), s.Type(), def,
			strings.ReplaceAll(s.Expected(), "|", `\|`), strings.ReplaceAll(s.Description(), "|", `\|`))
	}
	return b.String()
}
