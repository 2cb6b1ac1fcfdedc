package poller

// Recording and evaluation: a page of new comments is recorded with its
// claims in one transaction, each comment evaluated against the rules.

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/pacing"
	"github.com/autoreplyd/autoreplyd/rules"
	"github.com/autoreplyd/autoreplyd/store"
)

// handleComments records and answers the comments one poll found, oldest
// first, in two steps. First every comment is recorded with its claims in one
// store batch (one commit for the page): answers to send are claimed queued,
// not yet attempted. Then the queued answers are sent one by one, each marked
// attempted (committed) right before its send and settled after it. A crash
// in the first step loses nothing (the comments are seen again next cycle); a
// crash between the steps leaves queued claims that the next start sends.
// It stops at the first store error or at cancellation during the first step,
// returning the error: the comments not recorded are seen again next cycle.
// firstSight: the comments are the backlog of a thread (or video) seen for
// the first time; skip: they are recorded and never evaluated (a video's
// top-level comments under `top_level: skip`).
func (p *Poller) handleComments(ctx context.Context, b Binding, comments []model.Comment, firstSight, skip bool, st *Stats) error {
	if len(comments) == 0 {
		return nil
	}
	var pg *page
	err := p.opts.Store.Batch(ctx, func(db *store.Store) error {
		pg = &page{queued: map[string]int{}} // a failed commit retried from scratch
		return p.recordPage(ctx, db, b, comments, firstSight, skip, pg)
	})
	if err != nil {
		return err
	}
	// Committed: now the page's outcomes are facts.
	st.add(pg.st)
	for _, f := range pg.after {
		f()
	}
	for _, q := range pg.send {
		if p.snd != nil {
			p.snd.enqueue(q)
		} else {
			p.send(ctx, q.id, q.claim, q.comment, st, false)
		}
	}
	return nil
}

// page collects what recording one page decided, acted on once its batch is
// committed.
type page struct {
	st     Stats
	after  []func()       // events and metrics of the recorded comments
	send   []queuedSend   // the answers to send, in order
	queued map[string]int // answers queued by responder, counted against its cap
}

type queuedSend struct {
	id      int64
	claim   store.Claim
	comment model.Comment
}

// recordPage records comments and their claims through db, the page's batch.
func (p *Poller) recordPage(ctx context.Context, db *store.Store, b Binding, comments []model.Comment, firstSight, skip bool, pg *page) error {
	platform := b.Source.Platform()
	ids := make([]string, len(comments))
	for i, c := range comments {
		ids[i] = c.ID
	}
	own, err := db.OwnReplies(ctx, platform, ids)
	if err != nil {
		return err
	}
	// Our own replies are also recognised by their text: a send whose
	// outcome is unknown left no platform id to recognise them by.
	ownText, err := p.ownTexts(ctx, db, platform, comments)
	if err != nil {
		return err
	}
	self := p.self[platform]
	set := p.rules()
	for _, c := range comments {
		if err := ctx.Err(); err != nil {
			return err
		}
		byUs := c.User.UID != "" && self[c.User.UID]
		// A comment with the text of one of our claims is ours only when
		// one of our accounts wrote it: anyone can post the same words.
		// Without self_uids nobody can tell, so such a comment is not
		// answered (it may be our own reply, from a send whose outcome is
		// unknown) but settles nothing (`check` warns).
		textOurs := ownText[c.ThreadID+"\x00"+c.Text] && (byUs || len(self) == 0)
		var disp string
		switch {
		case own[c.ID] || byUs || textOurs:
			disp = model.DispositionSelf
		case c.AlreadyAnswered:
			// Answered on the platform already (e.g. in the WeChat backend):
			// handled by our side, never answered again.
			disp = model.DispositionSelf
		case firstSight && b.Backlog != BacklogAnswer:
			disp = model.DispositionBacklog
		case skip:
			// A video's top-level comment under `top_level: skip`: known
			// from now on, never evaluated. There is no disposition of its
			// own; backlog is the one that says "seen, not for the rules".
			disp = model.DispositionBacklog
		default:
			disp = model.DispositionEvaluated
		}
		if byUs && !own[c.ID] && ownText[c.ThreadID+"\x00"+c.Text] {
			// A reply by one of our accounts with a text we claimed here,
			// posted after the claim, settles the oldest such unknown send:
			// it went out. (Only ownText comments can match: Reconcile wants
			// an unknown claim with this text in this thread.) A stranger
			// posting the same text settles nothing: their comment is
			// evaluated like any other.
			if id, ok, err := db.Reconcile(ctx, platform, c.ThreadID, c.Text, c.ID, c.CreatedAt, p.opts.Now()); err != nil {
				return err
			} else if ok {
				pg.after = append(pg.after, func() {
					p.log.Info("unknown send reconciled: our reply showed up in the thread", "platform", platform, "thread", c.ThreadID, "claim", id, "comment", c.ID)
				})
			}
		}
		if own[c.ID] && !byUs && c.User.UID != "" && len(self) > 0 {
			p.warnSelfUID(b.SourceName(), c.User.UID, pg)
		}
		if disp != model.DispositionEvaluated {
			if _, err := db.Record(ctx, c, disp, nil, p.opts.Now()); err != nil {
				return err
			}
			pg.st.New++
			pg.after = append(pg.after, func() {
				p.opts.Metrics.Comment(platform, disp)
				p.emit(Event{Comment: c, Disposition: disp})
			})
			continue
		}
		if err := p.evaluate(ctx, db, b, set, c, pg); err != nil {
			return err
		}
		pg.st.New++
		pg.after = append(pg.after, func() { p.opts.Metrics.Comment(platform, disp) })
	}
	return nil
}

