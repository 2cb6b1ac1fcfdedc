package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/store"
)

// pausedDB creates the database of a checkWorld config with two pauses in
// force and one expired.
func pausedDB(t *testing.T, db string) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, st)
	now := time.Now()
	for _, p := range []store.Pause{
		{Scope: "responder:kitkot", Until: now.Add(30 * time.Minute), Reason: "5 permanent failures in a row, last code 400: Failed to publish reply"},
		{Scope: "source:douyin", Until: now.Add(time.Hour), Reason: "code 601: Insufficient balance"},
		{Scope: "source:weibo", Until: now.Add(-time.Minute), Reason: "expired"},
	} {
		if err := st.SetPause(ctx, p.Scope, p.Until, p.Reason, now); err != nil {
			t.Fatal(err)
		}
	}
}

func TestResumeList(t *testing.T) {
	t.Parallel()
	cfg, db := checkWorld(t, goodRules, "")
	pausedDB(t, db)
	r := runCLI(t, nil, "resume", "--list", "--config", cfg)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "responder:kitkot paused until ") ||
		!strings.HasSuffix(lines[0], ": 5 permanent failures in a row, last code 400: Failed to publish reply") ||
		!strings.HasPrefix(lines[1], "source:douyin paused until ") || !strings.Contains(lines[1], "code 601") {
		t.Fatalf("list:\n%s", r.stdout)
	}
	// --database reads the file directly.
	if r := runCLI(t, nil, "resume", "--list", "--database", db); r.code != 0 || !strings.Contains(r.stdout, "responder:kitkot paused") {
		t.Fatalf("--database: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// check shows them too, reading only.
	r = runCLI(t, nil, "check", "--config", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "paused: responder:kitkot paused until") ||
		!strings.Contains(r.stdout, "autoreplyd resume source:douyin") || strings.Contains(r.stdout, "expired") {
		t.Fatalf("check: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestResumeClears(t *testing.T) {
	t.Parallel()
	cfg, db := checkWorld(t, goodRules, "")
	pausedDB(t, db)
	r := runCLI(t, nil, "resume", "--config", cfg, "responder:kitkot", "source:wechat")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "resumed: responder:kitkot paused until") ||
		!strings.Contains(r.stdout, "resumes it at its next cycle") ||
		!strings.Contains(r.stdout, "source:wechat was not paused") {
		t.Fatalf("output:\n%s", r.stdout)
	}
	r = runCLI(t, nil, "resume", "--list", "--config", cfg)
	if strings.Contains(r.stdout, "responder:kitkot") || !strings.Contains(r.stdout, "source:douyin") {
		t.Fatalf("list after resume:\n%s", r.stdout)
	}
	r = runCLI(t, nil, "resume", "--database", db, "source:douyin")
	if r.code != 0 || !strings.Contains(r.stdout, "restart it") {
		t.Fatalf("source resume: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := runCLI(t, nil, "resume", "--list", "--database", db); strings.TrimSpace(r.stdout) != "no pauses in force" {
		t.Fatalf("list after both:\n%s", r.stdout)
	}
}

func TestResumeErrors(t *testing.T) {
	t.Parallel()
	cfg, db := checkWorld(t, goodRules, "")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"nothing", []string{"resume", "--config", cfg}, "name the scopes to resume"},
		{"both", []string{"resume", "--list", "--config", cfg, "responder:kitkot"}, "name the scopes to resume"},
		{"bad scope", []string{"resume", "--config", cfg, "kitkot"}, `"kitkot": a scope is source:NAME, responder:NAME or llm:NAME`},
		{"no database", []string{"resume", "--config", cfg, "responder:kitkot"}, "autoreplyd.db"},
		{"no database list", []string{"resume", "--list", "--config", cfg}, "does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, nil, tt.args...)
			if r.code == 0 || !strings.Contains(r.stderr, tt.want) {
				t.Fatalf("exit %d, stderr:\n%s\nwant %q", r.code, r.stderr, tt.want)
			}
		})
	}
	assertNoDatabase(t, db)
}
