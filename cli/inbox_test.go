package cli

import (
	"encoding/csv"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/model"
)

// inboxRows are claims made relative to now: flagged comments and held
// answers of several ages, one of them on Weibo, a sent answer (never in
// the inbox) and a comment written to be a spreadsheet formula.
func inboxRows(now time.Time) []seedRow {
	return []seedRow{
		{at: now.Add(-72 * time.Hour), platform: "douyin", id: "7300000000000000201", thread: threadA, nick: "老客户",
			text: "差评！质量太差了", rule: "complaint", status: model.StatusFlagged},
		{at: now.Add(-30 * time.Hour), platform: "douyin", id: "7300000000000000202", thread: threadA, nick: "小王",
			text: "多少钱", rule: "price", status: model.StatusHeld, reply: "小王 你好，价格请看橱窗"},
		{at: now.Add(-2 * time.Hour), platform: "douyin", id: "7300000000000000203", thread: threadB, nick: "史密斯夫妇💑",
			text: "多少钱？😀", rule: "price", status: model.StatusHeld, reply: "史密斯夫妇💑 你好，价格请看橱窗🛒"},
		{at: now.Add(-time.Hour), platform: "weibo", id: "5000000000000201", thread: "4023227965", nick: "微博用户",
			text: "价格？", rule: "price", status: model.StatusHeld, reply: "微博用户 你好，价格请看橱窗", responder: "weibo"},
		{at: now.Add(-30 * time.Minute), platform: "douyin", id: "7300000000000000204", thread: threadA, nick: "愤怒的顾客😡",
			text: "我要投诉！退款😡", rule: "complaint", status: model.StatusFlagged},
		{at: now.Add(-10 * time.Minute), platform: "douyin", id: "7300000000000000205", thread: threadA, nick: "小李",
			text: "谢谢", rule: "thanks", status: model.StatusSent, reply: "不客气～", replyID: "7399999999999999205"},
		{at: now.Add(-5 * time.Minute), platform: "douyin", id: "7300000000000000206", thread: threadB, nick: "@SUM(1+1)",
			text: `=HYPERLINK("http://evil.example/","点我")`, rule: "complaint", status: model.StatusFlagged},
	}
}

// Claim ids of inboxRows, in insertion order.
const (
	inboxOldFlag  = 1
	inboxLateHeld = 2
	inboxHeld     = 3
	inboxWeibo    = 4
	inboxFlag     = 5
	inboxSent     = 6
	inboxFormula  = 7
)

// inboxDB is a database holding inboxRows made relative to now.
func inboxDB(t *testing.T, now time.Time) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "inbox.db")
	seedHistory(t, db, inboxRows(now))
	return db
}

// inbox runs the inbox command, which must succeed.
func inbox(t *testing.T, environ []string, args ...string) result {
	t.Helper()
	r := runCLI(t, environ, append([]string{"inbox"}, args...)...)
	if r.code != 0 {
		t.Fatalf("inbox %v: exit %d\nstderr: %s", args, r.code, r.stderr)
	}
	return r
}

// claimIDs are the ids of JSON Lines output, in order.
func claimIDs(t *testing.T, out string) []int {
	t.Helper()
	var ids []int
	for _, r := range jsonRows(t, out) {
		ids = append(ids, int(r["id"].(float64)))
	}
	return ids
}

const defaultMaxAgeNote = "autoreplyd: note: --database alone reads no config: approval.max_age is taken as its default, 24h (give --config for the configured one)\n"

func TestInboxFilters(t *testing.T) {
	t.Parallel()
	db := inboxDB(t, time.Now().UTC().Truncate(time.Second))
	for _, tc := range []struct {
		name string
		args []string
		want []int
		note bool // held answers listed: their expiry is the default's
	}{
		{"waiting, newest first", nil, []int{inboxFormula, inboxFlag, inboxWeibo, inboxHeld, inboxLateHeld, inboxOldFlag}, true},
		{"held", []string{"--status", "held"}, []int{inboxWeibo, inboxHeld, inboxLateHeld}, true},
		{"flagged", []string{"--status", "flagged"}, []int{inboxFormula, inboxFlag, inboxOldFlag}, false},
		{"since", []string{"--since", "24h"}, []int{inboxFormula, inboxFlag, inboxWeibo, inboxHeld}, true},
		{"since, flagged", []string{"--since", "24h", "--status", "flagged"}, []int{inboxFormula, inboxFlag}, false},
		{"limit", []string{"--limit", "2"}, []int{inboxFormula, inboxFlag}, false},
		{"limit 0 is all", []string{"--limit", "0"}, []int{inboxFormula, inboxFlag, inboxWeibo, inboxHeld, inboxLateHeld, inboxOldFlag}, true},
		{"nothing", []string{"--since", "1m"}, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := inbox(t, nil, append([]string{"--database", db, "--format", "json"}, tc.args...)...)
			if got := claimIDs(t, r.stdout); !slices.Equal(got, tc.want) {
				t.Errorf("ids %v, want %v", got, tc.want)
			}
			if want := map[bool]string{true: defaultMaxAgeNote}[tc.note]; r.stderr != want {
				t.Errorf("stderr %q, want %q", r.stderr, want)
			}
		})
	}
}

