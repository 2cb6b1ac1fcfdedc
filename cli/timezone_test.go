package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/store"
)

// recordZone writes the zone a daemon records at start into the database.
func recordZone(t *testing.T, db, zone string) {
	t.Helper()
	st, err := store.Open(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetMeta(t.Context(), store.MetaTimezone, zone); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}

// oldestTime is the TIME column of the table's last line (the oldest row).
func oldestTime(t *testing.T, table string) string {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(table, "\n"), "\n")
	f := strings.Fields(lines[len(lines)-1])
	if len(f) < 3 {
		t.Fatalf("table:\n%s", table)
	}
	return f[1] + " " + f[2]
}

// greetDays is the CSV lines (without header) of the greet claims in stats.
func greetDays(t *testing.T, environ []string, args ...string) string {
	t.Helper()
	out := statsOK(t, environ, append(append([]string{"--format", "csv", "--rule", "greet"}, statsWindow...), args...)...)
	return strings.Join(strings.Split(strings.TrimSpace(out), "\n")[1:], " ")
}

// With --database alone, days and times are in the zone the daemon recorded
// in the database (the config's), not the host's; --timezone overrides it
// and the config's; a database without a recorded zone uses the host's
// (UTC in these tests).
func TestTimezoneOfDatabase(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "state", "autoreplyd.db")
	seedHistory(t, db, statsSeedRows)

	// Before any daemon recorded a zone: the host's (UTC here). The
	// oldest row is 2026-11-21T10:00Z.
	if got := oldestTime(t, historyOK(t, nil, "--database", db, "--limit", "0")); got != "2026-11-21 10:00:00" {
		t.Errorf("no recorded zone: oldest row at %s, want the host's (UTC) 2026-11-21 10:00:00", got)
	}
	if got := greetDays(t, nil, "--database", db); got != "2026-11-21,greet,sent,2," {
		t.Errorf("no recorded zone: greet days %q", got)
	}

	recordZone(t, db, "Asia/Shanghai")
	if got := oldestTime(t, historyOK(t, nil, "--database", db, "--limit", "0")); got != "2026-11-21 18:00:00" {
		t.Errorf("recorded Asia/Shanghai: oldest row at %s, want 2026-11-21 18:00:00", got)
	}
	if got := greetDays(t, nil, "--database", db); got != "2026-11-22,greet,sent,2," {
		t.Errorf("recorded Asia/Shanghai: greet days %q, want both on the 22nd", got)
	}
	// Dates in --since are read in it too: the 22nd in Shanghai starts at
	// 16:00Z on the 21st, which includes the greet claim at 20:00Z.
	out := historyOK(t, nil, "--database", db, "--format", "json", "--rule", "greet", "--since", "2026-11-22")
	if n := len(jsonRows(t, out)); n != 2 {
		t.Errorf("--since 2026-11-22 in the recorded zone: %d greet rows, want 2", n)
	}

	// --timezone overrides the recorded zone...
	if got := oldestTime(t, historyOK(t, nil, "--database", db, "--limit", "0", "--timezone", "America/New_York")); got != "2026-11-21 05:00:00" {
		t.Errorf("--timezone America/New_York: oldest row at %s, want 2026-11-21 05:00:00", got)
	}
	if got := greetDays(t, nil, "--database", db, "--timezone", "UTC"); got != "2026-11-21,greet,sent,2," {
		t.Errorf("--timezone UTC: greet days %q", got)
	}
	// ... and the config's (Asia/Shanghai).
	cfg := filepath.Join(dir, "config.yaml")
	testutil.WriteFile(t, cfg, configYAML("state/autoreplyd.db", "rules.yaml", ""))
	if got := greetDays(t, nil, "--config", cfg, "--timezone", "UTC"); got != "2026-11-21,greet,sent,2," {
		t.Errorf("--config with --timezone UTC: greet days %q", got)
	}
	// The config's zone wins over the recorded one.
	recordZone(t, db, "America/New_York")
	if got := oldestTime(t, historyOK(t, nil, "--config", cfg, "--limit", "0")); got != "2026-11-21 18:00:00" {
		t.Errorf("--config: oldest row at %s, want the config's zone (18:00)", got)
	}

	// A bad --timezone, and a recorded zone this build does not know.
	r := runCLI(t, nil, "history", "--database", db, "--timezone", "Mars/Olympus")
	if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, `--timezone: unknown time zone "Mars/Olympus"`) {
		t.Errorf("bad --timezone: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	recordZone(t, db, "Mars/Olympus")
	r = runCLI(t, nil, "stats", "--database", db)
	if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, "meta timezone") || !strings.Contains(r.stderr, `"Mars/Olympus"`) || !strings.Contains(r.stderr, "--timezone") {
		t.Errorf("unknown recorded zone: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if got := greetDays(t, nil, "--database", db, "--timezone", "Asia/Shanghai"); got != "2026-11-22,greet,sent,2," {
		t.Errorf("unknown recorded zone with --timezone: greet days %q", got)
	}
}

// resume --list shows a pause's end in the recorded zone too.
func TestResumeListRecordedZone(t *testing.T) {
	t.Parallel()
	db := seededDB(t)
	st, err := store.Open(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetPause(t.Context(), "responder:kitkot", day.AddDate(100, 0, 0), "quota", day); err != nil {
		t.Fatal(err)
	}
	if err := st.SetMeta(t.Context(), store.MetaTimezone, "Asia/Shanghai"); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, nil, "resume", "--database", db, "--list")
	if r.code != 0 || !strings.Contains(r.stdout, "until 2126-11-22 08:00:00 CST") {
		t.Errorf("resume --list: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}
