package store

import (
	"fmt"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
)

// historyFixture records six claims:
//
//	id  created   platform thread rule  status
//	 1  t0        douyin   A      price sent
//	 2  t0+1h     douyin   A      spam  skipped
//	 3  t0+1h     douyin   B      price failed   (same time as 2: id breaks the tie)
//	 4  t0+2h     weibo    W      price pending
//	 5  t0+3h     douyin   B      greet dry_run
//	 6  t0+3h     douyin   B      price dry_run  (same comment as 5)
func historyFixture(t *testing.T) *Store {
	t.Helper()
	s, _ := openTest(t)
	ctx := t.Context()
	rec := func(platform, id, thread string, at time.Time, claims ...Claim) []Claimed {
		c := comment(id)
		c.Platform, c.ThreadID = platform, thread
		return mustRecord(t, s, c, at, claims...)
	}
	a := rec("douyin", "c1", "A", t0, pending("price"))
	if err := s.Settle(ctx, a[0].ID, Settlement{Status: model.StatusSent}, t0); err != nil {
		t.Fatal(err)
	}
	rec("douyin", "c2", "A", t0.Add(time.Hour), Claim{Rule: "spam", Status: model.StatusSkipped, Reason: model.ReasonNoReplyRule})
	b := rec("douyin", "c3", "B", t0.Add(time.Hour), pending("price"))
	if err := s.Settle(ctx, b[0].ID, Settlement{Status: model.StatusFailed, Reason: "platform_400", Error: "code 400: too long"}, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	rec("weibo", "c4", "W", t0.Add(2*time.Hour), pending("price"))
	rec("douyin", "c5", "B", t0.Add(3*time.Hour),
		Claim{Rule: "greet", Status: model.StatusDryRun, ReplyText: "hi"},
		Claim{Rule: "price", Status: model.StatusDryRun, ReplyText: "see shop"})
	return s
}

func ids(rows []HistoryRow) string {
	var out []int64
	for _, r := range rows {
		out = append(out, r.ID)
	}
	return fmt.Sprint(out)
}

func TestHistoryFilters(t *testing.T) {
	t.Parallel()
	s := historyFixture(t)
	for _, tc := range []struct {
		name string
		f    Filter
		want string
	}{
		{"all, newest first, ties by id", Filter{}, "[6 5 4 3 2 1]"},
		{"limit", Filter{Limit: 2}, "[6 5]"},
		{"since", Filter{Since: t0.Add(time.Hour)}, "[6 5 4 3 2]"},
		{"until is exclusive", Filter{Until: t0.Add(time.Hour)}, "[1]"},
		{"window", Filter{Since: t0.Add(time.Hour), Until: t0.Add(3 * time.Hour)}, "[4 3 2]"},
		{"rule", Filter{Rule: "price"}, "[6 4 3 1]"},
		{"status", Filter{Status: model.StatusDryRun}, "[6 5]"},
		{"platform", Filter{Platform: model.PlatformWeibo}, "[4]"},
		{"thread", Filter{Thread: "A"}, "[2 1]"},
		{"combined", Filter{Rule: "price", Platform: "douyin", Thread: "B", Limit: 1}, "[6]"},
		{"nothing", Filter{Rule: "nope"}, "[]"},
	} {
		rows, err := s.History(t.Context(), tc.f)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := ids(rows); got != tc.want {
			t.Errorf("%s: ids %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestHistoryRowContent(t *testing.T) {
	t.Parallel()
	s := historyFixture(t)
	rows, err := s.History(t.Context(), Filter{Status: model.StatusFailed})
	if err != nil || len(rows) != 1 {
		t.Fatalf("History = %+v, %v", rows, err)
	}
	r := rows[0]
	c := comment("c3")
	want := HistoryRow{
		ID: 3, Platform: "douyin", CommentID: "c3", ThreadID: "B", PostID: c.PostID, Rule: "price",
		Responder: "kitkot", Status: model.StatusFailed, Reason: "platform_400", Error: "code 400: too long",
		ReplyText: "hello from price", CommentText: c.Text, UserUID: c.User.UID, UserNickname: c.User.Nickname,
		UserUniqueID: c.User.UniqueID, Attempts: 1, CommentCreatedAt: c.CreatedAt,
		CreatedAt: t0.Add(time.Hour), UpdatedAt: t0.Add(time.Hour), Disposition: model.DispositionEvaluated, Labels: "{}",
	}
	if r != want {
		t.Errorf("row = %+v\nwant  %+v", r, want)
	}
}
