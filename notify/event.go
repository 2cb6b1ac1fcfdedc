package notify

import (
	"strconv"
	"time"
)

// Kinds of Event: why a person hears about a comment.
const (
	// KindFlagged: a rule handed the comment to a person; nothing was sent.
	// The person runs `autoreplyd done ID` once they dealt with it.
	KindFlagged = "flagged"
	// KindHeld: an answer waits for approval (`autoreplyd approve ID` or
	// `autoreplyd reject ID`).
	KindHeld = "held"
	// KindAnswered: the comment was answered (or the answer is on its way);
	// for information.
	KindAnswered = "answered"
	// KindSkipped: a rule matched and nothing is sent; for information.
	KindSkipped = "skipped"
	// KindTest: `autoreplyd notify-test`.
	KindTest = "test"
)

// Event is what a person should hear about: one claim (a history row).
type Event struct {
	// ID is the claim's id in the history, the number `autoreplyd approve
	// ID` takes.
	ID int64
	// Kind is one of the Kind constants.
	Kind string
	// Status is the claim's status when recorded: flagged, held, pending,
	// sent, skipped, dry_run...
	Status    string
	Platform  string // douyin, tiktok, wechat, weibo
	ThreadID  string
	CommentID string
	// CommentText and User (the commenter's nickname) are a stranger's
	// words: messages bound and disarm them.
	CommentText string
	User        string
	UserUID     string
	Rule        string
	// ReplyText is the proposed (held) or sent answer; empty for flagged and
	// skipped comments.
	ReplyText string
	CreatedAt time.Time
}

// Commands are the exact commands that act on the event: approve and reject
// for a held answer, done for a flagged comment, none otherwise.
func (e Event) Commands() []string {
	id := strconv.FormatInt(e.ID, 10)
	switch e.Kind {
	case KindHeld:
		return []string{"autoreplyd approve " + id, "autoreplyd reject " + id}
	case KindFlagged:
		return []string{"autoreplyd done " + id}
	}
	return nil
}

// actionable says whether a person must act on the event.
func (e Event) actionable() bool { return e.Kind == KindHeld || e.Kind == KindFlagged }
