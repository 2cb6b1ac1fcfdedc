package daemon

import (
	"context"
	"time"

	"github.com/autoreplyd/autoreplyd/config"
	"github.com/autoreplyd/autoreplyd/store"
)

// PruneInterval is how often the daemon applies the retention (config key
// retention), after doing so once when the first cycle is done.
const PruneInterval = 6 * time.Hour

// pruneBatch is how many rows one pruning transaction touches.
const pruneBatch = store.DefaultPruneBatch

// pruneCutoff is the instant before which finished claims are pruned at
// now: now minus the retention, or minus the longest window the live rules'
// pacing counts answers over (cooldowns, limits per day) if that is longer,
// so that pruning never lets a rule answer sooner or more often than it
// says. Zero when the retention is 0 (keep forever).
func (d *Daemon) pruneCutoff(now time.Time) time.Time {
	keep := d.cfg.Retention
	if keep <= 0 {
		return time.Time{}
	}
	keep = max(keep, config.MinRetention)
	if set := d.rules.Load(); set != nil {
		for _, r := range set.Rules() {
			keep = max(keep, r.Pacing.CooldownUser, r.Pacing.CooldownThread)
		}
	}
	return now.Add(-keep)
}

// Prune applies the retention once, as at now, and logs what it did. It
// does nothing when the retention is 0.
func (d *Daemon) Prune(ctx context.Context, now time.Time) (store.PruneResult, error) {
	before := d.pruneCutoff(now)
	if before.IsZero() {
		return store.PruneResult{}, nil
	}
	start := time.Now()
	res, err := d.store.Prune(ctx, before, pruneBatch)
	if err != nil {
		if ctx.Err() == nil {
			d.log.Error("pruning the history failed; trying again later", "before", before.Format(time.RFC3339),
				"claims_deleted", res.Replies, "comments_blanked", res.Comments, "err", err)
		}
		return res, err
	}
	d.log.Info("history pruned", "retention", d.cfg.Retention, "before", before.Format(time.RFC3339),
		"claims_deleted", res.Replies, "comments_blanked", res.Comments, "took", time.Since(start).Round(time.Millisecond))
	return res, nil
}

// pruneLoop applies the retention once firstDone is closed (the first cycle
// is done), then every PruneInterval, until ctx ends. Pruning works in short
// batches (store.Prune), so cycles go on meanwhile.
func (d *Daemon) pruneLoop(ctx context.Context, firstDone <-chan struct{}) {
	if d.cfg.Retention <= 0 {
		return
	}
	select {
	case <-ctx.Done():
		return
	case <-firstDone:
	}
	t := time.NewTicker(PruneInterval)
	defer t.Stop()
	for {
		// One daemon prunes: the holder of the job's lease.
		if d.leases.holds(store.JobRetention) {
			_, _ = d.Prune(ctx, time.Now()) // logs its outcome
		} else {
			d.log.Debug("retention left to the instance holding its lease")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
