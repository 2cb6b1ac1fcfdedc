package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/store"
)

// An enumerated flag's unknown value is a usage error (exit 2) naming the
// flag, the value and every valid value, on every command that takes it;
// before, `history --status sen` printed "(no handled replies match)".
func TestEnumeratedFlags(t *testing.T) {
	t.Parallel()
	db := seededDB(t)
	statuses := store.Statuses
	for _, tc := range []struct {
		name  string
		args  []string
		flag  string
		valid []string
	}{
		{"history status", []string{"history", "--database", db, "--status", "sen"}, "--status", statuses},
		{"history platform", []string{"history", "--database", db, "--platform", "dy"}, "--platform", platforms()},
		{"history format", []string{"history", "--database", db, "--format", "xml"}, "--format", formats},
		{"history empty format", []string{"history", "--database", db, "--format", ""}, "--format", formats},
		{"history disposition", []string{"history", "--database", db, "--disposition", "backlogged"}, "--disposition", store.Dispositions},
		{"history status, wrong case", []string{"history", "--database", db, "--status", "SENT"}, "--status", statuses},
		{"stats platform", []string{"stats", "--database", db, "--platform", "dy"}, "--platform", platforms()},
		{"stats format", []string{"stats", "--database", db, "--format", "yaml"}, "--format", formats},
		{"explain platform", []string{"explain", "--rules", "testdata/test.rules.yaml", "--text", "x", "--platform", "myspace"}, "--platform", platforms()},
		{"explain empty platform", []string{"explain", "--rules", "testdata/test.rules.yaml", "--text", "x", "--platform", ""}, "--platform", platforms()},
		// Checked before the database is opened: a missing one is not the
		// problem reported.
		{"before the database", []string{"history", "--database", filepath.Join(t.TempDir(), "none.db"), "--status", "sen"}, "--status", statuses},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, nil, tc.args...)
			if r.code != 2 {
				t.Errorf("exit %d, want 2", r.code)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
			if strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "autoreplyd: "+tc.flag+": ") {
				t.Errorf("stderr %q, want one line about %s", r.stderr, tc.flag)
			}
			bad := tc.args[len(tc.args)-1]
			if bad != "" && !strings.Contains(r.stderr, `"`+bad+`"`) {
				t.Errorf("stderr %q does not name the value %q", r.stderr, bad)
			}
			if !strings.Contains(r.stderr, "(valid: "+strings.Join(tc.valid, ", ")+")") {
				t.Errorf("stderr %q does not list the valid values %v", r.stderr, tc.valid)
			}
		})
	}
	// Every valid value is accepted.
	for _, s := range statuses {
		historyOK(t, nil, "--database", db, "--status", s)
	}
	for _, p := range platforms() {
		historyOK(t, nil, "--database", db, "--platform", p)
		statsOK(t, nil, "--database", db, "--platform", p)
	}
	for _, d := range store.Dispositions {
		historyOK(t, nil, "--database", db, "--disposition", d)
	}
}

// --disposition filters on the disposition of the comment answered.
func TestHistoryDispositionFilter(t *testing.T) {
	t.Parallel()
	rows := append([]seedRow(nil), seedRows...)
	rows[2].disposition = "backlog"
	rows[5].disposition = "self"
	db := filepath.Join(t.TempDir(), "d.db")
	seedHistory(t, db, rows)
	ids := func(d string) []string {
		return commentIDs(t, historyOK(t, nil, "--database", db, "--format", "json", "--disposition", d))
	}
	if got := ids("backlog"); len(got) != 1 || got[0] != rows[2].id {
		t.Errorf("backlog: %v, want [%s]", got, rows[2].id)
	}
	if got := ids("self"); len(got) != 1 || got[0] != rows[5].id {
		t.Errorf("self: %v, want [%s]", got, rows[5].id)
	}
	if got := ids("evaluated"); len(got) != len(rows)-2 {
		t.Errorf("evaluated: %v, want %d rows", got, len(rows)-2)
	}
}

// An unknown --rule is a warning naming the known rules (the history's and
// the config's); the command still runs.
func TestUnknownRuleWarns(t *testing.T) {
	t.Parallel()
	db := seededDB(t)
	const known = "(known rules: greet, price, spam, thanks)"
	for _, cmd := range []string{"history", "stats"} {
		r := runCLI(t, nil, cmd, "--database", db, "--rule", "pricee", "--since", "")
		if r.code != 0 || r.stdout != "(no handled replies match)\n" && !strings.HasSuffix(r.stdout, "(no handled replies match)\n") {
			t.Errorf("%s --rule pricee: exit %d, stdout %q", cmd, r.code, r.stdout)
		}
		want := `autoreplyd: warning: --rule "pricee" names no rule of the history or the config ` + known + "\n"
		if r.stderr != want {
			t.Errorf("%s --rule pricee: stderr %q, want %q", cmd, r.stderr, want)
		}
		// JSON keeps stdout clean: the warning is on stderr only.
		if r := runCLI(t, nil, cmd, "--database", db, "--rule", "pricee", "--format", "json"); r.code != 0 || r.stdout != "" || r.stderr != want {
			t.Errorf("%s --rule pricee --format json: exit %d, stdout %q, stderr %q", cmd, r.code, r.stdout, r.stderr)
		}
		// A recorded rule: no warning.
		if r := runCLI(t, nil, cmd, "--database", db, "--rule", "spam", "--since", ""); r.code != 0 || r.stderr != "" {
			t.Errorf("%s --rule spam: exit %d, stderr %q", cmd, r.code, r.stderr)
		}
	}

	// With a config, its rules are known too, recorded or not.
	dir := t.TempDir()
	seedHistory(t, filepath.Join(dir, "state", "autoreplyd.db"), seedRows)
	testutil.WriteFile(t, filepath.Join(dir, "rules.yaml"), goodRules+`  - name: 新品
    when: 'text contains "新"'
    reply: '谢谢'
`)
	cfg := filepath.Join(dir, "config.yaml")
	testutil.WriteFile(t, cfg, configYAML("state/autoreplyd.db", "rules.yaml", ""))
	if r := runCLI(t, nil, "history", "--config", cfg, "--rule", "新品"); r.code != 0 || r.stderr != "" || !strings.Contains(r.stdout, "(no handled replies match)") {
		t.Errorf("history --rule of the config: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r := runCLI(t, nil, "stats", "--config", cfg, "--rule", "nope")
	if want := `autoreplyd: warning: --rule "nope" names no rule of the history or the config (known rules: greet, price, spam, thanks, 新品)` + "\n"; r.code != 0 || r.stderr != want {
		t.Errorf("stats --rule nope with a config: exit %d, stderr %q, want %q", r.code, r.stderr, want)
	}
	// A rule name is escaped: it comes from the command line and the
	// database.
	r = runCLI(t, nil, "history", "--database", db, "--rule", "x\x1b[2J")
	if r.code != 0 || strings.ContainsRune(r.stderr, '\x1b') {
		t.Errorf("history --rule with an escape: exit %d, stderr %q", r.code, r.stderr)
	}
}
