package notify

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/autoreplyd/autoreplyd/internal/termesc"
)

// Bounds on a stranger's words in one message, in characters (runes). A
// group chat is read on a phone: 300 characters is a long comment, and the
// robots' limits (WeCom: 2048 bytes of text) leave room for one comment and
// one answer of that length beside the rest of the message.
const (
	maxCommentRunes = 300
	maxReplyRunes   = 300
	maxNameRunes    = 40
	// maxIDRunes bounds platform ids, thread ids, rule names and uids: not
	// a stranger's words, but not ours either.
	maxIDRunes = 64
)

// ellipsis ends a text that was cut.
const ellipsis = "…"

// invisible reports whether r is a character a message must not carry:
// the set internal/termesc escapes for terminals (controls, direction
// overrides and marks, line separators, the byte-order mark); in a chat
// message these are dropped instead. The zero width joiner stays: emoji
// sequences (👨‍👩‍👧) need it.
func invisible(r rune) bool { return termesc.Unsafe(r) }

// clean makes untrusted text one safe line: invalid UTF-8 dropped, control
// and direction characters turned into spaces, runs of white space made one
// space, and the result cut to at most maxRunes characters (an ellipsis
// marking the cut). It is what the webhook's JSON fields carry: the words as
// written, minus what could forge or reorder lines.
func clean(s string, maxRunes int) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.Map(func(r rune) rune {
		if invisible(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	return cutRunes(s, maxRunes)
}

// disarm is clean for text that goes into a group chat message: it also
// replaces the characters that make mentions and links with their
// full-width forms, which read the same to a person and mean nothing to the
// robots. `@all`, WeCom's `<@userid>`, Feishu's `<at user_id="all">` and
// DingTalk's @mobile all need an ASCII @ or <, and a link needs "://". The
// robots are sent plain text (never markdown), so brackets and asterisks
// stay as written: Douyin's [呲牙] is an emoji code, not a link.
func disarm(s string, maxRunes int) string {
	return disarmer.Replace(clean(s, maxRunes))
}

var disarmer = strings.NewReplacer(
	"@", "＠",
	"<", "＜",
	">", "＞",
	"://", "：//",
)

// cutRunes cuts s to at most n characters, the last of them an ellipsis when
// something was cut.
func cutRunes(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i, count := 0, 0
	for i < len(s) && count < n-1 {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		count++
	}
	return strings.TrimRightFunc(s[:i], unicode.IsSpace) + ellipsis
}

// cutBytes cuts s to at most n bytes on a character boundary, ending with an
// ellipsis when something was cut.
func cutBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	n -= len(ellipsis)
	if n <= 0 {
		return ""
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + ellipsis
}
