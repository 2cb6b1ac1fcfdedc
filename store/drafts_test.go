package store

import (
	"errors"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
)

func drafting(rule string, approve bool, notify ...string) Claim {
	return Claim{Rule: rule, Responder: "kitkot", Status: model.StatusDrafting, Draft: &DraftRequest{
		LLM: "deepseek", System: "你是小店的客服。", Prompt: "用户 小明 问：多少钱？😍", MaxLength: 100,
		Approve: approve, Notify: notify,
	}}
}

// A drafting claim's life: recorded with its request, due at once, begun by
// one worker only, its draft stored once (and then handed out with it, so
// it is never asked for again), held with its channels told in the same
// transaction; its tokens count against the endpoint's day.
func TestDraftLifecycle(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := t.Context()
	c := comment("7400000000000000001")
	won := mustRecord(t, s, c, t0, drafting("product_question", true, "ops"))
	if len(won) != 1 || won[0].Status != model.StatusDrafting {
		t.Fatalf("won %+v", won)
	}
	id := won[0].ID
	// A second record of the same comment and rule wins nothing.
	if again := mustRecord(t, s, c, t0, drafting("product_question", true, "ops")); len(again) != 0 {
		t.Fatalf("second record won %+v", again)
	}
	// No notification yet: nothing to look at before the draft.
	if n, err := s.DueNotifications(ctx, "", t0.Add(time.Hour), 0); err != nil || len(n) != 0 {
		t.Fatalf("notifications of a drafting claim: %+v, %v", n, err)
	}
	due, err := s.DueDrafts(ctx, "deepseek", t0, 0)
	if err != nil || len(due) != 1 {
		t.Fatalf("due drafts: %+v, %v", due, err)
	}
	it := due[0]
	if it.ID != id || it.Attempts != 0 || it.Draft != nil || it.Request.Prompt != "用户 小明 问：多少钱？😍" ||
		it.Request.System != "你是小店的客服。" || !it.Request.Approve || it.Request.MaxLength != 100 ||
		len(it.Request.Notify) != 1 || it.Comment.Text != c.Text || it.Comment.ID != c.ID {
		t.Fatalf("due item %+v", it)
	}
	if other, err := s.DueDrafts(ctx, "qwen", t0, 0); err != nil || len(other) != 0 {
		t.Fatalf("another endpoint's due drafts: %+v, %v", other, err)
	}
	// One worker begins it; a second with the same count does not.
	if ok, err := s.BeginDraft(ctx, id, 0, t0); err != nil || !ok {
		t.Fatalf("BeginDraft: %v %v", ok, err)
	}
	if ok, err := s.BeginDraft(ctx, id, 0, t0); err != nil || ok {
		t.Fatalf("second BeginDraft with the same count: %v %v", ok, err)
	}
	at := t0.Add(2 * time.Second)
	if err := s.SaveDraft(ctx, id, StoredDraft{Text: "亲，价格在橱窗里哦[比心]", Model: "deepseek-chat", PromptTokens: 120, CompletionTokens: 30, At: at}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveDraft(ctx, id, StoredDraft{Text: "another", At: at}); err == nil {
		t.Fatal("a second draft was stored over the first")
	}
	// A restart before the claim moved on finds the draft stored.
	due, err = s.DueDrafts(ctx, "", at, 0)
	if err != nil || len(due) != 1 || due[0].Draft == nil || due[0].Draft.Text != "亲，价格在橱窗里哦[比心]" || due[0].Attempts != 1 {
		t.Fatalf("due after the draft: %+v, %v", due, err)
	}
	if ok, err := s.BeginDraft(ctx, id, 1, at); err != nil || ok {
		t.Fatalf("BeginDraft of a stored draft: %v %v", ok, err)
	}
	if n, err := s.TokensSpent(ctx, "deepseek", t0); err != nil || n != 150 {
		t.Fatalf("tokens spent: %d, %v", n, err)
	}
	if n, err := s.TokensSpent(ctx, "deepseek", at.Add(time.Second)); err != nil || n != 0 {
		t.Fatalf("tokens spent after the draft: %d, %v", n, err)
	}
	ok, err := s.SettleDraft(ctx, id, DraftOutcome{Status: model.StatusHeld, ReplyText: "亲，价格在橱窗里哦[比心]"}, at)
	if err != nil || !ok {
		t.Fatalf("SettleDraft: %v %v", ok, err)
	}
	if ok, err := s.SettleDraft(ctx, id, DraftOutcome{Status: model.StatusFlagged}, at); err != nil || ok {
		t.Fatalf("a second SettleDraft: %v %v", ok, err)
	}
	n, err := s.DueNotifications(ctx, "", at, 0)
	if err != nil || len(n) != 1 || n[0].Channel != "ops" || n[0].Event != EventHeld || n[0].Claim.ReplyText != "亲，价格在橱窗里哦[比心]" {
		t.Fatalf("notifications after the draft was held: %+v, %v", n, err)
	}
	rows, err := s.History(ctx, Filter{})
	if err != nil || len(rows) != 1 || rows[0].Status != model.StatusHeld {
		t.Fatalf("history: %+v, %v", rows, err)
	}
	var llm, draft, modelName string
	var pt, ct int64
	if err := s.db.QueryRowContext(ctx, `SELECT llm, draft_text, llm_model, prompt_tokens, completion_tokens FROM replies_v WHERE id = ?`, id).
		Scan(&llm, &draft, &modelName, &pt, &ct); err != nil || llm != "deepseek" || draft != "亲，价格在橱窗里哦[比心]" ||
		modelName != "deepseek-chat" || pt != 120 || ct != 30 {
		t.Fatalf("replies_v: %q %q %q %d %d %v", llm, draft, modelName, pt, ct, err)
	}
	// Pacing counts drafting and held answers as possibly sent.
	if due, err := s.DueDrafts(ctx, "", at.Add(time.Hour), 0); err != nil || len(due) != 0 {
		t.Fatalf("a held draft is still due: %+v, %v", due, err)
	}
	st, err := s.DraftStats(ctx, StatsFilter{})
	if err != nil || len(st) != 1 {
		t.Fatalf("draft stats: %+v, %v", st, err)
	}
	if g := st[0]; g.LLM != "deepseek" || g.Drafted != 1 || g.Held != 1 || g.Waiting != 0 || g.Approved != 0 || g.Tokens != 150 {
		t.Errorf("draft stats: %+v", g)
	}
}

// A draft that failed for now stays drafting and is due again later; a
// drafting claim settled failed is pruned with its draft; a drafting claim
// is never pruned.
func TestDraftLaterAndPrune(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := t.Context()
	a := mustRecord(t, s, comment("1"), t0, drafting("q", false))[0].ID
	b := mustRecord(t, s, comment("2"), t0, drafting("q", false))[0].ID
	if err := s.DraftLater(ctx, a, "llm_http_429", "rate limited", t0.Add(time.Minute), t0); err != nil {
		t.Fatal(err)
	}
	due, err := s.DueDrafts(ctx, "", t0.Add(time.Second), 0)
	if err != nil || len(due) != 1 || due[0].ID != b {
		t.Fatalf("due while a waits: %+v, %v", due, err)
	}
	if due, _ := s.DueDrafts(ctx, "", t0.Add(time.Minute), 0); len(due) != 2 {
		t.Fatalf("due after a's wait: %+v", due)
	}
	if ok, err := s.SettleDraft(ctx, b, DraftOutcome{Status: model.StatusFailed, Reason: "llm_http_401", Error: "bad key"}, t0); err != nil || !ok {
		t.Fatalf("SettleDraft failed: %v %v", ok, err)
	}
	if _, err := s.SettleDraft(ctx, a, DraftOutcome{Status: model.StatusRetrying}, t0); err == nil {
		t.Fatal("retrying without a next attempt accepted")
	}
	res, err := s.Prune(ctx, t0.Add(time.Hour), 0)
	if err != nil || res.Replies != 1 {
		t.Fatalf("prune: %+v, %v", res, err)
	}
	var drafts int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM drafts`).Scan(&drafts); err != nil || drafts != 1 {
		t.Fatalf("drafts after pruning: %d, %v", drafts, err)
	}
	// A drafting claim without its request is refused.
	if _, err := s.Record(ctx, comment("3"), model.DispositionEvaluated, []Claim{{Rule: "q", Status: model.StatusDrafting}}, t0); err == nil ||
		errors.Is(err, ErrNoClaim) {
		t.Fatalf("a drafting claim without a request: %v", err)
	}
}
