package poller

// The drafting stage: drafting claims get their answer from a language
// model, apart from the cycles. A claim is recorded drafting in the page's
// transaction (what to ask is kept with it), so polling never waits for a
// model; each endpoint's drafts are then asked for one at a time, under its
// rate limit, by RunDrafts (the daemon) or Drafts (run --once, tests). The
// database is the truth: a request is marked begun before it is made, and
// the model's answer is stored as soon as it arrives, so a restart neither
// asks twice for an answer it has nor loses one; the claim then moves on
// through the guardrails (held for a person, sent by the next cycle's
// retries, or flagged).

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/autoreplyd/autoreplyd/llm"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/platform"
	"github.com/autoreplyd/autoreplyd/rules"
	"github.com/autoreplyd/autoreplyd/store"
)

// Reasons of drafted answers.
const (
	ReasonLLMBudget    = "llm_budget"             // the endpoint's daily_tokens are spent: skipped
	ReasonDraftTooLong = rules.ReasonDraftTooLong // over the rule's max_length or the platform's limit: flagged
	ReasonRejectIf     = rules.ReasonRejectIf     // the rule's reject_if held for the draft (or failed): flagged
	ReasonRuleChanged  = "rule_changed"           // the rule no longer drafts (edited or removed) before its draft was asked for: failed
	ReasonNoLLM        = "no_llm"                 // the endpoint is not configured: failed
)

// draftBatch is how many due drafts of one endpoint are read at a time.
const draftBatch = 20

// draftIdle is how long RunDrafts waits for a new drafting claim before it
// looks at the database again (a draft due later, or one another process
// recorded).
const draftIdle = 5 * time.Second

// LLMScope is the pause scope of a model endpoint, by its name.
func LLMScope(name string) string { return "llm:" + name }

// wakeDrafts tells RunDrafts that a drafting claim was recorded.
func (p *Poller) wakeDrafts() {
	select {
	case p.draftWake <- struct{}{}:
	default:
	}
}

// RunDrafts asks for the drafts of drafting claims until ctx ends: one
// goroutine per endpoint, so a slow model holds up only its own drafts, and
// none of them holds up a cycle. A request in flight when ctx ends is
// abandoned: its claim stays drafting and is asked for again after the next
// start.
func (p *Poller) RunDrafts(ctx context.Context) {
	if len(p.opts.LLM) == 0 {
		return
	}
	var wg sync.WaitGroup
	wakes := map[string]chan struct{}{}
	for name := range p.opts.LLM {
		ch := make(chan struct{}, 1)
		wakes[name] = ch
		wg.Go(func() {
			for {
				var st Stats
				more := p.draftEndpoint(ctx, name, &st)
				if ctx.Err() != nil {
					return
				}
				if more {
					continue
				}
				t := time.NewTimer(draftIdle)
				select {
				case <-ctx.Done():
					t.Stop()
					return
				case <-ch:
				case <-t.C:
				}
				t.Stop()
			}
		})
	}
	// One wake-up for all: fan it out.
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			return
		case <-p.draftWake:
			for _, ch := range wakes {
				select {
				case ch <- struct{}{}:
				default:
				}
			}
		}
	}
}

// Drafts asks for every draft due now, endpoint by endpoint, and returns
// what it did (run --once, tests).
func (p *Poller) Drafts(ctx context.Context) Stats {
	var st Stats
	for name := range p.opts.LLM {
		more := true
		for more && ctx.Err() == nil {
			more = p.draftEndpoint(ctx, name, &st)
		}
	}
	return st
}

// draftEndpoint works through one batch of endpoint name's due drafts; it
// reports whether more may be due at once.
func (p *Poller) draftEndpoint(ctx context.Context, name string, st *Stats) bool {
	client := p.opts.LLM[name]
	if p.llmPaused(ctx, name) {
		return false
	}
	items, err := p.opts.Store.DueDrafts(ctx, name, p.opts.Now(), draftBatch)
	if err != nil {
		if failed(ctx, p.log, "load due drafts", "llm", name, "err", err) {
			st.Errors++
		}
		return false
	}
	errs := st.Errors
	for _, it := range items {
		if ctx.Err() != nil {
			return false
		}
		if !p.draftOne(ctx, name, client, it, st) {
			return false
		}
	}
	// A full batch may have more behind it, unless something failed: the
	// same claims would come back at once.
	return len(items) == draftBatch && st.Errors == errs
}

// llmPaused says whether endpoint name is paused (a 4xx paused it until
// `autoreplyd resume llm:NAME`).
func (p *Poller) llmPaused(ctx context.Context, name string) bool {
	pz, err := p.opts.Store.Pauses(ctx)
	if err != nil {
		return true // cannot tell: ask nothing now
	}
	now := p.opts.Now()
	for _, z := range pz {
		if z.Scope == LLMScope(name) && (z.Until.IsZero() || now.Before(z.Until)) {
			return true
		}
	}
	return false
}

