// Package poller runs autoreplyd's cycle: for each source it polls the
// watched threads, records every new comment in the store, evaluates the
// rules, commits a claim for each answer before the responder is called, and
// settles the claim after. It also resends due retries and honours source
// pauses. It knows platforms only through the contract of package platform;
// each platform API is a package of its own under platform/.
package poller

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/autoreplyd/autoreplyd/llm"
	"github.com/autoreplyd/autoreplyd/metrics"
	"github.com/autoreplyd/autoreplyd/model"
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
	// DefaultStoreWait bounds a send's wait for an unavailable database
	// (Options.StoreWait).
	DefaultStoreWait = 30 * time.Second
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
	// Responder is the claim's responder (its config section's name).
	Responder string
	Status    string // a model.Status* when a claim was made; "" otherwise
	Reason    string
	Reply     string
	Err       error
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

	// ApprovalMaxAge is approval.max_age: held answers older than this
	// are recorded expired at the start of each cycle. 0: never.
	ApprovalMaxAge time.Duration
	// AfterCycle, when set, is called at the end of each cycle (the daemon
	// kicks its notification dispatcher there). It must not block.
	AfterCycle func()

	MaxAttempts  int
	MaxRetryAge  time.Duration
	RetryInitial time.Duration
	RetryMax     time.Duration
	SendTimeout  time.Duration
	// StoreWait is how long a send waits for an unavailable database to
	// mark its claim attempted before, and to record its outcome after
	// (default DefaultStoreWait). Past it the claim is left to the next
	// cycle that finds the database back (see recoverStranded).
	StoreWait time.Duration
	// Jitter returns a random delay to wait before each send, so answers do
	// not go out in a machine-regular rhythm. Optional.
	Jitter func() time.Duration
	// LLM are the language model endpoints drafting rules name, by name
	// (llm.NAME). Their drafts are asked for by RunDrafts or Drafts.
	LLM map[string]*llm.Client

	// Holds, when set, says whether this daemon may poll a thread now: its
	// platform and poll state id (a video's platform.VideoStateID, whose
	// answer covers the threads discovered under the video). Several
	// daemons sharing a database poll each thread on one of them only,
	// the holder of its lease. A thread it does not hold is left alone:
	// no API call, no state written. nil: every thread.
	Holds func(platform, threadID string) bool

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
	Flagged   int // claims handed to a person
	Held      int // answers held for approval
	Expired   int // held answers that waited past approval.max_age
	Errors    int // source errors and rule errors
	RuleError int
	Deferred  int // threads not polled: quiet, and not due yet (adaptive polling)
	// Elsewhere counts the threads and videos not polled because another
	// daemon holds them (Options.Holds).
	Elsewhere int
}

// add adds o's counts to s.
func (s *Stats) add(o Stats) {
	s.Polled += o.Polled
	s.Deferred += o.Deferred
	s.Elsewhere += o.Elsewhere
	s.Calls += o.Calls
	s.New += o.New
	s.Claimed += o.Claimed
	s.Sent += o.Sent
	s.Failed += o.Failed
	s.Unknown += o.Unknown
	s.Retrying += o.Retrying
	s.DryRun += o.DryRun
	s.Skipped += o.Skipped
	s.Flagged += o.Flagged
	s.Held += o.Held
	s.Expired += o.Expired
	s.Errors += o.Errors
	s.RuleError += o.RuleError
}

// Poller runs cycles. One cycle at a time: Cycle is not reentrant (the cron
// job skips a cycle while the previous one still runs).
type Poller struct {
	opts  Options
	log   *slog.Logger
	rules func() *rules.Set

	mu sync.Mutex
	// sources and responders hold each one's state, by name (under mu).
	sources    map[string]*sourceState
	responders map[string]*responderState
	// attempts of the retry being sent, for the exhaustion check.
	attempts map[int64]attemptInfo
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
	// draftWake tells RunDrafts a drafting claim was recorded.
	draftWake chan struct{}
	// known answers the look-ups of watched threads' idle polls.
	known knownCache
	// dbDown is set by the first store error of an outage (the database
	// unreachable, restarting, failing over, locked) and cleared by
	// DatabaseBack: the outage is logged once, not once per thread.
	dbDown atomic.Bool
	// stranded are the claims a send left behind while the database was
	// unavailable past StoreWait (see recoverStranded), under strandMu.
	strandMu sync.Mutex
	stranded stranded
}

