// Package termesc makes untrusted text safe to show a person: platform ids,
// error codes and messages, comments, nicknames and pause reasons reach
// terminals (history, check, resume), HTTP bodies (/-/ready) and logs. A
// control character or a bidirectional override in them could clear the
// screen, move the cursor, forge a line of output or reorder what a reader
// sees; String writes each such character as a visible escape instead.
package termesc

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Unsafe reports whether r must not reach a terminal as itself: C0 and C1
// controls and DEL (escape sequences, line breaks, carriage returns, bells),
// the bidirectional embeddings, overrides and isolates (U+202A–U+202E,
// U+2066–U+2069), the invisible direction marks (U+200E, U+200F, U+061C),
// the line and paragraph separators (U+2028, U+2029) and the byte-order mark
// (U+FEFF), which some terminals and viewers take as a line break or hide.
func Unsafe(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	case r == 0x200e, r == 0x200f, r == 0x061c, r == 0x2028, r == 0x2029, r == 0xfeff:
		return true
	}
	return false
}

// String returns s with every unsafe character escaped the way Go writes it
// in a string literal (\n, \t, \r, \x1b, \u202e) and every byte that is not
// UTF-8 as \xNN. Everything else, Chinese text and emoji included, is kept
// as it is; s itself is returned when nothing needs escaping.
func String(s string) string {
	i := 0
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n == 1) || Unsafe(r) {
			break
		}
		i += n
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x80 && Unsafe(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case Unsafe(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// Lines is String for text of several lines: each line is escaped, and the
// line breaks between them are kept (a multi-line error stays readable; a
// carriage return or escape inside a line still cannot forge one).
func Lines(s string) string {
	if String(s) == s {
		return s
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = String(l)
	}
	return strings.Join(lines, "\n")
}

// Strings applies String to each element of ss, in place, and returns ss.
func Strings(ss []string) []string {
	for i, s := range ss {
		ss[i] = String(s)
	}
	return ss
}
