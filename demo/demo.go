// Package demo runs autoreplyd against the built-in imitations of its
// platforms (package simulator), on loopback: `autoreplyd demo` runs the
// real pipeline (config loading, rules, SQLite on disk, the cron loop)
// in-process, printing each decision as it happens and a summary at the
// end; `autoreplyd simulate` (Simulate) serves the imitations alone, for
// `autoreplyd run` to rehearse a config against.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/autoreplyd/autoreplyd"
	"github.com/autoreplyd/autoreplyd/config"
	"github.com/autoreplyd/autoreplyd/daemon"
	"github.com/autoreplyd/autoreplyd/internal/termesc"
	"github.com/autoreplyd/autoreplyd/logging"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/poller"
	"github.com/autoreplyd/autoreplyd/simulator"
)

// Options configures a demo run.
type Options struct {
	Duration time.Duration // how long to run; 0 = until ctx is cancelled
	// Dir is where the config, rules and database go; "" = a temporary
	// directory, removed when the demo ends. A config or rules file already
	// in Dir is used, never overwritten.
	Dir  string
	Seed int64     // traffic seed
	Out  io.Writer // decisions and the summary
	Log  io.Writer // daemon warnings and errors
	// Tick is the simulated traffic's pace and the poll schedule's period.
	Tick time.Duration
	// Program is how to run this binary, for the commands the demo
	// suggests (default "autoreplyd").
	Program string
}

// DefaultKeepDir is the --dir the demo suggests to keep its database.
const DefaultKeepDir = "autoreplyd-demo"

// Demo credentials: made up, and only ever sent to the loopback simulator.
const (
	demoToken      = "demo-justoneapi-token"
	demoAPIKey     = "demo-kitkot-api-key" //nolint:gosec // G101: made up, as the comment says
	demoSessionKey = "demo-kitkot-session-key"
)

// demo threads: top-level Douyin comments under one video, one of them
// labelled for the spring campaign rule.
var demoThreads = []struct{ id, aweme, campaign string }{
	{"7251524159191958327", "7251517975340027197", "spring"},
	{"7251524159191958400", "7251517975340027197", ""},
	{"7251524159191958511", "7251517975340027197", ""},
}

// demoVideo is a whole Douyin video the demo watches: its new top-level
// comments are answered and the threads under them discovered.
const demoVideo = "7262080445271772416"

// demoLLMKey is the made-up key of the demo's language model imitation.
const demoLLMKey = "demo-llm-key"

// demoDraftRule follows the example rules in the demo's rules.yaml: the
// questions no template answers get a draft from the (imitated) model,
// held for a person; one asking for contacts gets a draft that names a
// WeChat id, which reject_if flags.
const demoDraftRule = `
  # The demo's own: a language model (the simulator imitates one) drafts
  # the answers to questions no rule above answers; a person approves them
  # (autoreplyd inbox). See docs/drafts.md.
  - name: product_question
    description: 模型起草，人工审核
    when: 'text matches "[?？吗]$"'
    draft:
      llm: demo
      system: '你是一家小店的客服，回答简短友好，不承诺价格和发货时间。'
      prompt: '用户 {{ user.nickname }} 问：{{ text }}'
      max_length: 60
    reject_if: 'containsAny(draft, ["微信", "vx", "http", "保证"])'
`

// demoBacklog is how many replies each thread holds before a new database
// first looks at it.
const demoBacklog = 3

// faultEvery: one traffic tick in this many kitkot has a bad moment (503),
// so the demo shows a retry.
const faultEvery = 7

