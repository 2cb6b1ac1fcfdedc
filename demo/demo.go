// Package demo runs the real autoreplyd pipeline (config loading, rules,
// SQLite on disk, HTTP on loopback, the cron loop) against the built-in
// simulator of JustOneAPI and kitkot, printing each decision as it happens
// and a summary at the end.
package demo

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/autoreplyd/autoreplyd"
	"github.com/autoreplyd/autoreplyd/config"
	"github.com/autoreplyd/autoreplyd/daemon"
	"github.com/autoreplyd/autoreplyd/logging"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/poller"
	"github.com/autoreplyd/autoreplyd/simulator"
)

// Options configures a demo run.
type Options struct {
	Duration time.Duration // how long to run; 0 = until ctx is cancelled
	Dir      string        // where the config, rules and database go; "" = a new temporary directory
	Seed     int64         // traffic seed
	Out      io.Writer     // decisions and the summary
	Log      io.Writer     // daemon warnings and errors
	// Tick is the simulated traffic's pace and the poll schedule's period.
	Tick time.Duration
}

// Demo credentials: made up, and only ever sent to the loopback simulator.
const (
	demoToken      = "demo-justoneapi-token"
	demoAPIKey     = "demo-kitkot-api-key"
	demoSessionKey = "demo-kitkot-session-key"
)

// demo threads: top-level Douyin comments under one video, one of them
// labelled for the spring campaign rule.
var demoThreads = []struct{ id, aweme, campaign string }{
	{"7251524159191958327", "7251517975340027197", "spring"},
	{"7251524159191958400", "7251517975340027197", ""},
	{"7251524159191958511", "7251517975340027197", ""},
}

// Run runs the demo until opts.Duration passes or ctx is cancelled.
func Run(ctx context.Context, opts Options) error {
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
	dir := opts.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "autoreplyd-demo-")
		if err != nil {
			return err
		}
		dir = d
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}

	// The simulator: JustOneAPI under /api/douyin/..., kitkot under /api/video/...
	jo := simulator.NewJustOneAPI(demoToken)
	jo.SetPageSize(10)
	jo.SetOrder(simulator.OrderNewest)
	kk := simulator.NewKitkot(demoAPIKey, demoSessionKey)
	kk.OnPost = func(p simulator.Post) {
		// Our answer shows up in the thread, as on the real platform.
		jo.AddReply(p.ReplyID, simulator.Reply{CID: p.CID, AwemeID: p.AwemeID, Text: p.Text, UserUID: kk.BotUID,
			Nickname: kk.BotNickname, CreateTime: p.At.Unix(), ReplyToReplyID: "0"})
	}
	mux := http.NewServeMux()
	mux.Handle("/api/douyin/", jo)
	mux.Handle("/api/video/", kk)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	base := "http://" + ln.Addr().String()

	// The backlog: replies already there before autoreplyd first looks.
	traffic := simulator.NewTraffic(jo, opts.Seed)
	threadIDs := make([]string, len(demoThreads))
	for i, th := range demoThreads {
		threadIDs[i] = th.id
	}
	past := time.Now().Add(-time.Hour)
	for range 4 {
		traffic.Tick(past, threadIDs)
	}

	cfgPath, err := writeFiles(dir, base, kk.BotUID, opts.Tick)
	if err != nil {
		return err
	}
	cfg, err := config.Load(cfgPath, nil)
	if err != nil {
		return err
	}
	log, err := logging.New(opts.Log, "warn", "text", cfg.Secrets())
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.Out, "autoreplyd demo: simulator on %s, database %s\n", base, cfg.Database)
	fmt.Fprintf(opts.Out, "watching %d Douyin threads; the replies already there are the backlog (recorded, not answered)\n\n", len(demoThreads))

	pr := &printer{out: opts.Out, loc: cfg.Location, counts: map[string]int{}}
	d, err := daemon.New(ctx, cfg, daemon.Options{
		Logger:  log,
		OnEvent: pr.event,
		Tune: func(o *poller.Options) {
			o.Jitter = nil // the simulator needs no disguise
			o.RetryInitial = opts.Tick
			o.RetryMax = 2 * opts.Tick
		},
	})
	if err != nil {
		return err
	}
	defer d.Close()

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	if opts.Duration > 0 {
		runCtx, cancel = context.WithTimeout(ctx, opts.Duration)
		defer cancel()
	}
	// New replies keep arriving; once in a while kitkot has a bad moment.
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(opts.Tick * 3 / 4)
		defer t.Stop()
		for n := 1; ; n++ {
			select {
			case <-runCtx.Done():
				return
			case now := <-t.C:
				traffic.Tick(now, threadIDs)
				if n%7 == 0 {
					kk.Faults.Push(simulator.Fault{Kind: simulator.FaultHTTPStatus, Status: http.StatusServiceUnavailable})
				}
			}
		}
	}()
	err = d.Run(runCtx, nil)
	wg.Wait()
	if err != nil {
		return err
	}
	return summary(opts.Out, d, cfg, jo, kk, pr)
}

