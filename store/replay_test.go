package store

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/pacing"
)

// replayAll collects what ReplayComments gives, copying each comment (it
// reuses them).
func replayAll(t *testing.T, s *Store, since, until time.Time) []ReplayComment {
	t.Helper()
	var out []ReplayComment
	err := s.ReplayComments(context.Background(), since, until, func(rc *ReplayComment) error {
		c := *rc
		c.Claims = slices.Clone(rc.Claims)
		out = append(out, c)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestReplayComments(t *testing.T) {
	t.Parallel()
	s, path := openTest(t)
	ctx := context.Background()
	if err := s.SetThreadLabels(ctx, []ThreadLabels{{Platform: model.PlatformDouyin, ThreadID: comment("1").ThreadID,
		Labels: map[string]string{"campaign": "春季 🌸"}}}); err != nil {
		t.Fatal(err)
	}
	// Recorded out of id order: the walk follows the time each was seen.
	c3 := comment("3")
	c3.Text, c3.User.Nickname = "差评！退款 😡\u202e", "史密斯夫妇💑"
	mustRecord(t, s, c3, t0.Add(3*time.Minute), flagged("complaint"), held("refund"))
	mustRecord(t, s, comment("1"), t0.Add(time.Minute))
	won := mustRecord(t, s, comment("2"), t0.Add(2*time.Minute), pending("price"))
	if err := s.Settle(ctx, won[0].ID, Settlement{Status: model.StatusSent}, t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	// Neither backlog nor our own comments are replayed.
	if _, err := s.Record(ctx, comment("4"), model.DispositionBacklog, nil, t0.Add(4*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Record(ctx, comment("5"), model.DispositionSelf, nil, t0.Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	// An answer held, then approved with a person's text; another held,
	// then rejected.
	won = mustRecord(t, s, comment("6"), t0.Add(6*time.Minute), held("refund"))
	if _, _, err := s.Decide(ctx, won[0].ID, Decision{Action: DecideApprove, Text: "改过的 ✅", By: "lin"}, t0.Add(7*time.Minute)); err != nil {
		t.Fatal(err)
	}
	won = mustRecord(t, s, comment("7"), t0.Add(8*time.Minute), held("refund"))
	if _, _, err := s.Decide(ctx, won[0].ID, Decision{Action: DecideReject, Note: "edited", By: "lin"}, t0.Add(9*time.Minute)); err != nil {
		t.Fatal(err)
	}

	// Read-only, as replay opens it, while the writer is open.
	ro, err := OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, ro)
	got := replayAll(t, ro, time.Time{}, time.Time{})
	var ids []string
	for _, rc := range got {
		ids = append(ids, rc.Comment.ID)
	}
	if want := []string{"1", "2", "3", "6", "7"}; !slices.Equal(ids, want) {
		t.Fatalf("replayed %v, want %v", ids, want)
	}
	one := got[0]
	if len(one.Claims) != 0 || !one.SeenAt.Equal(t0.Add(time.Minute)) || one.Comment.Labels["campaign"] != "春季 🌸" ||
		!one.Comment.CreatedAt.Equal(t0.Add(-time.Minute)) || one.Comment.User != comment("1").User ||
		one.Comment.PostID != comment("1").PostID || one.Comment.RootID != comment("1").RootID || one.Comment.ReplyToID != "0" {
		t.Errorf("comment 1 = %+v", one)
	}
	if cl := got[1].Claims; len(cl) != 1 || cl[0].Rule != "price" || cl[0].Status != model.StatusSent || cl[0].ReplyText != "hello from price" || cl[0].Decided {
		t.Errorf("comment 2 claims = %+v", cl)
	}
	three := got[2]
	if three.Comment.Text != c3.Text || three.Comment.User.Nickname != "史密斯夫妇💑" {
		t.Errorf("comment 3 = %+v: the text does not round-trip", three.Comment)
	}
	if cl := three.Claims; len(cl) != 2 || cl[0].Rule != "complaint" || cl[0].Status != model.StatusFlagged ||
		cl[1].Rule != "refund" || cl[1].Status != model.StatusHeld || cl[1].ReplyText != "价格请看橱窗 🛒" || cl[0].ID > cl[1].ID {
		t.Errorf("comment 3 claims = %+v", cl)
	}
	if cl := got[3].Claims; len(cl) != 1 || cl[0].Status != model.StatusRetrying || !cl[0].Decided || !cl[0].Edited || cl[0].ReplyText != "改过的 ✅" {
		t.Errorf("approved claim = %+v", cl)
	}
	// A rejection's note is its reason, whatever it says.
	if cl := got[4].Claims; len(cl) != 1 || cl[0].Status != model.StatusRejected || !cl[0].Decided || cl[0].Edited {
		t.Errorf("rejected claim = %+v", cl)
	}

	// The period: seen at or after since, before until.
	got = replayAll(t, ro, t0.Add(2*time.Minute), t0.Add(6*time.Minute))
	if len(got) != 2 || got[0].Comment.ID != "2" || got[1].Comment.ID != "3" {
		t.Errorf("period [2m, 6m): %+v", got)
	}

	// fn's error ends the walk, as it is.
	stop := errors.New("stop")
	n := 0
	err = ro.ReplayComments(ctx, time.Time{}, time.Time{}, func(*ReplayComment) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("ReplayComments = %v after %d comments, want stop after 1", err, n)
	}
}

// A thread without a row, or with labels that are not an object of strings,
// replays without labels.
func TestReplayCommentsOddLabels(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	c := comment("1")
	c.ThreadID = "no-row"
	mustRecord(t, s, c, t0)
	c2 := comment("2")
	c2.ThreadID = "odd"
	mustRecord(t, s, c2, t0.Add(time.Second))
	if _, err := s.db.Exec(`INSERT INTO threads (platform, thread_id, labels) VALUES ('douyin', 'odd', '{"n": 3}')`); err != nil {
		t.Fatal(err)
	}
	for _, rc := range replayAll(t, s, time.Time{}, time.Time{}) {
		if rc.Comment.Labels != nil {
			t.Errorf("comment %s labels %v, want none", rc.Comment.ID, rc.Comment.Labels)
		}
	}
}

func TestPacedAnswers(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := context.Background()
	rec := func(id string, at time.Time, cl Claim) {
		c := comment(id)
		c.User.UID = "uid-" + id
		mustRecord(t, s, c, at, cl)
	}
	rec("1", t0, pending("price"))                                                                                    // pending: an answer
	rec("2", t0.Add(time.Minute), held("price"))                                                                      // held: counted
	rec("3", t0.Add(2*time.Minute), Claim{Rule: "price", Status: model.StatusDryRun, ReplyText: "x"})                 // dry run: counted
	rec("4", t0.Add(3*time.Minute), Claim{Rule: "price", Status: model.StatusSkipped, Reason: pacing.ReasonCooldown}) // not an answer
	rec("5", t0.Add(4*time.Minute), flagged("price"))                                                                 // not an answer
	rec("6", t0.Add(5*time.Minute), pending("other"))                                                                 // another rule
	rec("7", t0.Add(6*time.Minute), pending("price"))                                                                 // after until
	var got []pacing.Answer
	err := s.PacedAnswers(ctx, "price", t0, t0.Add(6*time.Minute), func(a pacing.Answer) error {
		got = append(got, a)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []pacing.Answer{
		{Rule: "price", Platform: "douyin", UserUID: "uid-1", ThreadID: comment("1").ThreadID, At: t0},
		{Rule: "price", Platform: "douyin", UserUID: "uid-2", ThreadID: comment("1").ThreadID, At: t0.Add(time.Minute)},
		{Rule: "price", Platform: "douyin", UserUID: "uid-3", ThreadID: comment("1").ThreadID, At: t0.Add(2 * time.Minute)},
	}
	if !slices.EqualFunc(got, want, func(a, b pacing.Answer) bool {
		return a.At.Equal(b.At) && a.Rule == b.Rule && a.UserUID == b.UserUID && a.ThreadID == b.ThreadID && a.Platform == b.Platform
	}) {
		t.Errorf("PacedAnswers = %+v\nwant %+v", got, want)
	}
}
