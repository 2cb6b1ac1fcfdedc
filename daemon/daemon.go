// Package daemon wires autoreplyd together from its config: it opens the
// store, loads the rules, builds the sources and responders from the
// platform registry, and runs the poll cycle on the cron schedule, reloading
// rules when their files change or on request, and stopping cleanly.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/dburl"

	"github.com/cenkalti/backoff/v5"
	"github.com/fsnotify/fsnotify"
	"github.com/robfig/cron/v3"

	"github.com/autoreplyd/autoreplyd/config"
	"github.com/autoreplyd/autoreplyd/console"
	"github.com/autoreplyd/autoreplyd/internal/redact"
	"github.com/autoreplyd/autoreplyd/llm"
	"github.com/autoreplyd/autoreplyd/metrics"
	"github.com/autoreplyd/autoreplyd/notify"
	"github.com/autoreplyd/autoreplyd/platform"
	"github.com/autoreplyd/autoreplyd/poller"
	"github.com/autoreplyd/autoreplyd/rules"
	"github.com/autoreplyd/autoreplyd/store"
)

// Options adjusts a Daemon beyond its config.
type Options struct {
	// DryRun forces dry-run on (the --dry-run flag); the config's dry_run
	// applies otherwise.
	DryRun bool
	Logger *slog.Logger
	// OnEvent receives every decision (the demo prints them).
	OnEvent func(poller.Event)
	// Tune may adjust the poller's options before it is built (the demo
	// shortens retry delays).
	Tune func(*poller.Options)
	// OnReload, if set, is told the outcome of every reload attempt, after
	// it is logged: changed is true when a new rule set went live; err is
	// the reason a reload was refused (the last good rules keep running).
	// Neither means the files were byte-identical to the live rules.
	OnReload func(changed bool, err error)
	// WaitForStore makes New wait out a database it cannot open or write
	// for a transient reason (locked by another process, read-only, full,
	// an I/O error): it logs the reason and tries again with backoff (5s
	// doubling up to 5m) until it works or ctx is cancelled, so that a
	// service manager does not restart-loop on a condition the operator
	// fixes in place. Without it (run --once) New fails at once, with the
	// reason. A permanent problem (not a database, corrupt, a newer schema)
	// fails at once either way.
	WaitForStore bool
	// Version is the build's version, for autoreplyd_build_info ("": the
	// module version, else "dev").
	Version string
	// NoListen leaves the listen address alone in New: for a caller that
	// runs cycles itself and never calls Run (run --once), which then
	// works while the service holds the port. Run binds it if New did not.
	NoListen bool
	// Now is the clock of the leases, heartbeats and recovery of pending
	// claims, and the poller's (default time.Now; tests move it).
	Now func() time.Time
}

// Daemon is a running autoreplyd.
type Daemon struct {
	cfg    *config.Config
	log    *slog.Logger
	store  *store.Store
	rules  atomic.Pointer[rules.Set]
	poller *poller.Poller
	dryRun bool
	// responders are the configured responders, which a rule's via must name.
	responders map[string]platform.Responder
	// notifier delivers the notifications outbox (nil without channels).
	notifier *notify.Dispatcher
	// metrics are served on /metrics (see health.go).
	metrics *metrics.Metrics
	// redact scrubs every configured secret from what the daemon stores
	// and serves, whichever platform echoed it.
	redact *redact.Redactor
	// now is Options.Now; leaseTTL the time to live of a lease and a
	// heartbeat; leases the leases this daemon holds (see leases.go).
	now      func() time.Time
	leaseTTL time.Duration
	leases   *leases
	version  string

	watchLog *slog.Logger
	onReload func(changed bool, err error)
	// debounce is reloadDebounce; tests may lengthen it.
	debounce time.Duration
	// watchHook, if set, sees every event the rules watcher reads (tests).
	watchHook func(ev fsnotify.Event, relevant, pending bool)

	// lastReloadErr is the first line of the last refused reload, nil after
	// a good one (for /-/ready).
	lastReloadErr atomic.Pointer[string]
	// dbLost says why the database file was found lost at the last check
	// (nil while it is fine): see checkDatabase.
	dbLost atomic.Pointer[string]

	// listener is the listen address, bound by New so that a busy port
	// fails startup before anything says ready; Run serves it (nil: Run
	// binds cfg.Listen itself, if set).
	listener net.Listener

	// console is the web console under /ui/ (nil without a console
	// section); consoleState what it shows of the daemon.
	console       *console.Console
	consoleReader *store.Store
	consoleState  consoleState

	reloadMu sync.Mutex
	// digest identifies the contents of the files behind the live rules
	// ("" when unknown); guarded by reloadMu.
	digest string
}

