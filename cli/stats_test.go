package cli

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/model"
)

// statsSeedRows are seedRows plus claims around the day boundaries of UTC
// and Asia/Shanghai (+08:00).
var statsSeedRows = append(append([]seedRow(nil), seedRows...),
	// 20:00Z on the 21st: the 21st in UTC, the 22nd in Shanghai.
	seedRow{at: day.Add(-4 * time.Hour), platform: "douyin", id: "7300000000000000101", thread: threadA, nick: "a",
		text: "早", rule: "greet", status: model.StatusSent, reply: "早", replyID: "7399999999999999101"},
	// 10:00Z on the 21st: the 21st in both.
	seedRow{at: day.Add(-14 * time.Hour), platform: "douyin", id: "7300000000000000102", thread: threadA, nick: "b",
		text: "加微信", rule: "spam", status: model.StatusSkipped, reason: model.ReasonNoReplyRule},
	// 17:00Z on the 23rd: the 23rd in UTC, the 24th in Shanghai.
	seedRow{at: day.Add(41 * time.Hour), platform: "douyin", id: "7300000000000000103", thread: threadB, nick: "c",
		text: "多少钱", rule: "price", status: model.StatusSent, reply: "c 你好", replyID: "7399999999999999103"},
	seedRow{at: day.Add(41*time.Hour + time.Minute), platform: "douyin", id: "7300000000000000104", thread: threadB, nick: "d",
		text: "多少钱", rule: "price", status: model.StatusSent, reply: "d 你好", replyID: "7399999999999999104"},
	// Skipped for other reasons than spam: counted apart.
	seedRow{at: day.Add(3 * time.Hour), platform: "douyin", id: "7300000000000000105", thread: threadA, nick: "d",
		text: "多少钱呀", rule: "price", status: model.StatusSkipped, reason: "cooldown"},
	seedRow{at: day.Add(3*time.Hour + time.Minute), platform: "douyin", id: "7300000000000000106", thread: threadA, nick: "e",
		text: "价格", rule: "price", status: model.StatusSkipped, reason: "daily_cap"},
)

// The seeded times are fixed: bound the window explicitly (the default
// counts back from the real clock).
var statsWindow = []string{"--since", "2026-11-01", "--until", "2026-12-01"}

func statsOK(t *testing.T, environ []string, args ...string) string {
	t.Helper()
	r := runCLI(t, environ, append([]string{"stats"}, args...)...)
	if r.code != 0 {
		t.Fatalf("stats %v: exit %d\nstderr: %s", args, r.code, r.stderr)
	}
	if r.stderr != "" {
		t.Errorf("stats %v: stderr %q", args, r.stderr)
	}
	return r.stdout
}

func statsDB(t *testing.T) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "stats.db")
	seedHistory(t, db, statsSeedRows)
	return db
}

func TestStatsGolden(t *testing.T) {
	t.Parallel()
	db := statsDB(t)
	for _, format := range []string{"table", "json", "csv"} {
		t.Run(format, func(t *testing.T) {
			golden(t, "stats."+format+".golden", statsOK(t, nil, append([]string{"--database", db, "--format", format}, statsWindow...)...))
		})
	}
	t.Run("default format is table", func(t *testing.T) {
		golden(t, "stats.table.golden", statsOK(t, nil, append([]string{"--database", db}, statsWindow...)...))
	})
	t.Run("filters", func(t *testing.T) {
		out := statsOK(t, nil, append([]string{"--database", db, "--format", "csv", "--platform", "weibo"}, statsWindow...)...)
		if want := "day,rule,status,count,reason\n2026-11-22,thanks,pending,1,\n"; out != want {
			t.Errorf("--platform weibo:\n%s\nwant\n%s", out, want)
		}
		out = statsOK(t, nil, append([]string{"--database", db, "--format", "csv", "--rule", "price", "--until", "2026-11-23"}, statsWindow[:2]...)...)
		if want := "day,rule,status,count,reason\n2026-11-22,price,sent,1,\n2026-11-22,price,unknown,1,\n2026-11-22,price,retrying,1,\n2026-11-22,price,dry_run,1,\n" +
			"2026-11-22,price,skipped,1,cooldown\n2026-11-22,price,skipped,1,daily_cap\n"; out != want {
			t.Errorf("--rule price --until 2026-11-23:\n%s\nwant\n%s", out, want)
		}
	})
	t.Run("empty", func(t *testing.T) {
		args := append([]string{"--database", db, "--platform", "tiktok"}, statsWindow...)
		if out := statsOK(t, nil, args...); out != "(no handled replies match)\n" {
			t.Errorf("table with no rows: %q", out)
		}
		if out := statsOK(t, nil, append(args, "--format", "json")...); out != "" {
			t.Errorf("json with no rows: %q", out)
		}
		if out := statsOK(t, nil, append(args, "--format", "csv")...); out != "day,rule,status,count,reason\n" {
			t.Errorf("csv with no rows: %q", out)
		}
	})
}