// draftOne asks for one claim's draft (unless it is stored) and moves the
// claim on; false: stop this endpoint for now.
func (p *Poller) draftOne(ctx context.Context, name string, client *llm.Client, it store.DraftItem, st *Stats) bool {
	log := p.log.With("llm", name, "claim", it.ID, "rule", it.Rule, "platform", it.Comment.Platform, "comment", it.Comment.ID)
	now := p.opts.Now()
	// Store writes finish even while stopping: an answer paid for is kept.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	settle := func(o store.DraftOutcome) {
		ok, err := p.opts.Store.SettleDraft(sctx, it.ID, o, p.opts.Now())
		if err != nil {
			st.Errors++
			log.Error("settle draft: it is taken up again", "status", o.Status, "problem", store.Describe(err), "err", err)
			return
		}
		if !ok {
			return // moved on elsewhere (another process)
		}
		switch o.Status {
		case model.StatusHeld:
			st.Held++
		case model.StatusFlagged:
			st.Flagged++
		case model.StatusFailed:
			st.Failed++
		case model.StatusSkipped:
			st.Skipped++
		}
		p.opts.Metrics.Reply(it.Comment.Platform, it.Responder, o.Status, -1)
		p.emit(Event{Comment: it.Comment, Disposition: model.DispositionEvaluated, Rule: it.Rule, Responder: it.Responder,
			Status: o.Status, Reason: o.Reason, Reply: o.ReplyText})
	}
	draft := it.Draft
	if draft == nil {
		if client == nil {
			settle(store.DraftOutcome{Status: model.StatusFailed, Reason: ReasonNoLLM, Error: "llm." + name + " is not configured"})
			return true
		}
		if age := now.Sub(it.CreatedAt); !it.CreatedAt.IsZero() && age >= p.opts.MaxRetryAge {
			settle(store.DraftOutcome{Status: model.StatusFailed, Reason: ReasonRetriesExhausted,
				Error: fmt.Sprintf("no draft: claimed %s ago, past the max retry age %s (after %d requests)", age.Round(time.Second), p.opts.MaxRetryAge, it.Attempts)})
			return true
		}
		if budget := client.Spec().DailyTokens; budget > 0 {
			spent, err := p.opts.Store.TokensSpent(ctx, name, p.dayStart(now))
			if err != nil {
				if failed(ctx, log, "count the tokens spent today: asked for later", "err", err) {
					st.Errors++
				}
				return false
			}
			if spent >= budget {
				settle(store.DraftOutcome{Status: model.StatusSkipped, Reason: ReasonLLMBudget,
					Error: fmt.Sprintf("llm.%s.daily_tokens (%d) spent today (%d)", name, budget, spent)})
				return true
			}
		}
		set := p.rules()
		facts, ok := set.DraftContext(it.Rule)
		if !ok {
			settle(store.DraftOutcome{Status: model.StatusFailed, Reason: ReasonRuleChanged,
				Error: "rule " + it.Rule + " no longer drafts: its draft was not asked for"})
			return true
		}
		// The rate first: a request recorded begun is made at once.
		if err := client.Ready(ctx); err != nil {
			return false
		}
		if ok, err := p.opts.Store.BeginDraft(ctx, it.ID, it.Attempts, now); err != nil || !ok {
			if err != nil && failed(ctx, log, "begin draft: asked for later", "problem", store.Describe(err), "err", err) {
				st.Errors++
			}
			return err == nil
		}
		start := time.Now()
		d, err := client.Draft(ctx, llm.Request{System: it.Request.System, Context: facts, Prompt: it.Request.Prompt})
		if llm.Sent(err) {
			var e *llm.Error
			pt, ct := d.PromptTokens, d.CompletionTokens
			if errors.As(err, &e) && pt == 0 && ct == 0 {
				pt, ct = e.Usage.PromptTokens, e.Usage.CompletionTokens
			}
			p.opts.Metrics.LLMRequest(name, err, pt, ct, time.Since(start))
		}
		kind := llm.KindOf(err)
		switch {
		case err == nil || kind == llm.KindRefused:
			// Stored first: whatever happens next, it is never asked for
			// again.
			sd := store.StoredDraft{Text: d.Text, Model: d.Model, PromptTokens: d.PromptTokens, CompletionTokens: d.CompletionTokens, At: p.opts.Now()}
			if err := p.opts.Store.SaveDraft(sctx, it.ID, sd); err != nil {
				st.Errors++
				log.Error("save draft", "problem", store.Describe(err), "err", err)
				return false
			}
			if kind == llm.KindRefused {
				reason := llmReason(err, "llm_refused")
				log.Warn("the model gave no usable draft: flagged for a person", "reason", reason, "err", err)
				settle(store.DraftOutcome{Status: model.StatusFlagged, Reason: reason, Error: err.Error(), ReplyText: d.Text})
				return true
			}
			draft = &sd
		case ctx.Err() != nil:
			// Stopping: the request was cut short; asked again after the
			// next start.
			_ = p.opts.Store.DraftLater(sctx, it.ID, ReasonShutdown, "stopped while drafting", p.opts.Now(), p.opts.Now())
			return false
		case kind == llm.KindFatal:
			reason := llmReason(err, "llm_error")
			settle(store.DraftOutcome{Status: model.StatusFailed, Reason: reason, Error: err.Error()})
			why := fmt.Sprintf("%s: %v", reason, err)
			if perr := p.persistPause(ctx, LLMScope(name), time.Time{}, why); perr != nil {
				log.Error("persist pause", "err", perr)
			}
			log.Error("LLM ENDPOINT PAUSED: it refuses our requests (key, model or account); its drafts wait until `autoreplyd resume "+LLMScope(name)+"`",
				"reason", reason, "err", err)
			return false
		default: // retry: timeout, 429, 5xx, connection
			reason := llmReason(err, "llm_error")
			next := p.opts.Now().Add(p.retryDelay(it.Attempts + 1))
			if err := p.opts.Store.DraftLater(sctx, it.ID, reason, err.Error(), next, p.opts.Now()); err != nil {
				st.Errors++
				log.Error("draft later", "problem", store.Describe(err), "err", err)
			}
			st.Retrying++
			log.Warn("draft not received: asked again later", "reason", reason, "next", next.Format(time.RFC3339), "err", err)
			// A model in trouble: leave its other drafts for later.
			return false
		}
	}
	settle(p.guard(it, draft.Text))
	return true
}