// New binds the listen address (unless opts.NoListen), opens the store,
// loads the rules and builds the pipeline. It settles claims left pending
// by a crash as unknown (never resent automatically).
func New(ctx context.Context, cfg *config.Config, opts Options) (_ *Daemon, err error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	d := &Daemon{cfg: cfg, log: log.With("component", "daemon"), dryRun: opts.DryRun || cfg.DryRun,
		watchLog: log.With("component", "watch"), onReload: opts.OnReload, debounce: reloadDebounce,
		redact: redact.New(cfg.Secrets()...), now: opts.Now, version: opts.Version}
	if d.now == nil {
		d.now = time.Now
	}
	var period time.Duration
	if sched, err := config.ParseSchedule(cfg.Schedule); err == nil {
		// Run refuses a bad spec; the poller's default period stands in here.
		period = schedulePeriod(sched, d.now().In(cfg.Location))
	}
	d.leaseTTL = leaseTTL(period)
	// First: a busy port is the whole story of a failed start (one line,
	// naming the listen key), not an error after "ready", warnings and a
	// wait for the database. Connections wait in the kernel's queue until
	// Run serves them.
	if cfg.Listen != "" && !opts.NoListen {
		var ln net.Listener
		if ln, err = listen(cfg.Listen); err != nil {
			return nil, err
		}
		d.listener = ln
		defer func() {
			if err != nil {
				_ = ln.Close()
			}
		}()
	}
	set, digest, err := d.loadRules()
	if err != nil {
		return nil, err
	}
	d.rules.Store(set)
	d.digest = digest
	d.metrics = metrics.New(opts.Version)
	d.metrics.Reload(true, metricRuleNames(set))
	bindings, rs, pacing, err := Build(cfg)
	if err != nil {
		return nil, err
	}
	if err := CheckVia(set, rs); err != nil {
		return nil, err
	}
	if err := CheckNotify(set, cfg); err != nil {
		return nil, err
	}
	if err := CheckLLM(set, cfg); err != nil {
		return nil, err
	}
	d.responders = rs
	for _, w := range Warnings(cfg, bindings) {
		d.log.Warn(w)
	}
	st, err := d.openStore(ctx, opts.WaitForStore, bindings)
	if err != nil {
		return nil, err
	}
	d.store = st
	if st.Created() {
		d.warnNewDatabase(bindings)
	}
	listenAddr := cfg.Listen
	if d.listener != nil {
		listenAddr = d.listener.Addr().String()
	}
	llms, err := d.llmClients()
	if err != nil {
		_ = d.Close()
		return nil, err
	}
	if d.console, err = d.newConsole(listenAddr, bindings, llms); err != nil {
		_ = d.Close()
		return nil, err
	}
	po := poller.Options{
		Store:      st,
		Bindings:   bindings,
		Responders: rs,
		Pacing:     pacing,
		DryRun:     d.dryRun,
		Logger:     log,
		Location:   cfg.Location,
		OnEvent:    d.onEvent(opts.OnEvent),
		Metrics:    d.metrics,
	}
	if j := cfg.SendJitter; j > 0 {
		po.Jitter = func() time.Duration { return rand.N(j) }
	}
	po.Period = period
	if opts.Now != nil {
		po.Now = opts.Now
	}
	d.leases = newLeases(st, cfg.Instance, d.leaseTTL, d.now, log.With("component", "leases"), d.metrics, leaseNames(bindings))
	po.Holds = d.leases.Holds
	ApplyRetry(&po, cfg)
	po.ApprovalMaxAge = cfg.Approval.MaxAge
	po.LLM = llms
	if d.notifier, err = d.newDispatcher(st); err != nil {
		_ = d.Close()
		return nil, err
	}
	if d.notifier != nil {
		po.AfterCycle = d.notifier.Kick
	}
	if opts.Tune != nil {
		opts.Tune(&po)
	}
	p, err := poller.New(po, d.rules.Load)
	if err != nil {
		_ = d.Close()
		return nil, err
	}
	d.poller = p
	d.log.Info("ready", "instance", cfg.Instance, "rules", set.Len(), "rule_files", len(set.Files()), "sources", len(bindings), "database", dburl.Display(cfg.Database), "dry_run", d.dryRun)
	return d, nil
}

