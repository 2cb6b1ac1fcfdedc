package kitkot

import (
	"net/url"
	"strings"
	"unicode"
)

// kitkot answers every refusal with HTTP 400 {"code": 400, "msg": ...}: the
// refused session and the refused text look alike but for the message. The
// words below are how a message says the refusal is about the account, its
// keys or session, or its allowance (and so would refuse every reply); any
// other kitkot 400 is about this reply (its text against the guidelines, too
// long, a duplicate; the comment gone) and fails this reply only.

// accountWords are whole words (lower case) of an account-level refusal.
var accountWords = map[string]bool{
	"key": true, "apikey": true, "session": true, "login": true, "logged": true, "relogin": true, "signin": true,
	"auth": true, "oauth": true, "token": true, "unauthorized": true, "unauthorised": true, "forbidden": true,
	"permission": true, "permissions": true, "ban": true, "banned": true, "suspended": true,
	"quota": true, "credit": true, "credits": true, "balance": true, "subscription": true,
	"rate": true, "ratelimit": true, "ratelimited": true, "throttled": true, "frequent": true, "frequently": true,
	"risk": true, "captcha": true,
}

// accountStems are word beginnings of an account-level refusal
// ("authentication", "authorization"; "author" is not one).
var accountStems = []string{"authenti", "authori", "unauthori", "unauthenti", "suspend", "throttl"}

// limitWords say a limit was reached: the account's (a daily limit, a
// request limit) unless the message is about the text's length.
var limitWords = map[string]bool{"limit": true, "limits": true, "limited": true}

// lengthWords say the limit is the text's length: a refusal of this reply.
var lengthWords = map[string]bool{"character": true, "characters": true, "chars": true, "char": true,
	"length": true, "long": true, "longer": true}

// accountRefusal reports whether msg, kitkot's message of a 400 refusal of
// text, says the refusal is about the account rather than this reply. Words
// the reply's text holds are not evidence: a platform quoting the refused
// text (or a nickname a template echoed into it) must not be able to turn a
// content refusal into one that pauses the responder.
func accountRefusal(msg, text string) bool {
	own := map[string]bool{}
	for _, w := range words(text) {
		own[w] = true
	}
	for _, w := range words(url.QueryEscape(text)) {
		own[w] = true
	}
	var limit, length bool
	for _, w := range words(msg) {
		if own[w] {
			continue
		}
		if accountWords[w] {
			return true
		}
		for _, stem := range accountStems {
			if strings.HasPrefix(w, stem) {
				return true
			}
		}
		limit = limit || limitWords[w]
		length = length || lengthWords[w]
	}
	return limit && !length
}

// words splits s into lower-case words of letters and digits ("api_key" is
// "api" and "key").
func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}
