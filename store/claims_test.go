package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/model"
)

func TestRecordSettleLifecycle(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := t.Context()
	c := comment("100")
	got := mustRecord(t, s, c, t0, pending("price"), Claim{Rule: "spam", Status: model.StatusSkipped, Reason: model.ReasonNoReplyRule})
	if len(got) != 2 || got[0].Rule != "price" || got[1].Rule != "spam" || got[0].ID == got[1].ID {
		t.Fatalf("Record = %+v", got)
	}
	rows, err := s.History(ctx, Filter{Rule: "price"})
	if err != nil || len(rows) != 1 {
		t.Fatalf("History = %+v, %v", rows, err)
	}
	h := rows[0]
	if h.Status != model.StatusPending || h.Attempts != 1 || h.ReplyText != "hello from price" ||
		h.Responder != "kitkot" || !h.CreatedAt.Equal(t0) || !h.UpdatedAt.Equal(t0) ||
		h.CommentText != c.Text || h.UserUID != c.User.UID || h.UserNickname != c.User.Nickname ||
		h.UserUniqueID != c.User.UniqueID || h.PostID != c.PostID || h.ThreadID != c.ThreadID ||
		!h.CommentCreatedAt.Equal(c.CreatedAt) {
		t.Errorf("pending row = %+v", h)
	}
	rows, _ = s.History(ctx, Filter{Rule: "spam"})
	if rows[0].Attempts != 0 || rows[0].Status != model.StatusSkipped || rows[0].Reason != model.ReasonNoReplyRule {
		t.Errorf("skipped row = %+v", rows[0])
	}

	later := t0.Add(3 * time.Second)
	if err := s.Settle(ctx, got[0].ID, Settlement{Status: model.StatusSent, PlatformReplyID: "900"}, later); err != nil {
		t.Fatalf("Settle: %v", err)
	}
	rows, _ = s.History(ctx, Filter{Rule: "price"})
	h = rows[0]
	if h.Status != model.StatusSent || h.PlatformReplyID != "900" || !h.UpdatedAt.Equal(later) || !h.CreatedAt.Equal(t0) {
		t.Errorf("sent row = %+v", h)
	}

	// A settled claim cannot be settled again; the error says its status.
	err = s.Settle(ctx, got[0].ID, Settlement{Status: model.StatusFailed}, later)
	if !errors.Is(err, ErrNotPending) || !strings.Contains(err.Error(), "sent") {
		t.Errorf("second Settle = %v", err)
	}
	if err := s.Settle(ctx, got[1].ID, Settlement{Status: model.StatusSent}, later); !errors.Is(err, ErrNotPending) {
		t.Errorf("Settle of a skipped claim = %v", err)
	}
	if err := s.Settle(ctx, 9999, Settlement{Status: model.StatusSent}, later); !errors.Is(err, ErrNoClaim) {
		t.Errorf("Settle of a missing claim = %v", err)
	}
	if err := s.Settle(ctx, got[0].ID, Settlement{Status: model.StatusPending}, later); err == nil {
		t.Error("Settle accepted pending as an outcome")
	}
}

func TestRecordWithoutClaimsAndValidation(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := t.Context()
	got, err := s.Record(ctx, comment("1"), model.DispositionBacklog, nil, t0)
	if err != nil || len(got) != 0 {
		t.Fatalf("Record backlog = %v, %v", got, err)
	}
	var disp string
	if err := s.db.QueryRowContext(ctx, `SELECT disposition FROM comments WHERE comment_id = '1'`).Scan(&disp); err != nil || disp != model.DispositionBacklog {
		t.Errorf("disposition = %q, %v", disp, err)
	}
	// The first disposition stays.
	mustRecord(t, s, comment("1"), t0, pending("r"))
	if err := s.db.QueryRowContext(ctx, `SELECT disposition FROM comments WHERE comment_id = '1'`).Scan(&disp); err != nil || disp != model.DispositionBacklog {
		t.Errorf("disposition overwritten: %q, %v", disp, err)
	}

	for name, tc := range map[string]struct {
		c      model.Comment
		disp   string
		claims []Claim
	}{
		"no id":           {model.Comment{Platform: "douyin"}, model.DispositionEvaluated, nil},
		"bad disposition": {comment("2"), "whatever", nil},
		"no rule":         {comment("2"), model.DispositionEvaluated, []Claim{{Status: model.StatusPending}}},
		"sent claim":      {comment("2"), model.DispositionEvaluated, []Claim{{Rule: "r", Status: model.StatusSent}}},
		"empty status":    {comment("2"), model.DispositionEvaluated, []Claim{{Rule: "r"}}},
		"retrying claim":  {comment("2"), model.DispositionEvaluated, []Claim{{Rule: "r", Status: model.StatusRetrying}}},
		"no platform":     {model.Comment{ID: "2"}, model.DispositionEvaluated, nil},
	} {
		if _, err := s.Record(ctx, tc.c, tc.disp, tc.claims, t0); err == nil {
			t.Errorf("%s: Record accepted it", name)
		}
	}
	known, _ := s.Known(ctx, "douyin", []string{"2"})
	if known["2"] {
		t.Error("a refused Record stored its comment")
	}
}

