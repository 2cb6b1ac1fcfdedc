package poller

import (
	"time"

	"golang.org/x/time/rate"

	"github.com/autoreplyd/autoreplyd/store"
)

// sourceState is what the poller keeps in memory about one source, by the
// source's name (under Poller.mu).
type sourceState struct {
	// stopped says why the source was stopped until restart ("": it is
	// not).
	stopped string
	// backoff: no polls before this time (the platform asked us to slow
	// down).
	backoff time.Time
	// stopPause is the source's Binding.StopPause.
	stopPause time.Duration
}

// responderState is what the poller keeps in memory about one responder,
// by the responder's name (under Poller.mu).
type responderState struct {
	// limiter is the send rate limit (nil: none); set by New, safe for
	// concurrent use.
	limiter *rate.Limiter
	// sentToday counts today's sends for the daily cap (day "" until
	// counted from the store).
	sentToday capCount
	// pause is the pause in force: loaded from the store at the start of
	// each cycle, set when a breaker trips; nil when not paused.
	pause *store.Pause
	// streak counts the permanent failures in a row (the breaker).
	streak int
	// released: the responder's held answers were released since it was
	// last seen paused.
	released bool
	// queued counts the answers queued to the sender and not yet settled.
	queued int
}

type capCount struct {
	day   string
	count int
}

// source returns the state of the source name, making it on first use.
// The caller holds p.mu.
func (p *Poller) source(name string) *sourceState {
	s := p.sources[name]
	if s == nil {
		s = &sourceState{stopPause: DefaultSourceStopPause}
		p.sources[name] = s
	}
	return s
}

// responder returns the state of the responder name, making it on first
// use (a retry may name a responder no longer configured). The caller holds
// p.mu.
func (p *Poller) responder(name string) *responderState {
	r := p.responders[name]
	if r == nil {
		r = &responderState{}
		p.responders[name] = r
	}
	return r
}
