package poller

import (
	"context"
	"log/slog"
	"time"
)

// pauseSaveTimeout bounds persisting a source pause, which is done even
// while the cycle is being stopped.
const pauseSaveTimeout = 30 * time.Second

// failed logs the failure of work done under ctx: at ERROR, or at DEBUG
// when ctx has ended (SIGTERM, or the end the demo set), since work a stop
// cuts short is no failure and an ERROR line then would send the operator
// looking for one. It reports whether it was a failure, for the cycle's
// error count. (A store call under an ended ctx fails with the ctx's error,
// or with SQLite's "interrupted": ctx.Err() tells them from real ones.)
func failed(ctx context.Context, log *slog.Logger, msg string, args ...any) bool {
	if ctx.Err() != nil {
		log.Debug(msg+": stopped", args...)
		return false
	}
	log.Error(msg, args...)
	return true
}

// persistPause stores a source pause the platform asked for, even while ctx
// is being cancelled: the platform did answer so, and a pause lost at
// shutdown would let the next start pay for refused calls again.
func (p *Poller) persistPause(ctx context.Context, scope string, until time.Time, reason string) error {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), pauseSaveTimeout)
	defer cancel()
	return p.opts.Store.SetPause(sctx, scope, until, reason, p.opts.Now())
}