func TestDuplicateClaimSameStore(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	c := comment("1")
	if got := mustRecord(t, s, c, t0, pending("a")); len(got) != 1 {
		t.Fatalf("first Record = %+v", got)
	}
	// Same rule again: refused. A new rule on the same comment: claimed.
	got := mustRecord(t, s, c, t0.Add(time.Minute), pending("a"), pending("b"))
	if len(got) != 1 || got[0].Rule != "b" {
		t.Fatalf("second Record = %+v, want only rule b", got)
	}
	if got := mustRecord(t, s, c, t0, pending("a"), pending("b")); len(got) != 0 {
		t.Fatalf("third Record = %+v, want none", got)
	}
	// A terminal first claim blocks a later pending one too.
	mustRecord(t, s, comment("2"), t0, Claim{Rule: "a", Status: model.StatusDryRun})
	if got := mustRecord(t, s, comment("2"), t0, pending("a")); len(got) != 0 {
		t.Fatalf("claim after dry_run = %+v", got)
	}
}

func TestDuplicateClaimSecondStore(t *testing.T) {
	t.Parallel()
	s1, path := openTest(t)
	s2, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, s2)
	c := comment("1")
	if got := mustRecord(t, s1, c, t0, pending("a")); len(got) != 1 {
		t.Fatalf("Record in store 1 = %+v", got)
	}
	if got := mustRecord(t, s2, c, t0, pending("a")); len(got) != 0 {
		t.Fatalf("Record in store 2 = %+v, want none", got)
	}
}

func TestRecordRace(t *testing.T) {
	t.Parallel()
	s1, path := openTest(t)
	s2, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, s2)
	stores := []*Store{s1, s2}

	const racers = 8
	for round := 0; round < 5; round++ {
		c := comment(fmt.Sprint(1000 + round))
		var wg sync.WaitGroup
		var mu sync.Mutex
		var wins []int64
		start := make(chan struct{})
		for i := range racers {
			s := stores[i%len(stores)]
			wg.Go(func() {
				<-start
				got, err := s.Record(context.Background(), c, model.DispositionEvaluated, []Claim{pending("a")}, t0)
				if err != nil {
					t.Errorf("Record: %v", err)
					return
				}
				mu.Lock()
				for _, g := range got {
					wins = append(wins, g.ID)
				}
				mu.Unlock()
			})
		}
		close(start)
		wg.Wait()
		if len(wins) != 1 {
			t.Fatalf("round %d: %d winners %v, want exactly 1", round, len(wins), wins)
		}
	}
}

