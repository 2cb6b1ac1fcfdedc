package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/autoreplyd/autoreplyd"
	"github.com/autoreplyd/autoreplyd/config"
	"github.com/autoreplyd/autoreplyd/internal/termesc"
	"github.com/autoreplyd/autoreplyd/simulator"
)

// Defaults of `autoreplyd simulate`.
const (
	// DefaultSimulateDir is where simulate keeps its config, credentials,
	// rules and database: beside the operator, to look at and edit.
	DefaultSimulateDir = "autoreplyd-sim"
	// DefaultSimulateListen is a free loopback port: the imitations take
	// made-up credentials and comments from anyone who reaches them.
	DefaultSimulateListen = "127.0.0.1:0"
	// DefaultSimulateTraffic is a comment every six seconds: a few new
	// ones between two cycles of the schedule simulate writes.
	DefaultSimulateTraffic = "10/m"
)

const (
	// simBacklog is how many comments each thread already holds when the
	// database is new: the first run records them, answering none.
	simBacklog = 2
	// simMaxTraffic (comments a second) bounds --traffic: faster is a load
	// test (bench/load), not a rehearsal.
	simMaxTraffic = 100
	// simShutdownTimeout bounds the wait for requests in flight at Ctrl-C.
	simShutdownTimeout = 5 * time.Second
)

// SimulateOptions configures Simulate.
type SimulateOptions struct {
	// Dir holds config.yaml, credentials/, rules.yaml and the database.
	Dir string
	// Listen is the address to serve the imitations on. Unless ListenSet,
	// an existing config's base URLs choose it when they all name one
	// loopback address (that of an earlier simulate).
	Listen    string
	ListenSet bool
	// Traffic is the rate of made-up comments, N/s, N/m or N/h; "0" adds
	// only those written by hand (POST simulator.SimCommentsPath).
	Traffic string
	Seed    int64  // of the made-up comments; 0 = random
	Program string // how to run this binary, for the commands printed
	// Environ is the environment the config is loaded with, as `run` would
	// load it (CREDENTIALS_DIRECTORY, AUTOREPLYD_* overrides).
	Environ []string
	Out     io.Writer // what to run, and each comment and answer
	Log     io.Writer // warnings
}

