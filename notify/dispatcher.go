package notify

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
	"golang.org/x/time/rate"

	"github.com/autoreplyd/autoreplyd/internal/termesc"
)

// Pending is one undelivered notification: an outbox row.
type Pending struct {
	ID        int64 // the outbox row's id
	Channel   string
	Event     Event
	Attempts  int       // failed deliveries so far
	CreatedAt time.Time // when the row was written (with its claim)
}

// Outbox is where notifications wait: the store's outbox table, written in
// the same transaction as the claim each is about.
type Outbox interface {
	// Due returns at most limit undelivered notifications of channel whose
	// next attempt is at or before now, oldest first. It is asked per
	// channel, so that a channel with a long backlog (one failing for days)
	// cannot crowd the others out of a shared limit.
	Due(ctx context.Context, channel string, now time.Time, limit int) ([]Pending, error)
	// Delivered records that a channel accepted them: they are never
	// delivered again.
	Delivered(ctx context.Context, ids []int64, now time.Time) error
	// Retry records a failed delivery: attempts + 1, the error, and due
	// again at next.
	Retry(ctx context.Context, ids []int64, errText string, next, now time.Time) error
	// Abandon gives them up (too old, or refused by the platform): status
	// failed with the error, kept for the record, never delivered.
	Abandon(ctx context.Context, ids []int64, errText string, now time.Time) error
	// Queued counts the undelivered notifications of each channel, due or
	// not, for State.
	Queued(ctx context.Context) (map[string]int, error)
}

// Statuses passed to Options.Count, once per event.
const (
	CountSent     = "sent"     // a channel accepted it
	CountRetrying = "retrying" // a delivery failed; it will be tried again
	CountFailed   = "failed"   // given up: too old, or refused by the platform
)

// Backoff is an exponential backoff between deliveries to a failing
// channel: Initial after the first failure, doubling up to Max, each wait
// randomised by ±Jitter (a fraction: 0.2 is ±20%).
type Backoff struct {
	Initial, Max time.Duration
	Jitter       float64
}

// Defaults of Options.
const (
	// DefaultMaxAge: a notification not delivered within a week is given up
	// (kept in the outbox as failed): by then the comment is history, and a
	// channel failing that long has been in /-/ready all week.
	DefaultMaxAge = 7 * 24 * time.Hour
	// DefaultPoll: the outbox is looked at this often even without a Kick,
	// for retries that came due and rows another process wrote.
	DefaultPoll = time.Minute
	// DefaultMaxDigest caps one digest: a message listing ten and counting
	// fifty is already more than a person reads; the rest go in the next.
	DefaultMaxDigest = 50
	// DefaultSendTimeout bounds one Send whatever the channel does; this
	// package's channels time out at their Spec.Timeout first.
	DefaultSendTimeout = 2 * maxTimeout
)

var (
	// DefaultRetryBackoff spaces retries of a busy platform or a network
	// blip, usually gone in seconds; ten minutes between tries of a long
	// outage notices its end soon enough.
	DefaultRetryBackoff = Backoff{Initial: 10 * time.Second, Max: 10 * time.Minute, Jitter: 0.2}
	// DefaultConfigBackoff spaces tries of a refused config, which stays
	// refused until a person changes it: every few minutes to an hour
	// notices the fix without hammering a robot that refuses us.
	DefaultConfigBackoff = Backoff{Initial: 5 * time.Minute, Max: time.Hour, Jitter: 0.2}
)

