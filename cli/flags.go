package cli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/autoreplyd/autoreplyd/platform"
	"github.com/autoreplyd/autoreplyd/rules"
	"github.com/autoreplyd/autoreplyd/store"
)

// usageError is a command line value the command cannot take: Main prints
// it on one line and exits 2, as for any misuse (exit 1 is for failures).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// Valid values of the enumerated flags.
var formats = []string{"table", "json", "csv"}

// platforms are the platforms of the registered sources (package platform).
func platforms() []string { return platform.Platforms() }

// checkEnum refuses a value of --flag that is not one of valid, listing
// them; "" (the flag not given) is accepted.
func checkEnum(flag, value string, valid []string) error {
	if value == "" || slices.Contains(valid, value) {
		return nil
	}
	return usageError{fmt.Sprintf("--%s: %q is not valid (valid: %s)", flag, value, strings.Join(valid, ", "))}
}

// enumFlag is the value given to an enumerated flag and its valid values.
type enumFlag struct {
	name, value string
	valid       []string
}

// checkEnums checks each flag with checkEnum, in order.
func checkEnums(flags ...enumFlag) error {
	for _, f := range flags {
		if err := checkEnum(f.name, f.value, f.valid); err != nil {
			return err
		}
	}
	return nil
}

// checkChoice is checkEnum for a flag that must have a value.
func checkChoice(flag, value string, valid []string) error {
	if value == "" {
		return usageError{fmt.Sprintf("--%s: empty (valid: %s)", flag, strings.Join(valid, ", "))}
	}
	return checkEnum(flag, value, valid)
}

// checkFormat refuses an output format other than table, json or csv.
func checkFormat(format string) error { return checkChoice("format", format, formats) }

// warnUnknownRule warns on w when rule (a --rule filter) names no rule of
// the history nor of the config's rules: a typo otherwise reads as "nothing
// matches". A rule can be filtered on after it left the config, or before it
// answered anything, so this is not an error.
func warnUnknownRule(ctx context.Context, w io.Writer, st *store.Store, db database, rule string) {
	if rule == "" {
		return
	}
	known, err := st.RecordedRules(ctx)
	if err != nil || slices.Contains(known, rule) {
		return // the query that follows reports a database it cannot read
	}
	if db.rules != "" {
		// Rules that do not load are check's business: known as recorded.
		if set, err := rules.Load(db.rules, rules.Options{Location: db.loc}); err == nil {
			for _, r := range set.Rules() {
				if r.Name == rule {
					return
				}
				if !slices.Contains(known, r.Name) {
					known = append(known, r.Name)
				}
			}
		}
	}
	slices.Sort(known)
	list := "none yet"
	if len(known) > 0 {
		list = strings.Join(known, ", ")
	}
	fmt.Fprintf(w, "autoreplyd: warning: --rule %s names no rule of the history or the config (known rules: %s)\n",
		show(db.redact, fmt.Sprintf("%q", rule)), show(db.redact, list))
}
