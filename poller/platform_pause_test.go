package poller_test

import (
	"context"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/platform"
	"github.com/autoreplyd/autoreplyd/poller"
	"github.com/autoreplyd/autoreplyd/rules"
	"github.com/autoreplyd/autoreplyd/store"
)

// quotaResponder refuses the first send with the given error, then accepts.
type quotaResponder struct {
	first error
	calls int
}

func (r *quotaResponder) Name() string { return "wechat" }
func (r *quotaResponder) Send(_ context.Context, reply model.Reply) (model.SendResult, error) {
	r.calls++
	if r.calls == 1 {
		return model.SendResult{}, r.first
	}
	return model.SendResult{PlatformReplyID: "r" + reply.Comment.ID}, nil
}

// A platform quota or "too frequent" answer pauses the responder (persisted,
// so a restart honours it): nothing more is sent until it ends, the claims
// wait retrying, and they go out once it is over.
func TestPlatformPausesResponder(t *testing.T) {
	t.Parallel()
	sh := mustLoc("Asia/Shanghai")
	for _, tc := range []struct {
		name  string
		err   *model.SendError
		until time.Time
	}{
		{"daily quota", &model.SendError{Kind: model.Retryable, Code: "45009", Msg: "reach max api daily quota limit", Reason: "quota", PauseToNextDay: true},
			time.Date(2026, 11, 23, 0, 0, 0, 0, sh)},
		{"too frequent", &model.SendError{Kind: model.Retryable, Code: "45011", Msg: "api minute-quota reach limit", Reason: "too_frequent", PauseFor: 10 * time.Minute},
			time.Date(2026, 11, 22, 10, 10, 0, 0, sh)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			dbPath := t.TempDir() + "/p.db"
			st, err := store.Open(ctx, dbPath)
			if err != nil {
				t.Fatal(err)
			}
			defer testutil.Close(t, st)
			set, err := rules.LoadBytes("r.yaml", []byte("rules:\n  - name: price\n    when: 'text contains \"多少钱\"'\n    reply: '您好{{ id }}'\n"), rules.Options{})
			if err != nil {
				t.Fatal(err)
			}
			now := time.Date(2026, 11, 22, 10, 0, 0, 0, sh)
			mk := func(id string) model.Comment {
				return model.Comment{Platform: model.PlatformWeChat, ID: "1:0:" + id, ThreadID: "1:0", PostID: "1:0", Text: "多少钱", CreatedAt: now}
			}
			src := &listSource{comments: []model.Comment{mk("1"), mk("2")}}
			if err := st.SaveThreadState(ctx, model.ThreadState{Platform: model.PlatformWeChat, ThreadID: "2247483647:0", Initialized: true}); err != nil {
				t.Fatal(err)
			}
			resp := &quotaResponder{first: tc.err}
			clock := now
			newPoller := func() *poller.Poller {
				p, err := poller.New(poller.Options{
					Store:      st,
					Bindings:   []poller.Binding{{Source: src, Responder: "wechat", Backlog: poller.BacklogAnswer}},
					Responders: map[string]platform.Responder{"wechat": resp},
					Location:   sh,
					Now:        func() time.Time { return clock },
				}, func() *rules.Set { return set })
				if err != nil {
					t.Fatal(err)
				}
				return p
			}
			p := newPoller()
			p.Cycle(ctx)
			if resp.calls != 1 {
				t.Fatalf("sends after the refusal: %d", resp.calls)
			}
			rows, err := st.History(ctx, store.Filter{})
			if err != nil || len(rows) != 2 {
				t.Fatalf("history: %+v %v", rows, err)
			}
			for _, r := range rows {
				if r.Status != model.StatusRetrying || !r.NextAttemptAt.Equal(tc.until) {
					t.Fatalf("row %s: %s/%s next %s, want retrying until %s", r.CommentID, r.Status, r.Reason, r.NextAttemptAt, tc.until)
				}
			}
			pauses, err := st.Pauses(ctx)
			if err != nil || len(pauses) != 1 || pauses[0].Scope != "responder:wechat" || !pauses[0].Until.Equal(tc.until) {
				t.Fatalf("pauses: %+v %v", pauses, err)
			}
			// A restart before the end honours the pause.
			clock = tc.until.Add(-time.Minute)
			newPoller().Cycle(ctx)
			if resp.calls != 1 {
				t.Fatalf("sent during the pause after a restart: %d", resp.calls)
			}
			// Once it ends, both answers go out, once each.
			clock = tc.until.Add(time.Minute)
			p2 := newPoller()
			p2.Cycle(ctx)
			if resp.calls != 3 {
				t.Fatalf("sends after the pause: %d", resp.calls)
			}
			rows, _ = st.History(ctx, store.Filter{Status: model.StatusSent})
			if len(rows) != 2 {
				t.Fatalf("sent rows: %+v", rows)
			}
		})
	}
}