// writeFiles writes the demo's config and the example rules into dir.
func writeFiles(dir, base, botUID string, tick time.Duration) (string, error) {
	rulesPath := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(rulesPath, autoreplyd.ExampleRules, 0o644); err != nil {
		return "", err
	}
	var threads strings.Builder
	for _, th := range demoThreads {
		fmt.Fprintf(&threads, "      - comment_id: \"%s\"\n        aweme_id: \"%s\"\n", th.id, th.aweme)
		if th.campaign != "" {
			fmt.Fprintf(&threads, "        labels: {campaign: %s}\n", th.campaign)
		}
	}
	cfg := fmt.Sprintf(`# written by autoreplyd demo
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
    threads:
%sresponders:
  kitkot:
    base_url: %s/api
    api_key: %s
    session_key: %s
    timeout: 5s
    rate: 5/s
    burst: 3
    daily_cap: 0
`, tick, base, demoToken, botUID, threads.String(), base, demoAPIKey, demoSessionKey)
	path := filepath.Join(dir, "config.yaml")
	// Private: it holds (made-up) secrets inline, which run warns of in a
	// file others can read.
	return path, os.WriteFile(path, []byte(cfg), 0o600)
}

// printer prints decisions as they happen.
type printer struct {
	mu     sync.Mutex
	out    io.Writer
	loc    *time.Location
	counts map[string]int
}

func (p *printer) event(ev poller.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := ev.Comment
	who := c.User.Nickname
	if who == "" {
		who = c.User.UID
	}
	head := fmt.Sprintf("%s  thread …%s  %s: %q", time.Now().In(p.loc).Format("15:04:05"), tail(c.ThreadID, 4), who, c.Text)
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
		p.counts["skipped"]++
	default:
		what = fmt.Sprintf("rule %s: %s %q", ev.Rule, ev.Status, ev.Reply)
		if ev.Reason != "" {
			what += " (" + ev.Reason + ")"
		}
		p.counts[ev.Status]++
	}
	fmt.Fprintf(p.out, "%s\n    → %s\n", head, what)
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

func summary(out io.Writer, d *daemon.Daemon, cfg *config.Config, jo *simulator.JustOneAPI, kk *simulator.Kitkot, pr *printer) error {
	ctx := context.Background()
	counts, err := d.Store().Counts(ctx)
	if err != nil {
		return err
	}
	pr.mu.Lock()
	defer pr.mu.Unlock()
	fmt.Fprintf(out, "\nsummary\n")
	fmt.Fprintf(out, "  comments seen:      %d backlog, %d our own, %d evaluated with no rule matching\n", pr.counts["backlog"], pr.counts["self"], pr.counts["no_match"])
	var parts []string
	for _, s := range []string{model.StatusSent, model.StatusRetrying, model.StatusFailed, model.StatusUnknown, model.StatusSkipped, model.StatusDryRun, model.StatusPending} {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	if len(parts) == 0 {
		parts = []string{"none yet"}
	}
	fmt.Fprintf(out, "  handled replies:    %s\n", strings.Join(parts, ", "))
	fmt.Fprintf(out, "  JustOneAPI calls:   %d   kitkot replies posted: %d\n", jo.CallCount(), len(kk.Posts()))
	fmt.Fprintf(out, "  database:           %s\n", cfg.Database)
	fmt.Fprintf(out, "\nquery it:  go run ./cmd/autoreplyd history --database %s\n", cfg.Database)
	fmt.Fprintf(out, "           sqlite3 %s 'SELECT rule, status, count(*) FROM replies GROUP BY 1, 2'\n", cfg.Database)
	return nil
}
