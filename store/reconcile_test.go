package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/model"
)

const (
	recThread = "7251524159191958327"
	recText   = "小虎 你好，价格请看橱窗[比心]"
)

// claimAs records a claim on comment id (thread th, reply text) at `at` and
// settles it as status, unless pending.
func claimAs(t *testing.T, s *Store, id, th, text, status string, at time.Time) int64 {
	t.Helper()
	c := comment(id)
	c.ThreadID, c.Text = th, "这个多少钱？"
	cl := mustRecord(t, s, c, at, Claim{Rule: "price", Responder: "kitkot", Status: model.StatusPending, ReplyText: text})
	if len(cl) != 1 {
		t.Fatalf("claim %s: won %d", id, len(cl))
	}
	if status != model.StatusPending {
		st := Settlement{Status: status, Reason: "dropped", Error: "unknown failure: connection dropped"}
		if status == model.StatusRetrying {
			st.NextAttempt = at.Add(time.Hour)
		}
		if err := s.Settle(context.Background(), cl[0].ID, st, at.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	return cl[0].ID
}

func claimRow(t *testing.T, s *Store, id int64) HistoryRow {
	t.Helper()
	r, err := s.ClaimRow(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestReconcileOldestUnknownFirst(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := context.Background()
	first := claimAs(t, s, "7300000000000000001", recThread, recText, model.StatusUnknown, t0)
	second := claimAs(t, s, "7300000000000000002", recThread, recText, model.StatusUnknown, t0.Add(time.Minute))
	now := t0.Add(10 * time.Minute)

	id, ok, err := s.Reconcile(ctx, model.PlatformDouyin, recThread, recText, "7400000000000000001", t0.Add(2*time.Minute), now)
	if err != nil || !ok || id != first {
		t.Fatalf("first reconcile: %d %v %v, want claim %d", id, ok, err, first)
	}
	r := claimRow(t, s, first)
	if r.Status != model.StatusSent || r.Reason != ReasonReconciled || r.PlatformReplyID != "7400000000000000001" ||
		!r.UpdatedAt.Equal(now) || r.ReplyText != recText {
		t.Fatalf("reconciled row: %+v", r)
	}
	id, ok, err = s.Reconcile(ctx, model.PlatformDouyin, recThread, recText, "7400000000000000002", t0.Add(3*time.Minute), now)
	if err != nil || !ok || id != second {
		t.Fatalf("second reconcile: %d %v %v, want claim %d", id, ok, err, second)
	}
	// Nothing is left to reconcile.
	if id, ok, err := s.Reconcile(ctx, model.PlatformDouyin, recThread, recText, "7400000000000000003", t0.Add(4*time.Minute), now); ok || err != nil {
		t.Fatalf("third reconcile: %d %v %v", id, ok, err)
	}
	// Our own replies are now known by id.
	own, err := s.OwnReplies(ctx, model.PlatformDouyin, []string{"7400000000000000001", "7400000000000000002", "7400000000000000003"})
	if err != nil || len(own) != 2 || own["7400000000000000003"] {
		t.Fatalf("OwnReplies: %v %v", own, err)
	}
}

func TestReconcileOnlyMatchingUnknown(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := context.Background()
	now := t0.Add(time.Hour)
	unknown := claimAs(t, s, "1", recThread, recText, model.StatusUnknown, t0)
	pendingID := claimAs(t, s, "2", "T-pending", recText, model.StatusPending, t0)
	failed := claimAs(t, s, "3", "T-failed", recText, model.StatusFailed, t0)
	retrying := claimAs(t, s, "4", "T-retrying", recText, model.StatusRetrying, t0)

	cases := []struct {
		name                   string
		platform, thread, text string
		postedAt               time.Time
	}{
		{"other text", model.PlatformDouyin, recThread, "谢谢小虎！", t0.Add(time.Minute)},
		{"other thread", model.PlatformDouyin, "7251524159191958400", recText, t0.Add(time.Minute)},
		{"other platform", model.PlatformTikTok, recThread, recText, t0.Add(time.Minute)},
		{"posted before the claim", model.PlatformDouyin, recThread, recText, t0.Add(-reconcileClockSkew - time.Second)},
		{"no post time", model.PlatformDouyin, recThread, recText, time.Time{}},
		{"pending: may be mid-send", model.PlatformDouyin, "T-pending", recText, t0.Add(time.Minute)},
		{"failed", model.PlatformDouyin, "T-failed", recText, t0.Add(time.Minute)},
		{"retrying", model.PlatformDouyin, "T-retrying", recText, t0.Add(time.Minute)},
	}
	for _, c := range cases {
		if id, ok, err := s.Reconcile(ctx, c.platform, c.thread, c.text, "7400000000000000009", c.postedAt, now); ok || err != nil {
			t.Errorf("%s: reconciled claim %d (err %v)", c.name, id, err)
		}
	}
	for id, want := range map[int64]string{unknown: model.StatusUnknown, pendingID: model.StatusPending, failed: model.StatusFailed, retrying: model.StatusRetrying} {
		if r := claimRow(t, s, id); r.Status != want || r.PlatformReplyID != "" {
			t.Errorf("claim %d: %s %q, want %s untouched", id, r.Status, r.PlatformReplyID, want)
		}
	}

	// Within the clock skew a reply stamped a little before the claim is ours.
	id, ok, err := s.Reconcile(ctx, model.PlatformDouyin, recThread, recText, "7400000000000000010", t0.Add(-time.Second), now)
	if err != nil || !ok || id != unknown {
		t.Fatalf("reconcile within the skew: %d %v %v", id, ok, err)
	}
}

func TestReconcileSkipsClaimWithReplyID(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := context.Background()
	id := claimAs(t, s, "1", recThread, recText, model.StatusPending, t0)
	// An unknown outcome that still reported an id (not ours to guess).
	if err := s.Settle(ctx, id, Settlement{Status: model.StatusUnknown, Reason: "odd", PlatformReplyID: "7400000000000000001"}, t0); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := s.Reconcile(ctx, model.PlatformDouyin, recThread, recText, "7400000000000000002", t0.Add(time.Minute), t0.Add(time.Hour)); ok || err != nil {
		t.Fatalf("reconciled claim %d with a reply id already (err %v)", got, err)
	}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	now := t0.Add(time.Hour)
	cases := []struct {
		from, action     string
		wantStatus       string
		wantReason       string
		wantNextAttempt  bool
		wantErr          error
		wantErrSubstring string
	}{
		{from: model.StatusUnknown, action: ResolveSent, wantStatus: model.StatusSent, wantReason: ReasonResolvedSent},
		{from: model.StatusUnknown, action: ResolveRetry, wantStatus: model.StatusRetrying, wantReason: ReasonResolvedRetry, wantNextAttempt: true},
		{from: model.StatusUnknown, action: ResolveDrop, wantStatus: model.StatusFailed, wantReason: ReasonResolvedDrop},
		{from: model.StatusFailed, action: ResolveRetry, wantStatus: model.StatusRetrying, wantReason: ReasonResolvedRetry, wantNextAttempt: true},
		{from: model.StatusFailed, action: ResolveSent, wantStatus: model.StatusSent, wantReason: ReasonResolvedSent},
		{from: model.StatusRetrying, action: ResolveDrop, wantStatus: model.StatusFailed, wantReason: ReasonResolvedDrop},
		{from: model.StatusRetrying, action: ResolveRetry, wantStatus: model.StatusRetrying, wantReason: ReasonResolvedRetry, wantNextAttempt: true},
		{from: model.StatusPending, action: ResolveDrop, wantErr: ErrNotResolvable, wantErrSubstring: "it is pending"},
		{from: model.StatusSent, action: ResolveRetry, wantErr: ErrNotResolvable, wantErrSubstring: "it is sent"},
		{from: model.StatusUnknown, action: "resend", wantErrSubstring: `unknown action "resend"`},
	}
	for _, c := range cases {
		t.Run(c.from+"_"+c.action, func(t *testing.T) {
			s, _ := openTest(t)
			ctx := context.Background()
			id := claimAs(t, s, "7300000000000000001", recThread, recText, c.from, t0)
			beforeRow := claimRow(t, s, id)
			before, after, err := s.Resolve(ctx, id, c.action, now)
			if c.wantErrSubstring != "" || c.wantErr != nil {
				if err == nil || (c.wantErr != nil && !errors.Is(err, c.wantErr)) || !strings.Contains(err.Error(), c.wantErrSubstring) {
					t.Fatalf("err = %v, want %v containing %q", err, c.wantErr, c.wantErrSubstring)
				}
				if !strings.Contains(err.Error(), "claim 1") {
					t.Errorf("error does not name the claim: %v", err)
				}
				if r := claimRow(t, s, id); r != beforeRow {
					t.Errorf("refused resolve changed the claim:\n%+v\n%+v", beforeRow, r)
				}
				return
			}
			if err != nil || before != c.from || after != c.wantStatus {
				t.Fatalf("Resolve: %q → %q, %v", before, after, err)
			}
			r := claimRow(t, s, id)
			if r.Status != c.wantStatus || r.Reason != c.wantReason || !r.UpdatedAt.Equal(now) ||
				!strings.HasPrefix(r.Error, "resolved by hand; was "+c.from) || r.Attempts != beforeRow.Attempts {
				t.Fatalf("resolved row: %+v", r)
			}
			if c.wantNextAttempt != r.NextAttemptAt.Equal(now) || (!c.wantNextAttempt && !r.NextAttemptAt.IsZero()) {
				t.Fatalf("next attempt %v", r.NextAttemptAt)
			}
			if c.wantNextAttempt {
				due, err := s.DueRetries(ctx, now, 0)
				if err != nil || len(due) != 1 || due[0].ID != id || due[0].ReplyText != recText {
					t.Fatalf("DueRetries after resolve --retry: %+v %v", due, err)
				}
			}
		})
	}
}

func TestResolveMissingAndReadOnly(t *testing.T) {
	t.Parallel()
	s, path := openTest(t)
	ctx := context.Background()
	if _, _, err := s.Resolve(ctx, 42, ResolveDrop, t0); !errors.Is(err, ErrNoClaim) || !strings.Contains(err.Error(), "claim 42") {
		t.Fatalf("missing claim: %v", err)
	}
	if _, err := s.ClaimRow(ctx, 42); !errors.Is(err, ErrNoClaim) {
		t.Fatalf("ClaimRow of a missing claim: %v", err)
	}
	ro, err := OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, ro)
	if _, _, err := ro.Resolve(ctx, 1, ResolveDrop, t0); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("read-only Resolve: %v", err)
	}
	if _, _, err := ro.Reconcile(ctx, model.PlatformDouyin, recThread, recText, "1", t0, t0); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("read-only Reconcile: %v", err)
	}
}
