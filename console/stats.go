package console

import (
	"context"
	"time"

	"github.com/autoreplyd/autoreplyd/store"
)

// Stats are the read queries of the rules page and the inbox's context;
// *store.Store has them (store/console.go). An interface, so that a test
// can make one fail.
type Stats interface {
	// RuleStats counts each rule's claims created in [since, until), with
	// a series of counts per bucket (oldest first) for its chart.
	RuleStats(ctx context.Context, since, until time.Time, bucket time.Duration) ([]store.RuleStat, error)
	// ThreadContext is what surrounds a claim's comment: the comment it
	// replies to and our earlier answers in its thread.
	ThreadContext(ctx context.Context, platform, threadID, commentID string, limit int) (store.ThreadContext, error)
	// UserHistory is a user's earlier comments and what became of them,
	// newest first.
	UserHistory(ctx context.Context, platform, uid string, limit int) ([]store.UserComment, error)
}