// guard decides what a stored draft becomes (see JudgeDraft).
func (p *Poller) guard(it store.DraftItem, text string) store.DraftOutcome {
	var tc platform.TextChecker
	if c, ok := p.opts.Responders[it.Responder].(platform.TextChecker); ok {
		tc = c
	}
	v := JudgeDraft(p.rules(), it.Rule, it.Comment, text, it.Request.MaxLength, tc, p.opts.Now())
	switch {
	case v.Status == model.StatusFlagged:
		return store.DraftOutcome{Status: model.StatusFlagged, Reason: v.Reason, Error: v.Why, ReplyText: text}
	case it.Request.Approve:
		return store.DraftOutcome{Status: model.StatusHeld, ReplyText: text}
	}
	return store.DraftOutcome{Status: model.StatusRetrying, Reason: store.ReasonDrafted, ReplyText: text, NextAttempt: p.opts.Now()}
}

// DraftVerdict is what the guardrails make of a draft: Status flagged with
// the Reason and Why, or "" when it may go on (held or sent, as the rule
// says).
type DraftVerdict struct {
	Status, Reason, Why string
}

// JudgeDraft runs the guardrails of rule on a model's draft text for
// comment c: the rule's own (rules.Set.JudgeDraft: reject_if, then
// maxLength; a failing reject_if stops the draft too, as untrusted), then
// the platform's limit (tc, when known). The drafting stage,
// `explain --draft` and the console's playground judge drafts with it.
func JudgeDraft(set *rules.Set, rule string, c model.Comment, text string, maxLength int, tc platform.TextChecker, now time.Time) DraftVerdict {
	flag := func(reason, why string) DraftVerdict {
		return DraftVerdict{Status: model.StatusFlagged, Reason: reason, Why: why}
	}
	reason, why, err := set.JudgeDraft(rule, c, text, maxLength, now)
	switch {
	case err != nil:
		return flag(ReasonRejectIf, "reject_if failed, so the draft is not trusted: "+err.Error())
	case reason != "":
		return flag(reason, why)
	}
	if tc != nil {
		if err := tc.CheckText(c, text); err != nil {
			return flag(ReasonDraftTooLong, err.Error())
		}
	}
	return DraftVerdict{}
}

// llmReason is a claim's reason for a model's error: llm_ and the error's
// own word (llm_http_429, llm_refusal, ...), else fallback.
func llmReason(err error, fallback string) string {
	var e *llm.Error
	if errors.As(err, &e) && e.Reason != "" {
		return "llm_" + e.Reason
	}
	return fallback
}

// dayStart is the start of now's day in the configured time zone: daily
// budgets, like daily caps, are local days.
func (p *Poller) dayStart(now time.Time) time.Time {
	loc := p.opts.Location
	t := now.In(loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
}