// stranded claims: queued ones never marked attempted (nothing was sent),
// and sent or failed ones whose outcome could not be recorded.
type stranded struct {
	queued  []int64
	settled map[int64]store.Settlement
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
	if opts.StoreWait <= 0 {
		opts.StoreWait = DefaultStoreWait
	}
	if opts.SendTimeout <= 0 {
		opts.SendTimeout = DefaultSendTimeout
	}
	p := &Poller{
		opts:       opts,
		log:        opts.Logger.With("component", "poller"),
		rules:      currentRules,
		sources:    map[string]*sourceState{},
		responders: map[string]*responderState{},
		attempts:   map[int64]attemptInfo{},
		selfWarned: map[string]bool{},
		self:       map[string]map[string]bool{},
		draftWake:  make(chan struct{}, 1),
	}
	for i, b := range opts.Bindings {
		if b.Source == nil {
			return nil, fmt.Errorf("poller: binding %d has no source", i)
		}
		if b.StopPause <= 0 {
			b.StopPause = DefaultSourceStopPause
		}
		p.source(b.SourceName()).stopPause = b.StopPause
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
	// Every source's, answerer's and scope's series exist at 0 from start.
	var (
		sources   []metrics.Source
		answerers []metrics.Answerer
		scopes    []string
	)
	for _, b := range opts.Bindings {
		sources = append(sources, metrics.Source{Platform: b.Source.Platform(), Name: b.SourceName()})
		scopes = append(scopes, SourceScope(b.SourceName()))
		for _, r := range append([]string{b.Responder}, slices.Collect(maps.Values(b.Routes))...) {
			a := metrics.Answerer{Platform: b.Source.Platform(), Responder: r}
			if !slices.Contains(answerers, a) {
				answerers = append(answerers, a)
			}
		}
	}
	for name := range opts.Responders {
		scopes = append(scopes, ResponderScope(name))
	}
	opts.Metrics.Declare(sources, answerers, scopes)
	for _, b := range opts.Bindings {
		if cs, ok := b.Source.(platform.CodeSource); ok {
			opts.Metrics.DeclareCodes(b.Source.Platform(), cs.KnownCodes())
		}
	}
	for name := range opts.Responders {
		r := p.responder(name)
		if pc := opts.Pacing[name]; pc.Limit > 0 {
			r.limiter = rate.NewLimiter(pc.Limit, max(pc.Burst, 1))
		}
	}
	return p, nil
}

// holds reports whether this daemon may poll thread (or video state id)
// threadID of plat now (Options.Holds).
func (p *Poller) holds(plat, threadID string) bool {
	return p.opts.Holds == nil || p.opts.Holds(plat, threadID)
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
	out := map[string]string{}
	for name, s := range p.sources {
		if s.stopped != "" {
			out[name] = s.stopped
		}
	}
	return out
}

func (p *Poller) emit(ev Event) {
	attrs := []any{"platform", ev.Comment.Platform, "thread", ev.Comment.ThreadID, "comment", ev.Comment.ID, "disposition", ev.Disposition}
	if ev.Rule != "" {
		attrs = append(attrs, "rule", ev.Rule)
	}
	if ev.Responder != "" {
		attrs = append(attrs, "responder", ev.Responder)
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
		p.opts.Metrics.Reply(ev.Comment.Platform, ev.Responder, ev.Status, latency)
	}
	if p.opts.OnEvent != nil {
		p.emitMu.Lock()
		defer p.emitMu.Unlock()
		p.opts.OnEvent(ev)
	}
}
