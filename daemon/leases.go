package daemon

// Several daemons on one database: each polls the threads whose lease it
// holds, a fair share of them, and takes over the threads of a daemon
// that died. Leases only keep API calls from doubling: a claim is unique
// by its key whoever polls, so two daemons polling one thread for a while
// (a lease that lapsed during a database outage) still answer a comment
// once.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/autoreplyd/autoreplyd/metrics"
	"github.com/autoreplyd/autoreplyd/platform"
	"github.com/autoreplyd/autoreplyd/poller"
	"github.com/autoreplyd/autoreplyd/store"
)

// minLeaseTTL is the shortest lease: a schedule of a few seconds would
// otherwise let a lease lapse between two heartbeats delayed by one slow
// commit.
const minLeaseTTL = 10 * time.Second

// heartbeatEvery is how often a daemon writes its heartbeat between
// cycles, whatever its schedule: a quarter of the shortest time to live.
// Each daemon judges the others' heartbeats by its own time to live, so a
// daemon whose schedule differs (a rolling restart that changes it) must
// still be seen alive by one whose time to live is the shortest. It is
// one row's write.
const heartbeatEvery = minLeaseTTL / 4

// leaseReleaseTimeout bounds letting go of the leases at a stop: a
// database that does not answer only leaves them to expire.
const leaseReleaseTimeout = 5 * time.Second

// jobs are the leases of the jobs run by one daemon at a time.
var jobs = []string{store.JobRetention, store.JobOutbox}

// leaseTTL is how long a heartbeat, and so the leases of its daemon,
// lasts: two schedule periods (a daemon that misses one cycle keeps its
// threads), at least minLeaseTTL.
func leaseTTL(period time.Duration) time.Duration {
	if period <= 0 {
		period = poller.DefaultPeriod
	}
	return max(2*period, minLeaseTTL)
}

// leaseNames are the lease names of the threads and videos bindings poll,
// in config order, once each.
func leaseNames(bindings []poller.Binding) []string {
	var out []string
	seen := map[string]bool{}
	add := func(n string) {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	for _, b := range bindings {
		plat := b.Source.Platform()
		for _, th := range b.Source.Threads() {
			add(store.ThreadLease(plat, th.ID))
		}
		if vs, ok := b.Source.(platform.VideoSource); ok {
			for _, v := range vs.Videos() {
				add(store.ThreadLease(plat, platform.VideoStateID(v.ID)))
			}
		}
	}
	return out
}

// leases holds this daemon's leases: the fair-share step at each cycle's
// start, the heartbeat between cycles, and the answer to "may I poll
// this thread now" (Holds) from the leases held, by this daemon's clock.
//
// A lease is held while its holder's heartbeat is fresh, so the heartbeat
// renews every lease held at once: held are the leases, until the end of
// the last heartbeat's validity (written at t, valid until t+ttl). Once
// that has passed, the leases are read again after the next heartbeat:
// another daemon may have taken them meanwhile.
type leases struct {
	st      *store.Store
	name    string
	ttl     time.Duration
	now     func() time.Time
	log     *slog.Logger
	metrics *metrics.Metrics
	// threads are the lease names of the threads this daemon polls.
	threads []string

	// stepMu keeps the cycle's step and the heartbeat's renewal apart.
	stepMu sync.Mutex
	mu     sync.Mutex
	// held are the leases held, valid before until (under mu).
	held  map[string]bool
	until time.Time
	// failing says the last heartbeat failed, so that a database that
	// stays away is logged once (under stepMu).
	failing bool
	// recovered are the dead instances whose claims were settled, so
	// that a takeover is logged and settled once; an instance seen alive
	// again is forgotten (under stepMu).
	recovered map[string]bool
}

func newLeases(st *store.Store, name string, ttl time.Duration, now func() time.Time, log *slog.Logger,
	m *metrics.Metrics, threads []string) *leases {
	return &leases{st: st, name: name, ttl: ttl, now: now, log: log, metrics: m, threads: threads,
		held: map[string]bool{}, recovered: map[string]bool{}}
}

// Holds reports whether this daemon holds the lease of a thread (or a
// video's state id) of plat, and its last heartbeat is still valid:
// poller.Options.Holds.
func (l *leases) Holds(plat, threadID string) bool { return l.holds(store.ThreadLease(plat, threadID)) }

// holds reports whether lease name is held, and this daemon's last
// heartbeat still valid now.
func (l *leases) holds(name string) bool {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.held[name] && now.Before(l.until)
}

// valid returns the end of the last heartbeat's validity.
func (l *leases) valid() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.until
}

// set records names as held until until, replacing what was held.
func (l *leases) set(names []string, until time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	clear(l.held)
	l.until = until
	threads, jobs := 0, 0
	for _, n := range names {
		l.held[n] = true
		if store.IsThreadLease(n) {
			threads++
		} else {
			jobs++
		}
	}
	l.metrics.SetLeases(threads, jobs)
}