// warnSelfUID says, once per account, that a reply we posted (known by the
// id the platform gave it) was written by an account missing from the
// source's self_uids: the text of an unknown send's reply is trusted only
// from the accounts listed there, so with this one missing such a reply
// would be taken for a stranger's.
func (p *Poller) warnSelfUID(source, uid string, pg *page) {
	p.mu.Lock()
	key := source + "\x00" + uid
	first := !p.selfWarned[key]
	p.selfWarned[key] = true
	p.mu.Unlock()
	if first {
		pg.after = append(pg.after, func() {
			p.log.Warn("our answers are posted as an account missing from self_uids: add it, or a send whose outcome is unknown cannot be reconciled and its reply could be answered",
				"key", "sources."+source+".self_uids", "uid", uid)
		})
	}
}

// ownTexts finds the comments whose text is a reply we claimed in their
// thread; the keys are thread id + NUL + text.
func (p *Poller) ownTexts(ctx context.Context, db *store.Store, platform string, comments []model.Comment) (map[string]bool, error) {
	byThread := map[string][]string{}
	for _, c := range comments {
		byThread[c.ThreadID] = append(byThread[c.ThreadID], c.Text)
	}
	out := map[string]bool{}
	for thread, texts := range byThread {
		own, err := db.OwnTexts(ctx, platform, thread, texts)
		if err != nil {
			return nil, err
		}
		for t := range own {
			out[thread+"\x00"+t] = true
		}
	}
	return out, nil
}