// schedulePeriod is the time between two cycles of sched as from now: the
// next fire after the next fire, minus the next fire (0 when sched never
// fires).
func schedulePeriod(sched cron.Schedule, now time.Time) time.Duration {
	next := sched.Next(now)
	if next.IsZero() {
		return 0
	}
	after := sched.Next(next)
	if after.IsZero() {
		return 0
	}
	return after.Sub(next)
}

// adaptiveWarning explains a max_interval too short to defer any thread: a
// quiet thread is due again max_interval minus half a period after its poll,
// which must be past the next cycle.
func adaptiveWarning(b poller.Binding, period time.Duration) string {
	if b.MaxInterval <= 0 || period <= 0 || b.MaxInterval > period+period/2 {
		return ""
	}
	return fmt.Sprintf("sources.%s.max_interval %s is too short for cycles %s apart: adaptive polling defers no thread; use many times the period (e.g. 15m for @every 1m), or 0",
		b.SourceName(), b.MaxInterval, period)
}

// Delays between attempts to open an unavailable database (WaitForStore):
// the first, doubling up to the cap. Variables so that tests can shorten them.
var (
	storeRetryInitial = 5 * time.Second
	storeRetryMax     = 5 * time.Minute
)

// openStore opens the database, settles the claims a crash left pending
// as unknown (never resent automatically) and records the config's time
// zone and thread labels: the first writes, so a database that opens but
// cannot be written fails here. With wait, a transient failure is logged
// and retried with backoff until it works or ctx ends.
func (d *Daemon) openStore(ctx context.Context, wait bool, bindings []poller.Binding) (*store.Store, error) {
	path := dburl.Display(d.cfg.Database)
	store.SetPGOptions(store.PGOptions{Password: d.cfg.DatabasePassword.Value()})
	open := func() (*store.Store, error) {
		st, err := store.Open(ctx, d.cfg.Database)
		if err != nil {
			return nil, store.Explain(err)
		}
		st.SetRedactor(d.redact)
		st.SetInstance(d.cfg.Instance)
		n, requeued, err := d.startInstance(ctx, st)
		if err != nil {
			_ = st.Close()
			return nil, err
		}
		if n > 0 {
			d.log.Warn("claims were pending when autoreplyd last stopped: marked unknown and NOT resent; check them with `autoreplyd history --status unknown`", "count", n)
		}
		if requeued > 0 {
			d.log.Info("answers queued but not yet sent when autoreplyd last stopped: sent now", "count", requeued)
		}
		if err := d.recordConfig(ctx, st, bindings); err != nil {
			_ = st.Close()
			return nil, store.Explain(fmt.Errorf("database %s: %w", path, err))
		}
		return st, nil
	}
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = storeRetryInitial
	b.MaxInterval = storeRetryMax
	b.Multiplier = 2
	b.RandomizationFactor = 0.1
	failures := 0
	st, err := backoff.Retry(ctx, func() (*store.Store, error) {
		st, err := open()
		if err == nil {
			return st, nil
		}
		if !wait || !store.IsTransient(err) || ctx.Err() != nil {
			return nil, backoff.Permanent(err)
		}
		failures++
		return nil, err
	}, backoff.WithBackOff(b), backoff.WithMaxElapsedTime(0), backoff.WithNotify(func(err error, next time.Duration) {
		d.log.Error("database unavailable: nothing is polled or sent until it can be written; retrying",
			"database", path, "problem", store.Describe(err), "retry_in", next.Round(time.Millisecond), "attempts", failures, "err", err)
	}))
	if err != nil {
		if ctx.Err() != nil && failures > 0 {
			return nil, fmt.Errorf("stopped while waiting for database %s: %w", path, ctx.Err())
		}
		return nil, err
	}
	if failures > 0 {
		d.log.Info("database available again", "database", path, "after_attempts", failures)
	}
	return st, nil
}