// Run runs the demo until opts.Duration passes or ctx is cancelled.
func Run(ctx context.Context, opts Options) (err error) {
	if opts.Out == nil {
		opts.Out = os.Stdout
	}
	if opts.Log == nil {
		opts.Log = os.Stderr
	}
	if opts.Tick <= 0 {
		opts.Tick = 2 * time.Second
	}
	if opts.Seed == 0 {
		opts.Seed = time.Now().UnixNano()
	}
	if opts.Program == "" {
		opts.Program = "autoreplyd"
	}
	dir := opts.Dir
	if dir == "" {
		// Not err: the deferred removal below must set Run's result.
		d, merr := os.MkdirTemp("", "autoreplyd-demo-")
		if merr != nil {
			return merr
		}
		dir = d
		// Nothing of a temporary demo outlives it: the hint says so.
		defer func() { err = errors.Join(err, os.RemoveAll(d)) }()
	} else if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}

	// The imitations of all four platforms, on one loopback address.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer closeListener(ln, &err)
	base := "http://" + ln.Addr().String()
	urls := simulator.BaseURLs(base)

	notes, err := writeFiles(dir, urls, simulator.NewKitkot("", "").BotUID, opts.Tick)
	if err != nil {
		return err
	}
	cfgPath := filepath.Join(dir, "config.yaml")
	cfg, redirected, err := loadConfig(cfgPath, urls)
	if err != nil {
		return err
	}
	if len(redirected) > 0 {
		notes = append(notes, "  its base URLs point at this run's simulator: "+strings.Join(redirected, ", "))
	}
	log, err := logging.New(opts.Log, "warn", "text", cfg.Secrets())
	if err != nil {
		return err
	}
	sim := simulator.NewSim(simCredentials(cfg), opts.Seed)
	for _, th := range simThreads(cfg) {
		if err := sim.Watch(th); err != nil {
			return fmt.Errorf("%s: %w", cfgPath, err)
		}
	}
	// The backlog: replies already there before a new database first looks.
	backlog := ""
	if _, err := os.Stat(cfg.Database); errors.Is(err, fs.ErrNotExist) {
		sim.Backlog(time.Now().Add(-time.Hour), demoBacklog)
		backlog = "; the replies already there are the backlog (recorded, not answered)"
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: readHeaderTimeout}
	go func() { _ = srv.Serve(ln) }()
	defer func() { err = errors.Join(err, srv.Close()) }()

	fmt.Fprintf(opts.Out, "autoreplyd demo: simulator on %s, database %s\n", base, termesc.String(cfg.Database))
	for _, n := range notes {
		fmt.Fprintln(opts.Out, n)
	}
	fmt.Fprintf(opts.Out, "watching %s%s\n\n", watching(sim.Threads()), backlog)

	pr := &printer{out: opts.Out, loc: cfg.Location, counts: map[string]int{}, claims: map[string]string{}}
	var d *daemon.Daemon
	d, err = daemon.New(ctx, cfg, daemon.Options{
		Logger:  log,
		OnEvent: pr.event,
		// A refused reload is logged (at ERROR, on Log); one that went
		// live is said here, among the decisions it changes.
		OnReload: func(changed bool, err error) {
			if changed && err == nil {
				pr.say(fmt.Sprintf("rules reloaded: %d rules", d.Rules().Len()))
			}
		},
		Tune: func(o *poller.Options) {
			o.Jitter = nil // the simulator needs no disguise
			o.RetryInitial = opts.Tick
			o.RetryMax = 2 * opts.Tick
		},
	})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, d.Close()) }()

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	if opts.Duration > 0 {
		// A timer, not a deadline: a deadline would make rate limit waits
		// that end after it fail at once, as if the platform were slow.
		t := time.AfterFunc(opts.Duration, cancel)
		defer t.Stop()
	}
	// New replies keep arriving; once in a while kitkot has a bad moment.
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(opts.Tick * 3 / 4)
		defer t.Stop()
		for n := 1; ; n++ {
			select {
			case <-runCtx.Done():
				return
			case now := <-t.C:
				sim.Burst(now)
				if n%faultEvery == 0 {
					sim.Kitkot.Faults.Push(simulator.Fault{Kind: simulator.FaultHTTPStatus, Status: http.StatusServiceUnavailable})
				}
			}
		}
	})
	err = d.Run(runCtx, nil)
	wg.Wait()
	if err != nil {
		return err
	}
	return summary(opts, d, cfg, sim, pr, dir)
}

