// Package poller runs autoreplyd's cycle: for each source it polls the
// watched threads, records every new comment in the store, evaluates the
// rules, commits a claim for each answer before the responder is called, and
// settles the claim after. It also resends due retries and honours source
// pauses. It knows platforms only through the contract of package platform;
// each platform API is a package of its own under platform/.
package poller

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
	"golang.org/x/time/rate"

	"github.com/autoreplyd/autoreplyd/metrics"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/pacing"
	"github.com/autoreplyd/autoreplyd/platform"
	"github.com/autoreplyd/autoreplyd/rules"
	"github.com/autoreplyd/autoreplyd/store"
)

// Backlog policies of a source.
const (
	BacklogSkip   = "skip"
	BacklogAnswer = "answer"
)

// Reasons the poller records.
const (
	ReasonDailyCap         = "daily_cap"         // the responder's daily cap was reached
	ReasonNoResponder      = "no_responder"      // the source names a responder that is not configured
	ReasonRetriesExhausted = "retries_exhausted" // retryable failures until MaxAttempts or MaxRetryAge
	ReasonShutdown         = "shutdown"          // stopped before the send began; retried later
	ReasonRetryDue         = "retry"             // a retry was taken up
)

// Retry policy defaults: every tunable named with why.
const (
	// DefaultMaxAttempts bounds sends of one claim: past it a retryable
	// failure is recorded failed, so nothing is retried for ever.
	DefaultMaxAttempts = 5
	// DefaultMaxRetryAge bounds how late an answer may still go out: a reply
	// a day late reads as spam.
	DefaultMaxRetryAge = 24 * time.Hour
	// DefaultRetryInitial is the first retry delay; it doubles (with jitter)
	// up to DefaultRetryMax.
	DefaultRetryInitial = time.Minute
	// DefaultRetryMax caps one retry delay.
	DefaultRetryMax = time.Hour
	// DefaultSendTimeout bounds one send's exchange with the platform (the
	// rate limiter's wait comes before and is not counted).
	DefaultSendTimeout = 90 * time.Second
	// retriesPerCycle bounds how many due retries one cycle takes up, so a
	// long outage does not turn one cycle into a burst.
	retriesPerCycle = 100
)

// Binding ties a source to its responder and its loop-guard and backlog
// settings.
type Binding struct {
	Source platform.Source
	// Name is the source's name (its config section's): the key of its
	// pauses (SourceScope), logs and stop state; empty means the platform.
	Name      string
	Responder string // the responder's name
	// Routes sends the answers of some threads (by thread id) to another
	// responder than Responder; a rule's via still overrides both.
	Routes   map[string]string
	SelfUIDs []string // our own accounts on this platform: never answered
	Backlog  string   // BacklogSkip (default) or BacklogAnswer
	// StopPause is how long a credentials/balance stop (SourceStop) is also
	// persisted as a pause (default DefaultSourceStopPause).
	StopPause time.Duration
	// MaxInterval turns adaptive polling on (see schedule.go): a thread that
	// found nothing new in QuietPolls polls in a row is polled less and
	// less often, down to once every MaxInterval, and every cycle again as
	// soon as a poll finds something. 0 polls every thread every cycle.
	MaxInterval time.Duration
	// QuietPolls is how many polls in a row must find nothing new before a
	// thread backs off (default DefaultQuietPolls).
	QuietPolls int
	// Concurrency bounds the source's polls in flight, counted until what
	// they found is handled (default 1: poll, handle, poll); handling is
	// one thread at a time.
	Concurrency int
	// Rate and Burst are the source's call rate limit as configured (the
	// Source enforces it; 0 = none), for the daemon's capacity warnings.
	Rate  rate.Limit
	Burst int
}

// SourceName is the binding's source name: Name, else the platform.
func (b Binding) SourceName() string { return cmp.Or(b.Name, b.Source.Platform()) }

