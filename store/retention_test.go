package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/model"
)

// commentRow reads the columns Prune may blank, and whether the row exists.
func commentRow(t *testing.T, s *Store, id string) (text, nick, handle, uid string, ok bool) {
	t.Helper()
	err := s.db.QueryRowContext(t.Context(),
		`SELECT text, user_nickname, user_unique_id, user_uid FROM comments WHERE platform = 'douyin' AND comment_id = ?`, id).
		Scan(&text, &nick, &handle, &uid)
	if err != nil {
		return "", "", "", "", false
	}
	return text, nick, handle, uid, true
}

func claimStatuses(t *testing.T, s *Store) map[string]string {
	t.Helper()
	rows, err := s.History(t.Context(), Filter{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range rows {
		out[r.CommentID] = r.Status
	}
	return out
}

func TestPrune(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := t.Context()
	old, recent := t0, t0.Add(40*24*time.Hour)
	before := t0.Add(30 * 24 * time.Hour)
	settle := func(id int64, st Settlement, at time.Time) {
		t.Helper()
		if err := s.Settle(ctx, id, st, at); err != nil {
			t.Fatal(err)
		}
	}
	// Old and terminal: pruned.
	settle(mustRecord(t, s, comment("sent"), old, pending("price"))[0].ID, Settlement{Status: model.StatusSent, PlatformReplyID: "r1"}, old)
	settle(mustRecord(t, s, comment("failed"), old, pending("price"))[0].ID, Settlement{Status: model.StatusFailed}, old)
	mustRecord(t, s, comment("dry"), old, Claim{Rule: "price", Status: model.StatusDryRun})
	mustRecord(t, s, comment("skipped"), old, Claim{Rule: "spam", Status: model.StatusSkipped})
	// Old but not terminal: kept, whatever their age.
	mustRecord(t, s, comment("pending"), old, pending("price"))
	settle(mustRecord(t, s, comment("unknown"), old, pending("price"))[0].ID, Settlement{Status: model.StatusUnknown}, old)
	settle(mustRecord(t, s, comment("retrying"), old, pending("price"))[0].ID,
		Settlement{Status: model.StatusRetrying, NextAttempt: old.Add(time.Hour)}, old)
	// Claimed long ago, settled recently: kept (updated_at is recent).
	settle(mustRecord(t, s, comment("late"), old, pending("price"))[0].ID, Settlement{Status: model.StatusSent}, recent)
	// Recent and terminal: kept.
	settle(mustRecord(t, s, comment("new"), recent, pending("price"))[0].ID, Settlement{Status: model.StatusSent}, recent)
	// Comments without any claim: an old one (blanked) and a recent one.
	if _, err := s.Record(ctx, comment("backlog"), model.DispositionBacklog, nil, old); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Record(ctx, comment("fresh"), model.DispositionEvaluated, nil, recent); err != nil {
		t.Fatal(err)
	}

	res, err := s.Prune(ctx, before, 2)
	if err != nil {
		t.Fatal(err)
	}
	// 4 claims; comments: sent, failed, dry, skipped, backlog.
	if res != (PruneResult{Replies: 4, Comments: 5}) {
		t.Errorf("Prune = %+v, want 4 replies and 5 comments", res)
	}
	got := claimStatuses(t, s)
	want := map[string]string{"pending": "pending", "unknown": "unknown", "retrying": "retrying", "late": "sent", "new": "sent"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("claims left %v, want %v", got, want)
	}
	for _, id := range []string{"sent", "failed", "dry", "skipped", "backlog"} {
		text, nick, handle, uid, ok := commentRow(t, s, id)
		if !ok {
			t.Errorf("comment %s deleted: it must stay known", id)
			continue
		}
		if text != "" || nick != "" || handle != "" {
			t.Errorf("comment %s not blanked: %q %q %q", id, text, nick, handle)
		}
		if uid != "u"+id {
			t.Errorf("comment %s lost its uid: %q", id, uid)
		}
	}
	for _, id := range []string{"pending", "unknown", "retrying", "late", "new", "fresh"} {
		if text, _, _, _, ok := commentRow(t, s, id); !ok || text == "" {
			t.Errorf("comment %s: %q, %v; want it kept whole", id, text, ok)
		}
	}
	// Every comment is still known: none of them can be answered again.
	ids := []string{"sent", "failed", "dry", "skipped", "pending", "unknown", "retrying", "late", "new", "backlog", "fresh"}
	known, err := s.Known(ctx, model.PlatformDouyin, ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(known) != len(ids) {
		t.Errorf("known after pruning: %v, want all of %v", known, ids)
	}
	// Pruning again finds nothing.
	if res, err := s.Prune(ctx, before, 2); err != nil || res != (PruneResult{}) {
		t.Errorf("second Prune = %+v, %v", res, err)
	}
}

// Prune commits batch by batch: another writer gets through between
// batches while a long prune runs.
func TestPruneBatchesLetWritersIn(t *testing.T) {
	s, _ := openTest(t)
	ctx := t.Context()
	const total, batch = 60, 7
	for i := range total {
		mustRecord(t, s, comment(fmt.Sprint("old", i)), t0, Claim{Rule: "r", Status: model.StatusDryRun})
	}
	oldPause, oldHook := pruneBatchPause, pruneHook
	t.Cleanup(func() { pruneBatchPause, pruneHook = oldPause, oldHook })
	pruneBatchPause = time.Millisecond

	// A writer records one comment each time it is let go, and reports it.
	step, done := make(chan int), make(chan error)
	go func() {
		for i := range step {
			_, err := s.Record(ctx, comment(fmt.Sprint("live", i)), model.DispositionEvaluated,
				[]Claim{{Rule: "r", Status: model.StatusDryRun}}, t0.Add(365*24*time.Hour))
			done <- err
		}
	}()
	defer close(step)
	batches := 0
	pruneHook = func() {
		// Between two batches no transaction is open: the writer's Record
		// must complete now, not after Prune.
		batches++
		step <- batches
		wctx, cancel := context.WithTimeout(ctx, time.Minute) // bounds a hang only
		defer cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Record between batches: %v", err)
			}
		case <-wctx.Done():
			t.Error("Record did not complete between two prune batches")
		}
	}
	res, err := s.Prune(ctx, t0.Add(24*time.Hour), batch)
	if err != nil {
		t.Fatal(err)
	}
	if res.Replies != total {
		t.Errorf("pruned %d claims, want %d", res.Replies, total)
	}
	if want := total / batch; batches < want {
		t.Errorf("%d batches, want at least %d (of %d rows)", batches, want, batch)
	}
	got := claimStatuses(t, s)
	if len(got) != batches {
		t.Errorf("%d claims left, want the %d recorded while pruning", len(got), batches)
	}
}

func TestPruneReadOnly(t *testing.T) {
	t.Parallel()
	_, path := openTest(t)
	ro, err := OpenReadOnly(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, ro)
	if _, err := ro.Prune(t.Context(), t0, 10); err == nil {
		t.Error("Prune on a read-only store succeeded")
	}
}
