package ruletest

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/autoreplyd/autoreplyd/model"
)

// Write prints the result of each case: a FAIL block with a diff-like
// message for each failed case and, when verbose, a PASS line for each
// passed one.
func (r *Result) Write(w io.Writer, verbose bool) {
	for _, cr := range r.Cases {
		c := cr.Case
		if cr.Passed {
			if verbose {
				fmt.Fprintf(w, "PASS %s:%d: %s\n", r.File.Path, c.Line, c.Name)
			}
			continue
		}
		fmt.Fprintf(w, "FAIL %s:%d: %s\n", r.File.Path, c.Line, c.Name)
		fmt.Fprintf(w, "  comment: %s\n", describeComment(c))
		if paced(c.Expect, cr.Got) {
			fmt.Fprintf(w, "  now:     %s\n", cr.Now.Format("2006-01-02 15:04 Mon (MST)"))
		}
		for _, h := range c.History {
			fmt.Fprintf(w, "  history: %s\n", describeHistory(h))
		}
		if c.HasDraft {
			fmt.Fprintf(w, "  draft:   %s\n", strconv.Quote(c.Draft))
		}
		for _, e := range c.Expect {
			writeLines(w, "  - want: ", "  -         ", describeWant(e))
		}
		if len(cr.Got) == 0 {
			writeLines(w, "  + got:  ", "", []string{"no rule matches"})
		}
		for _, o := range cr.Got {
			writeLines(w, "  + got:  ", "  +         ", describeGot(o))
		}
		for i, e := range c.Expect {
			if i >= len(cr.Got) || e.Rule != cr.Got[i].Rule || !e.HasReplies {
				continue
			}
			for _, l := range replyHints(e.Replies, cr.Got[i].Replies) {
				fmt.Fprintf(w, "  ! %s\n", l)
			}
		}
		for _, e := range cr.Errors {
			fmt.Fprintf(w, "  ! %s\n", e)
		}
	}
}

func writeLines(w io.Writer, first, more string, lines []string) {
	for i, l := range lines {
		if i == 0 {
			fmt.Fprintf(w, "%s%s\n", first, l)
		} else {
			fmt.Fprintf(w, "%s%s\n", more, l)
		}
	}
}

func describeComment(c *Case) string {
	var b strings.Builder
	b.WriteString(strconv.Quote(c.Comment.Text))
	if n := c.Comment.User.Nickname; n != "" {
		b.WriteString(" by " + n)
	}
	if len(c.Comment.Labels) > 0 {
		keys := make([]string, 0, len(c.Comment.Labels))
		for k := range c.Comment.Labels {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			keys[i] = k + "=" + c.Comment.Labels[k]
		}
		b.WriteString(", labels " + strings.Join(keys, " "))
	}
	return b.String()
}

// did says what a rule did with the comment, or is expected to do.
func did(rule, skipped string, flagged bool, flagReason string, held, drafting bool) string {
	head := "rule " + rule
	switch {
	case flagged && flagReason != "":
		return head + ", draft flagged " + flagReason + " (nothing sent)"
	case flagged:
		return head + ", flagged (nothing sent)"
	case drafting:
		return head + ", drafting (asks a model; give the case a draft: to test the rest)"
	case skipped != "":
		return head + ", skipped " + skipped
	case held:
		return head + ", held for approval"
	}
	return head + ", answered"
}

func describeWant(e Expect) []string {
	if e.NoMatch {
		return []string{"no rule matches"}
	}
	head := did(e.Rule, e.Skipped, e.Flagged, e.FlagReason, e.Held, e.Drafting)
	switch {
	case e.HasReplies && e.Single:
		return []string{head + ", reply " + strconv.Quote(e.Replies[0])}
	case e.HasReplies:
		return replyLines(head, e.Replies)
	}
	return []string{head}
}

func describeGot(o Outcome) []string {
	head := did(o.Rule, o.Skipped, o.Flagged, o.FlagReason, o.Held, o.Drafting)
	switch len(o.Replies) {
	case 0:
		return []string{head}
	case 1:
		return []string{head + ", reply " + strconv.Quote(o.Replies[0])}
	}
	return replyLines(head, o.Replies)
}

func replyLines(head string, replies []string) []string {
	lines := []string{head + ", replies:"}
	for _, r := range replies {
		lines = append(lines, strconv.Quote(r))
	}
	return lines
}

// firstDiff points at the first character where two texts differ, naming
// both characters: full-width and half-width punctuation look alike.
func firstDiff(want, got string) string {
	if want == got {
		return ""
	}
	w, g := []rune(want), []rune(got)
	i := 0
	for i < len(w) && i < len(g) && w[i] == g[i] {
		i++
	}
	describe := func(rs []rune) string {
		if i >= len(rs) {
			return "the end"
		}
		return fmt.Sprintf("%q (U+%04X)", rs[i], rs[i])
	}
	return fmt.Sprintf("the replies differ at character %d: want %s, got %s", i+1, describe(w), describe(g))
}

// paced says whether pacing is part of the story: the evaluation time then
// matters.
func paced(want []Expect, got []Outcome) bool {
	for _, e := range want {
		if e.Skipped != "" && e.Skipped != model.ReasonNoReplyRule {
			return true
		}
	}
	for _, o := range got {
		if o.Skipped != "" && o.Skipped != model.ReasonNoReplyRule {
			return true
		}
	}
	return false
}

func describeHistory(h History) string {
	parts := []string{"rule " + h.Rule}
	if h.User != "" {
		parts = append(parts, "user "+h.User)
	}
	if h.HasThread {
		parts = append(parts, "thread "+h.Thread)
	}
	if h.Platform != "" {
		parts = append(parts, "platform "+h.Platform)
	}
	if h.Count > 1 {
		parts = append(parts, fmt.Sprintf("%d answers", h.Count))
	}
	return strings.Join(append(parts, h.When), ", ")
}

// replyHints points at the difference between the expected and rendered
// replies of the same rule.
func replyHints(want, got []string) []string {
	if len(want) == 1 && len(got) == 1 {
		if d := firstDiff(want[0], got[0]); d != "" {
			return []string{d}
		}
		return nil
	}
	var hints []string
	for _, g := range got {
		if !slices.Contains(want, g) {
			hints = append(hints, "rendered but not expected: "+strconv.Quote(g))
		}
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			hints = append(hints, "expected but not rendered: "+strconv.Quote(w))
		}
	}
	return hints
}