// warnNewDatabase says that the database was just created, empty, while
// the config watches threads: every thread is then seen for the first time.
// That is right on a first start; after a lost database it is not, and with
// backlog: answer every reply already there is answered (again): a warning
// then, a note otherwise.
func (d *Daemon) warnNewDatabase(bindings []poller.Binding) {
	threads := 0
	var answer []string
	for _, b := range bindings {
		n := len(b.Source.Threads())
		threads += n
		if n > 0 && b.Backlog == poller.BacklogAnswer {
			answer = append(answer, "sources."+b.SourceName())
		}
	}
	if threads == 0 {
		return
	}
	if len(answer) > 0 {
		d.log.Warn("NEW EMPTY DATABASE with backlog: answer: every reply already under the watched threads will be answered; if autoreplyd ran before with this config, its database was lost and those replies were answered already: stop now and restore it",
			"database", dburl.Display(d.cfg.Database), "threads", threads, "backlog_answer", answer)
		return
	}
	// Info: the backlog is recorded, not answered, so nothing is answered
	// twice even after a lost database (cooldowns and retries start over).
	d.log.Info("new empty database: every watched thread is seen for the first time and its existing replies are recorded, not answered; if autoreplyd ran before with this config, its history was lost",
		"database", dburl.Display(d.cfg.Database), "threads", threads)
}

// onEvent is the poller's OnEvent: the console's live page first (it never
// blocks), then the caller's.
func (d *Daemon) onEvent(next func(poller.Event)) func(poller.Event) {
	if d.console == nil {
		return next
	}
	return func(ev poller.Event) {
		d.console.Publish(ev)
		if next != nil {
			next(ev)
		}
	}
}

// Store is the daemon's store (for the demo's summary).
func (d *Daemon) Store() *store.Store { return d.store }

// Poller is the daemon's poller.
func (d *Daemon) Poller() *poller.Poller { return d.poller }

// Close lets go of the leases held, so that another daemon takes the
// threads over at its next cycle rather than once they expire, and closes
// the database, and the listen address if Run did not take it.
func (d *Daemon) Close() error {
	if d.listener != nil {
		_ = d.listener.Close()
		d.listener = nil
	}
	if d.consoleReader != nil {
		_ = d.consoleReader.Close() // read-only: nothing to lose
		d.consoleReader = nil
	}
	if d.store == nil {
		return nil
	}
	if d.leases != nil {
		ctx, cancel := context.WithTimeout(context.Background(), leaseReleaseTimeout)
		d.leases.Release(ctx)
		cancel()
	}
	err := d.store.Close()
	d.store = nil
	return err
}

// Reload loads the rules again. Everything is validated before the live set
// is touched: a broken edit is refused and the last good rules keep running.
// Files byte-identical to the live rules' are not swapped ("rules
// unchanged"). Safe to call concurrently (SIGHUP and the file watcher).
func (d *Daemon) Reload() error { return d.reload("request") }

// reload is Reload; trigger says what asked for it, for the log.
func (d *Daemon) reload(trigger string) error {
	_, err := d.reloadChanged(trigger)
	return err
}

// reloadChanged is reload, also telling whether a new rule set went live
// (false with a nil error: the files were identical to the live rules').
func (d *Daemon) reloadChanged(trigger string) (bool, error) {
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	d.notifyReloading(trigger)
	d.log.Info("reloading rules", "path", d.cfg.Rules, "trigger", trigger)
	changed, err := d.reloadLocked()
	if err != nil {
		msg := firstLine(err.Error())
		d.lastReloadErr.Store(&msg)
		d.notifyReady(d.runningStatus() + "; rules reload refused, the last good rules keep running: " + msg)
	} else {
		d.lastReloadErr.Store(nil)
		d.notifyReady(d.runningStatus())
	}
	d.metrics.Reload(err == nil, metricRuleNames(d.rules.Load()))
	d.consoleState.reloaded(time.Now(), changed, err)
	if d.onReload != nil {
		d.onReload(changed, err)
	}
	return changed, err
}

