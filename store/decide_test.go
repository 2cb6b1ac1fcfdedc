package store

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/pacing"
)

func held(rule string, notify ...string) Claim {
	return Claim{Rule: rule, Responder: "kitkot", Status: model.StatusHeld, ReplyText: "价格请看橱窗 🛒", Notify: notify}
}

func flagged(rule string, notify ...string) Claim {
	return Claim{Rule: rule, Responder: "kitkot", Status: model.StatusFlagged, Notify: notify}
}

func TestDecideApprove(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := context.Background()
	won := mustRecord(t, s, comment("1"), t0, held("price"))
	id := won[0].ID
	now := t0.Add(2 * time.Hour)
	before, after, err := s.Decide(ctx, id, Decision{Action: DecideApprove, Text: "改过的回答 ✅", By: "lin", MaxAge: 24 * time.Hour}, now)
	if err != nil || before != model.StatusHeld || after != model.StatusRetrying {
		t.Fatalf("approve = %q → %q, %v", before, after, err)
	}
	r, err := s.ClaimRow(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != model.StatusRetrying || r.Reason != model.ReasonApproved || r.ReplyText != "改过的回答 ✅" ||
		r.DecidedBy != "lin" || !r.DecidedAt.Equal(now) || r.DecisionNote != "edited" || r.Attempts != 0 || !r.NextAttemptAt.Equal(now) {
		t.Fatalf("approved claim = %+v", r)
	}
	// The approved answer is due now, its age counted from the approval,
	// and goes through the retry path.
	due, err := s.DueRetries(ctx, now, 0)
	if err != nil || len(due) != 1 || due[0].ID != id || due[0].ReplyText != "改过的回答 ✅" || !due[0].CreatedAt.Equal(now) {
		t.Fatalf("due = %+v, %v", due, err)
	}
	if ok, err := s.BeginRetry(ctx, id, now); !ok || err != nil {
		t.Fatalf("BeginRetry = %v, %v", ok, err)
	}
	if r, _ := s.ClaimRow(ctx, id); r.Status != model.StatusPending || r.Attempts != 1 {
		t.Fatalf("after BeginRetry: %+v", r)
	}
	// Approving twice says what it is, and changes nothing.
	_, _, err = s.Decide(ctx, id, Decision{Action: DecideApprove, By: "ops"}, now)
	if !errors.Is(err, ErrNotDecidable) || !strings.Contains(err.Error(), "it is pending (decided by lin at ") ||
		!strings.Contains(err.Error(), "claim "+itoa(id)) {
		t.Fatalf("second approve: %v", err)
	}
	if r, _ := s.ClaimRow(ctx, id); r.DecidedBy != "lin" {
		t.Fatalf("second approve changed the claim: %+v", r)
	}
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

func TestDecideApproveKeepsTextAndExpiresLate(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := context.Background()
	won := mustRecord(t, s, comment("1"), t0, held("price"), flagged("complaint"))
	heldID, flagID := won[0].ID, won[1].ID
	// Too late: expired instead, never due.
	before, after, err := s.Decide(ctx, heldID, Decision{Action: DecideApprove, By: "lin", MaxAge: time.Hour}, t0.Add(time.Hour))
	if !errors.Is(err, ErrExpired) || before != model.StatusHeld || after != model.StatusExpired {
		t.Fatalf("late approve = %q → %q, %v", before, after, err)
	}
	if r, _ := s.ClaimRow(ctx, heldID); r.Status != model.StatusExpired || r.Reason != model.ReasonMaxAge || r.ReplyText != "价格请看橱窗 🛒" {
		t.Fatalf("expired claim = %+v", r)
	}
	if due, _ := s.DueRetries(ctx, t0.Add(48*time.Hour), 0); len(due) != 0 {
		t.Fatalf("an expired claim is due: %+v", due)
	}
	// done is for flagged claims; approve is not.
	if _, _, err := s.Decide(ctx, flagID, Decision{Action: DecideApprove}, t0); !errors.Is(err, ErrNotDecidable) || !strings.Contains(err.Error(), "it is flagged; only a held claim can be approved") {
		t.Fatalf("approve flagged: %v", err)
	}
	if _, after, err := s.Decide(ctx, flagID, Decision{Action: DecideDone, By: "客服小王"}, t0.Add(time.Minute)); err != nil || after != model.StatusHandled {
		t.Fatalf("done = %q, %v", after, err)
	}
	if r, _ := s.ClaimRow(ctx, flagID); r.Status != model.StatusHandled || r.DecidedBy != "客服小王" {
		t.Fatalf("handled claim = %+v", r)
	}
	if _, _, err := s.Decide(ctx, flagID, Decision{Action: DecideDone}, t0); !errors.Is(err, ErrNotDecidable) {
		t.Fatalf("done twice: %v", err)
	}
	if _, _, err := s.Decide(ctx, 999, Decision{Action: DecideReject}, t0); !errors.Is(err, ErrNoClaim) {
		t.Fatalf("missing claim: %v", err)
	}
	if _, _, err := s.Decide(ctx, flagID, Decision{Action: "maybe"}, t0); err == nil || !strings.Contains(err.Error(), "unknown decision") {
		t.Fatalf("unknown decision: %v", err)
	}
}

func TestDecideReject(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := context.Background()
	id := mustRecord(t, s, comment("1"), t0, held("price"))[0].ID
	if _, after, err := s.Decide(ctx, id, Decision{Action: DecideReject, By: "lin", Note: "价格已经变了"}, t0.Add(time.Minute)); err != nil || after != model.StatusRejected {
		t.Fatalf("reject = %q, %v", after, err)
	}
	r, _ := s.ClaimRow(ctx, id)
	if r.Status != model.StatusRejected || r.DecisionNote != "价格已经变了" || r.DecidedBy != "lin" {
		t.Fatalf("rejected claim = %+v", r)
	}
	if _, _, err := s.Decide(ctx, id, Decision{Action: DecideApprove}, t0.Add(2*time.Minute)); !errors.Is(err, ErrNotDecidable) || !strings.Contains(err.Error(), "it is rejected") {
		t.Fatalf("approve after reject: %v", err)
	}
	if due, _ := s.DueRetries(ctx, t0.Add(48*time.Hour), 0); len(due) != 0 {
		t.Fatalf("a rejected claim is due: %+v", due)
	}
}

func TestExpireHeld(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := context.Background()
	old := mustRecord(t, s, comment("1"), t0, held("price"))[0].ID
	young := mustRecord(t, s, comment("2"), t0.Add(23*time.Hour), held("price"))[0].ID
	flag := mustRecord(t, s, comment("3"), t0, flagged("complaint"))[0].ID
	exp, err := s.ExpireHeld(ctx, 24*time.Hour, t0.Add(24*time.Hour))
	if err != nil || len(exp) != 1 || exp[0] != (Expired{ID: old, Platform: model.PlatformDouyin, Responder: "kitkot"}) {
		t.Fatalf("ExpireHeld = %+v, %v", exp, err)
	}
	for id, want := range map[int64]string{old: model.StatusExpired, young: model.StatusHeld, flag: model.StatusFlagged} {
		if r, _ := s.ClaimRow(ctx, id); r.Status != want {
			t.Errorf("claim %d is %s, want %s", id, r.Status, want)
		}
	}
	if exp, err := s.ExpireHeld(ctx, 0, t0.Add(1000*time.Hour)); len(exp) != 0 || err != nil {
		t.Errorf("max_age 0 expired %v, %v", exp, err)
	}
}

// A held answer counts for pacing as possibly sent: a cooldown started by
// it holds while it waits for a person.
func TestHeldCountsForPacing(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := context.Background()
	c := comment("1")
	mustRecord(t, s, c, t0, held("price"))
	n, err := s.PacingHistory(false).Answers(ctx, pacing.Query{Rule: "price", Platform: c.Platform, UserUID: c.User.UID, Since: t0.Add(-time.Hour)})
	if err != nil || n != 1 {
		t.Fatalf("answers with a held claim = %d, %v", n, err)
	}
}

func TestOutbox(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := context.Background()
	c := comment("1")
	c.Text, c.User.Nickname = "我要投诉！退款😡", "史密斯"
	won := mustRecord(t, s, c, t0, flagged("complaint", "ops", "boss"), held("price", "ops"))
	// A second Record of the same claims wins nothing and adds no
	// notification.
	mustRecord(t, s, c, t0.Add(time.Second), flagged("complaint", "ops", "boss"))
	due, err := s.DueNotifications(ctx, "", t0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range due {
		got = append(got, n.Channel+"/"+n.Event+"/"+n.Claim.Rule)
		if n.Claim.CommentText != c.Text || n.Claim.UserNickname != "史密斯" || n.Claim.CommentID != "1" {
			t.Errorf("notification claim = %+v", n.Claim)
		}
	}
	if want := []string{"ops/flagged/complaint", "boss/flagged/complaint", "ops/held/price"}; !slices.Equal(got, want) {
		t.Fatalf("due = %v, want %v", got, want)
	}
	if due[2].Claim.ID != won[1].ID || due[2].Claim.ReplyText != "价格请看橱窗 🛒" {
		t.Errorf("held notification = %+v", due[2].Claim)
	}
	if err := s.NotificationsDelivered(ctx, []int64{due[0].ID}, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.NotificationsRetry(ctx, []int64{due[1].ID}, "DingTalk 130101: send too fast", t0.Add(10*time.Minute), t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	due, err = s.DueNotifications(ctx, "", t0.Add(5*time.Minute), 0)
	if err != nil || len(due) != 1 || due[0].Channel != "ops" || due[0].Event != EventHeld {
		t.Fatalf("due after delivery = %+v, %v", due, err)
	}
	if err := s.NotificationsAbandon(ctx, []int64{due[0].ID}, "too old", t0.Add(6*time.Minute)); err != nil {
		t.Fatal(err)
	}
	due, err = s.DueNotifications(ctx, "", t0.Add(10*time.Minute), 0)
	if err != nil || len(due) != 1 || due[0].Channel != "boss" || due[0].Attempts != 1 {
		t.Fatalf("due after the retry time = %+v, %v", due, err)
	}
	// Delivered once: a second Delivered of the same row changes nothing.
	if err := s.NotificationsDelivered(ctx, []int64{due[0].ID}, t0.Add(11*time.Minute)); err != nil {
		t.Fatal(err)
	}
	counts, err := s.NotificationCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if counts["ops"]["sent"] != 1 || counts["ops"]["failed"] != 1 || counts["boss"]["sent"] != 1 {
		t.Fatalf("counts = %v", counts)
	}
	// Pruning a terminal claim takes its notifications with it.
	if _, _, err := s.Decide(ctx, won[0].ID, Decision{Action: DecideDone}, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	res, err := s.Prune(ctx, t0.Add(48*time.Hour), 0)
	if err != nil || res.Replies != 1 {
		t.Fatalf("prune = %+v, %v", res, err)
	}
	if counts, _ := s.NotificationCounts(ctx); counts["boss"]["sent"] != 0 || counts["ops"]["failed"] != 1 {
		t.Fatalf("counts after pruning = %v", counts)
	}
}
