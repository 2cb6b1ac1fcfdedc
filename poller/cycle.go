package poller

// The cycle: retries first, then every source; what a source error does.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/store"
)

// Cycle runs one cycle: due retries first, then every source. It returns
// when done or when ctx is cancelled (an in-flight send still settles).
func (p *Poller) Cycle(ctx context.Context) Stats {
	var st Stats
	start, began := time.Now(), p.opts.Now()
	p.observePauses(ctx)
	defer func() {
		p.observePauses(ctx)
		p.observeInbox(ctx)
		if p.opts.AfterCycle != nil {
			p.opts.AfterCycle()
		}
		p.opts.Metrics.Cycle(time.Since(start))
		p.mu.Lock()
		p.lastCycle = max(p.opts.Now().Sub(began), 0)
		p.mu.Unlock()
	}()
	// Pauses first: one lifted by `autoreplyd resume` releases its held
	// answers for this cycle's retries.
	pauses := p.activePauses(ctx)
	p.loadResponderPauses(ctx, pauses)
	p.recoverStranded(ctx)
	p.expireHeld(ctx, &st)
	p.retryDue(ctx, &st)
	// The pages' answers are sent while polling goes on; the cycle ends
	// when both are done.
	p.snd = p.newSender(ctx)
	defer func() { p.snd = nil }()
	for _, b := range p.opts.Bindings {
		if ctx.Err() != nil {
			break
		}
		p.pollSource(ctx, b, pauses, &st)
	}
	st.add(p.snd.finish())
	return st
}

// expireHeld records expired the held answers older than approval.max_age:
// a person did not approve them in time, and a late answer reads as spam.
func (p *Poller) expireHeld(ctx context.Context, st *Stats) {
	exp, err := p.opts.Store.ExpireHeld(ctx, p.opts.ApprovalMaxAge, p.opts.Now())
	if err != nil {
		if failed(ctx, p.log, "expire held answers", "err", err) {
			st.Errors++
		}
		return
	}
	for _, e := range exp {
		st.Expired++
		p.log.Info("held answer expired: not approved within approval.max_age; never sent",
			"claim", e.ID, "platform", e.Platform, "responder", e.Responder, "max_age", p.opts.ApprovalMaxAge)
		p.opts.Metrics.Reply(e.Platform, e.Responder, model.StatusExpired, -1)
	}
}

// observeInbox sets the inbox gauge from the store.
func (p *Poller) observeInbox(ctx context.Context) {
	if p.opts.Metrics == nil {
		return
	}
	counts, err := p.opts.Store.InboxCounts(ctx)
	if err != nil {
		p.log.Debug("count the inbox", "err", err)
		return
	}
	p.opts.Metrics.SetInbox(counts)
}

// activePauses loads the persisted pauses that are still in force.
func (p *Poller) activePauses(ctx context.Context) map[string]store.Pause {
	out := map[string]store.Pause{}
	ps, err := p.opts.Store.Pauses(ctx)
	if err != nil {
		failed(ctx, p.log, "load pauses", "err", err)
		return out
	}
	now := p.opts.Now()
	for _, pz := range ps {
		if pz.Until.IsZero() || now.Before(pz.Until) {
			out[pz.Scope] = pz
		}
	}
	return out
}

// SourceScope is the pause scope of a source, by its name.
func SourceScope(name string) string { return "source:" + name }

func (p *Poller) handleSourceError(ctx context.Context, b Binding, th model.Thread, err error) bool {
	name := b.SourceName()
	log := p.sourceLog(b).With("thread", th.ID)
	var se *model.SourceError
	if !errors.As(err, &se) {
		if ctx.Err() != nil {
			return false
		}
		log.Warn("poll failed; retried next cycle", "err", err)
		return true
	}
	switch se.Action {
	case model.SourceRetry:
		log.Warn("poll failed; retried next cycle", "code", se.Code, "err", se.Msg)
		return true
	case model.SourceSkipThread:
		log.Error("thread refused by the platform; check its ids in the config", "code", se.Code, "err", se.Msg)
		return true
	case model.SourceBackoff:
		d := se.RetryAfter
		if d <= 0 {
			d = DefaultSourceBackoff
		}
		until := p.opts.Now().Add(d)
		p.mu.Lock()
		p.source(name).backoff = until
		p.mu.Unlock()
		log.Warn("platform asks to slow down; source backs off", "code", se.Code, "until", until.Format(time.RFC3339), "err", se.Msg)
		return false
	case model.SourcePause:
		reason := fmt.Sprintf("code %s: %s", se.Code, se.Msg)
		if err := p.persistPause(ctx, SourceScope(name), se.Until, reason); err != nil {
			log.Error("persist pause", "err", err)
		}
		log.Error("source paused", "code", se.Code, "until", se.Until.Format(time.RFC3339), "err", se.Msg)
		return false
	case model.SourceStop:
		reason := fmt.Sprintf("code %s: %s", se.Code, se.Msg)
		p.mu.Lock()
		s := p.source(name)
		s.stopped = reason
		d := s.stopPause
		p.mu.Unlock()
		if d <= 0 {
			d = DefaultSourceStopPause
		}
		// Persisted too, so a crash or restart loop does not resume paying
		// for refused calls.
		until := p.opts.Now().Add(d)
		if err := p.persistPause(ctx, SourceScope(name), until, reason); err != nil {
			log.Error("persist pause", "err", err)
		}
		log.Error("SOURCE STOPPED: the platform refuses our credentials or account; polling stops until autoreplyd is restarted (and, after a restart, until the pause ends or `autoreplyd resume "+SourceScope(name)+"`)",
			"code", se.Code, "until", until.Format(time.RFC3339), "err", se.Msg)
		return false
	}
	log.Warn("poll failed", "err", err)
	return true
}
