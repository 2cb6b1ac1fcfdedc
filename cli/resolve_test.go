package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
)

// Claim ids of seedRows, in insertion order.
const (
	claimSent     = "1"
	claimSkipped  = "3"
	claimFailed   = "4"
	claimRetrying = "5"
	claimUnknown  = "6"
	claimDryRun   = "7"
	claimPending  = "8"
)

// claimJSON returns the history record of claim id.
func claimJSON(t *testing.T, db, id string) historyJSON {
	t.Helper()
	out := historyOK(t, nil, "--database", db, "--format", "json", "--limit", "0")
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r historyJSON
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("history line %q: %v", line, err)
		}
		if id == strconv.FormatInt(r.ID, 10) {
			return r
		}
	}
	t.Fatalf("claim %s not in history:\n%s", id, out)
	return historyJSON{}
}

func TestResolveActions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, id, flag       string
		want                 string
		wantStatus, wantNote string
	}{
		{"unknown sent", claimUnknown, "--sent",
			"claim 6 (douyin comment 7300000000000000006, rule price): unknown → sent (resolved_sent)\n",
			"sent/resolved_sent", "resolved by hand; was unknown (timeout)"},
		{"unknown retry", claimUnknown, "--retry",
			"claim 6 (douyin comment 7300000000000000006, rule price): unknown → retrying (resolved_retry)\n",
			"retrying/resolved_retry", "resolved by hand; was unknown (timeout)"},
		{"unknown drop", claimUnknown, "--drop",
			"claim 6 (douyin comment 7300000000000000006, rule price): unknown → failed (resolved_drop)\n",
			"failed/resolved_drop", "resolved by hand; was unknown (timeout)"},
		{"failed retry", claimFailed, "--retry",
			"claim 4 (douyin comment 7300000000000000004, rule thanks): failed → retrying (resolved_retry)\n",
			"retrying/resolved_retry", "resolved by hand; was failed (platform_400)"},
		{"retrying drop", claimRetrying, "--drop",
			"claim 5 (douyin comment 7300000000000000005, rule price): retrying → failed (resolved_drop)\n",
			"failed/resolved_drop", "resolved by hand; was retrying (http_503)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := seededDB(t)
			before := claimJSON(t, db, tc.id)
			r := runCLI(t, nil, "resolve", "--database", db, tc.id, tc.flag)
			if r.code != 0 || r.stderr != "" || r.stdout != tc.want {
				t.Fatalf("resolve %s %s: exit %d\nstdout %q\nwant   %q\nstderr %q", tc.id, tc.flag, r.code, r.stdout, tc.want, r.stderr)
			}
			got := claimJSON(t, db, tc.id)
			if got.Status+"/"+got.Reason != tc.wantStatus || got.Error != tc.wantNote {
				t.Fatalf("history after resolve: %s/%s %q, want %s %q", got.Status, got.Reason, got.Error, tc.wantStatus, tc.wantNote)
			}
			if got.Attempts != before.Attempts || got.ReplyText != before.ReplyText || got.UpdatedAt == before.UpdatedAt {
				t.Fatalf("history after resolve: %+v\nbefore: %+v", got, before)
			}
		})
	}
}

func TestResolveWithConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "state"), 0o755); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "state", "autoreplyd.db")
	seedHistory(t, db, seedRows)
	cfg := filepath.Join(dir, "config.yaml")
	testutil.WriteFile(t, cfg, configYAML("state/autoreplyd.db", "rules.yaml", ""))
	r := runCLI(t, nil, "resolve", "--config", cfg, "--drop", claimUnknown)
	if r.code != 0 || !strings.Contains(r.stdout, "unknown → failed (resolved_drop)") {
		t.Fatalf("resolve --config: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if got := claimJSON(t, db, claimUnknown); got.Status != "failed" {
		t.Fatalf("history: %+v", got)
	}
}

func TestResolveRefused(t *testing.T) {
	t.Parallel()
	db := seededDB(t)
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"pending", []string{claimPending, "--drop"}, []string{"claim 8", "pending", "the daemon may be sending it"}},
		{"sent", []string{claimSent, "--retry"}, []string{"claim 1", "it is sent", "only unknown, failed or retrying"}},
		{"skipped", []string{claimSkipped, "--sent"}, []string{"claim 3", "it is skipped"}},
		{"dry run", []string{claimDryRun, "--retry"}, []string{"claim 7", "it is dry_run"}},
		{"missing id", []string{"99", "--drop"}, []string{"claim 99", "no such claim"}},
		{"bad id", []string{"abc", "--drop"}, []string{`"abc"`, "not a positive number"}},
		{"zero id", []string{"0", "--drop"}, []string{`"0"`, "not a positive number"}},
		{"no action", []string{claimUnknown}, []string{"exactly one of --sent, --retry or --drop"}},
		{"two actions", []string{claimUnknown, "--sent", "--drop"}, []string{"exactly one of --sent, --retry or --drop"}},
		{"no id", []string{"--drop"}, []string{"accepts 1 arg"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := historyOK(t, nil, "--database", db, "--format", "json", "--limit", "0")
			r := runCLI(t, nil, append([]string{"resolve", "--database", db}, tc.args...)...)
			if r.code != 1 || r.stdout != "" {
				t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr %q does not say %q", r.stderr, w)
				}
			}
			if after := historyOK(t, nil, "--database", db, "--format", "json", "--limit", "0"); after != before {
				t.Errorf("a refused resolve changed the history")
			}
		})
	}
}

func TestResolveMissingDatabase(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "nope.db")
	r := runCLI(t, nil, "resolve", "--database", db, "1", "--drop")
	if r.code != 1 || !strings.Contains(r.stderr, "does not exist") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	if _, err := os.Stat(db); err == nil {
		t.Fatalf("resolve created %s", db)
	}
}