// evaluate runs the rules on one comment, commits its claims and sends.
func (p *Poller) evaluate(ctx context.Context, db *store.Store, b Binding, set *rules.Set, c model.Comment, pg *page) error {
	st := &pg.st
	now := p.opts.Now()
	decisions, ruleErrs := set.Evaluate(c, now)
	for _, re := range ruleErrs {
		st.RuleError++
		st.Errors++
		p.opts.Metrics.RuleError(re.Rule)
		p.log.Error("rule failed on a comment; evaluation went on with the next rule",
			"rule", re.Rule, "platform", c.Platform, "comment", c.ID, "err", re.Err)
	}
	claims := make([]store.Claim, 0, len(decisions))
	var chosen []string // texts this comment already answers with, oldest first
	// Pacing counts the answers in the store: those of earlier comments,
	// this page's included, were recorded (in the page's batch, which db
	// reads) before this one is evaluated. (The decisions of one comment are
	// of distinct rules: they cannot pace each other.)
	history := db.PacingHistory(p.opts.DryRun)
	for _, d := range decisions {
		// A rule's via routes its answer to another responder, whose cap,
		// pacing and variant rotation then apply.
		responder := cmp.Or(d.Via, b.Routes[c.ThreadID], b.Responder)
		cl := store.Claim{Rule: d.Rule, Responder: responder, Notify: d.Notify}
		if d.Action == rules.ActionFlag {
			// A person must look: nothing is sent.
			cl.Status = model.StatusFlagged
			claims = append(claims, cl)
			continue
		}
		if d.Draft != nil {
			if err := p.claimDraft(ctx, db, d, c, &cl, pg, now); err != nil {
				return err
			}
			claims = append(claims, cl)
			continue
		}
		if !d.HasReply {
			cl.Status, cl.Reason = model.StatusSkipped, model.ReasonNoReplyRule
			claims = append(claims, cl)
			continue
		}
		// A store error leaves the comment unhandled (it is seen again next
		// cycle): nothing is sent without its pacing checked.
		text, err := p.chooseVariant(ctx, db, responder, d.Replies, chosen)
		if err != nil {
			return fmt.Errorf("choose a reply variant of rule %s for %s comment %s: %w", d.Rule, c.Platform, c.ID, err)
		}
		cl.ReplyText = text
		if p.capped(ctx, db, responder, pg.queued[responder]+p.outstandingOf(responder)) {
			cl.Status, cl.Reason, cl.Notify = model.StatusSkipped, ReasonDailyCap, nil
			claims = append(claims, cl)
			continue
		}
		reason, err := pacing.Check(ctx, history, d.Rule, d.Pacing, c, now)
		if err != nil {
			return fmt.Errorf("check pacing of rule %s for %s comment %s: %w", d.Rule, c.Platform, c.ID, err)
		}
		switch {
		case reason != "":
			// Held back: recorded skipped, so it is never answered later.
			// Nobody is told: nothing happened that needs a person (a
			// chatty user past a cooldown would flood the channel).
			cl.Status, cl.Reason, cl.Notify = model.StatusSkipped, reason, nil
		case d.Approve:
			// Waits for a person; approved, it goes out through the retry
			// path, where the cap and pacing of the responder apply again.
			// Pacing counts it meanwhile, so it is a chosen text too.
			cl.Status = model.StatusHeld
			chosen = append(chosen, text)
		case p.opts.DryRun:
			cl.Status = model.StatusDryRun
			chosen = append(chosen, text)
		default:
			// Queued: sent once the page is committed.
			cl.Status, cl.Queued = model.StatusPending, true
			chosen = append(chosen, text)
			pg.queued[responder]++
		}
		claims = append(claims, cl)
	}
	claimed, err := db.Record(ctx, c, model.DispositionEvaluated, claims, now)
	if err != nil {
		return err
	}
	if len(decisions) == 0 {
		pg.after = append(pg.after, func() { p.emit(Event{Comment: c, Disposition: model.DispositionEvaluated}) })
	}
	for _, cl := range claimed {
		st.Claimed++
		pg.after = append(pg.after, func() { p.opts.Metrics.RuleMatch(cl.Rule) })
		switch cl.Status {
		case model.StatusPending:
			pg.send = append(pg.send, queuedSend{id: cl.ID, claim: cl.Claim, comment: c})
		case model.StatusDryRun:
			st.DryRun++
			pg.after = append(pg.after, func() {
				p.emit(Event{Comment: c, Disposition: model.DispositionEvaluated, Rule: cl.Rule, Responder: cl.Responder, Status: cl.Status, Reply: cl.ReplyText})
			})
		case model.StatusFlagged, model.StatusHeld:
			if cl.Status == model.StatusFlagged {
				st.Flagged++
			} else {
				st.Held++
			}
			pg.after = append(pg.after, func() {
				p.emit(Event{Comment: c, Disposition: model.DispositionEvaluated, Rule: cl.Rule, Responder: cl.Responder, Status: cl.Status, Reply: cl.ReplyText})
			})
		case model.StatusDrafting:
			pg.after = append(pg.after, func() {
				p.wakeDrafts()
				p.emit(Event{Comment: c, Disposition: model.DispositionEvaluated, Rule: cl.Rule, Responder: cl.Responder, Status: cl.Status})
			})
		case model.StatusSkipped:
			st.Skipped++
			pg.after = append(pg.after, func() {
				p.emit(Event{Comment: c, Disposition: model.DispositionEvaluated, Rule: cl.Rule, Responder: cl.Responder, Status: cl.Status, Reason: cl.Reason, Reply: cl.ReplyText})
			})
		}
	}
	return nil
}

// claimDraft decides the claim of a drafting rule's decision d: skipped
// when the responder's cap, the rule's pacing or the endpoint's daily
// budget holds it back (checked now, as for any answer), dry_run in a dry
// run (no model is asked), else drafting with what to ask, which the
// drafting stage takes up once the page is committed.
func (p *Poller) claimDraft(ctx context.Context, db *store.Store, d rules.Decision, c model.Comment, cl *store.Claim, pg *page, now time.Time) error {
	if p.capped(ctx, db, cl.Responder, pg.queued[cl.Responder]+p.outstandingOf(cl.Responder)) {
		cl.Status, cl.Reason, cl.Notify = model.StatusSkipped, ReasonDailyCap, nil
		return nil
	}
	reason, err := pacing.Check(ctx, db.PacingHistory(p.opts.DryRun), d.Rule, d.Pacing, c, now)
	if err != nil {
		return fmt.Errorf("check pacing of rule %s for %s comment %s: %w", d.Rule, c.Platform, c.ID, err)
	}
	if reason != "" {
		cl.Status, cl.Reason, cl.Notify = model.StatusSkipped, reason, nil
		return nil
	}
	if client := p.opts.LLM[d.Draft.LLM]; client != nil && client.Spec().DailyTokens > 0 {
		spent, err := db.TokensSpent(ctx, d.Draft.LLM, p.dayStart(now))
		if err != nil {
			return fmt.Errorf("rule %s: %w", d.Rule, err)
		}
		if spent >= client.Spec().DailyTokens {
			cl.Status, cl.Reason, cl.Notify = model.StatusSkipped, ReasonLLMBudget, nil
			return nil
		}
	}
	if p.opts.DryRun {
		cl.Status, cl.Reason = model.StatusDryRun, "draft"
		return nil
	}
	cl.Status = model.StatusDrafting
	cl.Draft = &store.DraftRequest{LLM: d.Draft.LLM, System: d.Draft.System, Prompt: d.Draft.Prompt,
		MaxLength: d.Draft.MaxLength, Approve: d.Approve, Notify: cl.Notify}
	cl.Notify = nil // told when the draft is held or flagged
	return nil
}
