// Package ruletest runs rule unit tests, the `autoreplyd test` command: a
// YAML test file names rule files and lists made-up comments, each with the
// outcome expected of the rules (which rule acts and how: it answers, holds
// its answer for approval, flags the comment for a person, or skips it and
// why; with what reply; or that no rule matches). The model is promtool's
// `test rules`.
//
// Cases are evaluated exactly as the poller evaluates comments (first match
// ends evaluation unless continue: true; action flag flags; a rule without
// reply skips with no_reply_rule; approve: true holds the answer once pacing
// lets it through) and paced by package pacing against a made-up history.
// No model is asked: a drafting rule is `drafting`, unless the case gives a
// fixed draft:, which then goes through reject_if, max_length and approve.
package ruletest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/pacing"
	"github.com/autoreplyd/autoreplyd/rules"
)

// File is one parsed test file.
type File struct {
	// Path is the file's name as given; rule_files are relative to its
	// directory.
	Path string
	// RuleFiles are the rule files or directories as written; none means
	// the config's rules.
	RuleFiles []string
	// Location is the timezone: key; nil means the config's, else UTC.
	Location *time.Location
	// Now is the default evaluation time of every case; nil means the
	// time the test runs.
	Now   *clock
	Cases []Case
}

// Case is one test case: a made-up comment and what the rules should do.
type Case struct {
	Name  string
	Line  int // line of the case in the test file
	Index int // 1-based place in tests:
	// Comment is the made-up comment, without its time (Time, else now).
	Comment model.Comment
	Time    *clock
	Now     *clock // nil: the file's now
	History []History
	// Draft stands for the model's answer to every drafting rule that
	// acts, when HasDraft: the outcome is then decided without a model.
	Draft    string
	HasDraft bool
	// Expect lists one outcome per acting rule, in order; or one with
	// NoMatch.
	Expect []Expect
}

// History is one made-up past answer, for cooldowns and limits.
type History struct {
	Line, Col int
	Rule      string
	User      string // the uid answered; "" is somebody else
	Platform  string // "" is the comment's platform
	Thread    string
	HasThread bool // false: the comment's thread
	Ago       time.Duration
	At        *clock // instead of Ago
	Count     int    // how many such answers (≥ 1)
	When      string // "2h ago" or "at 2026-11-22 08:00", as written
}

// Expect is one expected outcome.
type Expect struct {
	Line    int
	NoMatch bool   // no rule acts at all
	Rule    string // the rule that acts
	// Replies are the expected texts, compared as a set with the rendered
	// variants when HasReplies. Single says it was written as reply:.
	Replies    []string
	HasReplies bool
	Single     bool
	// Skipped is the expected reason the rule does not answer; "" means it
	// answers (or flags, or holds its answer).
	Skipped string
	// Flagged expects the rule to hand the comment to a person (action:
	// flag): recorded flagged, nothing sent.
	Flagged bool
	// FlagReason is why a draft is expected flagged (ReasonRejectIf,
	// ReasonDraftTooLong); "" with Flagged is action: flag.
	FlagReason string
	// Held expects the rule's answer held for a person's approval
	// (approve: true), not sent at once.
	Held bool
	// Drafting expects a drafting rule to ask a model for a draft (the
	// case gives no draft:).
	Drafting bool
}

// Reasons a drafting rule flags the comment instead of using the draft.
const (
	// ReasonRejectIf: the rule's reject_if is true of the draft.
	ReasonRejectIf = rules.ReasonRejectIf
	// ReasonDraftTooLong: the draft has more characters than max_length.
	ReasonDraftTooLong = rules.ReasonDraftTooLong
)

// Outcome is what one acting rule does with a comment: answer, hold its
// answer for approval (Held), flag the comment (Flagged) or skip it
// (Skipped says why).
type Outcome struct {
	Rule    string
	Skipped string // "" when it answers, holds or flags; else no_reply_rule, cooldown, ...
	Flagged bool   // action: flag, or a draft refused; nothing sent
	// FlagReason is why a draft was refused (ReasonRejectIf,
	// ReasonDraftTooLong); "" for action: flag.
	FlagReason string
	Held       bool     // approve: true, not held back by pacing
	Drafting   bool     // a drafting rule asks a model (no draft: in the case)
	Replies    []string // every rendered variant (also when paced); a draft: used
}

// CaseResult is the result of one case.
type CaseResult struct {
	Case   *Case
	Passed bool
	Now    time.Time // the evaluation time
	Got    []Outcome
	// Errors are rule errors on the comment and mistakes of the case (an
	// unknown rule name); any fails the case.
	Errors []string
}

