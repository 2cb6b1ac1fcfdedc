package store

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/model"
)

// settle records pending claim id as st at now.
func settle(t *testing.T, s *Store, id int64, st string, now time.Time) {
	t.Helper()
	if err := s.Settle(t.Context(), id, Settlement{Status: st}, now); err != nil {
		t.Fatal(err)
	}
}

// ruleStatsFixture records, with the real write path:
//
//	at       comment  rule   status
//	t0-48h   old      greet  sent        (before the period: LastMatched only)
//	t0+10m   c1       价格   sent
//	t0+20m   c2       价格   skipped cooldown
//	t0+1h5m  c3       价格   skipped no_reply_rule, greet held → rejected
//	t0+2h    c4       价格   flagged → handled
//	t0+2h59m c5       价格   held (waiting)
//	t0+3h    c6       价格   sent        (at until: outside)
func ruleStatsFixture(t *testing.T) *Store {
	t.Helper()
	s, _ := openTest(t)
	ctx := t.Context()
	rec := func(id string, at time.Time, claims ...Claim) []Claimed {
		return mustRecord(t, s, comment(id), at, claims...)
	}
	settle(t, s, rec("old", t0.Add(-48*time.Hour), pending("greet"))[0].ID, model.StatusSent, t0.Add(-48*time.Hour))
	settle(t, s, rec("c1", t0.Add(10*time.Minute), pending("价格"))[0].ID, model.StatusSent, t0.Add(10*time.Minute))
	rec("c2", t0.Add(20*time.Minute), Claim{Rule: "价格", Status: model.StatusSkipped, Reason: "cooldown"})
	c3 := rec("c3", t0.Add(65*time.Minute),
		Claim{Rule: "价格", Status: model.StatusSkipped, Reason: model.ReasonNoReplyRule},
		Claim{Rule: "greet", Status: model.StatusHeld, ReplyText: "你好 👋"})
	if _, _, err := s.Decide(ctx, c3[1].ID, Decision{Action: DecideReject, By: "ops"}, t0.Add(70*time.Minute)); err != nil {
		t.Fatal(err)
	}
	c4 := rec("c4", t0.Add(2*time.Hour), Claim{Rule: "价格", Status: model.StatusFlagged})
	if _, _, err := s.Decide(ctx, c4[0].ID, Decision{Action: DecideDone, By: "ops"}, t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	rec("c5", t0.Add(179*time.Minute), Claim{Rule: "价格", Status: model.StatusHeld, ReplyText: "x"})
	settle(t, s, rec("c6", t0.Add(3*time.Hour), pending("价格"))[0].ID, model.StatusSent, t0.Add(3*time.Hour))
	return s
}

func TestRuleStats(t *testing.T) {
	t.Parallel()
	s := ruleStatsFixture(t)
	got, err := s.RuleStats(t.Context(), t0, t0.Add(3*time.Hour), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Rule != "greet" || got[1].Rule != "价格" {
		t.Fatalf("rules %+v, want greet then 价格", got)
	}
	greet, price := got[0], got[1]
	check := func(name string, got, want any) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	check("价格 claims", price.Claims, 5)
	check("价格 by status", price.ByStatus, map[string]int{"sent": 1, "skipped": 2, "handled": 1, "held": 1})
	check("价格 answered", price.Answered(), 1)
	check("价格 skipped", price.Skipped, map[string]int{"cooldown": 1, "no_reply_rule": 1})
	check("价格 series", price.Series, []int{2, 1, 2})
	check("价格 last matched", price.LastMatched, t0.Add(3*time.Hour))
	// greet's old answer is outside the period; its rejected claim in it.
	check("greet claims", greet.Claims, 1)
	check("greet by status", greet.ByStatus, map[string]int{"rejected": 1})
	check("greet skipped", greet.Skipped, map[string]int{})
	check("greet series", greet.Series, []int{0, 1, 0})
	check("greet last matched", greet.LastMatched, t0.Add(65*time.Minute))

	// A period with nothing still lists every rule, with its last match.
	got, err = s.RuleStats(t.Context(), t0.Add(-24*time.Hour), t0, 6*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Claims != 0 || got[1].Claims != 0 || !got[1].LastMatched.Equal(t0.Add(3*time.Hour)) {
		t.Fatalf("an empty period: %+v", got)
	}
	check("empty series", got[0].Series, []int{0, 0, 0, 0})
}

// The series puts each claim in its bucket whatever the alignment: days,
// hours, a local midnight at +05:30, buckets of 17 minutes from an odd
// second, a last bucket cut short.
func TestRuleStatsSeriesExact(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	// One claim every 7 minutes for two days, from 23:00 the day before t0.
	start := t0.Add(-9 * time.Hour)
	var times []time.Time
	for i := range 2 * 24 * 60 / 7 {
		at := start.Add(time.Duration(i) * 7 * time.Minute)
		times = append(times, at)
		mustRecord(t, s, comment(fmt.Sprint(i)), at, Claim{Rule: "r", Status: model.StatusDryRun})
	}
	for _, tc := range []struct {
		name         string
		since, until time.Time
		bucket       time.Duration
	}{
		{"days", time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 3, 2, 12, 0, 0, 0, time.UTC), 24 * time.Hour},
		{"hours", start, start.Add(26 * time.Hour), 2 * time.Hour},
		{"local midnight +05:30", t0.Add(-8*time.Hour - 30*time.Minute), t0.Add(20 * time.Hour), 24 * time.Hour},
		{"odd", t0.Add(3*time.Minute + 7*time.Second), t0.Add(5 * time.Hour), 17 * time.Minute},
	} {
		got, err := s.RuleStats(t.Context(), tc.since, tc.until, tc.bucket)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		n := int((tc.until.Sub(tc.since) + tc.bucket - 1) / tc.bucket)
		want := make([]int, n)
		total := 0
		for _, at := range times {
			if !at.Before(tc.since) && at.Before(tc.until) {
				want[int(at.Sub(tc.since)/tc.bucket)]++
				total++
			}
		}
		if len(got) != 1 || fmt.Sprint(got[0].Series) != fmt.Sprint(want) || got[0].Claims != total {
			t.Errorf("%s: %+v, want series %v, %d claims", tc.name, got, want, total)
		}
	}
}

func TestRuleStatsRefusesBadBuckets(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	for _, tc := range []struct {
		since, until time.Time
		bucket       time.Duration
		want         string
	}{
		{t0, t0.Add(time.Hour), 0, "bucket must be positive"},
		{t0, t0, time.Hour, "ends"},
		{t0, t0.Add(24 * time.Hour), time.Second, "more than 400 buckets"},
	} {
		if _, err := s.RuleStats(t.Context(), tc.since, tc.until, tc.bucket); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("RuleStats(%s, %s, %s) = %v, want %q", tc.since, tc.until, tc.bucket, err, tc.want)
		}
	}
}

// threadFixture records a conversation in thread T (and one elsewhere):
//
//	root  top-level                    价格 sent at t0
//	mid   answers root (reply_to "0")  价格 sent at t0+1m
//	leaf  answers mid                  价格 held at t0+2m (the inbox's)
//	s1..s3  top-level, skipped
//	a1..a12 top-level, sent at t0+10m.. (for the limit)
//	other thread U: x1 sent
func threadFixture(t *testing.T) *Store {
	t.Helper()
	s, _ := openTest(t)
	rec := func(id, thread, root, replyTo string, at time.Time, cl Claim) []Claimed {
		c := comment(id)
		c.ThreadID, c.RootID, c.ReplyToID = thread, root, replyTo
		c.Text = "问一下 " + id + " 🙏"
		c.User.UID = "u-" + id
		return mustRecord(t, s, c, at, cl)
	}
	sent := func(id, thread, root, replyTo string, at time.Time) {
		cl := pending("价格")
		cl.ReplyText = "亲，答案在这里 ✨ " + id
		settle(t, s, rec(id, thread, root, replyTo, at, cl)[0].ID, model.StatusSent, at)
	}
	sent("root", "T", "0", "0", t0)
	sent("mid", "T", "root", "0", t0.Add(time.Minute))
	rec("leaf", "T", "root", "mid", t0.Add(2*time.Minute), Claim{Rule: "价格", Status: model.StatusHeld, ReplyText: "待批准"})
	for i := 1; i <= 3; i++ {
		rec(fmt.Sprint("s", i), "T", "0", "0", t0.Add(time.Duration(2+i)*time.Minute),
			Claim{Rule: "spam", Status: model.StatusSkipped, Reason: model.ReasonNoReplyRule})
	}
	for i := 1; i <= 12; i++ {
		sent(fmt.Sprint("a", i), "T", "0", "0", t0.Add(time.Duration(9+i)*time.Minute))
	}
	sent("x1", "U", "0", "0", t0.Add(time.Hour))
	return s
}

func answerIDs(rows []HistoryRow) string {
	var out []string
	for _, r := range rows {
		out = append(out, r.CommentID)
	}
	return strings.Join(out, " ")
}

func TestThreadContext(t *testing.T) {
	t.Parallel()
	s := threadFixture(t)
	ctx := t.Context()
	tc, err := s.ThreadContext(ctx, model.PlatformDouyin, "T", "leaf", 3)
	if err != nil {
		t.Fatal(err)
	}
	if tc.RepliesTo == nil || tc.RepliesTo.ID != "mid" || tc.RepliesTo.Text != "问一下 mid 🙏" || tc.RepliesTo.User.UID != "u-mid" {
		t.Errorf("RepliesTo = %+v, want mid with its text", tc.RepliesTo)
	}
	if tc.Root == nil || tc.Root.ID != "root" || tc.Root.Disposition != model.DispositionEvaluated || !tc.Root.SeenAt.Equal(t0) {
		t.Errorf("Root = %+v, want root", tc.Root)
	}
	// Newest first, bounded, sent only, nothing of thread U.
	if got := answerIDs(tc.Answers); got != "a12 a11 a10" {
		t.Errorf("answers %q, want a12 a11 a10", got)
	}
	if r := tc.Answers[0]; r.ReplyText != "亲，答案在这里 ✨ a12" || r.CommentText != "问一下 a12 🙏" || r.Status != model.StatusSent {
		t.Errorf("answer row %+v", r)
	}

	// The default limit, and the comment's own claim is not "earlier".
	tc, err = s.ThreadContext(ctx, model.PlatformDouyin, "T", "mid", 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := answerIDs(tc.Answers); got != "a12 a11 a10 a9 a8 a7 a6 a5 a4 a3" {
		t.Errorf("default-limit answers %q", got)
	}
	// mid answers root directly: RepliesTo is root, no separate Root.
	if tc.RepliesTo == nil || tc.RepliesTo.ID != "root" || tc.Root != nil {
		t.Errorf("mid: RepliesTo %+v, Root %+v", tc.RepliesTo, tc.Root)
	}
	tc, err = s.ThreadContext(ctx, model.PlatformDouyin, "T", "a1", MaxContextLimit+50)
	if err != nil {
		t.Fatal(err)
	}
	if tc.RepliesTo != nil || tc.Root != nil || len(tc.Answers) != 13 || slices.ContainsFunc(tc.Answers, func(r HistoryRow) bool { return r.CommentID == "a1" }) {
		t.Errorf("top-level a1: %+v, %q", tc.RepliesTo, answerIDs(tc.Answers))
	}
	// Another platform's thread of the same id is not ours to show, and a
	// comment never recorded has no context.
	tc, err = s.ThreadContext(ctx, model.PlatformWeibo, "T", "leaf", 5)
	if err != nil || tc.RepliesTo != nil || len(tc.Answers) != 0 {
		t.Errorf("weibo thread T: %+v, %v", tc, err)
	}
}

func TestUserHistory(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := t.Context()
	const uid = "MS4wLjABAAAA-用户🌸"
	rec := func(id, user string, at time.Time, claims ...Claim) []Claimed {
		c := comment(id)
		c.User = model.User{UID: user, Nickname: "小明 😀", UniqueID: "xm"}
		c.Text = "第" + id + "条评论 🎉"
		return mustRecord(t, s, c, at, claims...)
	}
	settle(t, s, rec("1", uid, t0, pending("价格"))[0].ID, model.StatusSent, t0)
	rec("2", uid, t0.Add(time.Minute)) // matched no rule
	rec("3", uid, t0.Add(2*time.Minute),
		Claim{Rule: "价格", Status: model.StatusSkipped, Reason: "cooldown"},
		Claim{Rule: "complaint", Status: model.StatusFlagged})
	rec("4", "someone-else", t0.Add(3*time.Minute), pending("价格"))
	rec("5", uid, t0.Add(4*time.Minute), Claim{Rule: "spam", Status: model.StatusSkipped, Reason: model.ReasonNoReplyRule})

	got, err := s.UserHistory(ctx, model.PlatformDouyin, uid, 3)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, c := range got {
		var cls []string
		for _, cl := range c.Claims {
			cls = append(cls, cl.Rule+"/"+cl.Status+"/"+cl.Reason+"/"+cl.ReplyText)
		}
		lines = append(lines, c.ID+" "+c.Text+" ["+strings.Join(cls, ", ")+"]")
	}
	want := []string{
		"5 第5条评论 🎉 [spam/skipped/no_reply_rule/]",
		"3 第3条评论 🎉 [价格/skipped/cooldown/, complaint/flagged//]",
		"2 第2条评论 🎉 []",
	}
	if !slices.Equal(lines, want) {
		t.Errorf("UserHistory =\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if got[0].User.Nickname != "小明 😀" || got[0].User.UID != uid || !got[0].SeenAt.Equal(t0.Add(4*time.Minute)) {
		t.Errorf("comment fields %+v", got[0].StoredComment)
	}
	if cl := got[1].Claims[0]; cl.ID == 0 || !cl.CreatedAt.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("claim fields %+v", cl)
	}

	all, err := s.UserHistory(ctx, model.PlatformDouyin, uid, 0)
	if err != nil || len(all) != 4 || all[3].ID != "1" || all[3].Claims[0].Status != model.StatusSent || all[3].Claims[0].ReplyText != "hello from 价格" {
		t.Errorf("all of the user's history: %+v, %v", all, err)
	}
	for _, tc := range []struct{ platform, uid string }{{model.PlatformWeibo, uid}, {model.PlatformDouyin, ""}, {model.PlatformDouyin, "nobody"}} {
		if got, err := s.UserHistory(ctx, tc.platform, tc.uid, 5); err != nil || len(got) != 0 {
			t.Errorf("UserHistory(%s, %q) = %+v, %v; want none", tc.platform, tc.uid, got, err)
		}
	}
}

func TestCountStatuses(t *testing.T) {
	t.Parallel()
	s := ruleStatsFixture(t)
	for _, tc := range []struct {
		statuses []string
		want     int
	}{
		{[]string{model.StatusFlagged, model.StatusHeld}, 1},
		{[]string{model.StatusSent}, 3},
		{[]string{model.StatusSent, model.StatusSent, model.StatusSkipped}, 5},
		{nil, 0},
	} {
		if got, err := s.CountStatuses(t.Context(), tc.statuses...); err != nil || got != tc.want {
			t.Errorf("CountStatuses(%v) = %d, %v; want %d", tc.statuses, got, err, tc.want)
		}
	}
}

// The console's queries run on a read-only store while the daemon writes.
func TestConsoleQueriesReadOnly(t *testing.T) {
	t.Parallel()
	s, path := openTest(t)
	settle(t, s, mustRecord(t, s, comment("1"), t0, pending("价格"))[0].ID, model.StatusSent, t0)
	ro, err := OpenReadOnly(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { testutil.Close(t, ro) })
	if st, err := ro.RuleStats(t.Context(), t0, t0.Add(time.Hour), time.Hour); err != nil || len(st) != 1 || st[0].Answered() != 1 {
		t.Errorf("RuleStats read-only: %+v, %v", st, err)
	}
	if h, err := ro.UserHistory(t.Context(), model.PlatformDouyin, "u1", 1); err != nil || len(h) != 1 {
		t.Errorf("UserHistory read-only: %+v, %v", h, err)
	}
}

func TestInboxIsHistoryOfStatuses(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := t.Context()
	// Waiting claims among others, two pairs created at the same time
	// (the id breaks the tie), one decided.
	for i, st := range []string{model.StatusFlagged, model.StatusHeld, model.StatusSkipped, model.StatusHeld,
		model.StatusFlagged, model.StatusDryRun, model.StatusHeld, model.StatusFlagged} {
		c := comment(fmt.Sprint("w", i))
		c.Text = "等一下 ⏳ " + c.ID
		got := mustRecord(t, s, c, t0.Add(time.Duration(i/2)*time.Minute), Claim{Rule: "人工", Status: st, ReplyText: "待定 " + c.ID})
		if i == 4 {
			if _, _, err := s.Decide(ctx, got[0].ID, Decision{Action: DecideDone, By: "lin"}, t0.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, tc := range []struct {
		limit    int
		statuses []string
		want     string
	}{
		{0, nil, "[8 7 4 2 1]"}, // 5 was marked done
		{2, nil, "[8 7]"},
		{3, []string{model.StatusHeld}, "[7 4 2]"},
		{100, []string{model.StatusFlagged, model.StatusHandled}, "[8 5 1]"},
	} {
		got, err := s.Inbox(ctx, tc.limit, tc.statuses...)
		if err != nil {
			t.Fatal(err)
		}
		f := Filter{Statuses: tc.statuses, Limit: tc.limit}
		if f.Statuses == nil {
			f.Statuses = []string{model.StatusFlagged, model.StatusHeld}
		}
		want, err := s.History(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if ids(got) != tc.want || !reflect.DeepEqual(got, want) {
			t.Errorf("Inbox(%d, %v) = %s, want %s, as History:\n%+v\n%+v", tc.limit, tc.statuses, ids(got), tc.want, got, want)
		}
	}
	if got, _ := s.Inbox(ctx, 1); len(got) != 1 || got[0].CommentText != "等一下 ⏳ w7" || got[0].ReplyText != "待定 w7" {
		t.Errorf("Inbox row %+v", got)
	}
}

// inboxSQL is the query History makes for the inbox (Filter{Statuses:
// flagged, held, Limit}); TestConsoleQueryPlans checks its plan.
const inboxSQL = `SELECT ` + historyCols + ` FROM replies_v WHERE status IN (?, ?) ORDER BY created_at DESC, id DESC LIMIT ?`

// queryPlan returns the EXPLAIN QUERY PLAN of q, one line per step.
func queryPlan(t *testing.T, s *Store, q string, args ...any) string {
	t.Helper()
	rows, err := s.db.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatalf("explain: %v", err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}

// A lost or unused index fails here, not only in a benchmark: each console
// query searches an index and never scans a table whole.
func TestConsoleQueryPlans(t *testing.T) {
	sqliteOnly(t)
	t.Parallel()
	s := threadFixture(t)
	for _, tc := range []struct {
		name string
		q    string
		args []any
		want []string // substrings of the plan
		// sorts says the query may sort its rows: those bounded by the
		// limit, or the inbox's waiting claims, not a period's claims.
		sorts bool
	}{
		{"rule counts", sqlRuleCounts, []any{formatTime(t0), formatTime(t0.Add(time.Hour))}, []string{
			"SEARCH replies USING COVERING INDEX replies_rule_status (rule>?)",
			"SEARCH replies USING COVERING INDEX replies_rule_status (rule=? AND status=? AND reason>?)",
			"SEARCH replies USING COVERING INDEX replies_rule_status (rule=? AND status>?)",
			"SEARCH r USING COVERING INDEX replies_rule_status (rule=? AND status=? AND reason=? AND created_at>? AND created_at<?)",
		}, false},
		{"rule series", sqlRuleSeries, []any{`[["a","b"]]`, `["价格"]`}, []string{
			"SEARCH r USING COVERING INDEX replies_rule (rule=? AND created_at>? AND created_at<?)",
		}, false},
		{"thread answers", sqlThreadAnswers, []any{"douyin", "T", "x", 10}, []string{
			"SEARCH r USING INDEX replies_thread_sent (platform=? AND thread_id=?)",
			"SEARCH c USING INDEX sqlite_autoindex_comments_1 (platform=? AND comment_id=?)",
		}, false},
		{"thread comments", sqlThreadComments, []any{"douyin", "x", "douyin", "x", "douyin", "x"}, []string{
			"SEARCH comments USING INDEX sqlite_autoindex_comments_1 (platform=? AND comment_id=?)",
		}, false},
		{"Inbox", fmt.Sprintf(sqlInbox, "?, ?"), []any{model.StatusFlagged, model.StatusHeld, 100}, []string{
			"SEARCH replies USING COVERING INDEX replies_status (status=?)",
			"SEARCH r USING INTEGER PRIMARY KEY (rowid=?)",
		}, true},
		{"user history", sqlUserHistory, []any{"douyin", "u", 10}, []string{
			"SEARCH comments USING INDEX comments_user_seen (platform=? AND user_uid=?)",
			"USING INDEX sqlite_autoindex_replies_1 (platform=? AND comment_id=?)",
		}, true},
		{"inbox", inboxSQL, []any{model.StatusFlagged, model.StatusHeld, 100}, []string{
			"SEARCH r USING INDEX replies_status (status=?)",
		}, true},
	} {
		plan := queryPlan(t, s, tc.q, tc.args...)
		for _, w := range tc.want {
			if !strings.Contains(plan, w) {
				t.Errorf("%s: plan lacks %q:\n%s", tc.name, w, plan)
			}
		}
		if !tc.sorts && strings.Contains(plan, "TEMP B-TREE") {
			t.Errorf("%s: sorts:\n%s", tc.name, plan)
		}
		for _, line := range strings.Split(plan, "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "SCAN" && slices.Contains([]string{"replies", "r", "comments", "c"}, f[1]) {
				t.Errorf("%s: a whole table is scanned (%q):\n%s", tc.name, line, plan)
			}
		}
	}
	// Every index the console relies on exists under its name.
	for _, idx := range []string{"replies_rule_status", "replies_thread_sent", "comments_user_seen", "replies_rule", "replies_status"} {
		var n int
		if err := s.db.QueryRowContext(t.Context(), `SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = ?`, idx).Scan(&n); err != nil || n != 1 {
			t.Errorf("index %s: %d, %v", idx, n, err)
		}
	}
}
