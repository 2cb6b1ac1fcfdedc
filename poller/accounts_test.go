package poller_test

import (
	"context"
	"slices"
	"testing"

	"github.com/autoreplyd/autoreplyd/metrics"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/platform"
	"github.com/autoreplyd/autoreplyd/poller"
	"github.com/autoreplyd/autoreplyd/simulator"
)

// A binding's Routes send one thread's answers to another responder; the
// other threads keep the binding's, and a rule's via overrides both.
func TestRoutesSendAThreadThroughItsResponder(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{rules: viaRules, threads: []model.Thread{{ID: threadA, PostID: aweme}, {ID: threadB, PostID: aweme}}})
	brand := &recResponder{name: "brand"}
	other := &recResponder{name: "other"}
	m := metrics.New("test")
	p := h.newPoller(func(o *poller.Options) {
		o.Metrics = m
		o.Responders["brand"], o.Responders["other"] = brand, other
		o.Pacing["brand"], o.Pacing["other"] = poller.Pacing{}, poller.Pacing{}
		o.Bindings[0].Routes = map[string]string{threadB: "brand"}
	})
	h.initThreads(p)
	a := h.add(threadA, "10000000000000002", "小红", "谢谢")
	b := h.add(threadB, "10000000000000003", "小明", "谢谢，很喜欢")
	h.cycle(p)
	if posts := h.wantPosts(1); posts[0].Text != "谢谢小红的支持" {
		t.Fatalf("kitkot posts: %+v", posts)
	}
	if brand.count() != 1 || brand.sent[0].Comment.ID != b || other.count() != 1 || other.sent[0].Comment.ID != b {
		t.Fatalf("brand sent %+v, other sent %+v", brand.sent, other.sent)
	}
	if r := h.row(a); r.Responder != responderName {
		t.Errorf("thread A: %+v", r)
	}
	for _, r := range h.rowsOf(b) {
		if want := map[string]string{"thanks": "brand", "love": "other"}[r.Rule]; r.Responder != want {
			t.Errorf("thread B, rule %s: responder %q, want %q", r.Rule, r.Responder, want)
		}
	}
	// Each responder's answers are counted under its name.
	for _, r := range []string{responderName, "brand", "other"} {
		wantMetric(t, m, 1, "autoreplyd_replies_total", "platform", model.PlatformDouyin, "responder", r, "status", model.StatusSent)
	}
}

// emptySource is a source of the harness's platform watching nothing: a
// second account's section.
type emptySource struct{}

func (emptySource) Platform() string        { return model.PlatformDouyin }
func (emptySource) Threads() []model.Thread { return nil }
func (emptySource) PollThread(context.Context, model.Thread, model.ThreadState, platform.KnownFunc) (model.PollResult, error) {
	return model.PollResult{}, nil
}

// The self_uids of every source of a platform are ours in every thread of
// it: a comment by another section's account is never answered.
func TestSelfUIDsOfEverySectionAreOurs(t *testing.T) {
	t.Parallel()
	const brandUID = "7000000000000000202"
	h := newHarness(t, setup{rules: viaRules})
	p := h.newPoller(func(o *poller.Options) {
		o.Bindings = append(o.Bindings, poller.Binding{Source: emptySource{}, Name: "douyin-brand",
			Responder: responderName, SelfUIDs: []string{brandUID}})
	})
	h.initThreads(p)
	mine := h.add(threadA, brandUID, "品牌号", "谢谢大家")
	theirs := h.add(threadA, "10000000000000002", "小红", "谢谢")
	h.cycle(p)
	if posts := h.wantPosts(1); posts[0].Text != "谢谢小红的支持" {
		t.Fatalf("kitkot posts: %+v", posts)
	}
	if rows := h.rowsOf(mine); len(rows) != 0 {
		t.Errorf("the brand account's comment was handled: %+v", rows)
	}
	if r := h.row(theirs); r.Status != model.StatusSent {
		t.Errorf("a stranger's comment: %+v", r)
	}
}

// A source's pause, stop and metrics are its section's: a named Douyin
// source stopped by a balance answer is `source:douyin-shop`, and the other
// source of the platform goes on.
func TestSourceStateIsPerSection(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	m := metrics.New("test")
	p := h.newPoller(func(o *poller.Options) {
		o.Metrics = m
		o.Bindings[0].Name = "douyin-shop"
		o.Bindings = append(o.Bindings, poller.Binding{Source: emptySource{}, Name: "douyin-brand", Responder: responderName})
	})
	h.initThreads(p)
	h.jo.Faults.Push(simulator.Fault{Kind: simulator.FaultCode, Code: 601})
	h.cycle(p)
	if got := p.Stopped(); len(got) != 1 || got["douyin-shop"] == "" {
		t.Fatalf("stopped: %v", got)
	}
	pauses, err := p.Pauses(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	var scopes []string
	for _, pz := range pauses {
		scopes = append(scopes, pz.Scope+" "+pz.Kind)
	}
	if !slices.Contains(scopes, "source:douyin-shop paused") || !slices.Contains(scopes, "source:douyin-shop stopped") || len(scopes) != 2 {
		t.Errorf("pauses: %v", scopes)
	}
	wantMetric(t, m, 1, "autoreplyd_poll_errors_total", "platform", model.PlatformDouyin, "source", "douyin-shop", "code", "601")
	wantMetric(t, m, 1, "autoreplyd_paused", "scope", "source:douyin-shop")
	wantMetric(t, m, 0, "autoreplyd_paused", "scope", "source:douyin-brand")
	wantMetric(t, m, 0, "autoreplyd_polls_total", "platform", model.PlatformDouyin, "source", "douyin-brand")
}
