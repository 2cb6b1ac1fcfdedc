package poller_test

import (
	"context"
	"sync"
	"testing"

	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/poller"
	"github.com/autoreplyd/autoreplyd/store"
)

// recResponder records what it is asked to send.
type recResponder struct {
	name string
	mu   sync.Mutex
	sent []model.Reply
}

func (r *recResponder) Name() string { return r.name }

func (r *recResponder) Send(_ context.Context, reply model.Reply) (model.SendResult, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, reply)
	return model.SendResult{}, nil
}

func (r *recResponder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.sent)
}

const viaRules = `rules:
  - name: thanks
    when: 'text contains "谢谢"'
    reply: '谢谢{{ user.nickname }}的支持'
    continue: true
  - name: love
    when: 'text contains "喜欢"'
    reply: '{{ user.nickname }}，我们也喜欢你'
    via: other
`

// A rule's via sends its answers through the named responder, under that
// responder's daily cap; the other rules keep the source's responder.
func TestViaRoutesToItsResponder(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{rules: viaRules})
	other := &recResponder{name: "other"}
	p := h.newPoller(func(o *poller.Options) {
		o.Responders["other"] = other
		o.Pacing["other"] = poller.Pacing{DailyCap: 1}
	})
	h.initThreads(p)
	first := h.add(threadA, "10000000000000002", "小红", "谢谢，很喜欢")
	st := h.cycle(p)
	if st.Claimed != 2 || st.Sent != 2 {
		t.Fatalf("stats: %+v", st)
	}
	if posts := h.wantPosts(1); posts[0].Text != "谢谢小红的支持" {
		t.Fatalf("kitkot posts: %+v", posts)
	}
	if other.count() != 1 || other.sent[0].Text != "小红，我们也喜欢你" {
		t.Fatalf("other sent: %+v", other.sent)
	}
	byRule := map[string]store.HistoryRow{}
	for _, r := range h.rowsOf(first) {
		byRule[r.Rule] = r
	}
	if byRule["thanks"].Responder != responderName || byRule["love"].Responder != "other" {
		t.Fatalf("rows: %+v", byRule)
	}

	// other's daily cap is reached; kitkot's answers go on.
	second := h.add(threadA, "10000000000000003", "小明", "谢谢，也喜欢")
	h.cycle(p)
	for _, r := range h.rowsOf(second) {
		switch r.Rule {
		case "thanks":
			wantStatus(t, r, model.StatusSent, "")
		case "love":
			wantStatus(t, r, model.StatusSkipped, poller.ReasonDailyCap)
			if r.Responder != "other" {
				t.Errorf("love row: %+v", r)
			}
		}
	}
	if other.count() != 1 {
		t.Fatalf("other sent past its cap: %+v", other.sent)
	}
}
