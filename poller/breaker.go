package poller

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/platform"
	"github.com/autoreplyd/autoreplyd/store"
)

// Circuit-breaker tunables: every one named with why.
const (
	// DefaultBreakerFailures, DefaultBreakerPause and
	// DefaultSourceStopPause are the config's defaults (see package platform
	// for why), used when Pacing or Binding leaves them zero.
	DefaultBreakerFailures = platform.DefaultBreakerFailures
	DefaultBreakerPause    = platform.DefaultBreakerPause
	DefaultSourceStopPause = platform.DefaultSourceStopPause
	// DefaultSourceBackoff is how long a source backs off on a "slow down"
	// answer (JustOneAPI 302) that says nothing of when to come back: about
	// one cycle at the default schedule, so the next cycle tries once more.
	DefaultSourceBackoff = time.Minute
)

// ReasonResponderPaused is the reason of a claim held (retrying, nothing
// sent) while its responder is paused.
const ReasonResponderPaused = "responder_paused"

// Kinds of PauseState.
const (
	PauseKindPaused  = "paused"  // persisted in the store; honoured after restart
	PauseKindStopped = "stopped" // this process only, until restart
	PauseKindBackoff = "backoff" // this process only, in memory
)

// ResponderScope is the pause scope of a responder.
func ResponderScope(name string) string { return "responder:" + name }

// PauseState is one source or responder that is not being used right now,
// with why.
type PauseState struct {
	Scope  string    // "source:douyin", "responder:kitkot"
	Kind   string    // PauseKind*
	Reason string    // e.g. "code 601: insufficient balance"
	Until  time.Time // zero: until cleared (paused) or restart (stopped)
}

// Pauses returns the pauses in force: the persisted ones (the store is read
// now, so a pause lifted by `autoreplyd resume` is gone) and this process's
// in-memory stops and backoffs, ordered by scope.
func (p *Poller) Pauses(ctx context.Context) ([]PauseState, error) {
	ps, err := p.opts.Store.Pauses(ctx)
	if err != nil {
		return nil, err
	}
	now := p.opts.Now()
	var out []PauseState
	for _, pz := range ps {
		if pz.Until.IsZero() || now.Before(pz.Until) {
			out = append(out, PauseState{Scope: pz.Scope, Kind: PauseKindPaused, Reason: pz.Reason, Until: pz.Until})
		}
	}
	p.mu.Lock()
	for name, s := range p.sources {
		if s.stopped != "" {
			out = append(out, PauseState{Scope: SourceScope(name), Kind: PauseKindStopped, Reason: s.stopped})
		}
		if now.Before(s.backoff) {
			out = append(out, PauseState{Scope: SourceScope(name), Kind: PauseKindBackoff, Reason: "platform asked to slow down", Until: s.backoff})
		}
	}
	p.mu.Unlock()
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Scope != out[j].Scope {
			return out[i].Scope < out[j].Scope
		}
		return out[i].Kind < out[j].Kind
	})
	return out, nil
}

// observePauses sets the paused metric from Pauses: 1 for each scope
// paused, stopped or backing off, 0 for the others.
func (p *Poller) observePauses(ctx context.Context) {
	if p.opts.Metrics == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	ps, err := p.Pauses(ctx)
	if err != nil {
		p.log.Warn("read pauses for the paused metric", "err", err)
		return
	}
	scopes := make([]string, 0, len(ps))
	for _, pz := range ps {
		scopes = append(scopes, pz.Scope)
	}
	p.opts.Metrics.SetPaused(scopes)
}

// loadResponderPauses takes the responder pauses in force from this cycle's
// persisted pauses, warns once per paused responder, and releases the claims
// held for a responder no longer paused (its pause ended or was lifted
// early by `autoreplyd resume`), so they are due in this cycle.
func (p *Poller) loadResponderPauses(ctx context.Context, pauses map[string]store.Pause) {
	held := map[string]store.Pause{}
	for scope, pz := range pauses {
		if name, ok := strings.CutPrefix(scope, "responder:"); ok {
			held[name] = pz
		}
	}
	p.mu.Lock()
	was := map[string]bool{}
	for name, r := range p.responders {
		if r.pause != nil {
			was[name] = true
		}
		r.pause = nil
	}
	for name, pz := range held {
		p.responder(name).pause = &pz
	}
	released := map[string]bool{}
	for name, r := range p.responders {
		released[name] = r.released
	}
	p.mu.Unlock()
	for _, name := range sortedNames(p.opts.Responders) {
		if pz, ok := held[name]; ok {
			p.log.Warn("responder paused: nothing is sent with it; new answers are held as retrying (responder_paused) until the pause ends or `autoreplyd resume "+ResponderScope(name)+"`",
				"responder", name, "until", fmtUntil(pz.Until), "reason", pz.Reason)
			continue
		}
		// Held answers can only wait on a pause this process has not seen
		// end: at the first cycle (lifted while we were down) or when the
		// pause of the previous cycle is gone. Other cycles write nothing.
		if p.opts.DryRun || (released[name] && !was[name]) {
			continue
		}
		n, err := p.opts.Store.ReleaseHeld(ctx, name, ReasonResponderPaused, p.opts.Now())
		if err != nil {
			failed(ctx, p.log, "release claims held by a responder pause", "responder", name, "err", err)
			continue
		}
		p.mu.Lock()
		p.responder(name).released = true
		p.mu.Unlock()
		if n > 0 {
			p.log.Info("responder no longer paused: held answers are due", "responder", name, "claims", n)
		}
	}
}