// Pacing is a responder's rate limit, daily cap and variant rotation.
type Pacing struct {
	Limit    rate.Limit // sends per second; 0 = unlimited
	Burst    int
	DailyCap int // sends per local day; 0 = none
	// BreakerFailures permanent account-level failures in a row (see
	// breakerCounts) pause the responder for BreakerPause (default
	// DefaultBreakerPause); 0 turns the breaker off.
	BreakerFailures int
	BreakerPause    time.Duration
	// AvoidRepeat: a reply with variants picks one this responder did not
	// post in its last AvoidRepeat answers (dry-run ones in a dry run), so
	// identical text is never posted back to back; 0 = a random variant.
	AvoidRepeat int
}

// Event is one decision of the pipeline, reported to Options.OnEvent (the
// demo prints them) and logged.
type Event struct {
	Comment model.Comment
	// Disposition is model.Disposition*; for evaluated comments see Rule
	// and Status.
	Disposition string
	Rule        string
	Status      string // a model.Status* when a claim was made; "" otherwise
	Reason      string
	Reply       string
	Err         error
}

// Options configures a Poller.
type Options struct {
	Store      *store.Store
	Bindings   []Binding
	Responders map[string]platform.Responder
	Pacing     map[string]Pacing // by responder name
	DryRun     bool
	Logger     *slog.Logger
	Location   *time.Location   // for the daily cap's "local day"
	Now        func() time.Time // defaults to time.Now
	OnEvent    func(Event)      // optional; called synchronously
	Metrics    *metrics.Metrics // optional (nil: none)

	MaxAttempts  int
	MaxRetryAge  time.Duration
	RetryInitial time.Duration
	RetryMax     time.Duration
	SendTimeout  time.Duration
	// Jitter returns a random delay to wait before each send, so answers do
	// not go out in a machine-regular rhythm. Optional.
	Jitter func() time.Duration
	// Period is the time between two cycles (the schedule's), the least
	// unit of adaptive polling's back-off (default DefaultPeriod): the unit
	// is one cycle, the last cycle's length when that was longer.
	Period time.Duration
}

// Stats counts what one cycle did.
type Stats struct {
	Polled    int // threads polled
	Calls     int // source API calls
	New       int // new comments recorded
	Claimed   int // claims committed
	Sent      int
	Failed    int
	Unknown   int
	Retrying  int
	DryRun    int
	Skipped   int
	Errors    int // source errors and rule errors
	RuleError int
	Deferred  int // threads not polled: quiet, and not due yet (adaptive polling)
}

// add adds o's counts to s.
func (s *Stats) add(o Stats) {
	s.Polled += o.Polled
	s.Deferred += o.Deferred
	s.Calls += o.Calls
	s.New += o.New
	s.Claimed += o.Claimed
	s.Sent += o.Sent
	s.Failed += o.Failed
	s.Unknown += o.Unknown
	s.Retrying += o.Retrying
	s.DryRun += o.DryRun
	s.Skipped += o.Skipped
	s.Errors += o.Errors
	s.RuleError += o.RuleError
}

// Poller runs cycles. One cycle at a time: Cycle is not reentrant (the cron
// job skips a cycle while the previous one still runs).
type Poller struct {
	opts     Options
	log      *slog.Logger
	rules    func() *rules.Set
	limiters map[string]*rate.Limiter

	mu      sync.Mutex
	stopped map[string]string    // platform -> why it was stopped (until restart)
	backoff map[string]time.Time // platform -> no polls before
	capDay  map[string]capCount  // responder -> sends counted today
	// attempts of the retry being sent, for the exhaustion check.
	attempts map[int64]attemptInfo

	// stopPause is each source's Binding.StopPause, by source name.
	stopPause map[string]time.Duration
	// paused holds the responder pauses in force (loaded from the store at
	// the start of each cycle, added to when a breaker trips).
	paused map[string]store.Pause
	// streak counts each responder's permanent failures in a row.
	streak map[string]int
	// released: the responder's held answers were released since it was
	// last seen paused (only Cycle's goroutine uses it).
	released map[string]bool
	// queuedOut counts each responder's answers queued to the sender and
	// not yet settled (under mu).
	queuedOut map[string]int
	// snd sends the running cycle's queued answers (only Cycle's goroutine
	// uses the field; nil outside a cycle: answers are then sent inline).
	snd *sender
	// emitMu serialises OnEvent calls (the sender's goroutines emit too).
	emitMu sync.Mutex
	// lastCycle is how long the last cycle took by Options.Now (under mu):
	// adaptive polling's unit when longer than Options.Period.
	lastCycle time.Duration
	// self holds each platform's own accounts: the SelfUIDs of every
	// binding of the platform, so that no account of ours answers another.
	self map[string]map[string]bool
	// selfWarned: the answering accounts already warned about as missing
	// from their source's self_uids, by platform + NUL + uid (under mu).
	selfWarned map[string]bool
}

