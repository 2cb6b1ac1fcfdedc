package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Rules that are missing are reported by check and run as the config's
// rules key, naming the config file: not "load rules: stat ...".
func TestMissingRulesNameTheRulesKey(t *testing.T) {
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
