package platform

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/autoreplyd/autoreplyd/model"
)

// EmptyText refuses an answer of blanks only, which no platform posts:
// the first check of every responder's Send (and CheckText).
func EmptyText(text string) *model.SendError {
	if strings.TrimSpace(text) == "" {
		return &model.SendError{Kind: model.Permanent, ReplyOnly: true, Msg: "reply text is empty", Reason: "empty_text"}
	}
	return nil
}

// CheckRunes is the text check of a responder whose platform takes at most
// maxRunes characters (runes) in a reply: an empty text or a longer one is
// refused before any call, naming the config key of the limit
// (responders.kitkot.max_length). A refusal is about this reply only.
func CheckRunes(text string, maxRunes int, key string) *model.SendError {
	if se := EmptyText(text); se != nil {
		return se
	}
	if n := utf8.RuneCountInString(text); n > maxRunes {
		return &model.SendError{Kind: model.Permanent, ReplyOnly: true, Reason: "too_long",
			Msg: fmt.Sprintf("reply is %d characters, more than %s (%d)", n, key, maxRunes)}
	}
	return nil
}

// ErrorOf is se as an error: nil when se is (a nil *model.SendError in an
// error would not compare equal to nil). A responder's CheckText returns
// ErrorOf of the check its Send makes.
func ErrorOf(se *model.SendError) error {
	if se == nil {
		return nil
	}
	return se
}
