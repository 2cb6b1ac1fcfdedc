package platform

import (
	"context"
	"errors"

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

// ErrCycleEnds is in the error of a rate limit wait that the cycle's end
// (its context's cancellation, or its deadline coming before the wait would
// end) cut short: the poll was not made, which is no failure of the thread
// or the platform; it is polled again next cycle.
var ErrCycleEnds = errors.New("the cycle ends before the source's rate limit allows another call")

// Wait blocks until the next call may be made. When ctx ends first, or
// would end before the wait does, it returns at once with a
// *model.SourceError asking to retry next cycle that also matches
// ErrCycleEnds (errors.Is), and no call may be made.
func (c *CallLimit) Wait(ctx context.Context) error {
	if c == nil {
		return nil
	}
	if err := c.l.Wait(ctx); err != nil {
		return waitError{&model.SourceError{Action: model.SourceRetry, Msg: "stopped while waiting for the source rate limit: " + err.Error()}}
	}
	return nil
}

// waitError is a cut-short wait's error: its *model.SourceError, marked
// ErrCycleEnds.
type waitError struct{ se *model.SourceError }

func (e waitError) Error() string   { return e.se.Error() }
func (e waitError) Unwrap() []error { return []error{e.se, ErrCycleEnds} }
