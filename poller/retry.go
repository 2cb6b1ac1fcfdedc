package poller

// Retries: claims whose send may be tried again, taken up when due.

import (
	"context"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/store"
)

// attemptsOf reads a claim's attempts and creation time from history.
func (p *Poller) attemptsOf(id int64) (int, time.Time) {
	p.mu.Lock()
	a, ok := p.attempts[id]
	p.mu.Unlock()
	if ok {
		return a.n, a.created
	}
	return 1, time.Time{}
}

// retryDelay is the exponential backoff with jitter before attempt n+1.
func (p *Poller) retryDelay(attempts int) time.Duration {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = p.opts.RetryInitial
	b.MaxInterval = p.opts.RetryMax
	b.Multiplier = 2
	b.RandomizationFactor = 0.3
	var d time.Duration
	for range max(attempts, 1) {
		d = b.NextBackOff()
	}
	return d
}

// retryDue takes up the retrying claims whose time has come.
func (p *Poller) retryDue(ctx context.Context, st *Stats) {
	items, err := p.opts.Store.DueRetries(ctx, p.opts.Now(), retriesPerCycle)
	if err != nil {
		if failed(ctx, p.log, "load due retries", "err", err) {
			st.Errors++
		}
		return
	}
	if p.opts.DryRun {
		// A dry run sends nothing: answers due (retries left by a real run,
		// answers approved meanwhile) stay due for a run that sends.
		if len(items) > 0 {
			p.log.Info("answers due are not sent in a dry run; they stay due", "count", len(items))
		}
		return
	}
	for _, it := range items {
		if ctx.Err() != nil {
			return
		}
		if _, paused := p.responderPause(it.Responder); paused {
			// Left retrying: due again, and sent once the pause ends.
			continue
		}
		if p.capped(ctx, p.opts.Store, it.Responder, 0) {
			// Left retrying: due again, and sent once the cap allows.
			continue
		}
		tooLate := !it.CreatedAt.IsZero() && p.opts.Now().Sub(it.CreatedAt) >= p.opts.MaxRetryAge
		if !tooLate {
			// Paced before the claim is committed pending again, so a crash
			// while waiting leaves it retrying, not unknown.
			if err := p.wait(ctx, it.Responder); err != nil {
				return
			}
		}
		ok, err := p.opts.Store.BeginRetry(ctx, it.ID, p.opts.Now())
		if err != nil {
			if failed(ctx, p.log, "begin retry", "claim", it.ID, "err", err) {
				st.Errors++
			}
			continue
		}
		if !ok {
			continue
		}
		if age := p.opts.Now().Sub(it.CreatedAt); !it.CreatedAt.IsZero() && age >= p.opts.MaxRetryAge {
			// Too late to answer (e.g. the daemon was down): a late reply
			// reads as spam. The store only settles pending claims, hence
			// BeginRetry first; nothing is sent.
			st.Failed++
			s := store.Settlement{Status: model.StatusFailed, Reason: ReasonRetriesExhausted,
				Error: fmt.Sprintf("not sent: claimed %s ago, past the max retry age %s (after %d attempts)", age.Round(time.Second), p.opts.MaxRetryAge, it.Attempts)}
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			if err := p.opts.Store.Settle(sctx, it.ID, s, p.opts.Now()); err != nil {
				p.log.Error("settle claim", "claim", it.ID, "status", s.Status, "err", err)
			}
			cancel()
			p.emit(Event{Comment: it.Comment, Disposition: model.DispositionEvaluated, Rule: it.Rule, Responder: it.Responder, Status: s.Status, Reason: s.Reason, Reply: it.ReplyText})
			continue
		}
		p.mu.Lock()
		p.attempts[it.ID] = attemptInfo{n: it.Attempts + 1, created: it.CreatedAt}
		p.mu.Unlock()
		p.send(ctx, it.ID, it.Claim, it.Comment, st, true)
		p.mu.Lock()
		delete(p.attempts, it.ID)
		p.mu.Unlock()
	}
}

type attemptInfo struct {
	n       int
	created time.Time
}