// Result is the result of one test file.
type Result struct {
	File  *File
	Cases []CaseResult // the cases selected, in file order
}

// Passed counts the passed cases.
func (r *Result) Passed() int { return r.count(true) }

// Failed counts the failed cases.
func (r *Result) Failed() int { return r.count(false) }

func (r *Result) count(passed bool) int {
	n := 0
	for _, c := range r.Cases {
		if c.Passed == passed {
			n++
		}
	}
	return n
}

// Runner runs test files.
type Runner struct {
	// Filter selects cases by name; nil runs all.
	Filter *regexp.Regexp
	// Location is the timezone of files without timezone:; nil means UTC
	// (or the config's, for files that use the config's rules).
	Location *time.Location
	// Config gives the config's rules path and timezone, for a file without
	// rule_files. Called only then; nil makes such a file an error.
	Config func() (rulesPath string, loc *time.Location, err error)
	// Now is the evaluation time of cases that give none; nil is time.Now.
	Now func() time.Time
}

// Run loads the file's rules and runs its selected cases. The error is a
// problem that stops the whole file (its rules do not load): the problems
// joined, one per line, rule problems as rules.PosError.
func (r *Runner) Run(ctx context.Context, f *File) (*Result, error) {
	loc := f.Location
	paths := make([]string, len(f.RuleFiles))
	for i, p := range f.RuleFiles {
		if !filepath.IsAbs(p) {
			p = filepath.Join(filepath.Dir(f.Path), p)
		}
		paths[i] = p
	}
	if len(paths) == 0 {
		if r.Config == nil {
			return nil, fmt.Errorf("%s: no rule_files and no config to take the rules from", f.Path)
		}
		rulesPath, cloc, err := r.Config()
		if err != nil {
			return nil, fmt.Errorf("%s: no rule_files, and the config to take the rules from does not load:\n%w", f.Path, err)
		}
		paths = []string{rulesPath}
		if loc == nil {
			loc = cloc
		}
	}
	if loc == nil {
		loc = r.Location
	}
	if loc == nil {
		loc = time.UTC
	}
	ch, err := loadChain(paths, loc)
	if err != nil {
		return nil, err
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	res := &Result{File: f}
	for i := range f.Cases {
		c := &f.Cases[i]
		if r.Filter != nil && !r.Filter.MatchString(c.Name) {
			continue
		}
		t := now().In(loc)
		switch {
		case c.Now != nil:
			t = c.Now.in(loc)
		case f.Now != nil:
			t = f.Now.in(loc)
		}
		res.Cases = append(res.Cases, ch.run(ctx, c, t, loc))
	}
	return res, nil
}

// chain is the rules of several rule files evaluated as one list, in
// order, as if they were one file.
type chain struct {
	sets  []*rules.Set
	info  map[string]rules.RuleInfo
	owner map[string]*rules.Set // the set holding each rule
	names []string
}

func loadChain(paths []string, loc *time.Location) (*chain, error) {
	ch := &chain{info: map[string]rules.RuleInfo{}, owner: map[string]*rules.Set{}}
	var errs []error
	for _, p := range paths {
		set, err := rules.Load(p, rules.Options{Location: loc})
		if err != nil {
			var le *rules.LoadError
			if errors.As(err, &le) {
				for _, pe := range le.Errors {
					errs = append(errs, pe)
				}
			} else {
				errs = append(errs, err)
			}
			continue
		}
		for _, ri := range set.Rules() {
			if first, dup := ch.info[ri.Name]; dup {
				errs = append(errs, rules.PosError{File: ri.File, Line: ri.Line, Rule: ri.Name,
					Msg: fmt.Sprintf("duplicate name, first defined at %s:%d", first.File, first.Line)})
				continue
			}
			ch.info[ri.Name] = ri
			ch.owner[ri.Name] = set
			ch.names = append(ch.names, ri.Name)
		}
		ch.sets = append(ch.sets, set)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return ch, nil
}

// evaluate runs the rules in order against c, like rules.Set.Evaluate.
func (ch *chain) evaluate(c model.Comment, now time.Time) ([]rules.Decision, []rules.RuleError) {
	var ds []rules.Decision
	var errs []rules.RuleError
	for _, s := range ch.sets {
		d, e := s.Evaluate(c, now)
		ds = append(ds, d...)
		errs = append(errs, e...)
		if len(d) > 0 && !ch.info[d[len(d)-1].Rule].Continue {
			break
		}
	}
	return ds, errs
}

func (ch *chain) run(ctx context.Context, tc *Case, now time.Time, loc *time.Location) CaseResult {
	res := CaseResult{Case: tc, Now: now}
	c := tc.Comment
	c.Labels = maps.Clone(c.Labels)
	c.CreatedAt = now
	if tc.Time != nil {
		c.CreatedAt = tc.Time.in(loc)
	}
	for _, e := range tc.Expect {
		if !e.NoMatch {
			res.Errors = append(res.Errors, ch.checkName("expect", e.Line, e.Rule)...)
		}
	}
	hist := make(pacing.Memory, 0, len(tc.History))
	for _, h := range tc.History {
		res.Errors = append(res.Errors, ch.checkName("history", h.Line, h.Rule)...)
		a := pacing.Answer{Rule: h.Rule, Platform: h.Platform, UserUID: h.User, ThreadID: h.Thread, At: now.Add(-h.Ago)}
		if a.Platform == "" {
			a.Platform = c.Platform
		}
		if !h.HasThread {
			a.ThreadID = c.ThreadID
		}
		if h.At != nil {
			a.At = h.At.in(loc)
		}
		for range h.Count {
			hist = append(hist, a)
		}
	}
	ds, ruleErrs := ch.evaluate(c, now)
	for _, re := range ruleErrs {
		res.Errors = append(res.Errors, fmt.Sprintf("rule %q failed: %v", re.Rule, re.Err))
	}
	for _, d := range ds {
		o := Outcome{Rule: d.Rule, Replies: d.Replies}
		if d.Action == rules.ActionFlag {
			// Recorded flagged for a person, like the daemon does.
			o.Flagged = true
			res.Got = append(res.Got, o)
			continue
		}
		if !d.HasReply && d.Draft == nil {
			o.Skipped = model.ReasonNoReplyRule
			res.Got = append(res.Got, o)
			continue
		}
		p := d.Pacing
		if p.IsZero() {
			p = ch.info[d.Rule].Pacing
		}
		reason, err := pacing.Check(ctx, hist, d.Rule, p, c, now)
		if err != nil {
			res.Errors = append(res.Errors, fmt.Sprintf("rule %q: pacing: %v", d.Rule, err))
		}
		// Pacing comes first: an answer held back is skipped, not held
		// (nor drafted).
		o.Skipped = reason
		o.Held = reason == "" && d.Approve
		if reason == "" && d.Draft != nil {
			o.Held = false
			if err := ch.useDraft(&o, d, tc, c, now); err != nil {
				res.Errors = append(res.Errors, err.Error())
			}
		}
		res.Got = append(res.Got, o)
	}
	res.Passed = len(res.Errors) == 0 && Match(tc.Expect, res.Got)
	return res
}

// useDraft decides a drafting rule's outcome as the daemon does once the
// model answered, with the case's draft: standing for the answer: flagged
// when reject_if is true of it or it is over max_length, else held for
// approval or answered with it. Without draft:, the rule is drafting.
func (ch *chain) useDraft(o *Outcome, d rules.Decision, tc *Case, c model.Comment, now time.Time) error {
	if !tc.HasDraft {
		o.Drafting = true
		return nil
	}
	reason, _, err := ch.owner[d.Rule].JudgeDraft(d.Rule, c, tc.Draft, d.Draft.MaxLength, now)
	switch {
	case err != nil:
		return fmt.Errorf("rule %q failed: %w", d.Rule, err)
	case reason != "":
		o.Flagged, o.FlagReason = true, reason
	default:
		o.Held = d.Approve
		o.Replies = []string{tc.Draft}
	}
	return nil
}

// checkName reports a rule name the rules do not have.
func (ch *chain) checkName(what string, line int, name string) []string {
	if _, ok := ch.info[name]; ok {
		return nil
	}
	return []string{fmt.Sprintf("line %d: %s: no rule named %q%s", line, what, name, suggest(name, ch.names))}
}

// Match reports whether the outcomes are the expected ones, in order.
func Match(want []Expect, got []Outcome) bool {
	if len(want) == 1 && want[0].NoMatch {
		return len(got) == 0
	}
	if len(want) != len(got) {
		return false
	}
	for i, w := range want {
		g := got[i]
		if w.Rule != g.Rule || w.Skipped != g.Skipped || w.Flagged != g.Flagged || w.FlagReason != g.FlagReason ||
			w.Held != g.Held || w.Drafting != g.Drafting {
			return false
		}
		if w.HasReplies && !sameSet(w.Replies, g.Replies) {
			return false
		}
	}
	return true
}

// sameSet says whether every a is in b and every b is in a.
func sameSet(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	for _, x := range b {
		if !slices.Contains(a, x) {
			return false
		}
	}
	return true
}