type capCount struct {
	day   string
	count int
}

// New builds a Poller. currentRules is called once per cycle and per comment
// batch; it must return the live rule set (an atomic load).
func New(opts Options, currentRules func() *rules.Set) (*Poller, error) {
	if opts.Store == nil {
		return nil, errors.New("poller: no store")
	}
	if currentRules == nil {
		return nil, errors.New("poller: no rules")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Location == nil {
		opts.Location = time.Local
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.MaxRetryAge <= 0 {
		opts.MaxRetryAge = DefaultMaxRetryAge
	}
	if opts.RetryInitial <= 0 {
		opts.RetryInitial = DefaultRetryInitial
	}
	if opts.RetryMax <= 0 {
		opts.RetryMax = DefaultRetryMax
	}
	if opts.SendTimeout <= 0 {
		opts.SendTimeout = DefaultSendTimeout
	}
	p := &Poller{
		opts:     opts,
		log:      opts.Logger.With("component", "poller"),
		rules:    currentRules,
		limiters: map[string]*rate.Limiter{},
		stopped:  map[string]string{},
		backoff:  map[string]time.Time{},
		capDay:   map[string]capCount{},
		attempts: map[int64]attemptInfo{},

		stopPause:  map[string]time.Duration{},
		paused:     map[string]store.Pause{},
		streak:     map[string]int{},
		selfWarned: map[string]bool{},
		self:       map[string]map[string]bool{},
		released:   map[string]bool{},
		queuedOut:  map[string]int{},
	}
	for i, b := range opts.Bindings {
		if b.Source == nil {
			return nil, fmt.Errorf("poller: binding %d has no source", i)
		}
		if b.StopPause <= 0 {
			b.StopPause = DefaultSourceStopPause
		}
		p.stopPause[b.SourceName()] = b.StopPause
		if _, ok := opts.Responders[b.Responder]; !ok {
			return nil, fmt.Errorf("poller: source %s names responder %q, which is not configured", b.SourceName(), b.Responder)
		}
		for th, r := range b.Routes {
			if _, ok := opts.Responders[r]; !ok {
				return nil, fmt.Errorf("poller: source %s routes thread %s to responder %q, which is not configured", b.SourceName(), th, r)
			}
		}
		plat := b.Source.Platform()
		if p.self[plat] == nil {
			p.self[plat] = map[string]bool{}
		}
		for _, u := range b.SelfUIDs {
			p.self[plat][u] = true
		}
	}
	// Every platform's and scope's series exist at 0 from start.
	var platforms, scopes []string
	for _, b := range opts.Bindings {
		platforms = append(platforms, b.Source.Platform())
		scopes = append(scopes, SourceScope(b.SourceName()))
	}
	for name := range opts.Responders {
		scopes = append(scopes, ResponderScope(name))
	}
	opts.Metrics.Declare(platforms, scopes)
	for _, b := range opts.Bindings {
		if cs, ok := b.Source.(platform.CodeSource); ok {
			opts.Metrics.DeclareCodes(b.Source.Platform(), cs.KnownCodes())
		}
	}
	for name, pc := range opts.Pacing {
		if pc.Limit > 0 {
			burst := max(pc.Burst, 1)
			p.limiters[name] = rate.NewLimiter(pc.Limit, burst)
		}
	}
	return p, nil
}

// sourceLog is the logger of b's source: its platform, and its name when
// that is not the platform's.
func (p *Poller) sourceLog(b Binding) *slog.Logger {
	if b.Name != "" && b.Name != b.Source.Platform() {
		return p.log.With("platform", b.Source.Platform(), "source", b.Name)
	}
	return p.log.With("platform", b.Source.Platform())
}

// Stopped returns the sources stopped until restart (by name), with why.
func (p *Poller) Stopped() map[string]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]string, len(p.stopped))
	for k, v := range p.stopped {
		out[k] = v
	}
	return out
}