// renewLocked writes the heartbeat, which keeps the leases held for a
// time to live from now. The leases held are read again from the database
// (and returned, sorted) when reread is set, and when the last heartbeat's
// validity had ended by the time this one was written: then another
// daemon may have taken some of them, and a take is committed before a
// heartbeat written after it (the store runs the two one after the
// other), so the read sees it. Otherwise no other daemon could take them
// (it judges this heartbeat by a clock that agrees with ours): the leases
// held stay as they are and nil is returned.
func (l *leases) renewLocked(ctx context.Context, reread bool) ([]string, error) {
	beat := l.now()
	if err := l.st.Heartbeat(ctx, l.name, beat); err != nil {
		return nil, err
	}
	if reread || !l.now().Before(l.valid()) {
		names, err := l.st.HeldLeaseNames(ctx, l.name)
		if err != nil {
			return nil, err
		}
		l.set(names, beat.Add(l.ttl))
		return names, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.until = beat.Add(l.ttl)
	return nil, nil
}

// Step is the cycle's start: it writes the heartbeat and reads the leases
// held (a lease taken by a daemon whose clock is skewed, or deleted by
// hand, is seen within a cycle), counts the live daemons, takes free
// thread leases and those of dead holders up to its fair share (the
// threads over the live daemons, rounded up), lets go of those beyond one
// more than it, takes the jobs' leases when free, and settles the pending
// claims of the dead daemons it took threads over from. A failure is
// logged; the leases held stay good until the last heartbeat's validity
// ends.
func (l *leases) Step(ctx context.Context) {
	l.stepMu.Lock()
	defer l.stepMu.Unlock()
	if err := l.step(ctx); err != nil && ctx.Err() == nil {
		l.log.Error("leases: renewing or taking them failed; the threads held are polled until their leases expire",
			"problem", store.Describe(err), "err", err)
	}
}

func (l *leases) step(ctx context.Context) error {
	mine, err := l.renewLocked(ctx, true)
	if err != nil {
		return err
	}
	until := l.valid()
	now := l.now()
	alive, err := l.st.AliveInstances(ctx, now, l.ttl)
	if err != nil {
		return err
	}
	if !slices.Contains(alive, l.name) {
		alive = append(alive, l.name) // a clock step back; it is alive, it runs this
	}
	l.metrics.SetInstancesAlive(len(alive))
	for h := range l.recovered {
		if slices.Contains(alive, h) {
			delete(l.recovered, h) // back: its next death is a takeover again
		}
	}

	// The threads held that the config no longer polls are let go.
	wanted := map[string]bool{}
	for _, n := range l.threads {
		wanted[n] = true
	}
	var held, stale []string
	for _, n := range mine {
		switch {
		case !store.IsThreadLease(n):
		case wanted[n]:
			held = append(held, n)
		default:
			stale = append(stale, n)
		}
	}
	target := (len(l.threads) + len(alive) - 1) / len(alive)
	var free []string
	if len(held) < target {
		isHeld := map[string]bool{}
		for _, n := range held {
			isHeld[n] = true
		}
		for _, n := range l.threads {
			if !isHeld[n] {
				free = append(free, n)
			}
		}
	}
	// Taken in two asks: the jobs' are not shared out. Only the leases not
	// held are asked for: a lease held is not written.
	var freeJobs []string
	for _, n := range jobs {
		if !slices.Contains(mine, n) {
			freeJobs = append(freeJobs, n)
		}
	}
	var got []string
	from := map[string]int{}
	for _, ask := range []struct {
		names []string
		limit int
	}{{free, target - len(held)}, {freeJobs, 0}} {
		if len(ask.names) == 0 {
			continue
		}
		g, err := l.st.AcquireLeases(ctx, l.name, ask.names, l.ttl, now, ask.limit)
		if err != nil {
			return err
		}
		got = append(got, g.Names...)
		for h, n := range g.From {
			from[h] += n
		}
	}
	all := slices.Compact(slices.Sorted(slices.Values(slices.Concat(mine, got))))
	held = append(held, slices.DeleteFunc(slices.Clone(got), func(n string) bool { return !store.IsThreadLease(n) })...)
	if excess := len(held) - (target + 1); excess > 0 {
		stale = append(stale, held[len(held)-excess:]...)
	}
	if len(stale) > 0 {
		if _, err := l.st.ReleaseLeases(ctx, l.name, stale); err != nil {
			return err
		}
		// By a set: when a second daemon joins, half of 100,000 leases
		// are let go, and a scan of them for each lease held took 21 s.
		gone := make(map[string]bool, len(stale))
		for _, n := range stale {
			gone[n] = true
		}
		all = slices.DeleteFunc(all, func(n string) bool { return gone[n] })
		l.log.Debug("leases let go", "threads", len(stale), "fair_share", target, "instances", len(alive))
	}
	l.set(all, until)
	l.takeovers(ctx, from, alive)
	return nil
}

// takeovers settles the pending claims of the dead daemons whose stale
// leases were taken over (from: how many from each), as a crash's are,
// once per death.
func (l *leases) takeovers(ctx context.Context, from map[string]int, alive []string) {
	for h, n := range from {
		l.metrics.Takeovers(n)
		if slices.Contains(alive, h) {
			// Alive, yet it let leases lapse (a slow database, a long
			// pause): its claims are its own to settle.
			l.log.Info("took over leases another instance let expire", "instance", h, "leases", n)
			continue
		}
		if l.recovered[h] {
			l.log.Debug("took over more leases of a dead instance", "instance", h, "leases", n)
			continue
		}
		u, q, err := l.st.RecoverInstance(ctx, h, l.now())
		if err != nil {
			l.log.Error("settle the pending claims of a dead instance: tried again at the next takeover", "instance", h,
				"problem", store.Describe(err), "err", err)
			continue
		}
		l.recovered[h] = true
		l.log.Warn("took over threads of a dead instance", "instance", h, "threads", n,
			"settled_unknown", u, "requeued", q)
	}
}

// Run writes the heartbeat every heartbeatEvery until ctx ends, so that a
// cycle longer than the schedule's period loses none of the leases. A
// failure is logged once until a heartbeat is written again.
func (l *leases) Run(ctx context.Context) {
	t := time.NewTicker(heartbeatEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		l.beat(ctx)
	}
}

// beat writes one heartbeat of Run's, logging a failure that follows a
// success.
func (l *leases) beat(ctx context.Context) {
	l.stepMu.Lock()
	defer l.stepMu.Unlock()
	_, err := l.renewLocked(ctx, false)
	switch {
	case err == nil:
		l.failing = false
	case ctx.Err() != nil:
	case l.failing:
		l.log.Debug("leases: heartbeat failed again", "err", err)
	default:
		l.failing = true
		l.log.Error("leases: heartbeat failed; the threads held are polled until their leases expire",
			"problem", store.Describe(err), "err", err)
	}
}

// Release lets go of every lease held: it dates the heartbeat back to
// 1970, which frees them all at once (a lease is held while its holder's
// heartbeat is fresh), so that the other daemons count this one gone (at
// their next cycle they share its threads out between themselves, rather
// than once its heartbeat ages) and so does `autoreplyd migrate`, which
// waits for a heartbeat ten minutes old; then it deletes its lease rows, in
// one statement. Deleting 100,000 rows by name, 500 a statement, outlasted
// the stop's 5 s and left the heartbeat fresh.
func (l *leases) Release(ctx context.Context) {
	l.stepMu.Lock()
	defer l.stepMu.Unlock()
	l.set(nil, time.Time{})
	if err := l.st.Heartbeat(ctx, l.name, time.Unix(0, 0)); err != nil {
		l.log.Warn("instance not marked stopped: other instances take the threads over once its heartbeat ages", "err", err)
		return
	}
	if _, err := l.st.ReleaseAllLeases(ctx, l.name); err != nil {
		// Free already: the rows are taken over as a dead holder's.
		l.log.Debug("lease rows not deleted", "err", err)
	}
}

// startInstance starts this daemon's life on the database: it refuses to
// start beside a live daemon of the same name (duplicate), registers this
// one, and settles the claims a previous run of it, or a dead daemon, left
// pending (store.RecoverPending).
func (d *Daemon) startInstance(ctx context.Context, st *store.Store) (unknown, requeued int, err error) {
	path, name := d.cfg.Database, d.cfg.Instance
	dbErr := func(err error) error { return store.Explain(fmt.Errorf("database %s: %w", path, err)) }
	host, _ := os.Hostname() // "": only a pid check is lost
	now := d.now()
	in, ok, err := st.LookupInstance(ctx, name)
	if err != nil {
		return 0, 0, dbErr(err)
	}
	if ok {
		if err := duplicate(in, host, now, d.leaseTTL); err != nil {
			return 0, 0, err
		}
	}
	if err := st.RegisterInstance(ctx, store.Instance{Name: name, Host: host, PID: os.Getpid(), Version: d.version}, now); err != nil {
		return 0, 0, dbErr(err)
	}
	unknown, requeued, err = st.RecoverPending(ctx, now, d.leaseTTL)
	if err != nil {
		return 0, 0, dbErr(err)
	}
	return unknown, requeued, nil
}

// duplicate refuses the row in of this daemon's name when another daemon
// of that name is alive: its heartbeat is fresh and it is on another host,
// or on this host under a live process other than this one. A row left by
// a daemon of this name that died (or by this very process) is no
// obstacle.
func duplicate(in store.Instance, host string, now time.Time, ttl time.Duration) error {
	if !in.Alive(now, ttl) {
		return nil
	}
	if in.Host == host && (in.PID == os.Getpid() || !pidAlive(in.PID)) {
		return nil
	}
	return fmt.Errorf("instance: another daemon named %s is running (host %s, pid %d): give each daemon sharing the database its own `instance`",
		in.Name, in.Host, in.PID)
}

// pidAlive reports whether a process pid exists on this host.
func pidAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	// Signal 0 checks without signalling; EPERM: it exists, as another
	// user's.
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM)
}