// reloadLocked does and logs one reload; reloadMu is held.
func (d *Daemon) reloadLocked() (changed bool, err error) {
	if d.digest != "" {
		if now, err := rulesDigest(d.cfg.Rules); err == nil && now == d.digest {
			d.log.Info("rules unchanged", "rules", d.rules.Load().Len())
			return false, nil
		}
	}
	set, digest, err := d.loadRules()
	if err == nil {
		err = CheckVia(set, d.responders)
		if err == nil {
			err = CheckNotify(set, d.cfg)
		}
		if err == nil {
			err = CheckLLM(set, d.cfg)
		}
	}
	if err != nil {
		problems := 1
		if le := (*rules.LoadError)(nil); errors.As(err, &le) {
			problems = len(le.Errors)
		}
		d.log.Error("rules reload refused; the last good rules keep running", "problems", problems, "err", err)
		return false, err
	}
	old := d.rules.Swap(set)
	d.digest = digest
	d.log.Info("rules reloaded", "rules", set.Len(), "rule_files", len(set.Files()), "previous_rules", old.Len())
	return true, nil
}

// LoadRules loads and compiles the rules cfg names. Rules that cannot be
// read at all name the config file and its rules key: "/etc/autoreplyd/
// config.yaml: rules: /etc/autoreplyd/rules.yaml does not exist".
func LoadRules(cfg *config.Config) (*rules.Set, error) {
	set, err := rules.Load(cfg.Rules, rules.Options{Location: cfg.Location})
	return set, nameRulesKey(cfg, err)
}

// nameRulesKey makes a *rules.ReadError in err say that its path is the
// config's rules key; other errors are returned as they are.
func nameRulesKey(cfg *config.Config, err error) error {
	if re := (*rules.ReadError)(nil); errors.As(err, &re) {
		re.Origin = cfg.File + ": rules"
	}
	return err
}

// loadRules loads and compiles the rules with the digest of the files they
// were read from ("" when that is uncertain, so that the next reload loads
// them rather than trusting it).
func (d *Daemon) loadRules() (*rules.Set, string, error) {
	set, digest, err := d.loadRulesFiles()
	return set, digest, nameRulesKey(d.cfg, err)
}

// loadRulesFiles is loadRules without naming the rules key.
func (d *Daemon) loadRulesFiles() (*rules.Set, string, error) {
	path := d.cfg.Rules
	opts := rules.Options{Location: d.cfg.Location}
	if fi, err := os.Stat(path); err == nil && !fi.IsDir() {
		// One read serves the digest and the load: they always agree.
		data, err := rules.ReadFile(path)
		if err != nil {
			return nil, "", err
		}
		set, err := rules.LoadBytes(path, data, opts)
		if err != nil {
			return nil, "", err
		}
		return set, digestOf([]string{path}, [][]byte{data}), nil
	}
	// A directory: rules.Load reads the files itself. Trust the digest only
	// if no file was replaced or written while it did.
	before := fileVersions(path)
	sum, _ := rulesDigest(path)
	set, err := rules.Load(path, opts)
	if err != nil {
		return nil, "", err
	}
	if !sameVersions(before, fileVersions(path)) {
		sum = ""
	}
	return set, sum, nil
}

// Rules is the live rule set.
func (d *Daemon) Rules() *rules.Set { return d.rules.Load() }

