package rules

import (
	"errors"
	"fmt"
	"io/fs"
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

// ReadError says that the rules could not be read at all: their path does
// not exist or cannot be read, is not a regular file, or is a directory
// without rule files. A problem inside a rule file is a *LoadError instead.
type ReadError struct {
	// Path is the rules path, or the file in a rules directory, at fault.
	Path string
	// Err is the cause: an errno such as fs.ErrNotExist, or a sentence.
	Err error
	// Origin says where Path came from, e.g. "/etc/autoreplyd/config.yaml:
	// rules" (the config's key): it replaces "load rules" in Error.
	Origin string
}

// Error says what is wrong with Path: "load rules: PATH does not exist", or
// with Origin set "ORIGIN: PATH does not exist".
func (e *ReadError) Error() string {
	origin := e.Origin
	if origin == "" {
		origin = "load rules"
	}
	if errors.Is(e.Err, fs.ErrNotExist) {
		return origin + ": " + e.Path + " does not exist"
	}
	return origin + ": " + e.Path + ": " + e.Err.Error()
}

// Unwrap returns the cause, for errors.Is(err, fs.ErrNotExist).
func (e *ReadError) Unwrap() error { return e.Err }

// readError makes err, a failure to read path, a *ReadError naming the file
// at fault (the path of an *fs.PathError: a file in a rules directory).
func readError(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return &ReadError{Path: pe.Path, Err: pe.Err}
	}
	return &ReadError{Path: path, Err: err}
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
