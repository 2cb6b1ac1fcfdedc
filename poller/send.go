package poller

// Sending and settling: one committed claim sent through its responder and
// settled with the outcome.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/store"
)

// send calls the responder for a committed pending claim and settles it.
// The claim is settled even when ctx is cancelled meanwhile: the send runs
// under its own timeout, so SIGTERM lets the in-flight send finish.
//
// waited says the rate limit and jitter were already waited for, before the
// claim was committed pending (a retry). A queued claim (cl.Queued) is paced
// here, then marked attempted (committed) right before the send: a crash
// while waiting leaves it queued, to be sent after the restart, never
// unknown.
func (p *Poller) send(ctx context.Context, id int64, cl store.Claim, c model.Comment, st *Stats, waited bool) {
	log := p.log.With("platform", c.Platform, "comment", c.ID, "rule", cl.Rule, "responder", cl.Responder, "claim", id)
	settle := func(sett store.Settlement) {
		s := sett
		// Settling must happen even during shutdown.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.opts.StoreWait)
		defer cancel()
		err := p.opts.Store.Settle(sctx, id, s, p.opts.Now())
		// A database locked by another process (or briefly full) must not
		// leave a send that happened recorded as pending: try again while
		// the time allows.
		for tries := 0; err != nil && store.IsTransient(err); tries++ {
			if tries == 0 {
				log.Warn("settle claim: database unavailable; trying again", "status", s.Status, "problem", store.Describe(err), "err", err)
			}
			select {
			case <-sctx.Done():
			case <-time.After(time.Second):
				err = p.opts.Store.Settle(sctx, id, s, p.opts.Now())
				continue
			}
			break
		}
		switch {
		case err != nil && store.IsTransient(err) && ctx.Err() == nil:
			// Recorded by the first cycle that finds the database back;
			// a stop before it leaves the claim pending, unknown at the
			// next start, never resent.
			p.strand(func(s *stranded) { s.settled[id] = sett })
			log.Error("settle claim: database still unavailable; its outcome is recorded when it is back", "status", sett.Status, "problem", store.Describe(err), "err", err)
		case err != nil:
			// The claim stays pending; at the next start it becomes unknown
			// and is never resent automatically.
			log.Error("settle claim", "status", sett.Status, "problem", store.Describe(err), "err", err)
		}
	}
	resp, ok := p.opts.Responders[cl.Responder]
	if !ok {
		st.Failed++
		settle(store.Settlement{Status: model.StatusFailed, Reason: ReasonNoResponder, Error: "responder " + cl.Responder + " is not configured"})
		p.emit(Event{Comment: c, Disposition: model.DispositionEvaluated, Rule: cl.Rule, Responder: cl.Responder, Status: model.StatusFailed, Reason: ReasonNoResponder, Reply: cl.ReplyText})
		return
	}
	if pz, paused := p.responderPause(cl.Responder); paused && !p.opts.DryRun {
		p.hold(ctx, id, cl, c, pz, st)
		return
	}
	// A retry was paced before its claim was committed (waited).
	if !waited {
		if err := p.wait(ctx, cl.Responder); err != nil {
			// Nothing was sent: retry soon.
			st.Retrying++
			settle(store.Settlement{Status: model.StatusRetrying, Reason: ReasonShutdown, Error: "stopped before sending", NextAttempt: p.opts.Now()})
			p.emit(Event{Comment: c, Disposition: model.DispositionEvaluated, Rule: cl.Rule, Responder: cl.Responder, Status: model.StatusRetrying, Reason: ReasonShutdown, Reply: cl.ReplyText})
			return
		}
	}
	if cl.Queued {
		ok, err := p.startSend(ctx, id)
		if err != nil {
			// Nothing was sent; the claim stays queued (pending, not
			// attempted): requeued by the first cycle that finds the
			// database back, or at the next start.
			st.Errors++
			if store.IsTransient(err) && ctx.Err() == nil {
				p.strand(func(s *stranded) { s.queued = append(s.queued, id) })
				log.Error("mark the claim attempted: database unavailable; not sent: it is sent once the database is back", "problem", store.Describe(err), "err", err)
				return
			}
			log.Error("mark the claim attempted; not sent: it is sent after the next start", "problem", store.Describe(err), "err", err)
			return
		}
		if !ok {
			log.Warn("claim no longer queued; not sent")
			return
		}
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.opts.SendTimeout)
	res, err := resp.Send(sctx, model.Reply{ClaimID: id, Comment: c, Text: cl.ReplyText})
	cancel()
	if err == nil {
		st.Sent++
		p.countSent(cl.Responder)
		p.sendSucceeded(cl.Responder)
		settle(store.Settlement{Status: model.StatusSent, Reason: res.Reason, PlatformReplyID: res.PlatformReplyID})
		log.Info("reply sent", "reply_id", res.PlatformReplyID)
		p.emit(Event{Comment: c, Disposition: model.DispositionEvaluated, Rule: cl.Rule, Responder: cl.Responder, Status: model.StatusSent, Reason: res.Reason, Reply: cl.ReplyText})
		return
	}
	s := p.failure(err, id)
	if until, ok := p.platformPause(err); ok {
		// The platform asks us to stop for a while (quota, too frequent):
		// pause the responder, persisted, and hold this claim until then.
		var se *model.SendError
		errors.As(err, &se)
		p.pauseResponder(ctx, cl.Responder, until, fmt.Sprintf("code %s: %s", se.Code, se.Msg))
		if s.Status == model.StatusRetrying {
			s.NextAttempt = until
		}
	}
	switch s.Status {
	case model.StatusRetrying:
		st.Retrying++
	case model.StatusUnknown:
		st.Unknown++
	default:
		st.Failed++
	}
	settle(s)
	log.Warn("reply not sent", "status", s.Status, "reason", s.Reason, "err", s.Error)
	p.emit(Event{Comment: c, Disposition: model.DispositionEvaluated, Rule: cl.Rule, Responder: cl.Responder, Status: s.Status, Reason: s.Reason, Reply: cl.ReplyText, Err: err})
	p.sendFailed(ctx, cl.Responder, err)
}