// Simulate serves the loopback imitations of Douyin (JustOneAPI), TikTok
// and kitkot, WeChat and Weibo for `autoreplyd run` to rehearse a config
// against: it writes opts.Dir/config.yaml (every platform pointed at the
// imitations, made-up secrets in files under credentials/) and rules.yaml
// unless they exist (never overwriting: an existing config is served as it
// is, its threads and credentials), prints how to run against it, and adds
// made-up comments at opts.Traffic until ctx ends.
func Simulate(ctx context.Context, o SimulateOptions) (err error) {
	if o.Dir == "" {
		o.Dir = DefaultSimulateDir
	}
	if o.Listen == "" {
		o.Listen = DefaultSimulateListen
	}
	if o.Traffic == "" {
		o.Traffic = DefaultSimulateTraffic
	}
	if o.Program == "" {
		o.Program = "autoreplyd"
	}
	if o.Out == nil {
		o.Out = os.Stdout
	}
	if o.Log == nil {
		o.Log = os.Stderr
	}
	if o.Seed == 0 {
		o.Seed = time.Now().UnixNano()
	}
	every, err := trafficInterval(o.Traffic)
	if err != nil {
		return fmt.Errorf("--traffic: %w", err)
	}
	if err := os.MkdirAll(o.Dir, 0o750); err != nil {
		return fmt.Errorf("--dir: %w", err)
	}
	cfgPath := filepath.Join(o.Dir, "config.yaml")
	var cfg *config.Config
	var notes []string // the first lines: what was written, what was found and kept
	listen, fromConfig := o.Listen, false
	if _, err := os.Lstat(cfgPath); err == nil {
		if cfg, err = config.Load(cfgPath, o.Environ); err != nil {
			return err
		}
		if addr, ok := sharedLoopbackAddr(cfg); ok && !o.ListenSet {
			listen, fromConfig = addr, true
		}
		notes = append(notes, fmt.Sprintf("using the existing %s (not overwritten): the imitations serve its threads and accept its credentials", termesc.String(cfgPath)))
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}

	ln, err := net.Listen("tcp", listen)
	switch {
	case err != nil && fromConfig:
		return fmt.Errorf("listen on %s, the address the base URLs of %s name: %w (is another simulate serving it? stop that one, or give --listen and point the base URLs there)",
			listen, termesc.String(cfgPath), err)
	case err != nil:
		return fmt.Errorf("--listen: %w", err)
	}
	defer closeListener(ln, &err)
	base := "http://" + ln.Addr().String()
	urls := simulator.BaseURLs(base)

	if cfg == nil {
		written, err := writeSimFiles(o.Dir, urls)
		if err != nil {
			return err
		}
		notes = append(notes, written...)
		if cfg, err = config.Load(cfgPath, o.Environ); err != nil {
			return fmt.Errorf("the config simulate wrote: %w", err)
		}
	}
	sim := simulator.NewSim(simCredentials(cfg), o.Seed)
	for _, th := range simThreads(cfg) {
		if err := sim.Watch(th); err != nil {
			return fmt.Errorf("%s: %w", cfgPath, err)
		}
	}
	// The database is new: the threads already have comments, which the
	// first run records without answering (unless backlog: answer).
	backlog := 0
	if _, err := os.Stat(cfg.Database); errors.Is(err, fs.ErrNotExist) && every > 0 {
		sim.Backlog(time.Now().Add(-time.Hour), simBacklog)
		backlog = simBacklog
	}

	// Everything is printed before the imitations serve (the listener
	// queues connections meanwhile): the lines of comments come after.
	out := o.Out
	fmt.Fprintf(out, "autoreplyd simulate: imitations of Douyin (JustOneAPI), TikTok and kitkot, WeChat and Weibo on %s\n", base)
	for _, n := range notes {
		fmt.Fprintln(out, n)
	}
	fmt.Fprintf(out, "watching %s\n", watching(sim.Threads()))
	switch {
	case every == 0:
		fmt.Fprintln(out, "traffic: none (--traffic 0): only the comments you add")
	case backlog > 0:
		fmt.Fprintf(out, "traffic: %s made-up comments; %d already under each thread (the backlog: recorded, not answered)\n", o.Traffic, backlog)
	default:
		fmt.Fprintf(out, "traffic: %s made-up comments\n", o.Traffic)
	}
	warnings := baseURLWarnings(cfg, urls)
	if host, _, err := net.SplitHostPort(ln.Addr().String()); err == nil && !isLoopback(host) {
		warnings = append(warnings, "the imitations listen on "+host+", off loopback: they take made-up credentials and comments from anyone who reaches them")
	}
	for _, w := range warnings {
		fmt.Fprintln(o.Log, "autoreplyd simulate: warning:", w)
	}
	q := shellQuote(cfgPath)
	fmt.Fprintf(out, "\nRehearse against it, in another terminal:\n")
	for _, c := range []string{"check --config " + q, "run --once --config " + q, "history --config " + q, "stats --config " + q,
		"run --config " + q + "    (the daemon, on its schedule " + cfg.Schedule + "; Ctrl-C stops it)"} {
		fmt.Fprintln(out, "  "+termesc.String(o.Program+" "+c))
	}
	if ths := sim.Threads(); len(ths) > 0 {
		fmt.Fprintf(out, "Add a comment yourself:\n  curl --data-urlencode platform=%s --data-urlencode 'text=多少钱？' %s%s\n",
			ths[0].Platform, base, simulator.SimCommentsPath)
	}
	fmt.Fprintf(out, "Ctrl-C stops the simulator.\n\n")

	pr := &simPrinter{out: o.Out, loc: cfg.Location}
	sim.OnEvent = pr.event
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: readHeaderTimeout}
	go func() { _ = srv.Serve(ln) }()
	defer func() { err = errors.Join(err, srv.Close()) }()
	var flow sync.WaitGroup
	if every > 0 {
		flow.Go(func() { sim.Flow(ctx, every) })
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), simShutdownTimeout)
	defer cancel()
	_ = srv.Shutdown(sctx)
	flow.Wait() // nothing is printed after the goodbye
	pr.mu.Lock()
	defer pr.mu.Unlock()
	fmt.Fprintf(o.Out, "\nsimulator stopped; %s keeps the config, the rules and the database\n", termesc.String(o.Dir))
	return nil
}

// trafficInterval is the time between two made-up comments at rate s
// (N/s, N/m, N/h; "0": none).
func trafficInterval(s string) (time.Duration, error) {
	if strings.TrimSpace(s) == "0" {
		return 0, nil
	}
	r, err := config.ParseRate(s)
	if err != nil {
		return 0, fmt.Errorf("%w, or 0 for only the comments you add", err)
	}
	if float64(r) > simMaxTraffic {
		return 0, fmt.Errorf("%q: at most %d/s", s, simMaxTraffic)
	}
	d := time.Duration(float64(time.Second) / float64(r))
	if d <= 0 || math.IsInf(float64(r), 0) {
		return 0, fmt.Errorf("%q: too fast", s)
	}
	return d, nil
}

