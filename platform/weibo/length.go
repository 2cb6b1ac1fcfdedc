package weibo

import (
	"regexp"
	"unicode/utf8"
)

// MaxWeighted is Weibo's length limit for a comment, in weighted characters.
const MaxWeighted = 140

// NicknameReserve is the room, in weighted characters, kept for the
// "回复@name:" mention when the answered user's screen name is unknown:
// a Weibo nickname is at most 30 ASCII or 15 Chinese characters (15
// weighted), plus "回复" (2), "@" and ":" (1).
const NicknameReserve = 18

// urlPattern matches a link: Weibo shortens it and counts it as 10
// characters whatever its length.
var urlPattern = regexp.MustCompile(`https?://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+`)

// halfUnits is s's length in half characters: ASCII 1, any other character
// 2, a URL 20.
func halfUnits(s string) int {
	n, last := 0, 0
	count := func(t string) {
		for _, r := range t {
			if r < utf8.RuneSelf {
				n++
			} else {
				n += 2
			}
		}
	}
	for _, loc := range urlPattern.FindAllStringIndex(s, -1) {
		count(s[last:loc[0]])
		n += 20
		last = loc[1]
	}
	count(s[last:])
	return n
}

// WeightedLen is s's length as Weibo counts it: a non-ASCII character 1,
// an ASCII character 1/2, a URL 10, the sum rounded up.
func WeightedLen(s string) int { return (halfUnits(s) + 1) / 2 }

// mentionPrefix is what Weibo puts before a reply's text unless
// without_mention: "回复@name:".
func mentionPrefix(name string) string { return "回复@" + name + ":" }

// ReplyLen is the weighted length of the comment Weibo will store for
// text answering the user named name: the "回复@name:" prefix is counted
// unless withoutMention (NicknameReserve when name is unknown).
func ReplyLen(text, name string, withoutMention bool) int {
	h := halfUnits(text)
	if !withoutMention {
		if name == "" {
			h += 2 * NicknameReserve
		} else {
			h += halfUnits(mentionPrefix(name))
		}
	}
	return (h + 1) / 2
}
