package platform

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
)

// A wait the cycle's end cuts short, by cancellation or by a deadline it
// would pass, fails at once with a retry that matches ErrCycleEnds; the
// calls the burst allows do not wait.
func TestCallLimitWait(t *testing.T) {
	t.Parallel()
	l := NewCallLimit(1.0/3600, 2) // two at once, then one an hour
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i := range 2 {
		if err := l.Wait(ctx); err != nil {
			t.Fatalf("call %d of the burst: %v", i+1, err)
		}
	}
	check := func(what string, err error) {
		t.Helper()
		var se *model.SourceError
		if !errors.As(err, &se) || se.Action != model.SourceRetry {
			t.Errorf("%s: %v, want a SourceRetry", what, err)
		}
		if !errors.Is(err, ErrCycleEnds) {
			t.Errorf("%s: %v does not match ErrCycleEnds", what, err)
		}
	}
	check("past the deadline", l.Wait(ctx))
	cancelled, stop := context.WithCancel(context.Background())
	stop()
	check("cancelled", l.Wait(cancelled))
	if err := (*CallLimit)(nil).Wait(cancelled); err != nil {
		t.Errorf("no limit: %v", err)
	}
	if err := NewCallLimit(0, 0).Wait(ctx); err != nil {
		t.Errorf("rate 0 (none): %v", err)
	}
}