// Through --config, days are in the config's timezone (Asia/Shanghai): the
// claim at 2026-11-21T20:00Z counts on the 22nd.
func TestStatsWithConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	seedHistory(t, filepath.Join(dir, "state", "autoreplyd.db"), statsSeedRows)
	cfg := filepath.Join(dir, "config.yaml")
	testutil.WriteFile(t, cfg, configYAML("state/autoreplyd.db", "rules.yaml", ""))

	out := statsOK(t, nil, append([]string{"--config", cfg, "--format", "json", "--rule", "greet"}, statsWindow...)...)
	want := `{"day":"2026-11-22","rule":"greet","status":"sent","count":2,"reason":""}` + "\n"
	if out != want {
		t.Errorf("greet in Asia/Shanghai:\n%s\nwant\n%s", out, want)
	}
	// In UTC the same claims fall on two days.
	out = statsOK(t, nil, append([]string{"--database", filepath.Join(dir, "state", "autoreplyd.db"), "--format", "json", "--rule", "greet"}, statsWindow...)...)
	want = `{"day":"2026-11-21","rule":"greet","status":"sent","count":2,"reason":""}` + "\n"
	if out != want {
		t.Errorf("greet in UTC:\n%s\nwant\n%s", out, want)
	}
	table := statsOK(t, nil, append([]string{"--config", cfg}, statsWindow...)...)
	golden(t, "stats.config.table.golden", table)
	if got := statsOK(t, []string{"AUTOREPLYD_CONFIG=" + cfg}, statsWindow...); got != table {
		t.Errorf("with $AUTOREPLYD_CONFIG:\n%s\nwant\n%s", got, table)
	}
	// Dates in --since and --until are Shanghai days too: the 22nd there
	// starts at 16:00Z on the 21st.
	out = statsOK(t, nil, "--config", cfg, "--format", "csv", "--since", "2026-11-22", "--until", "2026-11-23", "--rule", "spam")
	if want := "day,rule,status,count,reason\n2026-11-22,spam,skipped,1,no_reply_rule\n"; out != want {
		t.Errorf("spam on the 22nd in Shanghai:\n%s\nwant\n%s", out, want)
	}
}

// The default window is the last 7 days; an empty --since counts everything.
func TestStatsDefaultSince(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC().Truncate(time.Second)
	rows := []seedRow{
		{at: now.Add(-10 * 24 * time.Hour), platform: "douyin", id: "1", thread: threadA, nick: "a", text: "x", rule: "old", status: model.StatusDryRun},
		{at: now.Add(-6 * 24 * time.Hour), platform: "douyin", id: "2", thread: threadA, nick: "b", text: "x", rule: "recent", status: model.StatusDryRun},
		{at: now.Add(-time.Minute), platform: "douyin", id: "3", thread: threadA, nick: "c", text: "x", rule: "recent", status: model.StatusDryRun},
	}
	db := filepath.Join(t.TempDir(), "s.db")
	seedHistory(t, db, rows)
	count := func(args ...string) map[string]int {
		out := statsOK(t, nil, append([]string{"--database", db, "--format", "json"}, args...)...)
		m := map[string]int{}
		for _, r := range jsonRows(t, out) {
			m[r["rule"].(string)] += int(r["count"].(float64))
		}
		return m
	}
	if got := count(); got["old"] != 0 || got["recent"] != 2 {
		t.Errorf("default window: %v, want only the 2 recent claims", got)
	}
	if got := count("--since", ""); got["old"] != 1 || got["recent"] != 2 {
		t.Errorf("--since '': %v, want all 3", got)
	}
	if got := count("--since", "24h"); got["old"] != 0 || got["recent"] != 1 {
		t.Errorf("--since 24h: %v", got)
	}
}

