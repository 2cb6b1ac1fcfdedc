package store

import (
	"errors"
	"testing"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/pacing"
)

func TestBatchCommitsTogetherAndSeesItsOwnWrites(t *testing.T) {
	t.Parallel()
	s, path := openTest(t)
	ctx := t.Context()
	c1, c2 := comment("1"), comment("2")
	err := s.Batch(ctx, func(b *Store) error {
		if _, err := b.Record(ctx, c1, model.DispositionEvaluated, []Claim{pending("price")}, t0); err != nil {
			return err
		}
		// Pacing inside the batch counts the claim recorded just before.
		n, err := b.PacingHistory(false).Answers(ctx, pacing.Query{Rule: "price", Platform: c1.Platform, UserUID: c1.User.UID, Since: t0.Add(-1)})
		if err != nil || n != 1 {
			t.Errorf("Answers inside the batch = %d, %v; want 1", n, err)
		}
		// A reader elsewhere does not see it before the commit.
		r, err := OpenReadOnly(ctx, path)
		if err != nil {
			return err
		}
		defer testutil.Close(t, r)
		if known, _ := r.Known(ctx, c1.Platform, []string{"1"}); known["1"] {
			t.Error("another connection sees the batch before its commit")
		}
		_, err = b.Record(ctx, c2, model.DispositionBacklog, nil, t0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	known, err := s.Known(ctx, c1.Platform, []string{"1", "2"})
	if err != nil || !known["1"] || !known["2"] {
		t.Fatalf("Known after the batch = %v, %v", known, err)
	}
}

func TestBatchRollsBackOnError(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := t.Context()
	boom := errors.New("boom")
	err := s.Batch(ctx, func(b *Store) error {
		if _, err := b.Record(ctx, comment("1"), model.DispositionEvaluated, []Claim{pending("price")}, t0); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Batch = %v, want boom", err)
	}
	known, err := s.Known(ctx, model.PlatformDouyin, []string{"1"})
	if err != nil || known["1"] {
		t.Fatalf("a rolled-back comment is known: %v, %v", known, err)
	}
	// The claim can be won again: nothing of the batch remained.
	got := mustRecord(t, s, comment("1"), t0, pending("price"))
	if len(got) != 1 {
		t.Fatalf("claim after rollback = %+v", got)
	}
}

func TestThreadStatesRoundTrip(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := t.Context()
	for _, st := range []model.ThreadState{
		{Platform: "douyin", ThreadID: "1", Initialized: true, Polls: 4, IdlePolls: 3, NextPoll: t0, LastPolled: t0},
		{Platform: "douyin", ThreadID: "2", Polls: 1},
		{Platform: "tiktok", ThreadID: "1", Polls: 9},
	} {
		if err := s.SaveThreadState(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.ThreadStates(ctx, "douyin")
	if err != nil || len(all) != 2 {
		t.Fatalf("ThreadStates = %v, %v", all, err)
	}
	if got := all["1"]; got.IdlePolls != 3 || !got.NextPoll.Equal(t0) || got.Polls != 4 || !got.Initialized {
		t.Errorf("thread 1 = %+v", got)
	}
	if got := all["2"]; !got.NextPoll.IsZero() || got.IdlePolls != 0 {
		t.Errorf("thread 2 = %+v", got)
	}
	one, ok, err := s.ThreadState(ctx, "douyin", "1")
	if err != nil || !ok || one != all["1"] {
		t.Errorf("ThreadState = %+v, %v, %v; want %+v", one, ok, err, all["1"])
	}
}