// Made-up ids of the threads simulate writes into a new config.
var (
	simDouyinThreads = []struct{ id, aweme, labels string }{
		{"7251524159191958327", "7251517975340027197", "{campaign: spring}"},
		{"7251524159191958400", "7251517975340027197", ""},
		{"7251524159191958511", "7251517975340027197", ""},
	}
	simTikTokThreads = []struct{ id, aweme, labels string }{
		{"7300000000000000011", "7300000000000000001", "{campaign: summer}"},
		{"7300000000000000022", "7300000000000000001", ""},
	}
)

// simDouyinVideo is the whole video simulate's config watches.
const simDouyinVideo = "7262080445271772416"

const (
	simWeChatAppID   = "wx5e1a7c0d9b3f2a64"
	simWeChatMsgData = "2247483647"
)

// simCredentialFiles are the made-up secrets simulate writes, by file name
// under credentials/.
var simCredentialFiles = []string{"justoneapi-token", "kitkot-api-key", "kitkot-session-key", "wechat-app-secret", "weibo-access-token"}

// writeSimFiles writes a new config pointing every platform at urls, its
// credential files and the example rules into dir, each unless it exists,
// and says what it did.
func writeSimFiles(dir string, urls simulator.SimBaseURLs) ([]string, error) {
	var notes []string
	creds := filepath.Join(dir, "credentials")
	if err := os.MkdirAll(creds, 0o700); err != nil {
		return nil, err
	}
	var kept []string
	for _, name := range simCredentialFiles {
		secret := make([]byte, 16)
		_, _ = rand.Read(secret) // never fails (crypto/rand)
		existed, err := writeNew(filepath.Join(creds, name), []byte("sim-"+hex.EncodeToString(secret)+"\n"), 0o600)
		if err != nil {
			return nil, err
		}
		if existed {
			kept = append(kept, name)
		}
	}
	threads := func(list []struct{ id, aweme, labels string }) string {
		var b strings.Builder
		for _, th := range list {
			fmt.Fprintf(&b, "      - {comment_id: %q, aweme_id: %q", th.id, th.aweme)
			if th.labels != "" {
				fmt.Fprintf(&b, ", labels: %s", th.labels)
			}
			b.WriteString("}\n")
		}
		return b.String()
	}
	kk, wb := simulator.NewKitkot("", ""), simulator.NewWeibo("")
	cfg := fmt.Sprintf(simConfig, urls.Douyin, kk.BotUID, simDouyinVideo, threads(simDouyinThreads), urls.Kitkot, kk.BotUID, threads(simTikTokThreads),
		urls.WeChat, simWeChatAppID, simWeChatMsgData, simWeChatMsgData, urls.Weibo, wb.BotUID,
		urls.Kitkot, urls.WeChat, simWeChatAppID, urls.Weibo)
	cfgPath := filepath.Join(dir, "config.yaml")
	// Private, like the credentials: it names them.
	if existed, err := writeNew(cfgPath, []byte(cfg), 0o600); err != nil {
		return nil, err
	} else if existed {
		return nil, fmt.Errorf("%s appeared while simulate was starting: run it again", cfgPath)
	}
	notes = append(notes, fmt.Sprintf("wrote %s: all four platforms pointed at this simulator, made-up secrets in %s",
		termesc.String(cfgPath), termesc.String(creds+string(filepath.Separator))))
	if len(kept) > 0 {
		notes = append(notes, fmt.Sprintf("using the existing %s (not overwritten)", termesc.String(strings.Join(kept, ", "))))
	}
	rulesPath := filepath.Join(dir, "rules.yaml")
	existed, err := writeNew(rulesPath, autoreplyd.ExampleRules, 0o644)
	switch {
	case err != nil:
		return nil, err
	case existed:
		notes = append(notes, fmt.Sprintf("using the existing %s (not overwritten)", termesc.String(rulesPath)))
	default:
		notes = append(notes, fmt.Sprintf("wrote %s: the example rules", termesc.String(rulesPath)))
	}
	return notes, nil
}

