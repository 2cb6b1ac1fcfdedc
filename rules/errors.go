package rules

import (
	"errors"
	"fmt"
	"strings"

	"github.com/expr-lang/expr/file"
)

// PosError is one problem found while loading rules, with the place in the
// rule file it comes from. Line and Col are 1-based; Col counts characters.
type PosError struct {
	File string
	Line int
	Col  int
	Rule string // the rule's name, "" when the problem is outside a named rule
	Msg  string
}

// Error formats the problem as FILE:LINE:COL: rule "NAME": MSG.
func (e PosError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, max(e.Col, 1))
	}
	b.WriteString(": ")
	if e.Rule != "" {
		fmt.Fprintf(&b, "rule %q: ", e.Rule)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// LoadError holds every problem found in one load, in file order.
type LoadError struct {
	Errors []PosError
}

// Error lists the problems, one a line.
func (e *LoadError) Error() string {
	lines := make([]string, len(e.Errors))
	for i, pe := range e.Errors {
		lines[i] = pe.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the problems for errors.Is/As.
func (e *LoadError) Unwrap() []error {
	errs := make([]error, len(e.Errors))
	for i, pe := range e.Errors {
		errs[i] = pe
	}
	return errs
}

// RuleError is a rule that failed on one comment at run time: its condition
// or one of its replies could not be evaluated. The rule does not act; the
// other rules are still evaluated.
type RuleError struct {
	Rule      string
	CommentID string
	Err       error
}

func (e RuleError) Error() string {
	return fmt.Sprintf("rule %q: comment %s: %v", e.Rule, e.CommentID, e.Err)
}

func (e RuleError) Unwrap() error { return e.Err }

// exprError is an expr-lang error from one part of a rule ("when",
// "reply[1]"), stripped of expr's multi-line source snippet.
type exprError struct {
	part string
	err  error
}

func (e *exprError) Error() string {
	msg := e.err.Error()
	var fe *file.Error
	if errors.As(e.err, &fe) {
		msg = strings.TrimSpace(fe.Message)
	}
	return e.part + ": " + msg
}

func (e *exprError) Unwrap() error { return e.err }