func TestRecoverPending(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := t.Context()
	a := mustRecord(t, s, comment("1"), t0, pending("r"))
	b := mustRecord(t, s, comment("2"), t0, pending("r"))
	mustRecord(t, s, comment("3"), t0, Claim{Rule: "r", Status: model.StatusDryRun})
	queued := Claim{Rule: "r", Responder: "kitkot", Status: model.StatusPending, ReplyText: "hi", Queued: true}
	q := mustRecord(t, s, comment("4"), t0, queued)       // never started
	started := mustRecord(t, s, comment("5"), t0, queued) // started, then the crash
	if ok, err := s.StartSend(ctx, started[0].ID, t0); err != nil || !ok {
		t.Fatalf("StartSend = %v, %v", ok, err)
	}
	if ok, err := s.StartSend(ctx, started[0].ID, t0); err != nil || ok {
		t.Fatalf("second StartSend = %v, %v; want false", ok, err)
	}
	if err := s.Settle(ctx, b[0].ID, Settlement{Status: model.StatusSent}, t0); err != nil {
		t.Fatal(err)
	}
	later := t0.Add(time.Hour)
	n, requeued, err := s.RecoverPending(ctx, later, 0)
	if err != nil || n != 2 || requeued != 1 {
		t.Fatalf("RecoverPending = %d unknown, %d requeued, %v; want 2, 1", n, requeued, err)
	}
	due, err := s.DueRetries(ctx, later, 0)
	if err != nil || len(due) != 1 || due[0].ID != q[0].ID || due[0].Attempts != 0 {
		t.Fatalf("DueRetries after recovery = %+v, %v; want the queued claim with 0 attempts", due, err)
	}
	rows, _ := s.History(ctx, Filter{})
	for _, r := range rows {
		switch r.ID {
		case q[0].ID:
			if r.Status != model.StatusRetrying || r.Reason != model.ReasonRequeued {
				t.Errorf("queued row = %+v", r)
			}
		case started[0].ID:
			if r.Status != model.StatusUnknown || r.Reason != model.ReasonCrashed {
				t.Errorf("started row = %+v", r)
			}
		case a[0].ID:
			if r.Status != model.StatusUnknown || r.Reason != model.ReasonCrashed || !r.UpdatedAt.Equal(later) {
				t.Errorf("recovered row = %+v", r)
			}
		case b[0].ID:
			if r.Status != model.StatusSent {
				t.Errorf("sent row changed: %+v", r)
			}
		default:
			if r.Status != model.StatusDryRun {
				t.Errorf("dry_run row changed: %+v", r)
			}
		}
	}
	// The crashed claim is never sent again: not due, cannot be settled.
	if due, _ := s.DueRetries(ctx, later.Add(24*time.Hour), 0); len(due) != 1 || due[0].ID != q[0].ID {
		t.Errorf("due after recovery: %+v; want only the requeued claim", due)
	}
	if err := s.Settle(ctx, a[0].ID, Settlement{Status: model.StatusSent}, later); !errors.Is(err, ErrNotPending) {
		t.Errorf("Settle crashed claim = %v", err)
	}
	if n, _, _ := s.RecoverPending(ctx, later, 0); n != 0 {
		t.Errorf("second RecoverPending = %d", n)
	}
}

