package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/pacing"
	"github.com/autoreplyd/autoreplyd/rules"
)

// pacingComment is a comment by user uid in thread th.
func pacingComment(id, uid, th string) model.Comment {
	c := comment(id)
	c.User = model.User{UID: uid, Nickname: "小" + uid, UniqueID: "h" + uid}
	c.ThreadID = th
	c.Text = "请问这个多少钱？" + id
	return c
}

func claimOf(rule, status, text string) Claim {
	cl := Claim{Rule: rule, Responder: "kitkot", Status: status, ReplyText: text}
	if status == model.StatusSkipped {
		cl.Reason = "cooldown"
	}
	return cl
}

func answers(t *testing.T, h pacing.History, q pacing.Query) int {
	t.Helper()
	n, err := h.Answers(context.Background(), q)
	if err != nil {
		t.Fatalf("Answers(%+v): %v", q, err)
	}
	return n
}

func TestAnswers(t *testing.T) {
	t.Parallel()
	s, path := openTest(t)
	ctx := t.Context()
	const thA, thB = "7251524159191958327", "7251524159191958400"
	d := model.PlatformDouyin
	// 用户 1001 was answered by price at t0 (sent) and t0+1h (pending).
	mustRecord(t, s, pacingComment("1", "1001", thA), t0, claimOf("price", model.StatusPending, "小1001 你好，价格请看橱窗"))
	if err := s.Settle(ctx, 1, Settlement{Status: model.StatusSent, PlatformReplyID: "r1"}, t0); err != nil {
		t.Fatal(err)
	}
	mustRecord(t, s, pacingComment("2", "1001", thB), t0.Add(time.Hour), claimOf("price", model.StatusPending, "您好，价格在橱窗"))
	// 1002: a failed claim, a skipped one and a dry run: none is an answer
	// (the dry run only for a dry-run history).
	mustRecord(t, s, pacingComment("3", "1002", thA), t0.Add(time.Hour), claimOf("price", model.StatusFailed, "失败了"))
	mustRecord(t, s, pacingComment("4", "1002", thA), t0.Add(time.Hour), claimOf("price", model.StatusSkipped, "冷却中"))
	mustRecord(t, s, pacingComment("5", "1002", thA), t0.Add(time.Hour), claimOf("price", model.StatusDryRun, "试运行"))
	// 1003: unknown and retrying are answers (they may have been posted).
	mustRecord(t, s, pacingComment("6", "1003", thB), t0.Add(2*time.Hour), claimOf("price", model.StatusPending, "未知"))
	if err := s.Settle(ctx, 6, Settlement{Status: model.StatusUnknown, Reason: "dropped"}, t0); err != nil {
		t.Fatal(err)
	}
	mustRecord(t, s, pacingComment("7", "1003", thB), t0.Add(2*time.Hour), claimOf("price", model.StatusPending, "重试"))
	if err := s.Settle(ctx, 7, Settlement{Status: model.StatusRetrying, Reason: "http_503", NextAttempt: t0.Add(3 * time.Hour)}, t0); err != nil {
		t.Fatal(err)
	}
	// Another rule on 1001's comment, and 1001 on another platform.
	mustRecord(t, s, pacingComment("1", "1001", thA), t0, claimOf("thanks", model.StatusPending, "谢谢"))
	other := pacingComment("1", "1001", thA)
	other.Platform = model.PlatformWeibo
	mustRecord(t, s, other, t0, claimOf("price", model.StatusPending, "微博回复"))

	check := func(t *testing.T, s *Store) {
		t.Helper()
		live, dry := s.PacingHistory(false), s.PacingHistory(true)
		tests := []struct {
			name      string
			q         pacing.Query
			want, dry int
		}{
			{"user since t0", pacing.Query{Rule: "price", Platform: d, UserUID: "1001", Since: t0}, 2, 2},
			{"user window excludes older", pacing.Query{Rule: "price", Platform: d, UserUID: "1001", Since: t0.Add(time.Millisecond)}, 1, 1},
			{"user any platform", pacing.Query{Rule: "price", UserUID: "1001", Since: t0}, 3, 3},
			{"user other rule", pacing.Query{Rule: "thanks", Platform: d, UserUID: "1001", Since: t0}, 1, 1},
			{"user failed/skipped/dry_run", pacing.Query{Rule: "price", Platform: d, UserUID: "1002", Since: t0}, 0, 1},
			{"user unknown+retrying", pacing.Query{Rule: "price", Platform: d, UserUID: "1003", Since: t0}, 2, 2},
			{"unknown user", pacing.Query{Rule: "price", Platform: d, UserUID: "9999", Since: t0}, 0, 0},
			{"thread A", pacing.Query{Rule: "price", Platform: d, ThreadID: thA, Since: t0}, 1, 2},
			{"thread B", pacing.Query{Rule: "price", Platform: d, ThreadID: thB, Since: t0}, 3, 3},
			{"thread B later", pacing.Query{Rule: "price", Platform: d, ThreadID: thB, Since: t0.Add(90 * time.Minute)}, 2, 2},
			{"user and thread", pacing.Query{Rule: "price", Platform: d, UserUID: "1001", ThreadID: thB, Since: t0}, 1, 1},
			{"rule (limit)", pacing.Query{Rule: "price", Since: t0}, 5, 6},
			{"rule on douyin", pacing.Query{Rule: "price", Platform: d, Since: t0}, 4, 5},
			{"rule last hour", pacing.Query{Rule: "price", Since: t0.Add(time.Hour + time.Minute)}, 2, 2},
			{"unknown rule", pacing.Query{Rule: "nope", Since: t0}, 0, 0},
		}
		for _, tt := range tests {
			if got := answers(t, live, tt.q); got != tt.want {
				t.Errorf("%s: Answers = %d, want %d", tt.name, got, tt.want)
			}
			if got := answers(t, s, tt.q); got != tt.want {
				t.Errorf("%s: Store.Answers = %d, want %d", tt.name, got, tt.want)
			}
			if got := answers(t, dry, tt.q); got != tt.dry {
				t.Errorf("%s: dry-run Answers = %d, want %d", tt.name, got, tt.dry)
			}
		}
	}
	check(t, s)
	// A restart sees the same history: pacing survives it.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, s2)
	check(t, s2)
	// So does a reader (history, check).
	ro, err := OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, ro)
	check(t, ro)
}

