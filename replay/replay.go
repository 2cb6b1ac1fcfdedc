// Package replay answers "what would these rules have done?": it evaluates
// again, with other rules, the comments the daemon evaluated in a period,
// each at the time the daemon evaluated it and with its thread's labels, and
// compares what the new rules would do with what the history says was done.
// It reports each comment whose outcome changes and, per rule, the hits
// gained and lost. `autoreplyd replay` prints it; a rule author runs it
// before every reload.
//
// Pacing is replayed: the new rules' cooldowns, limits and active windows
// are checked at each comment's time against the answers before it, those
// stored before the period and, within it, those the new rules would have
// given (an edited rule paces itself as it would have live). Daily caps,
// responder pauses and breakers are not replayed: an answer the history
// shows held back by one of them is compared as an answer.
package replay

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/pacing"
	"github.com/autoreplyd/autoreplyd/rules"
	"github.com/autoreplyd/autoreplyd/store"
)

// Kind is what a rule did, or would do, with a comment.
type Kind string

// The kinds of outcome.
const (
	// Answer: answered (sent, or an attempt: pending, retrying, unknown,
	// failed; dry_run in a dry run).
	Answer Kind = "answer"
	// Held: the answer held for a person's approval (approve: true),
	// whatever the person decided since.
	Held Kind = "held"
	// Flag: handed to a person (action: flag), nothing sent.
	Flag Kind = "flag"
	// Skip: recorded skipped by a rule that does not answer
	// (no_reply_rule).
	Skip Kind = "skip"
	// Paced: an answer held back by the rule's cooldown, limit or active
	// window.
	Paced Kind = "paced"
	// Unreplayed is an old outcome only: an answer held back by what a
	// replay does not model (a daily cap, a missing responder; pacing,
	// with --no-pacing). Whether the new rules' answer would have been
	// held back too is unknown, so it compares equal to an answer or a
	// hold with the same text, and to a paced answer.
	Unreplayed Kind = "unreplayed"
)

// Old is what the history says a rule did with a comment: one claim.
type Old struct {
	Rule      string
	Kind      Kind
	Status    string // the claim's status
	Reason    string // the claim's reason
	ReplyText string // the answer recorded (held, paced and capped answers have one too)
	// Edited: a person approved the answer with their own text, so
	// ReplyText says nothing of the rule's.
	Edited bool
}

// New is what a rule of the new rules would do with a comment.
type New struct {
	Rule    string
	Kind    Kind
	Action  string // rules.ActionReply, ActionFlag or ActionSkip
	Approve bool
	// Reason is why a Paced answer is held back (cooldown, limit,
	// inactive), or no_reply_rule for a Skip.
	Reason string
	// Replies are every rendered variant; the daemon picks one.
	Replies []string
	Notify  []string
}

// Change is a comment whose outcome changes.
type Change struct {
	Comment model.Comment
	SeenAt  time.Time // when the daemon evaluated it: the time it is replayed at
	Old     []Old     // in the order recorded; none when no rule acted
	New     []New     // in rule order; none when no new rule acts
	// Errors are the new rules that failed on the comment (they do not
	// act).
	Errors []rules.RuleError
}

// RuleCount is one rule's hits in the period: comments it acted on in the
// history (Old) and would act on (New), the comments it gains and loses,
// and those it acts on both times but differently (Changed).
type RuleCount struct {
	Rule                            string
	Old, New, Gained, Lost, Changed int
	Errors                          int // comments on which the rule failed
}

// Summary is the whole replay's outcome.
type Summary struct {
	Comments int // comments replayed
	Changed  int // of which the outcome changes
	// Rules are the new rules in evaluation order, then the rules of the
	// history that are not among them (removed or renamed), by name.
	Rules []RuleCount
}

// Options tune a replay.
type Options struct {
	// Since and Until bound the period: comments seen at or after Since,
	// before Until (a zero bound is none).
	Since, Until time.Time
	// NoPacing leaves pacing out: the new rules answer whatever their
	// cooldowns, limits and active windows say, and answers the history
	// shows held back by pacing compare as answers.
	NoPacing bool
}

// Run replays the period's comments with set, calling fn with each change
// as it is found (fn must not keep the Change), and returns the summary.
// Comments are streamed from st, so memory does not grow with the period;
// pacing keeps the answers within each rule's pacing span. fn's error ends
// the replay and is returned as it is.
func Run(ctx context.Context, st *store.Store, set *rules.Set, opts Options, fn func(*Change) error) (*Summary, error) {
	r := &replayer{set: set, opts: opts, counts: map[string]*RuleCount{}}
	for _, ri := range set.Rules() {
		r.count(ri.Name)
	}
	if !opts.NoPacing {
		r.recent = pacing.NewRecent(set.Rules())
		if err := r.seed(ctx, st); err != nil {
			return nil, err
		}
	}
	var ch Change
	err := st.ReplayComments(ctx, opts.Since, opts.Until, func(rc *store.ReplayComment) error {
		changed, err := r.replay(ctx, rc, &ch)
		if err != nil || !changed {
			return err
		}
		return fn(&ch)
	})
	if err != nil {
		return nil, err
	}
	// Rules known only from the history come after the new ones, by name.
	slices.Sort(r.order[set.Len():])
	for _, name := range r.order {
		r.sum.Rules = append(r.sum.Rules, *r.counts[name])
	}
	return &r.sum, nil
}

type replayer struct {
	set    *rules.Set
	opts   Options
	recent *pacing.Recent // nil with NoPacing
	counts map[string]*RuleCount
	order  []string
	sum    Summary
}