// Cycle runs one poll cycle and logs its summary. A cycle does nothing
// while the database file is lost (see checkDatabase).
func (d *Daemon) Cycle(ctx context.Context) poller.Stats {
	if err := d.checkDatabase(); err != nil {
		return poller.Stats{Errors: 1}
	}
	if !d.databaseAnswers(ctx) {
		return poller.Stats{Errors: 1}
	}
	start := time.Now()
	d.leases.Step(ctx)
	st := d.poller.Cycle(ctx)
	d.consoleState.cycled(time.Now().In(d.cfg.Location), st)
	d.log.Info("cycle done", "took", time.Since(start).Round(time.Millisecond), "threads", st.Polled, "deferred", st.Deferred, "calls", st.Calls,
		"new", st.New, "sent", st.Sent, "retrying", st.Retrying, "failed", st.Failed, "unknown", st.Unknown,
		"dry_run", st.DryRun, "skipped", st.Skipped, "flagged", st.Flagged, "held", st.Held, "expired", st.Expired, "errors", st.Errors,
		"elsewhere", st.Elsewhere)
	return st
}

// databaseAnswers asks the database before a cycle (PostgreSQL: see
// store.Ping). While it does not answer, the cycle is skipped (nothing
// could be claimed, so nothing would be sent, and every page fetched would
// be fetched again), counted, and logged at ERROR once per outage; the
// first answer after an outage (this ping's, or the poller's store
// errors') is logged once at INFO.
func (d *Daemon) databaseAnswers(ctx context.Context) bool {
	err := d.store.Ping(ctx)
	switch {
	case err == nil:
		if d.poller.DatabaseBack() {
			d.log.Info("database is back: polling and sending again", "database", dburl.Display(d.cfg.Database))
		}
		d.metrics.DatabaseUp()
		return true
	case ctx.Err() != nil:
		return false
	}
	d.metrics.DatabaseUnavailable()
	if !d.poller.MarkDatabaseDown() {
		d.log.Error("database unavailable: nothing is polled, claimed or sent until it is back; waiting",
			"database", dburl.Display(d.cfg.Database), "problem", store.Describe(err), "err", err)
	} else {
		d.log.Debug("database still unavailable: cycle skipped", "err", err)
	}
	return false
}

// checkDatabase makes sure the database file the daemon has open is still
// the one at its path. A deleted (rm of the database and its -wal/-shm),
// moved or replaced file would silently take every write with it, and the
// next start would find an empty database and answer the backlog again:
// while it is lost, nothing is polled or sent, every cycle says so at ERROR,
// and /-/ready is not ready. Nothing recreates it: put the file back (the
// daemon goes on by itself) or restart autoreplyd knowingly.
func (d *Daemon) checkDatabase() error {
	err := d.store.CheckFile()
	if err != nil {
		msg := err.Error()
		d.dbLost.Store(&msg)
		d.log.Error("DATABASE LOST: the database file was deleted or replaced while open; nothing is polled or sent until it is back (restore it) or autoreplyd is restarted (a new empty database takes every thread as never seen)",
			"database", dburl.Display(d.cfg.Database), "err", err)
		d.notifyReady("DATABASE LOST: nothing is polled or sent; restore " + d.cfg.Database + " or restart")
		return err
	}
	if d.dbLost.Swap(nil) != nil {
		d.log.Info("database file back: polling and sending again", "database", dburl.Display(d.cfg.Database))
		d.notifyReady(d.runningStatus())
	}
	return nil
}