func TestInboxJSON(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC().Truncate(time.Second)
	db := inboxDB(t, now)
	seeds := inboxRows(now)
	rows := jsonRows(t, inbox(t, nil, "--database", db, "--format", "json").stdout)
	if len(rows) != 6 {
		t.Fatalf("%d rows", len(rows))
	}
	for _, r := range rows {
		id := int(r["id"].(float64))
		s := seeds[id-1]
		// The contract's fields, values exact (Chinese, emoji, quotes).
		for k, want := range map[string]string{
			"status": s.status, "platform": s.platform, "thread_id": s.thread, "comment_id": s.id,
			"comment_text": s.text, "user": s.nick, "rule": s.rule, "reply_text": s.reply,
			"created_at": s.at.Format(time.RFC3339), "user_uid": "uid-" + s.id,
		} {
			if r[k] != want {
				t.Errorf("claim %d: %s = %v, want %q", id, k, r[k], want)
			}
		}
		wantResponder, wantExpires := "kitkot", ""
		if s.responder != "" {
			wantResponder = s.responder
		}
		if s.status == model.StatusHeld {
			wantExpires = s.at.Add(24 * time.Hour).Format(time.RFC3339)
		}
		if r["responder"] != wantResponder || r["expires_at"] != wantExpires {
			t.Errorf("claim %d: responder %v expires_at %v, want %s %q", id, r["responder"], r["expires_at"], wantResponder, wantExpires)
		}
	}
}

func TestInboxCSV(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC().Truncate(time.Second)
	db := inboxDB(t, now)
	seeds := inboxRows(now)
	out := inbox(t, nil, "--database", db, "--format", "csv").stdout
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("csv does not parse: %v\n%s", err, out)
	}
	if want := append(slices.Clone(csvHeader), "expires_at"); !slices.Equal(recs[0], want) {
		t.Fatalf("header %v, want %v", recs[0], want)
	}
	col := func(name string) int { return slices.Index(recs[0], name) }
	if len(recs) != 7 {
		t.Fatalf("%d records:\n%s", len(recs), out)
	}
	for _, rec := range recs[1:] {
		id, err := strconv.Atoi(rec[col("id")])
		if err != nil {
			t.Fatal(err)
		}
		s := seeds[id-1]
		text, nick := s.text, s.nick
		if id == inboxFormula {
			// What a spreadsheet would run as a formula is text.
			text, nick = "'"+text, "'"+nick
		}
		if rec[col("comment_text")] != text || rec[col("user")] != nick || rec[col("reply_text")] != s.reply {
			t.Errorf("claim %d: %q %q %q, want %q %q %q", id, rec[col("comment_text")], rec[col("user")], rec[col("reply_text")], text, nick, s.reply)
		}
		if held := s.status == model.StatusHeld; held != (rec[col("expires_at")] != "") {
			t.Errorf("claim %d (%s): expires_at %q", id, s.status, rec[col("expires_at")])
		}
	}
}

// inboxLine matches a table row's first columns: ID, AGE, STATUS, EXPIRES.
var inboxLine = regexp.MustCompile(`^(\d+)\s+(\S+)\s+(flagged|held)\s+(in \S+|past max_age|-)\s`)

