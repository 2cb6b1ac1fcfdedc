package llm

import (
	"strings"
	"unicode/utf8"
)

// Clean is a model's answer as plain text: a leading <think>…</think>
// block (the reasoning some models write into the answer) dropped, control
// characters other than newline and bidirectional controls removed (a
// carriage return or an override would hide text from the person
// approving it), surrounding blanks and one pair of surrounding quotation
// marks dropped. Nothing in it is interpreted: markup stays as written,
// for the guardrails to see. An answer that opens <think> and never closes
// it is all reasoning: "".
func Clean(answer string) string {
	s := strings.TrimSpace(strings.ToValidUTF8(answer, string(utf8.RuneError)))
	if rest, ok := strings.CutPrefix(s, "<think>"); ok {
		_, after, closed := strings.Cut(rest, "</think>")
		if !closed {
			return ""
		}
		s = after
	}
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n':
			return r
		case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f, bidi(r):
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	return strings.TrimSpace(unquote(s))
}

// quotePairs are the quotation marks a model may wrap its answer in.
var quotePairs = [][2]string{
	{`"`, `"`}, {"'", "'"}, {"“", "”"}, {"‘", "’"}, {"「", "」"}, {"『", "』"}, {"«", "»"},
}

// unquote drops one pair of quotation marks around the whole of s, when
// neither mark occurs inside: `"A" or "B"` is two quotes, kept as it is.
func unquote(s string) string {
	for _, q := range quotePairs {
		inner, ok := strings.CutPrefix(s, q[0])
		if !ok {
			continue
		}
		inner, ok = strings.CutSuffix(inner, q[1])
		if !ok || strings.Contains(inner, q[0]) || strings.Contains(inner, q[1]) {
			continue
		}
		return inner
	}
	return s
}