// writeFiles writes the demo's config (pointed at urls) and the example
// rules into dir, each unless it exists, and says what it did.
func writeFiles(dir string, urls simulator.SimBaseURLs, botUID string, tick time.Duration) ([]string, error) {
	var notes []string
	var threads strings.Builder
	for _, th := range demoThreads {
		fmt.Fprintf(&threads, "      - comment_id: \"%s\"\n        aweme_id: \"%s\"\n", th.id, th.aweme)
		if th.campaign != "" {
			fmt.Fprintf(&threads, "        labels: {campaign: %s}\n", th.campaign)
		}
	}
	cfg := fmt.Sprintf(`# written by autoreplyd demo; a later demo --dir uses it as it is
database: autoreplyd.db
rules: rules.yaml
schedule: "@every %s"
timezone: Asia/Shanghai
listen: ""
sources:
  douyin:
    base_url: %s
    token: %s
    responder: kitkot
    self_uids: ["%s"]
    backlog: skip
    timeout: 10s
    videos:
      - aweme_id: "%s"
        labels: {campaign: summer}
    threads:
%sresponders:
  kitkot:
    base_url: %s
    api_key: %s
    session_key: %s
    timeout: 5s
    rate: 5/s
    burst: 3
    daily_cap: 0
llm:
  demo:
    base_url: %s
    api_key: %s
    model: demo-chat
    rate: 5/s
    daily_tokens: 100000
`, tick, urls.Douyin, demoToken, botUID, demoVideo, threads.String(), urls.Kitkot, demoAPIKey, demoSessionKey, urls.LLM, demoLLMKey)
	path := filepath.Join(dir, "config.yaml")
	// Private: it holds (made-up) secrets inline, which run warns of in a
	// file others can read.
	existed, err := writeNew(path, []byte(cfg), 0o600)
	if err != nil {
		return nil, err
	}
	if existed {
		notes = append(notes, fmt.Sprintf("using the existing %s (not overwritten)", termesc.String(path)))
	}
	rulesPath := filepath.Join(dir, "rules.yaml")
	if existed, err = writeNew(rulesPath, append(slices.Clone(autoreplyd.ExampleRules), demoDraftRule...), 0o644); err != nil {
		return nil, err
	}
	if existed {
		notes = append(notes, fmt.Sprintf("using the existing %s (not overwritten)", termesc.String(rulesPath)))
	}
	return notes, nil
}

// loadConfig loads the demo's config with every base URL it has pointed at
// this run's simulator (an existing config names an earlier run's port),
// and returns the keys that had to be.
func loadConfig(path string, urls simulator.SimBaseURLs) (*config.Config, []string, error) {
	cfg, err := config.Load(path, nil)
	if err != nil {
		return nil, nil, err
	}
	var environ, keys []string
	for _, k := range baseURLKeys(cfg, urls) {
		if k.got != k.want {
			environ = append(environ, envKey(k.key)+"="+k.want)
			keys = append(keys, k.key)
		}
	}
	if len(environ) == 0 {
		return cfg, nil, nil
	}
	cfg, err = config.Load(path, environ)
	return cfg, keys, err
}

// printer prints decisions as they happen, and counts them for the
// summary of this run.
type printer struct {
	mu     sync.Mutex
	out    io.Writer
	loc    *time.Location
	counts map[string]int
	// claims holds the last status of each claim this run decided or
	// settled (by platform, comment and rule): a claim retried then sent
	// counts once, as sent.
	claims map[string]string
}