func TestStatsErrors(t *testing.T) {
	t.Parallel()
	db := statsDB(t)
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"bad since", []string{"--database", db, "--since", "yesterday"}, []string{"--since", `"yesterday"`}},
		{"bad until", []string{"--database", db, "--until", "soon"}, []string{"--until", `"soon"`}},
		{"missing database", []string{"--database", filepath.Join(t.TempDir(), "missing.db")}, []string{"missing.db", "does not exist"}},
		{"missing config", []string{"--config", filepath.Join(t.TempDir(), "nope.yaml")}, []string{"nope.yaml"}},
		{"arguments", []string{"--database", db, "extra"}, []string{"extra"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, nil, append([]string{"stats"}, tc.args...)...)
			if r.code != 1 || r.stdout != "" {
				t.Errorf("exit %d, stdout %q", r.code, r.stdout)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr %q does not contain %q", r.stderr, w)
				}
			}
		})
	}
}

// The table splits skipped claims by reason, a column each (the goldens);
// with nothing skipped it keeps one SKIPPED column.
func TestStatsTableSkippedColumns(t *testing.T) {
	t.Parallel()
	db := statsDB(t)
	head := func(args ...string) []string {
		out := statsOK(t, nil, append(append([]string{"--database", db}, statsWindow...), args...)...)
		return strings.Fields(strings.SplitN(out, "\n", 2)[0])
	}
	want := []string{"DAY", "RULE", "SENT", "FAILED", "UNKNOWN", "RETRYING", "PENDING", "DRY_RUN", "SKIPPED", "TOTAL"}
	if got := head("--platform", "weibo"); !slices.Equal(got, want) {
		t.Errorf("nothing skipped: header %v, want %v", got, want)
	}
	want = []string{"DAY", "RULE", "SENT", "FAILED", "UNKNOWN", "RETRYING", "PENDING", "DRY_RUN", "SKIPPED:no_reply_rule", "TOTAL"}
	if got := head("--rule", "spam"); !slices.Equal(got, want) {
		t.Errorf("spam only: header %v, want %v", got, want)
	}
}

// The statuses of a person in the loop have their columns when counted,
// after the others; those not counted have none (nor has a history
// without any: TestStatsGolden).
func TestStatsPersonColumns(t *testing.T) {
	t.Parallel()
	db := decidedDB(t)
	out := statsOK(t, nil, "--database", db, "--since", "2026-11-01")
	// Nothing is held any more: no HELD column.
	want := "DAY         RULE       SENT  FAILED  UNKNOWN  RETRYING  PENDING  DRY_RUN  SKIPPED  FLAGGED  REJECTED  EXPIRED  HANDLED  TOTAL\n" +
		"2026-11-22  complaint     0       0        0         0        0        0        0        1         0        0        1      2\n" +
		"2026-11-22  price         1       0        0         1        0        0        0        0         1        1        0      4\n" +
		"TOTAL                     1       0        0         1        0        0        0        1         1        1        1      6\n"
	if out != want {
		t.Errorf("stats:\n%s\nwant\n%s", out, want)
	}
	js := statsOK(t, nil, "--database", db, "--since", "2026-11-01", "--format", "json")
	if !strings.Contains(js, `{"day":"2026-11-22","rule":"complaint","status":"handled","count":1,"reason":""}`) {
		t.Errorf("json:\n%s", js)
	}
}