// responderPause returns the pause of responder, if it is paused.
func (p *Poller) responderPause(responder string) (store.Pause, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if r := p.responders[responder]; r != nil && r.pause != nil {
		return *r.pause, true
	}
	return store.Pause{}, false
}

// breakerPause is the pause of responder's breaker.
func (p *Poller) breakerPause(responder string) time.Duration {
	if d := p.opts.Pacing[responder].BreakerPause; d > 0 {
		return d
	}
	return DefaultBreakerPause
}

// hold settles a committed pending claim of a paused responder as retrying,
// due when the pause ends; nothing is sent.
func (p *Poller) hold(ctx context.Context, id int64, cl store.Claim, c model.Comment, pz store.Pause, st *Stats) {
	now := p.opts.Now()
	next := pz.Until
	if next.IsZero() {
		// Paused until cleared: look again later (a lifted pause releases it).
		next = now.Add(p.breakerPause(cl.Responder))
	}
	msg := fmt.Sprintf("not sent: responder %s paused until %s: %s", cl.Responder, fmtUntil(pz.Until), pz.Reason)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := p.opts.Store.Hold(sctx, id, ReasonResponderPaused, msg, next, now); err != nil {
		// The claim stays pending: at the next start it becomes unknown and
		// is never resent automatically.
		p.log.Error("hold claim", "claim", id, "responder", cl.Responder, "err", err)
		st.Errors++
		return
	}
	st.Retrying++
	p.emit(Event{Comment: c, Disposition: model.DispositionEvaluated, Rule: cl.Rule, Responder: cl.Responder, Status: model.StatusRetrying, Reason: ReasonResponderPaused, Reply: cl.ReplyText})
}

// breakerCounts reports whether a send error counts toward the responder's
// breaker: a permanent refusal from the platform (an HTTP 4xx or a platform
// code) that is or may be about the account or the API. A refusal of one
// reply's content or target (SendError.ReplyOnly) does not count: whoever
// can get replies refused (a commenter whose nickname a template echoes)
// must not be able to pause the responder for everyone. Nor does a failure
// decided locally before any request (empty text, too long, ...).
func breakerCounts(err error) bool {
	var se *model.SendError
	if !errors.As(err, &se) || se.Kind != model.Permanent || se.ReplyOnly {
		return false
	}
	return se.Code != "" || strings.HasPrefix(se.Reason, "http_")
}

// sendSucceeded resets responder's run of failures.
func (p *Poller) sendSucceeded(responder string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.responder(responder).streak = 0
}

// sendFailed counts a failed send toward responder's breaker and trips it
// when the run of permanent failures reaches BreakerFailures: the responder
// is paused for BreakerPause, persisted so a restart honours it.
func (p *Poller) sendFailed(ctx context.Context, responder string, err error) {
	limit := p.opts.Pacing[responder].BreakerFailures
	if limit <= 0 || !breakerCounts(err) {
		return
	}
	p.mu.Lock()
	r := p.responder(responder)
	r.streak++
	n := r.streak
	if n < limit {
		p.mu.Unlock()
		return
	}
	r.streak = 0
	now := p.opts.Now()
	until := now.Add(p.breakerPause(responder))
	var se *model.SendError
	errors.As(err, &se)
	last := se.Msg
	if se.Code != "" {
		last = "code " + se.Code + ": " + se.Msg
	}
	reason := fmt.Sprintf("%d permanent failures in a row, last %s", n, last)
	p.mu.Unlock()
	p.pauseResponder(ctx, responder, until, reason)
}

// platformPause reports the end of the pause a send error asks for (a
// platform quota or "too frequent" answer), if any.
func (p *Poller) platformPause(err error) (time.Time, bool) {
	var se *model.SendError
	if !errors.As(err, &se) {
		return time.Time{}, false
	}
	now := p.opts.Now()
	switch {
	case se.PauseToNextDay:
		t := now.In(p.opts.Location)
		return time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, p.opts.Location), true
	case se.PauseFor > 0:
		return now.Add(se.PauseFor), true
	}
	return time.Time{}, false
}

// pauseResponder pauses responder until the given time, in memory at once
// and persisted so a restart honours it, and says so loudly.
func (p *Poller) pauseResponder(ctx context.Context, responder string, until time.Time, reason string) {
	now := p.opts.Now()
	p.mu.Lock()
	p.responder(responder).pause = &store.Pause{Scope: ResponderScope(responder), Reason: reason, Until: until, CreatedAt: now}
	p.mu.Unlock()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := p.opts.Store.SetPause(sctx, ResponderScope(responder), until, reason, now); err != nil {
		p.log.Error("persist responder pause (it holds for this cycle only)", "responder", responder, "err", err)
	}
	p.log.Error("RESPONDER PAUSED: the platform refuses more replies for now (quota, pace, account, session or risk control); nothing is sent with it until the pause ends or `autoreplyd resume "+ResponderScope(responder)+"`",
		"responder", responder, "until", until.Format(time.RFC3339), "reason", reason)
}

func fmtUntil(t time.Time) string {
	if t.IsZero() {
		return "cleared"
	}
	return t.Format(time.RFC3339)
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