func (p *printer) event(ev poller.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := ev.Comment
	who := c.User.Nickname
	if who == "" {
		who = c.User.UID
	}
	where := "thread …" + tail(c.ThreadID, 4)
	if c.ID == c.ThreadID {
		// A new top-level comment of a watched video: its own thread.
		where = "video  …" + tail(c.PostID, 4)
	}
	head := fmt.Sprintf("%s  %s  %s: %q", time.Now().In(p.loc).Format("15:04:05"), where, termesc.String(who), c.Text)
	var what string
	switch {
	case ev.Disposition == model.DispositionBacklog:
		what = "backlog: recorded, not answered"
		p.counts["backlog"]++
	case ev.Disposition == model.DispositionSelf:
		what = "our own reply: ignored"
		p.counts["self"]++
	case ev.Rule == "":
		what = "no rule matched"
		p.counts["no_match"]++
	case ev.Status == model.StatusSkipped:
		what = fmt.Sprintf("rule %s: skipped (%s)", ev.Rule, ev.Reason)
	case ev.Status == model.StatusFlagged && ev.Reply != "":
		what = fmt.Sprintf("rule %s: the model's draft %q flagged for a person (%s), nothing sent", ev.Rule, ev.Reply, ev.Reason)
	case ev.Status == model.StatusFlagged:
		what = fmt.Sprintf("rule %s: flagged for a person, nothing sent (autoreplyd inbox)", ev.Rule)
	case ev.Status == model.StatusHeld:
		what = fmt.Sprintf("rule %s: held for approval %q (autoreplyd inbox)", ev.Rule, ev.Reply)
	case ev.Status == model.StatusDrafting:
		what = fmt.Sprintf("rule %s: asking the model for a draft", ev.Rule)
	default:
		what = fmt.Sprintf("rule %s: %s %q", ev.Rule, ev.Status, ev.Reply)
		if ev.Reason != "" {
			what += " (" + ev.Reason + ")"
		}
	}
	if ev.Status != "" {
		p.claims[c.Platform+"\x00"+c.ID+"\x00"+ev.Rule] = ev.Status
	}
	fmt.Fprintf(p.out, "%s\n    → %s\n", head, what)
}

// say prints a line among the decisions.
func (p *printer) say(line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintln(p.out, line)
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

// statusOrder is the order in which the summary lists statuses.
var statusOrder = []string{model.StatusSent, model.StatusRetrying, model.StatusFailed, model.StatusUnknown, model.StatusSkipped,
	model.StatusFlagged, model.StatusHeld, model.StatusDryRun, model.StatusPending}

// statusCounts says counts by status, in statusOrder.
func statusCounts(counts map[string]int) string {
	var parts []string
	for _, s := range statusOrder {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// summary prints what this run did (and, when earlier runs left rows in
// the database, its totals apart), and how to query the database.
func summary(opts Options, d *daemon.Daemon, cfg *config.Config, sim *simulator.Sim, pr *printer, dir string) error {
	total, err := d.Store().Counts(context.Background())
	if err != nil {
		return err
	}
	pr.mu.Lock()
	defer pr.mu.Unlock()
	run := map[string]int{}
	for _, st := range pr.claims {
		run[st]++
	}
	out := opts.Out
	fmt.Fprintf(out, "\nsummary of this run\n")
	fmt.Fprintf(out, "  comments seen:      %d backlog, %d our own, %d evaluated with no rule matching\n", pr.counts["backlog"], pr.counts["self"], pr.counts["no_match"])
	fmt.Fprintf(out, "  handled replies:    %s\n", statusCounts(run))
	fmt.Fprintf(out, "  JustOneAPI calls:   %d (%d listing the video)   kitkot replies posted: %d\n",
		sim.JustOneAPI.CallCount()+sim.JustOneAPI.VideoCallCount(), sim.JustOneAPI.VideoCallCount(), len(sim.Kitkot.Posts()))
	db := termesc.String(cfg.Database)
	fmt.Fprintf(out, "  database:           %s\n", db)
	if all := statusCounts(total); all != statusCounts(run) {
		fmt.Fprintf(out, "  all runs in it:     %s\n", all)
	}
	prog := termesc.String(opts.Program)
	if opts.Dir == "" {
		fmt.Fprintf(out, "\nthe demo's temporary directory %s is removed now; to keep the database and query it:\n", termesc.String(dir))
		fmt.Fprintf(out, "  %s demo --dir %s\n", prog, DefaultKeepDir)
		return nil
	}
	q := termesc.String(shellQuote(cfg.Database))
	fmt.Fprintf(out, "\nquery it:  %s history --database %s\n", prog, q)
	fmt.Fprintf(out, "           sqlite3 %s 'SELECT rule, status, count(*) FROM replies GROUP BY 1, 2'\n", q)
	return nil
}

// closeListener closes ln when Run or Simulate returns, adding its error to
// *err, unless the server that served ln closed it already.
func closeListener(ln net.Listener, err *error) {
	if cerr := ln.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) {
		*err = errors.Join(*err, cerr)
	}
}