// Options tune a Dispatcher. The zero value is the defaults.
type Options struct {
	Logger *slog.Logger
	// Count is called once per event delivered (CountSent), failed and to
	// be retried (CountRetrying) or given up (CountFailed): the metrics'
	// autoreplyd_notifications_total{channel,status}.
	Count func(channel, status string)
	// Now is the clock (default time.Now).
	Now func() time.Time
	// MaxAge gives up a notification older than this (default
	// DefaultMaxAge).
	MaxAge time.Duration
	// Poll is the longest Run waits without a Kick (default DefaultPoll).
	Poll time.Duration
	// MaxDigest caps the events of one message (default DefaultMaxDigest).
	MaxDigest int
	// SendTimeout bounds one Send (default DefaultSendTimeout).
	SendTimeout time.Duration
	// RetryBackoff and ConfigBackoff space deliveries to a failing channel
	// (defaults DefaultRetryBackoff and DefaultConfigBackoff). A platform's
	// own wait (DingTalk's ten-minute block) is kept when longer.
	RetryBackoff, ConfigBackoff Backoff
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Count == nil {
		o.Count = func(string, string) {}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxAge <= 0 {
		o.MaxAge = DefaultMaxAge
	}
	if o.Poll <= 0 {
		o.Poll = DefaultPoll
	}
	if o.MaxDigest <= 0 {
		o.MaxDigest = DefaultMaxDigest
	}
	if o.SendTimeout <= 0 {
		o.SendTimeout = DefaultSendTimeout
	}
	if o.RetryBackoff.Initial <= 0 {
		o.RetryBackoff = DefaultRetryBackoff
	}
	if o.ConfigBackoff.Initial <= 0 {
		o.ConfigBackoff = DefaultConfigBackoff
	}
	return o
}

// ChannelState is a channel's health, for /-/ready's detail. Its texts hold
// no URL or secret.
type ChannelState struct {
	Name string `json:"name"`
	Type string `json:"type"`
	// Healthy: the last delivery was accepted, or none failed yet.
	Healthy bool `json:"healthy"`
	// FixConfig: the platform refuses the channel as configured; no message
	// will pass until the config or the robot's settings change.
	FixConfig bool `json:"fix_config"`
	// LastError is the last failure's text, redacted; it stays after the
	// channel recovers (LastFailure and LastSuccess say which came last).
	LastError   string    `json:"last_error,omitempty"`
	LastSuccess time.Time `json:"last_success,omitzero"`
	LastFailure time.Time `json:"last_failure,omitzero"`
	// RetryAt is when a failing channel is tried next.
	RetryAt time.Time `json:"retry_at,omitzero"`
	// Queued counts its undelivered notifications, as of the last round.
	Queued int `json:"queued"`
}

// Dispatcher delivers an Outbox's notifications through the channels, each
// channel on its own: its own rate, its own backoff, its own goroutine, so
// that a failing or hanging channel holds up no other.
type Dispatcher struct {
	ob    Outbox
	opts  Options
	log   *slog.Logger
	chans []*chanState
	kick  chan struct{} // a Kick waiting for Run
	done  chan struct{} // a channel's delivery finished: Run re-plans

	mu      sync.Mutex // guards chanState's state fields and unknown
	unknown map[string]bool
}

// chanState is one channel and what the dispatcher knows of it.
type chanState struct {
	ch   Channel
	name string
	lim  *rate.Limiter
	// run is held while the channel delivers: Run skips a channel already
	// delivering, Flush waits for it.
	run sync.Mutex

	// Guarded by Dispatcher.mu.
	retryBO, configBO *backoff.ExponentialBackOff
	failing           bool
	class             Class
	code              int
	lastErr           string
	lastOK, lastFail  time.Time
	failures          int
	retryAt           time.Time // no delivery before: backoff
	tokenAt           time.Time // no delivery before: rate
	busy              bool
	again             bool // a round skipped it while busy
	queued            int
	// solo holds outbox ids of events of a digest the platform refused:
	// each is sent alone next, so that one refused comment does not take
	// the others with it.
	solo map[int64]bool
}

// NewDispatcher returns a Dispatcher of the channels over ob. Channels built
// by New keep their Spec's Rate and Burst; others get the defaults. Names
// are unique (the config's keys): a second channel of a name is left out,
// and said so, since both would deliver the same notifications.
func NewDispatcher(chs []Channel, ob Outbox, opts Options) *Dispatcher {
	opts = opts.withDefaults()
	d := &Dispatcher{ob: ob, opts: opts, log: opts.Logger.With("component", "notify"),
		kick: make(chan struct{}, 1), done: make(chan struct{}, 1), unknown: map[string]bool{}}
	seen := map[string]bool{}
	for _, ch := range chs {
		if seen[ch.Name()] {
			d.log.Error("two notification channels of one name: the second is left out", "channel", termesc.String(ch.Name()))
			continue
		}
		seen[ch.Name()] = true
		limit, burst := DefaultRate, DefaultBurst
		if r, ok := ch.(interface{ limits() (rate.Limit, int) }); ok {
			limit, burst = r.limits()
		}
		d.chans = append(d.chans, &chanState{
			ch: ch, name: ch.Name(), lim: rate.NewLimiter(limit, burst),
			retryBO: newBackoff(opts.RetryBackoff), configBO: newBackoff(opts.ConfigBackoff),
			solo: map[int64]bool{},
		})
	}
	return d
}

func newBackoff(b Backoff) *backoff.ExponentialBackOff {
	bo := &backoff.ExponentialBackOff{InitialInterval: b.Initial, RandomizationFactor: b.Jitter,
		Multiplier: 2, MaxInterval: max(b.Max, b.Initial)}
	bo.Reset()
	return bo
}

// Kick asks Run for a round now (the poller calls it after each cycle). It
// never blocks.
func (d *Dispatcher) Kick() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends: a round at once, then on each Kick, when a
// channel's backoff or rate allows it again, and at least every Poll. Each
// channel delivers in its own goroutine; Run returns once they have all
// stopped.
func (d *Dispatcher) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		round := false
		select {
		case <-ctx.Done():
			return
		case <-d.kick:
			round = true
		case <-timer.C:
			round = true
		case <-d.done:
			// A delivery ended: start the channels a round had to skip
			// while they were busy, and re-plan the timer.
		}
		if round {
			d.updateQueued(ctx)
		}
		for _, cs := range d.chans {
			if !d.wanted(cs, round) {
				continue
			}
			if !cs.run.TryLock() {
				// Still delivering: it goes again when it ends, so that
				// what the Kick was about is not left for the next Poll.
				d.mu.Lock()
				cs.again = true
				d.mu.Unlock()
				continue
			}
			d.setBusy(cs, true)
			wg.Go(func() {
				defer d.finished(cs)
				// The outbox's errors are logged where they happen; Run
				// goes on, and the next round tries again.
				_ = d.deliver(ctx, cs)
			})
		}
		timer.Reset(d.nextWake())
	}
}

