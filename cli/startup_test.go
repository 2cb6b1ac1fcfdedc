package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
)

// Rules that are missing are reported by check and run as the config's
// rules key, naming the config file: not "load rules: stat ...".
func TestMissingRulesNameTheRulesKey(t *testing.T) {
	t.Parallel()
	cfg, _ := checkWorld(t, goodRules, "")
	rulesPath := filepath.Join(filepath.Dir(cfg), "rules.yaml")
	if err := os.Remove(rulesPath); err != nil {
		t.Fatal(err)
	}
	want := cfg + ": rules: " + rulesPath + " does not exist\n"
	for _, tc := range []struct {
		args   []string
		prefix string
	}{
		{[]string{"check", "--config", cfg}, ""},
		{[]string{"run", "--once", "--config", cfg}, "autoreplyd: "},
		{[]string{"run", "--config", cfg}, "autoreplyd: "},
	} {
		r := runCLI(t, nil, tc.args...)
		if r.code != 1 || r.stderr != tc.prefix+want {
			t.Errorf("%s: exit %d, stderr:\n%s\nwant exit 1 and:\n%s", strings.Join(tc.args, " "), r.code, r.stderr, tc.prefix+want)
		}
	}
}

// A rule naming an unknown field or name says what was meant, in check,
// test and explain alike (the words rule authors use, not Go types).
func TestUnknownNamesSuggestInCheckTestExplain(t *testing.T) {
	t.Parallel()
	typos := `rules:
  - name: greet
    when: 'txet contains "hi"'
    reply: '{{ user.nickame }} 你好'
`
	cfg, _ := checkWorld(t, typos, "")
	rulesPath := filepath.Join(filepath.Dir(cfg), "rules.yaml")
	want := rulesPath + `:3:12: rule "greet": when: unknown name "txet" (did you mean "text"?)` + "\n" +
		rulesPath + `:4:21: rule "greet": reply: user has no field "nickame" (did you mean "nickname"?)` + "\n"
	testFile := filepath.Join(filepath.Dir(cfg), "rules.test.yaml")
	testutil.WriteFile(t, testFile, "rule_files: [rules.yaml]\ntests:\n  - name: hi\n    comment: hi\n    expect: {rule: greet}\n")
	for _, args := range [][]string{
		{"check", "--config", cfg},
		{"explain", "--config", cfg, "--text", "hi"},
		{"explain", "--rules", rulesPath, "--timezone", "UTC", "--text", "hi"},
		{"test", testFile},
	} {
		r := runCLI(t, nil, args...)
		if r.code != 1 || !strings.Contains(r.stdout+r.stderr, want) {
			t.Errorf("%s: exit %d\nstdout: %s\nstderr: %s\nwant exit 1 and:\n%s", args[0], r.code, r.stdout, r.stderr, want)
		}
	}
}