// startSend marks queued claim id attempted, trying again for a while when
// the database is locked or briefly unavailable.
func (p *Poller) startSend(ctx context.Context, id int64) (bool, error) {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.opts.StoreWait)
	defer cancel()
	for {
		ok, err := p.opts.Store.StartSend(sctx, id, p.opts.Now())
		if err == nil || !store.IsTransient(err) || ctx.Err() != nil {
			return ok, err
		}
		select {
		case <-sctx.Done():
			return false, err
		case <-time.After(time.Second):
		}
	}
}

// failure turns a send error into the claim's settlement.
func (p *Poller) failure(err error, id int64) store.Settlement {
	var se *model.SendError
	reason, msg := "error", err.Error()
	if errors.As(err, &se) {
		reason = se.Reason
		if reason == "" {
			reason = se.Kind.String()
		}
	}
	switch model.KindOf(err) {
	case model.Retryable:
		attempts, created := p.attemptsOf(id)
		age := p.opts.Now().Sub(created)
		if attempts >= p.opts.MaxAttempts || (!created.IsZero() && age >= p.opts.MaxRetryAge) {
			return store.Settlement{Status: model.StatusFailed, Reason: ReasonRetriesExhausted, Error: fmt.Sprintf("%s (after %d attempts)", msg, attempts)}
		}
		return store.Settlement{Status: model.StatusRetrying, Reason: reason, Error: msg, NextAttempt: p.opts.Now().Add(p.retryDelay(attempts))}
	case model.Unknown:
		return store.Settlement{Status: model.StatusUnknown, Reason: reason, Error: msg}
	default:
		return store.Settlement{Status: model.StatusFailed, Reason: reason, Error: msg}
	}
}

// wait applies the responder's rate limit and jitter.
func (p *Poller) wait(ctx context.Context, responder string) error {
	p.mu.Lock()
	l := p.responder(responder).limiter
	p.mu.Unlock()
	if l != nil {
		if err := l.Wait(ctx); err != nil {
			return err
		}
	}
	if p.opts.Jitter != nil {
		if d := p.opts.Jitter(); d > 0 {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-t.C:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	return nil
}

// strand records a claim left behind by an unavailable database.
func (p *Poller) strand(f func(*stranded)) {
	p.strandMu.Lock()
	defer p.strandMu.Unlock()
	if p.stranded.settled == nil {
		p.stranded.settled = map[int64]store.Settlement{}
	}
	f(&p.stranded)
}

// recoverStranded finishes, once the database answers again, what sends
// left behind while it did not: the outcomes of sends made are recorded
// (the claims are still pending: nothing else touched them), and queued
// claims never marked attempted are requeued, due now, for this cycle's
// retries. What fails again stays for the next cycle; a stop before then
// leaves the claims to the next start's RecoverPending (attempted:
// unknown, never resent; queued: requeued).
func (p *Poller) recoverStranded(ctx context.Context) {
	p.strandMu.Lock()
	s := p.stranded
	p.stranded = stranded{}
	p.strandMu.Unlock()
	if len(s.queued) == 0 && len(s.settled) == 0 {
		return
	}
	now := p.opts.Now()
	for id, sett := range s.settled {
		err := p.opts.Store.Settle(ctx, id, sett, now)
		switch {
		case err == nil:
			p.log.Info("settle claim: recorded now that the database is back", "claim", id, "status", sett.Status)
		case store.IsTransient(err):
			p.strand(func(st *stranded) { st.settled[id] = sett })
		default:
			p.log.Error("settle claim", "claim", id, "status", sett.Status, "problem", store.Describe(err), "err", err)
		}
	}
	if len(s.queued) == 0 {
		return
	}
	n, err := p.opts.Store.RequeueQueued(ctx, s.queued, now)
	switch {
	case err == nil:
		p.log.Info("answers left queued while the database was unavailable: sent now", "count", n)
	case store.IsTransient(err):
		p.strand(func(st *stranded) { st.queued = append(st.queued, s.queued...) })
	default:
		p.log.Error("requeue answers left queued while the database was unavailable: they are sent after the next start",
			"count", len(s.queued), "problem", store.Describe(err), "err", err)
	}
}
