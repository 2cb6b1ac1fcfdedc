package poller

import (
	"context"
	"log/slog"
	"time"

	"github.com/autoreplyd/autoreplyd/store"
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

// storeDown handles a store error that may be the database being
// unavailable: such an error ends this source's polls for the cycle
// (nothing can be claimed, so nothing would be sent, and every further
// page fetched would only be fetched again), is logged at ERROR once per
// outage and at DEBUG after, and counted. It reports whether err was one.
func (p *Poller) storeDown(ctx context.Context, log *slog.Logger, msg string, err error, st *Stats) bool {
	if !store.IsTransient(err) || ctx.Err() != nil {
		return false
	}
	st.Errors++
	if p.dbDown.Swap(true) {
		log.Debug(msg, "problem", store.Describe(err), "err", err)
		return true
	}
	p.opts.Metrics.DatabaseUnavailable()
	log.Error(msg+"; database unavailable: nothing is claimed or sent until it is back", "problem", store.Describe(err), "err", err)
	return true
}

// DatabaseDown reports whether a store error of an unavailable database
// was seen since the last DatabaseBack.
func (p *Poller) DatabaseDown() bool { return p.dbDown.Load() }

// DatabaseBack clears DatabaseDown, reporting whether it was set: the
// daemon found the database answering again.
func (p *Poller) DatabaseBack() bool { return p.dbDown.Swap(false) }

// MarkDatabaseDown sets DatabaseDown, reporting whether it was set already
// (the outage was logged).
func (p *Poller) MarkDatabaseDown() bool { return p.dbDown.Swap(true) }
