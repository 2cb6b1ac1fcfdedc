package cli

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/pgtest"
	"github.com/autoreplyd/autoreplyd/internal/testutil"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func TestMain(m *testing.M) {
	// history --database renders table times in the host's zone: pin it so
	// the golden files do not depend on the machine. Set before any test
	// goroutine starts.
	time.Local = time.UTC
	// migrate's and the PostgreSQL tests create databases on a shared
	// server, which Main stops at the end.
	os.Exit(pgtest.Main(m))
}

// result is what one in-process command printed.
type result struct {
	stdout, stderr string
	code           int
}

// runCLI runs Main with args and an explicit, minimal environment.
func runCLI(t *testing.T, environ []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute) // bounds a hang only
	defer cancel()
	var out, errb bytes.Buffer
	code := Main(ctx, args, Env{Stdout: &out, Stderr: &errb, Environ: environ})
	return result{out.String(), errb.String(), code}
}

// golden compares got with testdata/NAME, or rewrites it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		testutil.WriteFile(t, path, got)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cli -run %s -update to create it)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("%s differs (run with -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

const goodRules = `rules:
  - name: spam
    when: 'containsAny(text, ["加微信", "vx"])'
  - name: price
    when: 'text matches "多少钱|价格|how much"'
    reply: '{{ user.nickname }} 你好，价格请看橱窗[比心]'
`

// configYAML is a complete, valid config: douyin through kitkot. extra is
// appended verbatim (more top-level sections or keys).
func configYAML(database, rules, extra string) string {
	return `database: ` + database + `
rules: ` + rules + `
schedule: "@every 1m"
timezone: Asia/Shanghai
listen: ""
sources:
  douyin:
    base_url: http://127.0.0.1:1
    token: jo-token
    responder: kitkot
    self_uids: ["96818342215"]
    backlog: skip
    threads:
      - comment_id: "7251524159191958327"
        aweme_id: "7251517975340027197"
      - comment_id: "7251524159191958400"
responders:
  kitkot:
    base_url: http://127.0.0.1:1/api
    api_key: kk-key
    session_key: kk-session
    rate: 20/m
    burst: 1
    daily_cap: 500
` + extra
}

func TestVersion(t *testing.T) {
	t.Parallel()
	r := runCLI(t, nil, "version")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("version: exit %d, stderr %q", r.code, r.stderr)
	}
	v, ok := strings.CutPrefix(r.stdout, "autoreplyd ")
	if !ok || strings.TrimSpace(v) == "" || !strings.HasSuffix(v, "\n") || strings.Count(r.stdout, "\n") != 1 {
		t.Errorf("version printed %q, want one line \"autoreplyd VERSION\"", r.stdout)
	}
}

func TestVersionFromLdflags(t *testing.T) {
	old := Version
	Version = "v1.2.3"
	t.Cleanup(func() { Version = old })
	if r := runCLI(t, nil, "version"); r.stdout != "autoreplyd v1.2.3\n" {
		t.Errorf("version printed %q", r.stdout)
	}
}

func TestUnknownCommand(t *testing.T) {
	t.Parallel()
	r := runCLI(t, nil, "frobnicate")
	if r.code != 1 {
		t.Errorf("exit %d, want 1", r.code)
	}
	if !strings.Contains(r.stderr, "frobnicate") || !strings.Contains(r.stderr, "unknown command") {
		t.Errorf("stderr %q does not name the unknown command", r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("stdout %q, want nothing", r.stdout)
	}
}

func TestUnknownFlag(t *testing.T) {
	t.Parallel()
	r := runCLI(t, nil, "history", "--nope")
	if r.code != 1 || !strings.Contains(r.stderr, "--nope") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}