// Cycle runs one cycle: due retries first, then every source. It returns
// when done or when ctx is cancelled (an in-flight send still settles).
func (p *Poller) Cycle(ctx context.Context) Stats {
	var st Stats
	start, began := time.Now(), p.opts.Now()
	p.observePauses(ctx)
	defer func() {
		p.observePauses(ctx)
		p.opts.Metrics.Cycle(time.Since(start))
		p.mu.Lock()
		p.lastCycle = max(p.opts.Now().Sub(began), 0)
		p.mu.Unlock()
	}()
	// Pauses first: one lifted by `autoreplyd resume` releases its held
	// answers for this cycle's retries.
	pauses := p.activePauses(ctx)
	p.loadResponderPauses(ctx, pauses)
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
		p.backoff[name] = until
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
		p.stopped[name] = reason
		d := p.stopPause[name]
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

// handleComments records and answers the comments one poll found, oldest
// first, in two steps. First every comment is recorded with its claims in one
// store batch (one commit for the page): answers to send are claimed queued,
// not yet attempted. Then the queued answers are sent one by one, each marked
// attempted (committed) right before its send and settled after it. A crash
// in the first step loses nothing (the comments are seen again next cycle); a
// crash between the steps leaves queued claims that the next start sends.
// It stops at the first store error or at cancellation during the first step,
// returning the error: the comments not recorded are seen again next cycle.
func (p *Poller) handleComments(ctx context.Context, b Binding, comments []model.Comment, firstSight bool, st *Stats) error {
	if len(comments) == 0 {
		return nil
	}
	var pg *page
	err := p.opts.Store.Batch(ctx, func(db *store.Store) error {
		pg = &page{queued: map[string]int{}} // a failed commit retried from scratch
		return p.recordPage(ctx, db, b, comments, firstSight, pg)
	})
	if err != nil {
		return err
	}
	// Committed: now the page's outcomes are facts.
	st.add(pg.st)
	for _, f := range pg.after {
		f()
	}
	for _, q := range pg.send {
		if p.snd != nil {
			p.snd.enqueue(q)
		} else {
			p.send(ctx, q.id, q.claim, q.comment, st, false)
		}
	}
	return nil
}

// page collects what recording one page decided, acted on once its batch is
// committed.
type page struct {
	st     Stats
	after  []func()       // events and metrics of the recorded comments
	send   []queuedSend   // the answers to send, in order
	queued map[string]int // answers queued by responder, counted against its cap
}

type queuedSend struct {
	id      int64
	claim   store.Claim
	comment model.Comment
}

// recordPage records comments and their claims through db, the page's batch.
func (p *Poller) recordPage(ctx context.Context, db *store.Store, b Binding, comments []model.Comment, firstSight bool, pg *page) error {
	platform := b.Source.Platform()
	ids := make([]string, len(comments))
	for i, c := range comments {
		ids[i] = c.ID
	}
	own, err := db.OwnReplies(ctx, platform, ids)
	if err != nil {
		return err
	}
	// Our own replies are also recognised by their text: a send whose
	// outcome is unknown left no platform id to recognise them by.
	ownText, err := p.ownTexts(ctx, db, platform, comments)
	if err != nil {
		return err
	}
	self := p.self[platform]
	set := p.rules()
	for _, c := range comments {
		if err := ctx.Err(); err != nil {
			return err
		}
		byUs := c.User.UID != "" && self[c.User.UID]
		// A comment with the text of one of our claims is ours only when
		// one of our accounts wrote it: anyone can post the same words.
		// Without self_uids nobody can tell, so such a comment is not
		// answered (it may be our own reply, from a send whose outcome is
		// unknown) but settles nothing (`check` warns).
		textOurs := ownText[c.ThreadID+"\x00"+c.Text] && (byUs || len(self) == 0)
		var disp string
		switch {
		case own[c.ID] || byUs || textOurs:
			disp = model.DispositionSelf
		case c.AlreadyAnswered:
			// Answered on the platform already (e.g. in the WeChat backend):
			// handled by our side, never answered again.
			disp = model.DispositionSelf
		case firstSight && b.Backlog != BacklogAnswer:
			disp = model.DispositionBacklog
		default:
			disp = model.DispositionEvaluated
		}
		if byUs && !own[c.ID] && ownText[c.ThreadID+"\x00"+c.Text] {
			// A reply by one of our accounts with a text we claimed here,
			// posted after the claim, settles the oldest such unknown send:
			// it went out. (Only ownText comments can match: Reconcile wants
			// an unknown claim with this text in this thread.) A stranger
			// posting the same text settles nothing: their comment is
			// evaluated like any other.
			if id, ok, err := db.Reconcile(ctx, platform, c.ThreadID, c.Text, c.ID, c.CreatedAt, p.opts.Now()); err != nil {
				return err
			} else if ok {
				pg.after = append(pg.after, func() {
					p.log.Info("unknown send reconciled: our reply showed up in the thread", "platform", platform, "thread", c.ThreadID, "claim", id, "comment", c.ID)
				})
			}
		}
		if own[c.ID] && !byUs && c.User.UID != "" && len(self) > 0 {
			p.warnSelfUID(b.SourceName(), c.User.UID, pg)
		}
		if disp != model.DispositionEvaluated {
			if _, err := db.Record(ctx, c, disp, nil, p.opts.Now()); err != nil {
				return err
			}
			pg.st.New++
			pg.after = append(pg.after, func() {
				p.opts.Metrics.Comment(platform, disp)
				p.emit(Event{Comment: c, Disposition: disp})
			})
			continue
		}
		if err := p.evaluate(ctx, db, b, set, c, pg); err != nil {
			return err
		}
		pg.st.New++
		pg.after = append(pg.after, func() { p.opts.Metrics.Comment(platform, disp) })
	}
	return nil
}

// warnSelfUID says, once per account, that a reply we posted (known by the
// id the platform gave it) was written by an account missing from the
// source's self_uids: the text of an unknown send's reply is trusted only
// from the accounts listed there, so with this one missing such a reply
// would be taken for a stranger's.
func (p *Poller) warnSelfUID(source, uid string, pg *page) {
	p.mu.Lock()
	key := source + "\x00" + uid
	first := !p.selfWarned[key]
	p.selfWarned[key] = true
	p.mu.Unlock()
	if first {
		pg.after = append(pg.after, func() {
			p.log.Warn("our answers are posted as an account missing from self_uids: add it, or a send whose outcome is unknown cannot be reconciled and its reply could be answered",
				"key", "sources."+source+".self_uids", "uid", uid)
		})
	}
}

// ownTexts finds the comments whose text is a reply we claimed in their
// thread; the keys are thread id + NUL + text.
func (p *Poller) ownTexts(ctx context.Context, db *store.Store, platform string, comments []model.Comment) (map[string]bool, error) {
	byThread := map[string][]string{}
	for _, c := range comments {
		byThread[c.ThreadID] = append(byThread[c.ThreadID], c.Text)
	}
	out := map[string]bool{}
	for thread, texts := range byThread {
		own, err := db.OwnTexts(ctx, platform, thread, texts)
		if err != nil {
			return nil, err
		}
		for t := range own {
			out[thread+"\x00"+t] = true
		}
	}
	return out, nil
}

// evaluate runs the rules on one comment, commits its claims and sends.
func (p *Poller) evaluate(ctx context.Context, db *store.Store, b Binding, set *rules.Set, c model.Comment, pg *page) error {
	st := &pg.st
	now := p.opts.Now()
	decisions, ruleErrs := set.Evaluate(c, now)
	for _, re := range ruleErrs {
		st.RuleError++
		st.Errors++
		p.opts.Metrics.RuleError(re.Rule)
		p.log.Error("rule failed on a comment; evaluation went on with the next rule",
			"rule", re.Rule, "platform", c.Platform, "comment", c.ID, "err", re.Err)
	}
	claims := make([]store.Claim, 0, len(decisions))
	var chosen []string // texts this comment already answers with, oldest first
	// Pacing counts the answers in the store: those of earlier comments,
	// this page's included, were recorded (in the page's batch, which db
	// reads) before this one is evaluated. (The decisions of one comment are
	// of distinct rules: they cannot pace each other.)
	history := db.PacingHistory(p.opts.DryRun)
	for _, d := range decisions {
		// A rule's via routes its answer to another responder, whose cap,
		// pacing and variant rotation then apply.
		responder := cmp.Or(d.Via, b.Routes[c.ThreadID], b.Responder)
		cl := store.Claim{Rule: d.Rule, Responder: responder}
		if !d.HasReply {
			cl.Status, cl.Reason = model.StatusSkipped, model.ReasonNoReplyRule
			claims = append(claims, cl)
			continue
		}
		// A store error leaves the comment unhandled (it is seen again next
		// cycle): nothing is sent without its pacing checked.
		text, err := p.chooseVariant(ctx, db, responder, d.Replies, chosen)
		if err != nil {
			return fmt.Errorf("choose a reply variant of rule %s for %s comment %s: %w", d.Rule, c.Platform, c.ID, err)
		}
		cl.ReplyText = text
		if p.capped(ctx, db, responder, pg.queued[responder]+p.outstandingOf(responder)) {
			cl.Status, cl.Reason = model.StatusSkipped, ReasonDailyCap
			claims = append(claims, cl)
			continue
		}
		reason, err := pacing.Check(ctx, history, d.Rule, d.Pacing, c, now)
		if err != nil {
			return fmt.Errorf("check pacing of rule %s for %s comment %s: %w", d.Rule, c.Platform, c.ID, err)
		}
		switch {
		case reason != "":
			// Held back: recorded skipped, so it is never answered later.
			cl.Status, cl.Reason = model.StatusSkipped, reason
		case p.opts.DryRun:
			cl.Status = model.StatusDryRun
			chosen = append(chosen, text)
		default:
			// Queued: sent once the page is committed.
			cl.Status, cl.Queued = model.StatusPending, true
			chosen = append(chosen, text)
			pg.queued[responder]++
		}
		claims = append(claims, cl)
	}
	claimed, err := db.Record(ctx, c, model.DispositionEvaluated, claims, now)
	if err != nil {
		return err
	}
	if len(decisions) == 0 {
		pg.after = append(pg.after, func() { p.emit(Event{Comment: c, Disposition: model.DispositionEvaluated}) })
	}
	for _, cl := range claimed {
		st.Claimed++
		pg.after = append(pg.after, func() { p.opts.Metrics.RuleMatch(cl.Rule) })
		switch cl.Status {
		case model.StatusPending:
			pg.send = append(pg.send, queuedSend{id: cl.ID, claim: cl.Claim, comment: c})
		case model.StatusDryRun:
			st.DryRun++
			pg.after = append(pg.after, func() {
				p.emit(Event{Comment: c, Disposition: model.DispositionEvaluated, Rule: cl.Rule, Status: cl.Status, Reply: cl.ReplyText})
			})
		case model.StatusSkipped:
			st.Skipped++
			pg.after = append(pg.after, func() {
				p.emit(Event{Comment: c, Disposition: model.DispositionEvaluated, Rule: cl.Rule, Status: cl.Status, Reason: cl.Reason, Reply: cl.ReplyText})
			})
		}
	}
	return nil
}

// chooseVariant chooses one of a rule's rendered variants for responder:
// one it did not post in its last AvoidRepeat answers (nor in chosen, the
// texts this comment already answers with, oldest first), at random; when
// every variant is recent, the one used longest ago. A single variant is
// used as is; with AvoidRepeat 0 the choice is random.
func (p *Poller) chooseVariant(ctx context.Context, db *store.Store, responder string, vs, chosen []string) (string, error) {
	n := p.opts.Pacing[responder].AvoidRepeat
	if len(vs) <= 1 || n <= 0 {
		return pickVariant(vs), nil
	}
	stored, err := db.RecentReplyTexts(ctx, responder, n, p.opts.DryRun)
	if err != nil {
		return "", err
	}
	recent := slices.Clone(chosen)
	slices.Reverse(recent)
	recent = append(recent, stored...) // newest first
	if len(recent) > n {
		recent = recent[:n]
	}
	lastUse := make(map[string]int, len(recent)) // text -> answers ago (0 = the last)
	for i, t := range recent {
		if _, ok := lastUse[t]; !ok {
			lastUse[t] = i
		}
	}
	var fresh []string
	for _, v := range vs {
		if _, ok := lastUse[v]; !ok {
			fresh = append(fresh, v)
		}
	}
	if len(fresh) > 0 {
		return pickVariant(fresh), nil
	}
	oldest := vs[0]
	for _, v := range vs[1:] {
		if lastUse[v] > lastUse[oldest] {
			oldest = v
		}
	}
	return oldest, nil
}

// pickVariant chooses one of a rule's rendered variants at random.
func pickVariant(vs []string) string {
	switch len(vs) {
	case 0:
		return ""
	case 1:
		return vs[0]
	}
	return vs[rand.IntN(len(vs))]
}

// capped reports whether the responder reached its daily cap, counting
// extra answers about to be sent; the count of sent answers is read from
// history once per local day and kept up to date by send.
func (p *Poller) capped(ctx context.Context, db *store.Store, responder string, extra int) bool {
	pc := p.opts.Pacing[responder]
	if pc.DailyCap <= 0 {
		return false
	}
	now := p.opts.Now().In(p.opts.Location)
	day := now.Format(time.DateOnly)
	p.mu.Lock()
	cc, ok := p.capDay[responder]
	p.mu.Unlock()
	if !ok || cc.day != day {
		midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, p.opts.Location)
		n, err := db.CountSent(ctx, responder, midnight)
		if err != nil {
			failed(ctx, p.log, "count today's sends", "responder", responder, "err", err)
			return false
		}
		cc = capCount{day: day, count: n}
		p.mu.Lock()
		p.capDay[responder] = cc
		p.mu.Unlock()
	}
	return cc.count+extra >= pc.DailyCap
}

