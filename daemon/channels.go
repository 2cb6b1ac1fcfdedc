package daemon

import (
	"fmt"
	"slices"
	"strings"

	"github.com/autoreplyd/autoreplyd/config"
	"github.com/autoreplyd/autoreplyd/rules"
)

// CheckNotify refuses a rule whose notify names a channel that is not
// configured under notify.
func CheckNotify(set *rules.Set, cfg *config.Config) error {
	if set == nil {
		return nil
	}
	var names []string
	for _, n := range cfg.Notify {
		names = append(names, n.Name)
	}
	for _, r := range set.Rules() {
		for _, ch := range r.Notify {
			if slices.Contains(names, ch) {
				continue
			}
			configured := "none: add a notify section to the config"
			if len(names) > 0 {
				configured = strings.Join(names, ", ")
			}
			return fmt.Errorf("%s:%d: rule %q: notify %q is not a configured channel (configured: %s)%s",
				r.File, r.Line, r.Name, ch, configured, rules.Suggest(ch, names))
		}
	}
	return nil
}