// wanted says whether Run starts a channel's delivery: in a round, or when
// a round skipped it while it was busy, and only when its backoff and rate
// let it deliver now (the timer comes back when they do).
func (d *Dispatcher) wanted(cs *chanState, round bool) bool {
	now := d.opts.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	if !round && !cs.again {
		return false
	}
	if cs.busy {
		return true // TryLock fails; again is set
	}
	cs.again = false
	return !now.Before(cs.retryAt) && !now.Before(cs.tokenAt)
}

func (d *Dispatcher) setBusy(cs *chanState, busy bool) {
	d.mu.Lock()
	cs.busy = busy
	d.mu.Unlock()
}

// finished ends a channel's delivery goroutine and wakes Run to re-plan.
func (d *Dispatcher) finished(cs *chanState) {
	d.setBusy(cs, false)
	cs.run.Unlock()
	select {
	case d.done <- struct{}{}:
	default:
	}
}

// nextWake is how long Run sleeps: until the first channel's backoff or
// rate lets it deliver again, at most Poll.
func (d *Dispatcher) nextWake() time.Duration {
	now := d.opts.Now()
	wake := now.Add(d.opts.Poll)
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, cs := range d.chans {
		if cs.busy {
			continue // its end wakes Run
		}
		for _, t := range []time.Time{cs.retryAt, cs.tokenAt} {
			if t.After(now) && t.Before(wake) {
				wake = t
			}
		}
	}
	return wake.Sub(now)
}

// Flush runs one round synchronously: every channel delivers what is due
// now (waiting for a delivery already under way), within its backoff and
// rate. It is `run --once`'s and tests'. The error is the outbox's; a
// channel's failures are in State.
func (d *Dispatcher) Flush(ctx context.Context) error {
	d.updateQueued(ctx)
	var wg sync.WaitGroup
	errs := make([]error, len(d.chans))
	for i, cs := range d.chans {
		wg.Go(func() {
			cs.run.Lock()
			defer cs.run.Unlock()
			errs[i] = d.deliver(ctx, cs)
		})
	}
	wg.Wait()
	d.updateQueued(ctx)
	return errors.Join(errs...)
}

// State is every channel's health, in the order given to NewDispatcher.
func (d *Dispatcher) State() []ChannelState {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]ChannelState, 0, len(d.chans))
	for _, cs := range d.chans {
		s := ChannelState{Name: cs.name, Type: cs.ch.Type(), Healthy: !cs.failing,
			FixConfig: cs.failing && cs.class == Config, LastError: cs.lastErr,
			LastSuccess: cs.lastOK, LastFailure: cs.lastFail, Queued: cs.queued}
		if cs.failing {
			s.RetryAt = cs.retryAt
		}
		out = append(out, s)
	}
	return out
}