// parseAge reads the AGE and EXPIRES forms back: 45s, 12m, 3h05m, 2d03h.
func parseAge(t *testing.T, s string) time.Duration {
	t.Helper()
	var a, b int
	switch {
	case strings.Contains(s, "d"):
		if _, err := fmt.Sscanf(s, "%dd%dh", &a, &b); err == nil {
			return time.Duration(a)*24*time.Hour + time.Duration(b)*time.Hour
		}
	case strings.Contains(s, "h"):
		if _, err := fmt.Sscanf(s, "%dh%dm", &a, &b); err == nil {
			return time.Duration(a)*time.Hour + time.Duration(b)*time.Minute
		}
	default:
		if d, err := time.ParseDuration(s); err == nil {
			return d
		}
	}
	t.Fatalf("%q is not an age", s)
	return 0
}

func TestInboxTable(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC().Truncate(time.Second)
	db := inboxDB(t, now)
	r := inbox(t, nil, "--database", db)
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if want := []string{"ID", "AGE", "STATUS", "EXPIRES", "PLATFORM", "THREAD", "USER", "RULE", "COMMENT", "ANSWER"}; !slices.Equal(strings.Fields(lines[0]), want) {
		t.Fatalf("header %q", lines[0])
	}
	if len(lines) != 7 {
		t.Fatalf("%d lines:\n%s", len(lines), r.stdout)
	}
	// The ages and times left, against the seeded ages: the test's own run
	// time is allowed for, not asserted.
	const slack = 10 * time.Minute
	type want struct {
		age     time.Duration
		expires string // "in" (then left), "past max_age" or "-"
		left    time.Duration
	}
	wants := map[int]want{
		inboxFormula:  {5 * time.Minute, "-", 0},
		inboxFlag:     {30 * time.Minute, "-", 0},
		inboxWeibo:    {time.Hour, "in", 23 * time.Hour},
		inboxHeld:     {2 * time.Hour, "in", 22 * time.Hour},
		inboxLateHeld: {30 * time.Hour, "past max_age", 0},
		inboxOldFlag:  {72 * time.Hour, "-", 0},
	}
	for _, line := range lines[1:] {
		m := inboxLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("row %q", line)
		}
		id, _ := strconv.Atoi(m[1])
		w := wants[id]
		if a := parseAge(t, m[2]); a < w.age || a > w.age+slack {
			t.Errorf("claim %d: AGE %s, want %s", id, m[2], w.age)
		}
		switch left, ok := strings.CutPrefix(m[4], "in "); {
		case ok && w.expires == "in":
			if l := parseAge(t, left); l > w.left || l < w.left-slack {
				t.Errorf("claim %d: EXPIRES %s, want in %s", id, m[4], w.left)
			}
		case m[4] != w.expires:
			t.Errorf("claim %d: EXPIRES %q, want %q", id, m[4], w.expires)
		}
	}
	// Texts are cut to their columns; --wide shows them whole.
	if !strings.Contains(r.stdout, "…") || strings.Contains(r.stdout, `=HYPERLINK("http://evil.example/","点我")`) {
		t.Errorf("the table does not cut long texts:\n%s", r.stdout)
	}
	wide := inbox(t, nil, "--database", db, "--wide").stdout
	for _, s := range []string{"史密斯夫妇💑 你好，价格请看橱窗🛒", `=HYPERLINK("http://evil.example/","点我")`, "我要投诉！退款😡"} {
		if !strings.Contains(wide, s) {
			t.Errorf("--wide does not show %q:\n%s", s, wide)
		}
	}
	if r.stderr != defaultMaxAgeNote {
		t.Errorf("stderr %q", r.stderr)
	}

	// More than --limit: the table says so.
	more := inbox(t, nil, "--database", db, "--limit", "2").stdout
	if !strings.HasSuffix(more, "(more are waiting: the newest 2 are listed; --limit 0 lists them all)\n") || strings.Count(more, "\n") != 4 {
		t.Errorf("--limit 2:\n%s", more)
	}
	if out := inbox(t, nil, "--database", db, "--limit", "6").stdout; strings.Contains(out, "more are waiting") {
		t.Errorf("--limit 6 of 6 says more are waiting:\n%s", out)
	}
}