func TestRetries(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := t.Context()
	c := comment("7251536675678782265")
	c.Text = "史密斯夫妇💑"
	first := mustRecord(t, s, c, t0, pending("a"))
	second := mustRecord(t, s, comment("2"), t0.Add(time.Second), pending("a"))
	id := first[0].ID

	next := t0.Add(time.Minute)
	for _, cl := range []Claimed{first[0], second[0]} {
		err := s.Settle(ctx, cl.ID, Settlement{Status: model.StatusRetrying, Reason: "http_503", Error: "service unavailable", NextAttempt: next}, t0)
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Settle(ctx, id, Settlement{Status: model.StatusRetrying}, t0); err == nil {
		t.Error("retrying without a next attempt accepted")
	}

	// Not due yet.
	if due, err := s.DueRetries(ctx, next.Add(-time.Millisecond), 0); err != nil || len(due) != 0 {
		t.Fatalf("DueRetries before due = %+v, %v", due, err)
	}
	if ok, err := s.BeginRetry(ctx, id, next.Add(-time.Millisecond)); err != nil || ok {
		t.Fatalf("BeginRetry before due = %v, %v", ok, err)
	}

	// Due: oldest first, comment rebuilt.
	due, err := s.DueRetries(ctx, next, 0)
	if err != nil || len(due) != 2 {
		t.Fatalf("DueRetries = %+v, %v", due, err)
	}
	it := due[0]
	if it.ID != id || it.Rule != "a" || it.Responder != "kitkot" || it.Status != model.StatusRetrying ||
		it.Reason != "http_503" || it.ReplyText != "hello from a" || it.Attempts != 1 || !it.CreatedAt.Equal(t0) {
		t.Errorf("due item = %+v", it)
	}
	want := c
	want.Labels = nil
	if it.Comment.Platform != want.Platform || it.Comment.ID != want.ID || it.Comment.ThreadID != want.ThreadID ||
		it.Comment.PostID != want.PostID || it.Comment.RootID != want.RootID || it.Comment.ReplyToID != want.ReplyToID ||
		it.Comment.Text != want.Text || !it.Comment.CreatedAt.Equal(want.CreatedAt) || it.Comment.User != want.User ||
		it.Comment.Labels != nil {
		t.Errorf("rebuilt comment = %+v, want %+v", it.Comment, want)
	}
	if due[1].ID != second[0].ID {
		t.Errorf("order = %d, %d", due[0].ID, due[1].ID)
	}
	if lim, _ := s.DueRetries(ctx, next, 1); len(lim) != 1 || lim[0].ID != id {
		t.Errorf("DueRetries limit 1 = %+v", lim)
	}

	// Taken once, then not again.
	ok, err := s.BeginRetry(ctx, id, next)
	if err != nil || !ok {
		t.Fatalf("BeginRetry = %v, %v", ok, err)
	}
	if ok, err := s.BeginRetry(ctx, id, next); err != nil || ok {
		t.Fatalf("BeginRetry again = %v, %v", ok, err)
	}
	if ok, _ := s.BeginRetry(ctx, 9999, next); ok {
		t.Error("BeginRetry of a missing claim succeeded")
	}
	due, _ = s.DueRetries(ctx, next, 0)
	if len(due) != 1 || due[0].ID != second[0].ID {
		t.Errorf("DueRetries after BeginRetry = %+v", due)
	}
	rows, _ := s.History(ctx, Filter{Thread: c.ThreadID, Status: model.StatusPending})
	if len(rows) != 1 || rows[0].Attempts != 2 || !rows[0].NextAttemptAt.IsZero() {
		t.Fatalf("claim after BeginRetry = %+v", rows)
	}
	if err := s.Settle(ctx, id, Settlement{Status: model.StatusSent, PlatformReplyID: "r1"}, next); err != nil {
		t.Fatal(err)
	}
}

func TestKnownAndOwnRepliesManyIDs(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := t.Context()
	const n = 1200
	var ids, replyIDs []string
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("72515366756787%05d", i)
		ids = append(ids, id)
		claims := mustRecord(t, s, comment(id), t0, pending("a"))
		if i%2 == 0 {
			rid := fmt.Sprintf("99%05d", i)
			replyIDs = append(replyIDs, rid)
			if err := s.Settle(ctx, claims[0].ID, Settlement{Status: model.StatusSent, PlatformReplyID: rid}, t0); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Ask for the known ids mixed with as many unknown ones, plus an empty one.
	query := []string{""}
	for i := 0; i < n; i++ {
		query = append(query, ids[i], fmt.Sprintf("unknown%d", i))
	}
	known, err := s.Known(ctx, model.PlatformDouyin, query)
	if err != nil {
		t.Fatal(err)
	}
	if len(known) != n {
		t.Errorf("Known found %d, want %d", len(known), n)
	}
	for _, id := range ids {
		if !known[id] {
			t.Fatalf("Known misses %s", id)
		}
	}
	if other, _ := s.Known(ctx, model.PlatformWeibo, ids); len(other) != 0 {
		t.Errorf("Known on another platform = %d ids", len(other))
	}
	if none, err := s.Known(ctx, model.PlatformDouyin, nil); err != nil || len(none) != 0 {
		t.Errorf("Known(nil) = %v, %v", none, err)
	}

	own, err := s.OwnReplies(ctx, model.PlatformDouyin, append(append([]string{""}, replyIDs...), ids...))
	if err != nil {
		t.Fatal(err)
	}
	if len(own) != len(replyIDs) {
		t.Errorf("OwnReplies found %d, want %d", len(own), len(replyIDs))
	}
	for _, id := range replyIDs {
		if !own[id] {
			t.Fatalf("OwnReplies misses %s", id)
		}
	}
	if other, _ := s.OwnReplies(ctx, model.PlatformTikTok, replyIDs); len(other) != 0 {
		t.Errorf("OwnReplies on another platform = %d", len(other))
	}
}

func TestCountSentAndCounts(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := t.Context()
	for i, st := range []struct {
		responder, status string
		at                time.Time
	}{
		{"kitkot", model.StatusSent, t0},
		{"kitkot", model.StatusSent, t0.Add(time.Hour)},
		{"kitkot", model.StatusFailed, t0.Add(time.Hour)},
		{"weibo", model.StatusSent, t0.Add(time.Hour)},
	} {
		cl := mustRecord(t, s, comment(fmt.Sprint(i)), t0, Claim{Rule: "a", Responder: st.responder, Status: model.StatusPending})
		if err := s.Settle(ctx, cl[0].ID, Settlement{Status: st.status}, st.at); err != nil {
			t.Fatal(err)
		}
	}
	mustRecord(t, s, comment("9"), t0, pending("a"))
	for _, tc := range []struct {
		responder string
		since     time.Time
		want      int
	}{
		{"kitkot", t0, 2},
		{"kitkot", t0.Add(time.Millisecond), 1},
		{"kitkot", t0.Add(2 * time.Hour), 0},
		{"weibo", t0, 1},
		{"wechat", t0, 0},
	} {
		got, err := s.CountSent(ctx, tc.responder, tc.since)
		if err != nil || got != tc.want {
			t.Errorf("CountSent(%s, %v) = %d, %v; want %d", tc.responder, tc.since, got, err, tc.want)
		}
	}
	counts, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{model.StatusSent: 3, model.StatusFailed: 1, model.StatusPending: 1}
	if len(counts) != len(want) {
		t.Errorf("Counts = %v, want %v", counts, want)
	}
	for k, v := range want {
		if counts[k] != v {
			t.Errorf("Counts[%s] = %d, want %d", k, counts[k], v)
		}
	}
}
