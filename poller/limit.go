package poller

import (
	"context"

	"golang.org/x/time/rate"

	"github.com/autoreplyd/autoreplyd/model"
)

// DefaultCallBurst is NewCallLimit's burst when none is given: calls are
// spread evenly, never bunched.
const DefaultCallBurst = 1

// CallLimit is a source's rate limit: one token bucket shared by all its
// threads (however many are polled at once) and waited for before each API
// call, pages included. It is safe for concurrent use.
type CallLimit struct{ l *rate.Limiter }

// NewCallLimit returns the limit of r calls a second in bursts of at most
// burst; r ≤ 0 means no limit, burst < 1 is DefaultCallBurst.
func NewCallLimit(r rate.Limit, burst int) *CallLimit {
	if r <= 0 {
		r = rate.Inf
	}
	if burst < 1 {
		burst = DefaultCallBurst
	}
	return &CallLimit{l: rate.NewLimiter(r, burst)}
}

// Wait blocks until the next call may be made. When ctx ends first, or
// would end before the wait does, it returns at once with a
// *model.SourceError asking to retry next cycle, and no call may be made.
func (c *CallLimit) Wait(ctx context.Context) error {
	if c == nil {
		return nil
	}
	if err := c.l.Wait(ctx); err != nil {
		return &model.SourceError{Action: model.SourceRetry, Msg: "stopped while waiting for the source rate limit: " + err.Error()}
	}
	return nil
}
