package rules

import (
	"slices"
	"sync"
	"time"

	"github.com/expr-lang/expr/vm"

	"github.com/autoreplyd/autoreplyd/model"
)

// Decision is a rule that acts on a comment: it matched, and its replies (if
// any) rendered.
type Decision struct {
	Rule     string
	HasReply bool // false: the rule matched to skip the comment (no_reply_rule)
	// Replies holds every variant rendered, in the order written; the caller
	// picks one.
	Replies []string
	// Pacing is the rule's pacing, for the caller to enforce.
	Pacing Pacing
	// Via is the responder the rule names to answer with; "" for the
	// source's own.
	Via string
	// Action is ActionReply, ActionFlag or ActionSkip.
	Action string
	// Approve holds the answer for a person's approval.
	Approve bool
	// Notify names the channels to tell; the caller's copy.
	Notify []string
	// Draft is the rendered request of a drafting rule, nil for any other:
	// then HasReply is false, Replies nil, Action ActionReply, and Approve
	// true unless the rule says approve: false.
	Draft *Draft
}

// Verdict is one rule's outcome on a comment, for `autoreplyd explain`.
type Verdict struct {
	Rule    string
	Matched bool
	Err     error    // the condition or a reply failed; the rule would not act
	Replies []string // rendered variants, when it matched
	// Acts says whether the rule would act given first-match order: it
	// matched without error and no earlier acting rule ended evaluation.
	Acts bool
	// Action, Approve and Notify are the rule's (see RuleInfo).
	Action  string
	Approve bool
	Notify  []string
	// Draft is the drafting rule's rendered request, when it matched.
	Draft *Draft
}

// A vm.VM must not be shared between goroutines; a pool saves allocating one
// per run. Evaluate and Explain take one for all the programs they run.
var vms = sync.Pool{New: func() any { return new(vm.VM) }}

func run(p *vm.Program, env any) (any, error) {
	m := vms.Get().(*vm.VM)
	defer vms.Put(m)
	return m.Run(p, env)
}

// outcome is what one rule does with one environment.
type outcome struct {
	matched bool
	replies []string
	draft   *Draft
	err     error
}

// apply runs rule r against env on m.
func (s *Set) apply(m *vm.VM, r *rule, env any) outcome {
	v, err := m.Run(r.when, env)
	if err != nil {
		return outcome{err: &exprError{part: "when", err: err}}
	}
	if matched, _ := v.(bool); !matched {
		return outcome{}
	}
	o := outcome{matched: true}
	if len(r.replies) > 0 {
		o.replies = make([]string, 0, len(r.replies))
	}
	for i, segs := range r.replies {
		text, err := render(segs, env, s.loc, m.Run)
		if err != nil {
			return outcome{matched: true, err: &exprError{part: r.parts[i], err: err}}
		}
		o.replies = append(o.replies, text)
	}
	if r.draft != nil {
		d, err := s.renderDraft(m, r, env)
		if err != nil {
			return outcome{matched: true, err: err}
		}
		o.draft = d
	}
	return o
}

// Evaluate runs the rules in order against comment c at time now. The first
// matching rule that acts ends evaluation unless it has continue: true. A
// rule whose condition or reply fails is reported as a RuleError and does not
// act; evaluation goes on with the next rule. Safe for concurrent use.
func (s *Set) Evaluate(c model.Comment, now time.Time) ([]Decision, []RuleError) {
	if s == nil {
		return nil, nil
	}
	var env any = NewEnv(c, now, s.loc) // boxed once for every rule
	m := vms.Get().(*vm.VM)
	defer vms.Put(m)
	var ds []Decision
	var errs []RuleError
	for _, r := range s.rules {
		o := s.apply(m, r, env)
		if o.err != nil {
			errs = append(errs, RuleError{Rule: r.info.Name, CommentID: c.ID, Err: o.err})
			continue
		}
		if !o.matched {
			continue
		}
		d := Decision{Rule: r.info.Name, HasReply: r.info.HasReply, Replies: o.replies, Pacing: r.info.Pacing, Via: r.info.Via,
			Action: r.info.Action, Approve: r.info.Approve, Notify: slices.Clone(r.info.Notify), Draft: o.draft}
		// The Set is shared: the caller gets its own copy of the windows.
		d.Pacing.Active = slices.Clone(d.Pacing.Active)
		ds = append(ds, d)
		if !r.info.Continue {
			break
		}
	}
	return ds, errs
}

// Explain gives every rule's verdict on comment c at time now, regardless of
// first-match order; Acts marks the rules Evaluate would act on.
func (s *Set) Explain(c model.Comment, now time.Time) []Verdict {
	if s == nil {
		return nil
	}
	var env any = NewEnv(c, now, s.loc)
	m := vms.Get().(*vm.VM)
	defer vms.Put(m)
	out := make([]Verdict, len(s.rules))
	open := true
	for i, r := range s.rules {
		o := s.apply(m, r, env)
		v := Verdict{Rule: r.info.Name, Matched: o.matched, Err: o.err, Replies: o.replies,
			Action: r.info.Action, Approve: r.info.Approve, Notify: slices.Clone(r.info.Notify), Draft: o.draft}
		if open && o.matched && o.err == nil {
			v.Acts = true
			open = r.info.Continue
		}
		out[i] = v
	}
	return out
}