// simConfig is the config simulate writes (fmt verbs: the imitations' URLs,
// their answering accounts, the threads).
const simConfig = `# Written by autoreplyd simulate: every platform points at its loopback
# imitations, with made-up secrets in credentials/. simulate never
# overwrites this file: edit it freely (rules, threads, schedule); a later
# simulate serves the threads it watches and accepts its credentials.
database: autoreplyd.db
rules: rules.yaml
schedule: "@every 30s"
timezone: Asia/Shanghai
listen: ""                    # /metrics, /-/ready: e.g. 127.0.0.1:9464
log: {level: info, format: text}
# Against the real platforms keep the default (3s), so that answers do not
# go out in a machine-regular rhythm; the imitations need no disguise.
send_jitter: 0s

sources:
  douyin:
    base_url: %s
    token_file: credentials/justoneapi-token
    responder: kitkot
    self_uids: [%q]   # the kitkot account answers are posted as
    backlog: skip
    timeout: 10s
    videos:
      - {aweme_id: %q, labels: {campaign: summer}}
    threads:
%s  tiktok:
    base_url: %s
    api_key_file: credentials/kitkot-api-key
    responder: kitkot
    self_uids: [%q]
    backlog: skip
    timeout: 10s
    threads:
%s  wechat:
    base_url: %s
    app_id: %s
    app_secret_file: credentials/wechat-app-secret
    responder: wechat
    backlog: skip
    timeout: 10s
    articles:
      - {msg_data_id: %q, index: 0, labels: {栏目: 周报}}
      - {msg_data_id: %q, index: 1}
  weibo:
    base_url: %s
    access_token_file: credentials/weibo-access-token
    responder: weibo
    self_uids: [%q]   # the Weibo account that answers
    backlog: skip
    timeout: 10s
    weibos:
      - {id: "4023227965", labels: {话题: 新品}}
      - {id: "4023227966"}

# Rates are generous for a rehearsal. Against the real platforms keep them
# low (config.example.yaml): kitkot and WeChat 20/m, Weibo 1/m.
responders:
  kitkot:
    base_url: %s
    api_key_file: credentials/kitkot-api-key
    session_key_file: credentials/kitkot-session-key
    timeout: 10s
    rate: 5/s
    burst: 3
  wechat:
    base_url: %s
    app_id: %s
    app_secret_file: credentials/wechat-app-secret
    timeout: 10s
    rate: 5/s
    burst: 3
  weibo:
    api: v2
    base_url: %s
    access_token_file: credentials/weibo-access-token
    timeout: 10s
    rate: 5/s
    burst: 3
`

// sharedLoopbackAddr is the host:port every base URL of cfg names, when
// they name one and it is on loopback (the config of an earlier simulate).
func sharedLoopbackAddr(cfg *config.Config) (string, bool) {
	addr := ""
	for _, k := range baseURLKeys(cfg, simulator.SimBaseURLs{}) {
		host, ok := strings.CutPrefix(k.got, "http://")
		if !ok {
			return "", false
		}
		host, _, _ = strings.Cut(host, "/")
		if addr != "" && host != addr {
			return "", false
		}
		addr = host
	}
	h, _, err := net.SplitHostPort(addr)
	if err != nil || !isLoopback(h) {
		return "", false
	}
	return addr, true
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// baseURLWarnings names each base_url of cfg that does not point at the
// imitations at urls: run would call something else (the real platform).
func baseURLWarnings(cfg *config.Config, urls simulator.SimBaseURLs) []string {
	var out []string
	for _, k := range baseURLKeys(cfg, urls) {
		if k.got != k.want {
			out = append(out, fmt.Sprintf("%s in %s is %s, not this simulator's %s: run would call that",
				k.key, termesc.String(cfg.File), termesc.String(k.got), k.want))
		}
	}
	return out
}

// simPrinter prints the comments and answers of a Sim as they happen.
type simPrinter struct {
	mu  sync.Mutex
	out io.Writer
	loc *time.Location
}

func (p *simPrinter) event(ev simulator.SimEvent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	head := fmt.Sprintf("%s  %-6s thread %s", ev.At.In(p.loc).Format("15:04:05"), ev.Platform, shortID(ev.Thread))
	switch ev.Kind {
	case simulator.SimEventAnswer:
		fmt.Fprintf(p.out, "%s  ← answer received: %q\n", head, ev.Text)
	default:
		fmt.Fprintf(p.out, "%s  %s: %q\n", head, termesc.String(ev.User), ev.Text)
	}
}

// shortID shortens a long id to its tail, enough to tell threads apart.
func shortID(s string) string {
	if len(s) <= 12 {
		return s
	}
	return "…" + s[len(s)-6:]
}
