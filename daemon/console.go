package daemon

import (
	"context"
	"sync"
	"time"

	"github.com/autoreplyd/autoreplyd/console"
	"github.com/autoreplyd/autoreplyd/llm"
	"github.com/autoreplyd/autoreplyd/poller"
	"github.com/autoreplyd/autoreplyd/store"
)

// consoleState is what the daemon remembers for the console's health and
// rules pages: the last cycle, today's API calls and the last reload.
type consoleState struct {
	mu         sync.Mutex
	lastCycle  time.Time
	cycle      poller.Stats
	callsDay   string // the local day callsToday counts
	callsToday int
	reload     console.Reload
}

// cycled records a finished cycle.
func (s *consoleState) cycled(at time.Time, st poller.Stats) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastCycle, s.cycle = at, st
	if day := at.Format(time.DateOnly); day != s.callsDay {
		s.callsDay, s.callsToday = day, 0
	}
	s.callsToday += st.Calls
}

// reloaded records a reload's outcome.
func (s *consoleState) reloaded(at time.Time, changed bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reload = console.Reload{At: at, Changed: changed}
	if err != nil {
		s.reload.Err = err.Error()
	}
}

// newConsole builds the web console of cfg.Console (nil without it), over
// the daemon's store, live rules and responders. listen is the address the
// listener is bound to, which the console answers to besides the allowed
// hosts.
func (d *Daemon) newConsole(listen string, bindings []poller.Binding, llms map[string]*llm.Client) (*console.Console, error) {
	cc := d.cfg.Console
	if cc == nil {
		return nil, nil
	}
	users := make([]console.User, len(cc.Users))
	for i, u := range cc.Users {
		users[i] = console.User{Name: u.Name, Hash: u.PasswordHash.Value(), Password: u.Password.Value()}
	}
	var sources []string
	for _, b := range bindings {
		sources = append(sources, b.SourceName())
	}
	var responders []string
	for _, r := range d.cfg.Responders {
		responders = append(responders, r.Name)
	}
	// The pages read through a read-only store of their own (see
	// console.Options.Reader).
	reader, err := store.OpenReadOnly(context.Background(), d.cfg.Database)
	if err != nil {
		return nil, err
	}
	reader.SetRedactor(d.redact)
	d.consoleReader = reader
	return console.New(console.Options{
		LLM:            llms,
		Users:          users,
		SessionTTL:     cc.SessionTTL,
		Listen:         listen,
		AllowedHosts:   cc.AllowedHosts,
		TLS:            cc.TLS(),
		Store:          d.store,
		Reader:         reader,
		Rules:          d.rules.Load,
		RulesPath:      d.cfg.Rules,
		Responders:     d.responders,
		ApprovalMaxAge: d.cfg.Approval.MaxAge,
		Location:       d.cfg.Location,
		Redact:         d.redact,
		Logger:         d.log,
		Status: func(ctx context.Context) console.Status {
			return d.consoleStatus(ctx, sources, responders)
		},
	})
}

// consoleStatus is the daemon's state for the console.
func (d *Daemon) consoleStatus(ctx context.Context, sources, responders []string) console.Status {
	st := console.Status{Sources: sources, Responders: responders}
	if ok, why := d.Ready(ctx); !ok {
		st.Problems = why
	}
	st.Pauses, _ = d.poller.Pauses(ctx) // a read error is among Ready's problems
	st.RuleErrors = d.metrics.RuleErrors()
	if d.notifier != nil {
		st.Channels = d.notifier.State()
	}
	s := &d.consoleState
	s.mu.Lock()
	defer s.mu.Unlock()
	st.LastCycle, st.Cycle, st.Reload = s.lastCycle, s.cycle, s.reload
	if s.callsDay == time.Now().In(d.cfg.Location).Format(time.DateOnly) {
		st.CallsToday = s.callsToday
	}
	return st
}