// pacing.Check against the store: the first answer to a person holds back
// the second within the cooldown.
func TestAnswersWithCheck(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	c1 := pacingComment("1", "2001", "7251524159191958327")
	c2 := pacingComment("2", "2001", "7251524159191958327")
	mustRecord(t, s, c1, t0, claimOf("price", model.StatusPending, "史密斯夫妇💑 你好"))
	p := pacingRule(24 * time.Hour)
	for _, tt := range []struct {
		at   time.Time
		want string
	}{{t0.Add(time.Minute), pacing.ReasonCooldown}, {t0.Add(24*time.Hour + time.Millisecond), ""}} {
		got, err := pacing.Check(t.Context(), s.PacingHistory(false), "price", p, c2, tt.at)
		if err != nil || got != tt.want {
			t.Errorf("Check at %s = %q, %v; want %q", tt.at, got, err, tt.want)
		}
	}
}

func TestRecentReplyTexts(t *testing.T) {
	t.Parallel()
	s, path := openTest(t)
	ctx := t.Context()
	texts := []string{"甲：你好", "乙：价格请看橱窗", "丙：谢谢支持", "丁：欢迎光临"}
	at := t0
	for i, txt := range texts {
		mustRecord(t, s, pacingComment(fmt.Sprint(i+1), "3001", "7251524159191958327"), at, claimOf("price", model.StatusPending, txt))
		at = at.Add(time.Minute)
	}
	// Same created_at: the later claim (higher id) is newer.
	mustRecord(t, s, pacingComment("5", "3002", "7251524159191958327"), at, claimOf("price", model.StatusPending, "戊：同一刻一"))
	mustRecord(t, s, pacingComment("6", "3002", "7251524159191958327"), at, claimOf("price", model.StatusPending, "己：同一刻二"))
	// Not answers: failed, skipped; dry_run only when asked.
	at = at.Add(time.Minute)
	mustRecord(t, s, pacingComment("7", "3003", "7251524159191958327"), at, claimOf("price", model.StatusFailed, "失败"))
	mustRecord(t, s, pacingComment("8", "3003", "7251524159191958327"), at, claimOf("price", model.StatusSkipped, "跳过"))
	mustRecord(t, s, pacingComment("9", "3003", "7251524159191958327"), at, claimOf("price", model.StatusDryRun, "试运行"))
	// Another responder's answers are not ours.
	w := claimOf("price", model.StatusPending, "微信回复")
	w.Responder = "wechat"
	mustRecord(t, s, pacingComment("10", "3003", "7251524159191958327"), at, w)

	check := func(t *testing.T, s *Store) {
		t.Helper()
		for _, tt := range []struct {
			n      int
			dryRun bool
			want   []string
		}{
			{3, false, []string{"己：同一刻二", "戊：同一刻一", "丁：欢迎光临"}},
			{100, false, []string{"己：同一刻二", "戊：同一刻一", "丁：欢迎光临", "丙：谢谢支持", "乙：价格请看橱窗", "甲：你好"}},
			{2, true, []string{"试运行", "己：同一刻二"}},
			{0, false, nil},
			{-1, true, nil},
		} {
			got, err := s.RecentReplyTexts(ctx, "kitkot", tt.n, tt.dryRun)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("RecentReplyTexts(%d, dry=%v) = %q, want %q", tt.n, tt.dryRun, got, tt.want)
			}
		}
		if got, err := s.RecentReplyTexts(ctx, "weibo", 5, true); err != nil || len(got) != 0 {
			t.Errorf("weibo: %q, %v", got, err)
		}
	}
	check(t, s)
	testutil.Close(t, s)
	s2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, s2)
	check(t, s2)
}