// updateQueued refreshes each channel's queued count, and says once of
// each channel the outbox holds notifications for that is not configured
// (renamed or removed): they are kept, and go out if it comes back.
func (d *Dispatcher) updateQueued(ctx context.Context) {
	q, err := d.ob.Queued(ctx)
	if err != nil {
		if ctx.Err() == nil {
			d.log.Error("cannot count queued notifications", "error", err)
		}
		return
	}
	d.mu.Lock()
	known := map[string]bool{}
	for _, cs := range d.chans {
		cs.queued = q[cs.name]
		known[cs.name] = true
	}
	var newUnknown []string
	for name, n := range q {
		if n > 0 && !known[name] && !d.unknown[name] {
			d.unknown[name] = true
			newUnknown = append(newUnknown, name)
		}
	}
	d.mu.Unlock()
	slices.Sort(newUnknown)
	for _, name := range newUnknown {
		d.log.Warn("notifications are queued for a channel that is not configured; they are kept until it is",
			"channel", termesc.String(name), "queued", q[name])
	}
}

// deliver sends a channel's due notifications until none is left, its rate
// or backoff stops it, or ctx ends. The error is the outbox's.
func (d *Dispatcher) deliver(ctx context.Context, cs *chanState) error {
	for ctx.Err() == nil {
		now := d.opts.Now()
		d.mu.Lock()
		waiting := now.Before(cs.retryAt)
		d.mu.Unlock()
		if waiting {
			return nil
		}
		due, err := d.ob.Due(ctx, cs.name, now, d.opts.MaxDigest)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			d.log.Error("cannot read the notification outbox", "channel", cs.name, "error", err)
			return err
		}
		due, err = d.abandonOld(ctx, cs, due, now)
		if err != nil || len(due) == 0 {
			return err
		}
		batch := d.take(cs, due, now)
		if batch == nil {
			return nil // the rate: tokenAt says when
		}
		more, err := d.send(ctx, cs, batch)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// abandonOld gives up the notifications older than MaxAge and returns the
// others.
func (d *Dispatcher) abandonOld(ctx context.Context, cs *chanState, due []Pending, now time.Time) ([]Pending, error) {
	cutoff := now.Add(-d.opts.MaxAge)
	var old []int64
	keep := due[:0:0]
	for _, p := range due {
		if p.CreatedAt.Before(cutoff) {
			old = append(old, p.ID)
		} else {
			keep = append(keep, p)
		}
	}
	if len(old) == 0 {
		return due, nil
	}
	d.mu.Lock()
	why := "not delivered within " + d.opts.MaxAge.String()
	if cs.lastErr != "" {
		why += "; last error: " + cs.lastErr
	}
	d.mu.Unlock()
	if err := d.ob.Abandon(ctx, old, why, now); err != nil {
		d.log.Error("cannot give up old notifications", "channel", cs.name, "error", err)
		return nil, err
	}
	d.mu.Lock()
	for _, id := range old {
		delete(cs.solo, id)
	}
	d.mu.Unlock()
	d.count(cs, CountFailed, len(old))
	d.log.Warn("notifications given up: older than max age", "channel", cs.name, "count", len(old),
		"max_age", d.opts.MaxAge.String(), "outbox_ids", idList(old))
	return keep, nil
}

// take picks what to send now, consuming a token of the channel's rate: a
// notification alone when the rate allows every due one its own message (or
// it must go alone), else all of them in one digest. Nil: no token now;
// tokenAt says when there will be.
func (d *Dispatcher) take(cs *chanState, due []Pending, now time.Time) []Pending {
	tokens := cs.lim.TokensAt(now)
	if tokens < 1 {
		wait := time.Duration((1 - tokens) / float64(cs.lim.Limit()) * float64(time.Second))
		d.mu.Lock()
		cs.tokenAt = now.Add(wait)
		d.mu.Unlock()
		return nil
	}
	cs.lim.AllowN(now, 1)
	d.mu.Lock()
	defer d.mu.Unlock()
	cs.tokenAt = time.Time{}
	for _, p := range due {
		if cs.solo[p.ID] {
			return []Pending{p}
		}
	}
	if float64(len(due)) <= tokens {
		return due[:1]
	}
	return due
}

// send delivers batch as one message and records the outcome; more says
// whether the channel may go on with the next due notifications.
func (d *Dispatcher) send(ctx context.Context, cs *chanState, batch []Pending) (more bool, err error) {
	events := make([]Event, len(batch))
	ids := make([]int64, len(batch))
	for i, p := range batch {
		events[i], ids[i] = p.Event, p.ID
	}
	sctx, cancel := context.WithTimeout(ctx, d.opts.SendTimeout)
	serr := cs.ch.Send(sctx, events)
	cancel()
	now := d.opts.Now()
	if serr == nil {
		d.succeeded(cs, ids, now)
		if err := d.ob.Delivered(ctx, ids, now); err != nil {
			// Accepted but not recorded: sent again next round (at least
			// once).
			d.log.Error("a channel accepted notifications that could not be marked delivered; they will be sent again",
				"channel", cs.name, "outbox_ids", idList(ids), "error", err)
			return false, err
		}
		d.count(cs, CountSent, len(ids))
		return true, nil
	}
	if ctx.Err() != nil {
		// Shutting down: left due, sent after the restart.
		return false, nil
	}
	text := errorText(serr)
	switch ClassOf(serr) {
	case Refused:
		if len(batch) > 1 {
			// One of them may be what was refused: each goes alone next.
			d.mu.Lock()
			for _, id := range ids {
				cs.solo[id] = true
			}
			d.mu.Unlock()
			if err := d.ob.Retry(ctx, ids, text, now, now); err != nil {
				return false, err
			}
			d.count(cs, CountRetrying, len(ids))
			return true, nil
		}
		d.mu.Lock()
		delete(cs.solo, ids[0])
		d.mu.Unlock()
		if err := d.ob.Abandon(ctx, ids, text, now); err != nil {
			return false, err
		}
		d.count(cs, CountFailed, 1)
		d.log.Warn("a notification was refused by the channel and is given up", "channel", cs.name,
			"outbox_id", ids[0], "claim_id", batch[0].Event.ID, "error", text)
		return true, nil
	}
	next := d.failed(cs, serr, text, now)
	if err := d.ob.Retry(ctx, ids, text, next, now); err != nil {
		return false, err
	}
	d.count(cs, CountRetrying, len(ids))
	return false, nil
}

// succeeded records an accepted message: the channel is healthy again.
func (d *Dispatcher) succeeded(cs *chanState, ids []int64, now time.Time) {
	d.mu.Lock()
	wasFailing, failures, since := cs.failing, cs.failures, cs.lastFail
	cs.failing, cs.failures, cs.code, cs.class = false, 0, 0, 0
	cs.lastOK, cs.retryAt = now, time.Time{}
	cs.retryBO.Reset()
	cs.configBO.Reset()
	for _, id := range ids {
		delete(cs.solo, id)
	}
	d.mu.Unlock()
	if wasFailing {
		d.log.Info("notification channel recovered", "channel", cs.name, "type", cs.ch.Type(),
			"failed_attempts", failures, "last_failure", since)
	}
}

// failed records a failed delivery and returns when to try again. The
// channel's state change is logged once: when it starts failing, and when
// the kind of failure changes, not on every attempt.
func (d *Dispatcher) failed(cs *chanState, err error, text string, now time.Time) time.Time {
	class := ClassOf(err)
	var e *Error
	code, after := 0, time.Duration(0)
	if errors.As(err, &e) {
		code, after = e.Code, e.RetryAfter
	}
	d.mu.Lock()
	bo := cs.retryBO
	if class == Config {
		bo = cs.configBO
	}
	wait := max(bo.NextBackOff(), after)
	changed := !cs.failing || cs.class != class || cs.code != code
	cs.failing, cs.class, cs.code = true, class, code
	cs.lastErr, cs.lastFail = text, now
	cs.failures++
	cs.retryAt = now.Add(wait)
	d.mu.Unlock()
	if changed {
		d.log.Warn("notification channel failing", "channel", cs.name, "type", cs.ch.Type(),
			"action", class.String(), "error", text, "retry_in", wait.Round(time.Second).String())
	}
	return now.Add(wait)
}

func (d *Dispatcher) count(cs *chanState, status string, n int) {
	for range n {
		d.opts.Count(cs.name, status)
	}
}

// maxErrorText bounds an error kept in the outbox and the state.
const maxErrorText = 500

// errorText is err as the outbox and the state keep it: escaped and
// bounded. This package's errors are already redacted; another Channel's
// must not hold secrets.
func errorText(err error) string {
	return termesc.String(cutBytes(err.Error(), maxErrorText))
}

// idList writes ids for a log line.
func idList(ids []int64) string {
	s := make([]byte, 0, 8*len(ids))
	for i, id := range ids {
		if i > 0 {
			s = append(s, ',')
		}
		s = strconv.AppendInt(s, id, 10)
	}
	return string(s)
}

// limits are the channel's rate and burst, for NewDispatcher.
func (c *client) limits() (rate.Limit, int) { return c.limit, c.burst }
