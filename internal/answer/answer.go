// Package answer checks a person's edit of a held answer, for `autoreplyd
// approve --text` and the web console alike: one check, so that a text one
// of them accepts the other does not refuse.
package answer

import (
	"errors"
	"fmt"
	"strings"

	"github.com/autoreplyd/autoreplyd/internal/termesc"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/platform"
	"github.com/autoreplyd/autoreplyd/store"
)

// ErrEmpty is returned for an edited answer that is empty or only spaces.
var ErrEmpty = errors.New("the edited answer is empty")

// CheckForm checks what can be checked of an edited answer without its
// responder: not empty (surrounding spaces are trimmed before sending, see
// Trim) and one line of printable text, without a control character or a
// direction override (what a person types is recorded, shown and sent).
func CheckForm(text string) error {
	text = Trim(text)
	if text == "" {
		return ErrEmpty
	}
	if esc := termesc.String(text); esc != text {
		return fmt.Errorf("%s holds a control character or a direction override: give one line of printable text", esc)
	}
	return nil
}

// Trim is the edited answer as it is recorded and sent: without
// surrounding spaces and line breaks.
func Trim(text string) string { return strings.TrimSpace(text) }

// Check checks text as the claim's responder r checks a rendered answer
// before sending it (platform.TextChecker), after CheckForm: an edit the
// platform would refuse for its length is refused now, while the held
// answer can still be approved as written, rather than failing at send. A
// responder that checks nothing (no TextChecker) takes any text CheckForm
// takes. The error says what is wrong (the platform's limit, in English)
// and never quotes a secret the caller did not give.
func Check(r platform.Responder, row store.HistoryRow, text string) error {
	if err := CheckForm(text); err != nil {
		return err
	}
	tc, ok := r.(platform.TextChecker)
	if !ok {
		return nil
	}
	if err := tc.CheckText(Comment(row), Trim(text)); err != nil {
		msg := err.Error()
		if se := (*model.SendError)(nil); errors.As(err, &se) {
			msg = se.Msg
		}
		return fmt.Errorf("responder %s refuses the edited answer: %s", row.Responder, msg)
	}
	return nil
}

// Comment is the comment a claim answers, as far as the history keeps it:
// what a responder's text check needs (the platform, the ids, the author
// for Weibo's 回复@name: prefix).
func Comment(row store.HistoryRow) model.Comment {
	return model.Comment{Platform: row.Platform, ID: row.CommentID, ThreadID: row.ThreadID, PostID: row.PostID, Text: row.CommentText,
		User: model.User{UID: row.UserUID, Nickname: row.UserNickname, UniqueID: row.UserUniqueID}}
}