func (p *Poller) countSent(responder string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if cc, ok := p.capDay[responder]; ok {
		cc.count++
		p.capDay[responder] = cc
	}
}

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
	settle := func(s store.Settlement) {
		// Settling must happen even during shutdown.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		err := p.opts.Store.Settle(sctx, id, s, p.opts.Now())
		// A database locked by another process (or briefly full) must not
		// leave a send that happened recorded as pending: try again while
		// the time allows.
		for err != nil && store.IsTransient(err) {
			log.Warn("settle claim: database unavailable; trying again", "status", s.Status, "problem", store.Describe(err), "err", err)
			select {
			case <-sctx.Done():
			case <-time.After(time.Second):
				err = p.opts.Store.Settle(sctx, id, s, p.opts.Now())
				continue
			}
			break
		}
		if err != nil {
			// The claim stays pending; at the next start it becomes unknown
			// and is never resent automatically.
			log.Error("settle claim", "status", s.Status, "problem", store.Describe(err), "err", err)
		}
	}
	resp, ok := p.opts.Responders[cl.Responder]
	if !ok {
		st.Failed++
		settle(store.Settlement{Status: model.StatusFailed, Reason: ReasonNoResponder, Error: "responder " + cl.Responder + " is not configured"})
		p.emit(Event{Comment: c, Disposition: model.DispositionEvaluated, Rule: cl.Rule, Status: model.StatusFailed, Reason: ReasonNoResponder, Reply: cl.ReplyText})
		return
	}
	if pz, paused := p.responderPause(cl.Responder); paused && !p.opts.DryRun {
		p.hold(ctx, id, cl, c, pz, st)
		return
	}
	if waited {
		// Paced before the claim was committed.
	} else if err := p.wait(ctx, cl.Responder); err != nil {
		// Nothing was sent: retry soon.
		st.Retrying++
		settle(store.Settlement{Status: model.StatusRetrying, Reason: ReasonShutdown, Error: "stopped before sending", NextAttempt: p.opts.Now()})
		p.emit(Event{Comment: c, Disposition: model.DispositionEvaluated, Rule: cl.Rule, Status: model.StatusRetrying, Reason: ReasonShutdown, Reply: cl.ReplyText})
		return
	}
	if cl.Queued {
		ok, err := p.startSend(ctx, id)
		if err != nil {
			// Nothing was sent; the claim stays queued (pending, not
			// attempted) and is sent after the next start.
			st.Errors++
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
		p.emit(Event{Comment: c, Disposition: model.DispositionEvaluated, Rule: cl.Rule, Status: model.StatusSent, Reason: res.Reason, Reply: cl.ReplyText})
		return
	}
	s := p.failure(err, c, cl, id)
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
	p.emit(Event{Comment: c, Disposition: model.DispositionEvaluated, Rule: cl.Rule, Status: s.Status, Reason: s.Reason, Reply: cl.ReplyText, Err: err})
	p.sendFailed(ctx, cl.Responder, err)
}

