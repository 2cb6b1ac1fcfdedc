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

// listSource returns a fixed list of new comments once.
type listSource struct {
	comments []model.Comment
	done     bool
}

func (s *listSource) Platform() string { return model.PlatformWeChat }
func (s *listSource) Threads() []model.Thread {
	return []model.Thread{{ID: "2247483647:0", PostID: "2247483647:0"}}
}
func (s *listSource) PollThread(_ context.Context, th model.Thread, prev model.ThreadState, _ platform.KnownFunc) (model.PollResult, error) {
	st := prev
	st.Platform, st.ThreadID, st.Initialized = model.PlatformWeChat, th.ID, true
	if s.done {
		return model.PollResult{State: st, Calls: 1}, nil
	}
	s.done = true
	return model.PollResult{Comments: s.comments, State: st, Calls: 1}, nil
}

// recorder is a responder that records what it was asked to send.
type recorder struct{ sent []model.Reply }

func (r *recorder) Name() string { return "wechat" }
func (r *recorder) Send(_ context.Context, reply model.Reply) (model.SendResult, error) {
	r.sent = append(r.sent, reply)
	return model.SendResult{PlatformReplyID: "r" + reply.Comment.ID}, nil
}

// A comment the platform shows as already answered (in the WeChat backend)
// is recorded as handled by our side and never answered, even when a rule
// matches it.
func TestAlreadyAnsweredIsRecordedNotAnswered(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir()+"/a.db")
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, st)
	set, err := rules.LoadBytes("r.yaml", []byte("rules:\n  - name: price\n    when: 'text contains \"多少钱\"'\n    reply: '您好，价格请看菜单'\n"), rules.Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	mk := func(id string, answered bool) model.Comment {
		return model.Comment{Platform: model.PlatformWeChat, ID: "2247483647:0:" + id, ThreadID: "2247483647:0",
			PostID: "2247483647:0", Text: "多少钱", CreatedAt: now.Add(-time.Minute), AlreadyAnswered: answered}
	}
	src := &listSource{comments: []model.Comment{mk("1", true), mk("2", false)}}
	resp := &recorder{}
	// The thread was seen before (no backlog): both comments are new.
	if err := st.SaveThreadState(ctx, model.ThreadState{Platform: model.PlatformWeChat, ThreadID: "2247483647:0", Initialized: true}); err != nil {
		t.Fatal(err)
	}
	var events []poller.Event
	p, err := poller.New(poller.Options{
		Store:      st,
		Bindings:   []poller.Binding{{Source: src, Responder: "wechat"}},
		Responders: map[string]platform.Responder{"wechat": resp},
		Now:        func() time.Time { return now },
		OnEvent:    func(e poller.Event) { events = append(events, e) },
	}, func() *rules.Set { return set })
	if err != nil {
		t.Fatal(err)
	}
	p.Cycle(ctx)
	if len(resp.sent) != 1 || resp.sent[0].Comment.ID != "2247483647:0:2" {
		t.Fatalf("sent: %+v", resp.sent)
	}
	var answered *poller.Event
	for i := range events {
		if events[i].Comment.ID == "2247483647:0:1" {
			answered = &events[i]
		}
	}
	if answered == nil || answered.Disposition != model.DispositionSelf || answered.Rule != "" {
		t.Fatalf("already answered comment: %+v", answered)
	}
	known, err := st.Known(ctx, model.PlatformWeChat, []string{"2247483647:0:1"})
	if err != nil || !known["2247483647:0:1"] {
		t.Fatalf("not recorded: %v %v", known, err)
	}
	rows, err := st.History(ctx, store.Filter{})
	if err != nil || len(rows) != 1 || rows[0].CommentID != "2247483647:0:2" {
		t.Fatalf("history: %+v %v", rows, err)
	}
}
