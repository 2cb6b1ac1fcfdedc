package store

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/model"
)

func TestStats(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := t.Context()
	day := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	rec := func(id, platform, rule string, at time.Time, status string) {
		t.Helper()
		c := comment(id)
		c.Platform = platform
		cl := pending(rule)
		if status == model.StatusDryRun || status == model.StatusSkipped {
			cl.Status = status
		}
		won := mustRecord(t, s, c, at, cl)
		switch status {
		case model.StatusPending, model.StatusDryRun, model.StatusSkipped:
			return
		}
		st := Settlement{Status: status}
		if status == model.StatusRetrying {
			st.NextAttempt = at.Add(time.Hour)
		}
		if err := s.Settle(ctx, won[0].ID, st, at.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	rec("1", "douyin", "price", day.Add(-4*time.Hour), model.StatusSent)     // 20:00Z on the 21st: the 22nd in Shanghai
	rec("2", "douyin", "price", day.Add(-9*time.Hour), model.StatusSent)     // 15:00Z: 23:00 on the 21st in Shanghai
	rec("3", "douyin", "price", day.Add(time.Hour), model.StatusFailed)      // the 22nd anywhere
	rec("4", "douyin", "spam", day.Add(2*time.Hour), model.StatusSkipped)    //
	rec("5", "weibo", "price", day.Add(3*time.Hour), model.StatusUnknown)    //
	rec("6", "douyin", "price", day.Add(20*time.Hour), model.StatusRetrying) // 20:00Z on the 22nd: the 23rd in Shanghai
	rec("7", "douyin", "price", day.Add(20*time.Hour+30*time.Second), model.StatusSent)

	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Stats(ctx, StatsFilter{}, sh)
	if err != nil {
		t.Fatal(err)
	}
	want := []StatsRow{
		{"2026-11-21", "price", model.StatusSent, "", 1},
		{"2026-11-22", "price", model.StatusSent, "", 1},
		{"2026-11-22", "price", model.StatusFailed, "", 1},
		{"2026-11-22", "price", model.StatusUnknown, "", 1},
		{"2026-11-22", "spam", model.StatusSkipped, "", 1},
		{"2026-11-23", "price", model.StatusSent, "", 1},
		{"2026-11-23", "price", model.StatusRetrying, "", 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Asia/Shanghai:\n got %v\nwant %v", got, want)
	}

	// UTC: rows 1 and 2 are on the 21st, 6 and 7 on the 22nd; nil is UTC.
	got, err = s.Stats(ctx, StatsFilter{Platform: "douyin", Rule: "price"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want = []StatsRow{
		{"2026-11-21", "price", model.StatusSent, "", 2},
		{"2026-11-22", "price", model.StatusSent, "", 1},
		{"2026-11-22", "price", model.StatusFailed, "", 1},
		{"2026-11-22", "price", model.StatusRetrying, "", 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("UTC, douyin, price:\n got %v\nwant %v", got, want)
	}

	// Since and Until bound created_at.
	got, err = s.Stats(ctx, StatsFilter{Since: day, Until: day.Add(3 * time.Hour)}, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	want = []StatsRow{
		{"2026-11-22", "price", model.StatusFailed, "", 1},
		{"2026-11-22", "spam", model.StatusSkipped, "", 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("since/until:\n got %v\nwant %v", got, want)
	}
}

// A zone with daylight saving time: the day of each claim follows the
// offset in force at its instant.
func TestStatsDST(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	// 2026-11-01: EDT (-4) ends at 06:00Z. 03:30Z is 23:30 EDT on Oct 31;
	// 04:30Z is 00:30 EDT on Nov 1; 04:30Z the next day is 23:30 EST on Nov 1.
	for i, at := range []time.Time{
		time.Date(2026, 11, 1, 3, 30, 0, 0, time.UTC),
		time.Date(2026, 11, 1, 4, 30, 0, 0, time.UTC),
		time.Date(2026, 11, 2, 4, 30, 0, 0, time.UTC),
	} {
		mustRecord(t, s, comment(string(rune('a'+i))), at, Claim{Rule: "r", Status: model.StatusDryRun})
	}
	got, err := s.Stats(t.Context(), StatsFilter{}, ny)
	if err != nil {
		t.Fatal(err)
	}
	want := []StatsRow{
		{"2026-10-31", "r", model.StatusDryRun, "", 1},
		{"2026-11-01", "r", model.StatusDryRun, "", 2},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
}

func TestStatsReadOnly(t *testing.T) {
	t.Parallel()
	s, path := openTest(t)
	mustRecord(t, s, comment("1"), t0, Claim{Rule: "r", Status: model.StatusDryRun})
	ro, err := OpenReadOnly(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, ro)
	got, err := ro.Stats(t.Context(), StatsFilter{}, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Count != 1 || got[0].Day != t0.Format(time.DateOnly) {
		t.Errorf("got %v", got)
	}
}

// Skipped claims are counted by reason, so that spam, cooldowns and daily
// caps are told apart; other statuses' reasons (details of a send) are not.
func TestStatsSkippedReasons(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := t.Context()
	for i, c := range []struct{ rule, status, reason string }{
		{"spam", model.StatusSkipped, model.ReasonNoReplyRule},
		{"spam", model.StatusSkipped, model.ReasonNoReplyRule},
		{"price", model.StatusSkipped, "cooldown"},
		{"price", model.StatusSkipped, "daily_cap"},
		{"price", model.StatusSkipped, "cooldown"},
		{"price", model.StatusDryRun, "some detail"},
	} {
		mustRecord(t, s, comment(string(rune('a'+i))), t0.Add(time.Duration(i)*time.Second),
			Claim{Rule: c.rule, Status: c.status, Reason: c.reason})
	}
	got, err := s.Stats(ctx, StatsFilter{}, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	d := t0.Format(time.DateOnly)
	want := []StatsRow{
		{d, "price", model.StatusDryRun, "", 1},
		{d, "price", model.StatusSkipped, "cooldown", 2},
		{d, "price", model.StatusSkipped, "daily_cap", 1},
		{d, "spam", model.StatusSkipped, model.ReasonNoReplyRule, 2},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
}

// Statuses names every status of the model once: a status missing from it
// would be counted in an "unknown" column and refused by history --status.
func TestStatusesCoverTheModel(t *testing.T) {
	t.Parallel()
	if len(Statuses) != len(model.Statuses) {
		t.Fatalf("Statuses %v, model.Statuses %v", Statuses, model.Statuses)
	}
	for _, st := range model.Statuses {
		if n := slices.Index(Statuses, st); n < 0 || slices.Index(Statuses[n+1:], st) >= 0 {
			t.Errorf("%s is not in Statuses once: %v", st, Statuses)
		}
	}
}

// The statuses of a person in the loop are counted, after the others and in
// Statuses order, and a decision does not move a claim off the day it was
// made.
func TestStatsPersonStatuses(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := t.Context()
	day := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	ids := mustRecord(t, s, comment("1"), day, held("price"), flagged("complaint"))
	mustRecord(t, s, comment("2"), day.Add(time.Minute), held("price"), flagged("complaint"))
	mustRecord(t, s, comment("3"), day.Add(2*time.Minute), held("price"))
	if _, _, err := s.Decide(ctx, ids[0].ID, Decision{Action: DecideReject, By: "lin"}, day.Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Decide(ctx, ids[1].ID, Decision{Action: DecideDone, By: "lin"}, day.Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	mustRecord(t, s, comment("4"), day.Add(3*time.Minute), pending("price"))
	got, err := s.Stats(ctx, StatsFilter{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []StatsRow{
		{"2026-11-22", "complaint", model.StatusFlagged, "", 1},
		{"2026-11-22", "complaint", model.StatusHandled, "", 1},
		{"2026-11-22", "price", model.StatusPending, "", 1},
		{"2026-11-22", "price", model.StatusHeld, "", 2},
		{"2026-11-22", "price", model.StatusRejected, "", 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
}