// startSend marks queued claim id attempted, trying again for a while when
// the database is locked or briefly unavailable.
func (p *Poller) startSend(ctx context.Context, id int64) (bool, error) {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
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
func (p *Poller) failure(err error, c model.Comment, cl store.Claim, id int64) store.Settlement {
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

// wait applies the responder's rate limit and jitter.
func (p *Poller) wait(ctx context.Context, responder string) error {
	if l := p.limiters[responder]; l != nil {
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

// retryDue takes up the retrying claims whose time has come.
func (p *Poller) retryDue(ctx context.Context, st *Stats) {
	items, err := p.opts.Store.DueRetries(ctx, p.opts.Now(), retriesPerCycle)
	if err != nil {
		if failed(ctx, p.log, "load due retries", "err", err) {
			st.Errors++
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
			p.emit(Event{Comment: it.Comment, Disposition: model.DispositionEvaluated, Rule: it.Rule, Status: s.Status, Reason: s.Reason, Reply: it.ReplyText})
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

func (p *Poller) emit(ev Event) {
	attrs := []any{"platform", ev.Comment.Platform, "thread", ev.Comment.ThreadID, "comment", ev.Comment.ID, "disposition", ev.Disposition}
	if ev.Rule != "" {
		attrs = append(attrs, "rule", ev.Rule)
	}
	if ev.Status != "" {
		attrs = append(attrs, "status", ev.Status)
	}
	if ev.Reason != "" {
		attrs = append(attrs, "reason", ev.Reason)
	}
	if ev.Disposition == model.DispositionBacklog {
		// A new thread's existing replies: thousands at a first start with
		// many threads; counted in the cycle summary, listed at debug.
		p.log.Debug("decision", attrs...)
	} else {
		p.log.Info("decision", attrs...)
	}
	if ev.Status != "" {
		latency := time.Duration(-1) // unknown
		if !ev.Comment.CreatedAt.IsZero() {
			latency = max(p.opts.Now().Sub(ev.Comment.CreatedAt), 0)
		}
		p.opts.Metrics.Reply(ev.Comment.Platform, ev.Status, latency)
	}
	if p.opts.OnEvent != nil {
		p.emitMu.Lock()
		defer p.emitMu.Unlock()
		p.opts.OnEvent(ev)
	}
}