// A database written by schema version 1 is migrated to 2 in place: its
// history is kept and the pacing indexes exist.
func TestMigration2AppliesToV1(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "v1.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(migrations[0]); err != nil {
		t.Fatal(err)
	}
	ts := formatTime(t0)
	if _, err := db.Exec(`INSERT INTO comments (platform, comment_id, thread_id, user_uid, user_nickname, text, disposition, seen_at)
		VALUES ('douyin', '1', 'th', '4001', '老用户', '这个多少钱？', 'evaluated', ?)`, ts); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO replies (platform, comment_id, thread_id, rule, responder, status, reply_text, created_at, updated_at)
		VALUES ('douyin', '1', 'th', 'price', 'kitkot', 'sent', '老用户 你好，价格请看橱窗', ?, ?)`, ts, ts); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`PRAGMA user_version = 1`); err != nil {
		t.Fatal(err)
	}
	testutil.Close(t, db)

	// A reader refuses the old schema until the daemon migrated it.
	if _, err := OpenReadOnly(t.Context(), path); err == nil {
		t.Fatal("OpenReadOnly accepted schema version 1")
	}
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open v1: %v", err)
	}
	defer testutil.Close(t, s)
	v, err := userVersion(t.Context(), s.db)
	if err != nil || v != SchemaVersion || SchemaVersion < 2 {
		t.Fatalf("user_version = %d, %v (SchemaVersion %d), want SchemaVersion >= 2", v, err, SchemaVersion)
	}
	for _, idx := range []string{"comments_user", "replies_responder", "replies_rule", "replies_thread"} {
		var n int
		if err := s.db.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = ?`, idx).Scan(&n); err != nil || n != 1 {
			t.Errorf("index %s: %d, %v", idx, n, err)
		}
	}
	if n := answers(t, s, pacing.Query{Rule: "price", Platform: "douyin", UserUID: "4001", Since: t0}); n != 1 {
		t.Errorf("the v1 answer is not seen after migration: %d", n)
	}
	if got, err := s.RecentReplyTexts(t.Context(), "kitkot", 10, false); err != nil || !slices.Equal(got, []string{"老用户 你好，价格请看橱窗"}) {
		t.Errorf("RecentReplyTexts after migration = %q, %v", got, err)
	}
	// The per-user count goes through the new index.
	var plan []string
	rows, err := s.db.Query(`EXPLAIN QUERY PLAN SELECT count(*) FROM comments c CROSS JOIN replies r
		 ON r.platform = c.platform AND r.comment_id = c.comment_id
		 WHERE r.rule = 'price' AND c.platform = 'douyin' AND c.user_uid = '4001'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	rows.Close()
	if len(plan) == 0 || !strings.Contains(plan[0], "comments_user") {
		t.Errorf("per-user plan does not use comments_user: %q", plan)
	}
}

func pacingRule(cooldownUser time.Duration) rules.Pacing {
	return rules.Pacing{CooldownUser: cooldownUser}
}