// Run runs cycles on the schedule until ctx is cancelled: the first cycle at
// once, then on each tick, skipping a tick while the previous cycle still
// runs. A value on reload reloads the rules, and so does an edit of the rules
// file or directory (see watchRules). On cancellation Run stops polling and
// watching, lets the in-flight send settle and returns nil.
func (d *Daemon) Run(ctx context.Context, reload <-chan struct{}) error {
	sched, err := config.ParseSchedule(d.cfg.Schedule)
	if err != nil {
		return fmt.Errorf("schedule: %w", err)
	}
	stopHealth, err := d.serveHealth(ctx)
	if err != nil {
		return err
	}
	defer stopHealth()
	// Type=notify: the database is open and the rules compiled (New), the
	// health listener is bound; before any cycle or reload. See notify.go.
	d.notifyReady(d.runningStatus())
	cl := cronLogger{d.log.With("component", "cron")}
	// Order matters: SkipIfStillRunning outermost, Recover inside it, or a
	// panic would stop the job for good.
	job := cron.NewChain(cron.SkipIfStillRunning(skipLogger{d}), cron.Recover(cl)).Then(cron.FuncJob(func() {
		if ctx.Err() == nil {
			st := d.Cycle(ctx)
			if ctx.Err() == nil {
				d.notifyCycle(st)
			}
		}
	}))
	c := cron.New(cron.WithLocation(d.cfg.Location), cron.WithLogger(cl))
	c.Schedule(sched, job)
	c.Start()
	// The watcher reloads on edits until Run returns; SIGHUP works without it.
	wctx, stopWatch := context.WithCancel(ctx)
	watching := make(chan struct{})
	go func() { defer close(watching); d.watchRules(wctx) }()
	defer func() { stopWatch(); <-watching }()
	// "@every" first fires one interval after Start: run the first cycle now.
	var first sync.WaitGroup
	first.Add(1)
	firstDone := make(chan struct{})
	go func() { defer first.Done(); defer close(firstDone); job.Run() }()
	// The retention is applied after the first cycle, then every PruneInterval.
	pruning := make(chan struct{})
	go func() { defer close(pruning); d.pruneLoop(ctx, firstDone) }()
	// Notifications are delivered on their own: a failing or hanging
	// channel holds up no cycle.
	notifying := make(chan struct{})
	go func() {
		defer close(notifying)
		if d.notifier != nil {
			d.notifier.Run(ctx)
		}
	}()
	// Drafts are asked of the models on their own too: a slow model
	// holds up no cycle.
	drafting := make(chan struct{})
	go func() { defer close(drafting); d.poller.RunDrafts(ctx) }()
	// The heartbeat and the leases are renewed between cycles too.
	renewing := make(chan struct{})
	go func() { defer close(renewing); d.leases.Run(ctx) }()
	watchdog, stopWatchdog := d.watchdogTicker()
	defer stopWatchdog()
	for {
		select {
		case <-ctx.Done():
			d.notifyStopping()
			d.log.Info("stopping: no new cycles; waiting for the running one to settle")
			<-c.Stop().Done()
			first.Wait()
			<-pruning
			<-notifying
			<-drafting
			<-renewing
			stopWatch()
			<-watching
			d.log.Info("stopped")
			return nil
		case _, ok := <-reload:
			if !ok {
				reload = nil // closed: no more reload requests
				continue
			}
			_ = d.Reload()
		case <-watchdog:
			d.notifyWatchdog()
		}
	}
}

// skipLogger is the logger of cron's SkipIfStillRunning, which logs only
// the ticks it skips (at Info): each is logged and counted, so that cycles
// longer than the schedule's period show.
type skipLogger struct{ d *Daemon }

func (s skipLogger) Info(string, ...any) {
	s.d.metrics.CycleSkipped()
	s.d.log.Info("schedule tick skipped: the previous cycle is still running")
}

func (s skipLogger) Error(err error, msg string, kv ...any) {
	cronLogger{s.d.log.With("component", "cron")}.Error(err, msg, kv...)
}

// cronLogger adapts slog to cron's logger interface.
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) { c.l.Debug(msg, kv...) }

func (c cronLogger) Error(err error, msg string, kv ...any) {
	if errors.Is(err, context.Canceled) {
		return
	}
	c.l.Error(msg, append(kv, "err", err)...)
}

// llmClients are the clients of the config's llm sections, by name.
func (d *Daemon) llmClients() (map[string]*llm.Client, error) {
	out := map[string]*llm.Client{}
	var names []string
	for _, e := range d.cfg.LLM {
		c, err := llm.New(e.Spec())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.Key(), err)
		}
		out[e.Name] = c
		names = append(names, e.Name)
	}
	d.metrics.DeclareLLM(names)
	return out, nil
}

// FlushDrafts asks for the drafts due now, once (run --once): what the
// models answer is held, flagged or left to be sent by the next run.
func (d *Daemon) FlushDrafts(ctx context.Context) poller.Stats {
	return d.poller.Drafts(ctx)
}
