package pacing

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/rules"
)

func TestSpan(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		p    rules.Pacing
		want time.Duration
	}{
		{rules.Pacing{}, 0},
		{rules.Pacing{Active: []rules.Window{{Start: 60, End: 120}}}, 0},
		{rules.Pacing{CooldownThread: 10 * time.Minute}, 10 * time.Minute},
		{rules.Pacing{CooldownThread: 10 * time.Minute, LimitHour: 3}, time.Hour},
		{rules.Pacing{CooldownUser: 48 * time.Hour, LimitDay: 3}, 48 * time.Hour},
		{rules.Pacing{LimitHour: 1, LimitDay: 3}, 24 * time.Hour},
	} {
		if got := Span(tc.p); got != tc.want {
			t.Errorf("Span(%+v) = %v, want %v", tc.p, got, tc.want)
		}
	}
}

// Recent counts what Memory counts for every query Check asks, while it
// forgets what no query can count any more.
func TestRecentAgreesWithMemory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	paced := rules.Pacing{CooldownUser: 3 * time.Hour, CooldownThread: 20 * time.Minute, LimitHour: 5}
	rec := NewRecent([]rules.RuleInfo{{Name: "price", Pacing: paced}, {Name: "free"}})
	var mem Memory
	rng := rand.New(rand.NewPCG(1, 2))
	at := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	for i := range 5000 {
		at = at.Add(time.Duration(rng.IntN(300)) * time.Second)
		c := model.Comment{
			Platform: []string{model.PlatformDouyin, model.PlatformWeibo}[rng.IntN(2)],
			ThreadID: fmt.Sprintf("T%d", rng.IntN(4)),
			User:     model.User{UID: fmt.Sprintf("u%d", rng.IntN(50))},
		}
		if i%97 == 0 {
			c.ThreadID = "" // a comment without a thread id: its thread query is by platform
		}
		for _, rule := range []string{"price", "free"} {
			want, err := Check(ctx, mem, rule, paced, c, at)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Check(ctx, rec, rule, paced, c, at)
			if err != nil {
				t.Fatal(err)
			}
			if rule == "free" {
				want = "" // Recent keeps no answers of a rule without history pacing
			}
			if got != want {
				t.Fatalf("answer %d at %s, rule %s, %+v: Recent says %q, Memory %q", i, at, rule, c, got, want)
			}
			if got == "" && rng.IntN(3) > 0 {
				a := Answer{Rule: rule, Platform: c.Platform, UserUID: c.User.UID, ThreadID: c.ThreadID, At: at}
				mem = append(mem, a)
				rec.Add(a)
			}
		}
	}
	rr := rec.rules["price"]
	if n, _ := mem.Answers(ctx, Query{Rule: "price", Since: at.Add(-3 * time.Hour)}); len(rr.all) > n+1 {
		t.Errorf("Recent keeps %d answers of price, %d are within its 3h span", len(rr.all), n)
	}
	if rec.rules["free"] != nil {
		t.Error("Recent keeps the answers of a rule paced by no history")
	}
}

// A long run keeps only the answers within the span, and forgets the users
// and threads answered long ago.
func TestRecentForgets(t *testing.T) {
	t.Parallel()
	rec := NewRecent([]rules.RuleInfo{{Name: "r", Pacing: rules.Pacing{CooldownUser: time.Hour}}})
	at := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	const n = 3 * sweepEvery
	for i := range n {
		at = at.Add(time.Minute)
		rec.Add(Answer{Rule: "r", Platform: "douyin", UserUID: fmt.Sprint("u", i), ThreadID: fmt.Sprint("T", i), At: at})
	}
	rr := rec.rules["r"]
	if len(rr.all) > 61 {
		t.Errorf("%d answers kept, want the last hour's (61)", len(rr.all))
	}
	if len(rr.user) > sweepEvery || len(rr.thread) > sweepEvery {
		t.Errorf("%d users and %d threads kept after %d answers, want at most %d", len(rr.user), len(rr.thread), n, sweepEvery)
	}
	if got, _ := rec.Answers(context.Background(), Query{Rule: "r", Platform: "douyin", UserUID: fmt.Sprint("u", n-1), Since: at.Add(-time.Hour)}); got != 1 {
		t.Errorf("the last user's answers: %d, want 1", got)
	}
}

func TestRecentOutOfOrderAndQueries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rec := NewRecent([]rules.RuleInfo{{Name: "r", Pacing: rules.Pacing{LimitDay: 10}}})
	at := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	for _, d := range []time.Duration{0, -2 * time.Hour, time.Hour, -time.Hour} {
		rec.Add(Answer{Rule: "r", Platform: "weibo", UserUID: "u1", ThreadID: "T1", At: at.Add(d)})
	}
	for _, tc := range []struct {
		q    Query
		want int
	}{
		{Query{Rule: "r", Since: at.Add(-90 * time.Minute)}, 3},
		{Query{Rule: "r", Since: at.Add(-2 * time.Hour)}, 4},
		{Query{Rule: "r", Platform: "weibo", UserUID: "u1", Since: at}, 2},
		{Query{Rule: "r", Platform: "douyin", UserUID: "u1", Since: at.Add(-3 * time.Hour)}, 0},
		{Query{Rule: "r", Platform: "weibo", ThreadID: "T1", Since: at.Add(time.Hour)}, 1},
		{Query{Rule: "r", Platform: "weibo", Since: at.Add(-time.Hour)}, 3},
		{Query{Rule: "other", Since: at.Add(-time.Hour)}, 0},
	} {
		if got, err := rec.Answers(ctx, tc.q); err != nil || got != tc.want {
			t.Errorf("Answers(%+v) = %d, %v; want %d", tc.q, got, err, tc.want)
		}
	}
	if _, err := rec.Answers(ctx, Query{Rule: "r", UserUID: "u1", Since: at}); err == nil {
		t.Error("a user of no platform: no error")
	}
	if _, err := rec.Answers(ctx, Query{Rule: "r", Platform: "weibo", UserUID: "u1", ThreadID: "T1", Since: at}); err == nil {
		t.Error("a user and a thread at once: no error")
	}
}