// count is rule's RuleCount, added in first-seen order.
func (r *replayer) count(rule string) *RuleCount {
	c := r.counts[rule]
	if c == nil {
		c = &RuleCount{Rule: rule}
		r.counts[rule] = c
		r.order = append(r.order, rule)
	}
	return c
}

// seed gives pacing the answers stored before the period, as far back as
// each rule's pacing looks.
func (r *replayer) seed(ctx context.Context, st *store.Store) error {
	if r.opts.Since.IsZero() {
		return nil // the whole history is replayed: nothing came before
	}
	for _, ri := range r.set.Rules() {
		span := pacing.Span(ri.Pacing)
		if span == 0 {
			continue
		}
		err := st.PacedAnswers(ctx, ri.Name, r.opts.Since.Add(-span), r.opts.Since, func(a pacing.Answer) error {
			r.recent.Add(a)
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// replay evaluates one comment with the new rules at the time it was seen,
// fills ch and says whether its outcome changes.
func (r *replayer) replay(ctx context.Context, rc *store.ReplayComment, ch *Change) (bool, error) {
	c, at := rc.Comment, rc.SeenAt
	r.sum.Comments++
	ds, errs := r.set.Evaluate(c, at)
	news := make([]New, 0, len(ds))
	for _, d := range ds {
		n := New{Rule: d.Rule, Action: d.Action, Approve: d.Approve, Replies: d.Replies, Notify: d.Notify}
		switch {
		case d.Action == rules.ActionFlag:
			n.Kind = Flag
		case !d.HasReply:
			n.Kind, n.Reason = Skip, model.ReasonNoReplyRule
		default:
			// As the daemon does: pacing first, then the hold.
			if r.recent != nil {
				reason, err := pacing.Check(ctx, r.recent, d.Rule, d.Pacing, c, at)
				if err != nil {
					return false, fmt.Errorf("replay %s comment %s: pacing of rule %s: %w", c.Platform, c.ID, d.Rule, err)
				}
				n.Reason = reason
			}
			switch {
			case n.Reason != "":
				n.Kind = Paced
			case d.Approve:
				n.Kind = Held // a held answer counts for pacing, as in the daemon
			default:
				n.Kind = Answer
			}
		}
		news = append(news, n)
	}
	// The comment's answers pace the comments after it (the decisions of
	// one comment are of distinct rules: they cannot pace each other).
	if r.recent != nil {
		for _, n := range news {
			if n.Kind == Answer || n.Kind == Held {
				r.recent.Add(pacing.Answer{Rule: n.Rule, Platform: c.Platform, UserUID: c.User.UID, ThreadID: c.ThreadID, At: at})
			}
		}
	}
	olds := make([]Old, len(rc.Claims))
	for i, cl := range rc.Claims {
		olds[i] = Old{Rule: cl.Rule, Kind: classify(cl, r.recent != nil), Status: cl.Status, Reason: cl.Reason,
			ReplyText: cl.ReplyText, Edited: cl.Edited}
	}
	for _, e := range errs {
		r.count(e.Rule).Errors++
	}
	changed := r.compare(olds, news)
	if changed {
		r.sum.Changed++
		*ch = Change{Comment: c, SeenAt: at, Old: olds, New: news, Errors: errs}
	}
	return changed, nil
}

// compare counts each rule's hits on one comment and says whether the
// outcome changes.
func (r *replayer) compare(olds []Old, news []New) bool {
	changed := false
	for _, o := range olds {
		rc := r.count(o.Rule)
		rc.Old++
		i := slices.IndexFunc(news, func(n New) bool { return n.Rule == o.Rule })
		switch {
		case i < 0:
			rc.Lost++
			changed = true
		case !same(o, news[i]):
			rc.Changed++
			changed = true
		}
	}
	for _, n := range news {
		rc := r.count(n.Rule)
		rc.New++
		if !slices.ContainsFunc(olds, func(o Old) bool { return o.Rule == n.Rule }) {
			rc.Gained++
			changed = true
		}
	}
	return changed
}

// classify is the kind of a stored claim. With pacing replayed, an answer
// held back by pacing is Paced; without, whether it would have been is
// unknown (Unreplayed).
func classify(cl store.ReplayClaim, pacingReplayed bool) Kind {
	switch cl.Status {
	case model.StatusFlagged, model.StatusHandled:
		return Flag
	case model.StatusHeld, model.StatusRejected, model.StatusExpired:
		return Held
	case model.StatusSkipped:
		switch cl.Reason {
		case model.ReasonNoReplyRule:
			return Skip
		case pacing.ReasonCooldown, pacing.ReasonLimit, pacing.ReasonInactive:
			if pacingReplayed {
				return Paced
			}
		}
		// A daily cap, a missing responder: not replayed.
		return Unreplayed
	}
	if cl.Decided {
		return Held // approved: held before it was sent
	}
	return Answer
}

// same says whether rule's new outcome is its old one. An answer is the
// same when the text recorded is one of the variants the new rule renders
// (the daemon picks a variant by what the account sent lately, so which
// one it was says nothing of the rules); an answer a person edited is the
// same whatever its text.
func same(o Old, n New) bool {
	text := o.Edited || slices.Contains(n.Replies, o.ReplyText)
	switch o.Kind {
	case Answer, Held:
		return n.Kind == o.Kind && text
	case Unreplayed:
		return (n.Kind == Answer || n.Kind == Held) && text || n.Kind == Paced
	}
	return n.Kind == o.Kind
}
