package platform

import (
	"context"

	"github.com/autoreplyd/autoreplyd/model"
)

// KnownFunc reports which of ids are already recorded for the source's
// platform. A source calls it to tell new replies from old ones wherever they
// appear in a listing.
type KnownFunc func(ctx context.Context, ids []string) (map[string]bool, error)

// Source lists new comments of one platform's watched threads.
type Source interface {
	// Platform is the source's platform name ("douyin", ...).
	Platform() string
	// Threads are the watched threads, as configured.
	Threads() []model.Thread
	// PollThread fetches what is new in one thread since prev (the zero
	// ThreadState when the thread was never polled). On error it may still
	// return the new comments it found before failing (the poller records
	// them and does not save the state); errors are *model.SourceError.
	PollThread(ctx context.Context, th model.Thread, prev model.ThreadState, known KnownFunc) (model.PollResult, error)
}

// CodeSource is a Source whose errors carry business codes from a fixed,
// known set. The poll error metric labels those codes by themselves and any
// other as "other"; every code of a Source without the method is "other".
// The set must be fixed: a label a platform can choose grows the metrics
// without bound and can put an echoed secret into a scrape.
type CodeSource interface {
	KnownCodes() []string
}

// Responder posts one reply on a platform.
type Responder interface {
	// Name is the responder's config name ("kitkot", ...).
	Name() string
	// Send posts reply.Text as an answer to reply.Comment. A failure is a
	// *model.SendError saying whether it may be retried.
	Send(ctx context.Context, reply model.Reply) (model.SendResult, error)
}

// TextChecker is a Responder that can say, without sending anything,
// whether it would refuse text as the answer to c: empty, or longer than
// its platform allows. Its Send makes the same check first, so a text that
// passes here is not refused for its length later; `autoreplyd approve
// --text` checks a person's edited answer with it before the held one is
// replaced.
type TextChecker interface {
	// CheckText returns nil when text may be sent as the answer to c, else
	// the *model.SendError that Send would return (Permanent, ReplyOnly).
	CheckText(c model.Comment, text string) error
}