func TestInboxEmptyAndRefused(t *testing.T) {
	t.Parallel()
	db := seededDB(t) // no flagged or held claims
	if r := inbox(t, nil, "--database", db); r.stdout != "(nothing is waiting for a person)\n" || r.stderr != "" {
		t.Errorf("empty inbox: %q %q", r.stdout, r.stderr)
	}
	if r := inbox(t, nil, "--database", db, "--format", "json"); r.stdout != "" {
		t.Errorf("empty json: %q", r.stdout)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--status", "sent"}, 2, `--status: "sent" is not valid (valid: flagged, held)`},
		{[]string{"--format", "xml"}, 2, `--format: "xml" is not valid`},
		{[]string{"--limit", "-1"}, 1, "--limit"},
		{[]string{"--since", "soon"}, 1, "--since"},
	} {
		r := runCLI(t, nil, append([]string{"inbox", "--database", db}, tc.args...)...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) || r.stdout != "" {
			t.Errorf("inbox %v: exit %d, stdout %q, stderr %q; want exit %d and %q", tc.args, r.code, r.stdout, r.stderr, tc.code, tc.want)
		}
	}
	if r := runCLI(t, nil, "inbox", "--database", filepath.Join(t.TempDir(), "nope.db")); r.code != 1 || !strings.Contains(r.stderr, "does not exist") {
		t.Errorf("missing database: exit %d, %q", r.code, r.stderr)
	}
}

// Through the config: its database, its approval.max_age, no note; the
// config's secrets never printed.
func TestInboxWithConfig(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC().Truncate(time.Second)
	dir := t.TempDir()
	seedHistory(t, filepath.Join(dir, "autoreplyd.db"), inboxRows(now))
	cfg := filepath.Join(dir, "config.yaml")
	testutil.WriteFile(t, cfg, configYAML("autoreplyd.db", "rules.yaml", "approval:\n  max_age: 6h\n"))
	r := inbox(t, nil, "--config", cfg, "--status", "held", "--format", "json")
	if r.stderr != "" {
		t.Errorf("stderr %q", r.stderr)
	}
	seeds := inboxRows(now)
	for _, row := range jsonRows(t, r.stdout) {
		id := int(row["id"].(float64))
		if want := seeds[id-1].at.Add(6 * time.Hour).Format(time.RFC3339); row["expires_at"] != want {
			t.Errorf("claim %d: expires_at %v, want %s (max_age 6h)", id, row["expires_at"], want)
		}
	}
	// With $AUTOREPLYD_CONFIG, and with --database beside a config: the
	// config's max_age still.
	for _, args := range [][]string{{"--status", "held"}, {"--status", "held", "--database", filepath.Join(dir, "autoreplyd.db")}} {
		r := inbox(t, []string{"AUTOREPLYD_CONFIG=" + cfg}, args...)
		// Held 30h, 2h and 1h ago: past 6h, then 4h and 5h left.
		if strings.Count(r.stdout, "past max_age") != 1 || !regexp.MustCompile(`held +in [34]h`).MatchString(r.stdout) || r.stderr != "" {
			t.Errorf("inbox %v with max_age 6h:\n%s%s", args, r.stdout, r.stderr)
		}
	}
	assertSafe(t, "inbox --wide", inbox(t, nil, "--config", cfg, "--wide").stdout)
}

// Comments and nicknames are anyone's: terminal escapes, line breaks and
// direction overrides in them neither reach the terminal nor break the
// table; JSON carries them exactly.
func TestInboxHostileText(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC().Truncate(time.Second)
	rows := []seedRow{
		{at: now.Add(-time.Minute), platform: "douyin", id: "7300000000000000301", thread: threadA, nick: "\x1b[31mred\x1b[0m\u202e",
			text: "投诉" + forge, rule: "complaint", status: model.StatusFlagged},
		{at: now.Add(-2 * time.Minute), platform: "douyin", id: "7300000000000000302", thread: threadA, nick: "小明",
			text: "多少钱", rule: "price", status: model.StatusHeld, reply: "价格\x07请看" + forge},
	}
	db := filepath.Join(t.TempDir(), "hostile.db")
	seedHistory(t, db, rows)
	for _, args := range [][]string{nil, {"--wide"}} {
		out := inbox(t, nil, append([]string{"--database", db}, args...)...).stdout
		assertSafe(t, fmt.Sprintf("inbox %v", args), out)
		if n := strings.Count(out, "\n"); n != 3 {
			t.Errorf("inbox %v: %d lines, want 3:\n%s", args, n, out)
		}
	}
	js := jsonRows(t, inbox(t, nil, "--database", db, "--format", "json").stdout)
	if js[0]["user"] != rows[0].nick || js[0]["comment_text"] != rows[0].text || js[1]["reply_text"] != rows[1].reply {
		t.Errorf("json changed the text: %v", js)
	}
}
