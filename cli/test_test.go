package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
)

// The golden files show exactly what a rule author sees.
func TestTestGolden(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		golden string
		args   []string
		code   int
	}{
		{"test.pass.golden", []string{"-v", "testdata/test.pass.yaml"}, 0},
		{"test.pass.quiet.golden", []string{"testdata/test.pass.yaml"}, 0},
		{"test.fail.golden", []string{"testdata/test.fail.yaml"}, 1},
		{"test.run.golden", []string{"--run", "^(cooldown|spam)$", "--verbose", "testdata/test.pass.yaml", "testdata/test.fail.yaml"}, 0},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			// No config exists: with rule_files, none is read.
			r := runCLI(t, []string{"AUTOREPLYD_CONFIG=" + filepath.Join(t.TempDir(), "none.yaml")}, append([]string{"test"}, tc.args...)...)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d\nstderr: %s", r.code, tc.code, r.stderr)
			}
			if r.stderr != "" {
				t.Errorf("stderr %q, want nothing", r.stderr)
			}
			golden(t, tc.golden, r.stdout)
		})
	}
}

// The shipped example rules pass their shipped tests (CI runs this too).
func TestTestExamples(t *testing.T) {
	t.Parallel()
	r := runCLI(t, nil, "test", filepath.Join("..", "rules.example.test.yaml"))
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if !strings.HasSuffix(r.stdout, " passed, 0 failed\n") {
		t.Errorf("stdout %q", r.stdout)
	}
}

func TestTestBadFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.test.yaml")
	//nolint:misspell // a deliberate typo: the case checks the did-you-mean message
	testutil.WriteFile(t, bad, `rule_files: [rules.yaml]
tests:
  - name: typo
    comment: {text: 多少钱}
    expect: {rule: price, skiped: cooldown}
`)
	good := filepath.Join(dir, "good.test.yaml")
	testutil.WriteFile(t, filepath.Join(dir, "rules.yaml"), goodRules)
	testutil.WriteFile(t, good, `rule_files: rules.yaml
tests:
  - name: price
    comment: {text: 多少钱, user: 小明}
    expect: {rule: price, reply: '小明 你好，价格请看橱窗[比心]'}
`)
	r := runCLI(t, nil, "test", bad, good)
	if r.code != 1 {
		t.Errorf("exit %d, want 1", r.code)
	}
	if want := bad + ":5:27: unknown key \"skiped\" (did you mean \"skipped\"?)\n"; r.stderr != want { //nolint:misspell // a deliberate typo: the case checks the did-you-mean message
		t.Errorf("stderr %q, want %q", r.stderr, want)
	}
	// The other file still runs.
	if r.stdout != "1 passed, 0 failed\n" {
		t.Errorf("stdout %q", r.stdout)
	}
}

func TestTestRulesDoNotLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	testutil.WriteFile(t, filepath.Join(dir, "rules.yaml"), "rules:\n  - name: x\n    when: 'txet == \"a\"'\n")
	tf := filepath.Join(dir, "x.test.yaml")
	testutil.WriteFile(t, tf, "rule_files: rules.yaml\ntests:\n  - {name: a, comment: a, expect: {no_match: true}}\n")
	r := runCLI(t, nil, "test", tf)
	if r.code != 1 || !strings.HasPrefix(r.stderr, filepath.Join(dir, "rules.yaml")+":3:") || !strings.Contains(r.stderr, "txet") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestTestRunMatchesNothing(t *testing.T) {
	t.Parallel()
	r := runCLI(t, nil, "test", "--run", "nothing-like-this", "testdata/test.pass.yaml")
	if r.code != 1 || !strings.Contains(r.stderr, `no test case matches --run "nothing-like-this"`) || r.stdout != "0 passed, 0 failed\n" {
		t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r = runCLI(t, nil, "test", "--run", "(", "testdata/test.pass.yaml")
	if r.code != 1 || !strings.Contains(r.stderr, "--run") {
		t.Errorf("bad regexp: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestTestNeedsFiles(t *testing.T) {
	t.Parallel()
	if r := runCLI(t, nil, "test"); r.code != 1 {
		t.Errorf("exit %d, want 1", r.code)
	}
}

// Without rule_files the config's rules and timezone are used.
func TestTestConfigRules(t *testing.T) {
	t.Parallel()
	cfg, _ := checkWorld(t, goodRules, "")
	tf := filepath.Join(t.TempDir(), "c.test.yaml")
	testutil.WriteFile(t, tf, `now: "2026-11-23 10:00"
tests:
  - name: price
    comment: {text: 多少钱, user: 小明}
    expect: {rule: price, reply: '小明 你好，价格请看橱窗[比心]'}
`)
	for _, tc := range []struct {
		name    string
		environ []string
		args    []string
	}{
		{"--config", nil, []string{"--config", cfg}},
		{"AUTOREPLYD_CONFIG", []string{"AUTOREPLYD_CONFIG=" + cfg}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, tc.environ, append(append([]string{"test", "-v"}, tc.args...), tf)...)
			if r.code != 0 || r.stderr != "" || r.stdout != "PASS "+tf+":3: price\n1 passed, 0 failed\n" {
				t.Errorf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
			}
		})
	}
	// A missing config is an error naming the test file and the config.
	missing := filepath.Join(t.TempDir(), "none.yaml")
	r := runCLI(t, []string{"AUTOREPLYD_CONFIG=" + missing}, "test", tf)
	if r.code != 1 || !strings.Contains(r.stderr, tf+": no rule_files") || !strings.Contains(r.stderr, "none.yaml") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}
