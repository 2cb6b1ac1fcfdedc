package main

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Files of a run, in its directory.
const (
	credDirName = "credentials"
	tokenFile   = "justoneapi-token"
	apiKeyFile  = "kitkot-api-key" //nolint:gosec // G101: a file name, not a key
	sessionFile = "kitkot-session-key"
	dbName      = "autoreplyd.db"
)

// buildDaemon builds ./cmd/autoreplyd of the module the harness runs in.
func buildDaemon(ctx context.Context, out string) error {
	root, err := moduleRoot(ctx)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/autoreplyd") //nolint:gosec // G204: out is the run directory's binary path
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/autoreplyd: %w\n%s", err, b)
	}
	return nil
}

// moduleRoot is the directory of the go.mod in force here.
func moduleRoot(ctx context.Context) (string, error) {
	b, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(b))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("not inside a Go module: run the harness from the autoreplyd module")
	}
	return filepath.Dir(mod), nil
}

// freePort finds a loopback port nobody listens on (the daemon binds it
// right after; the window is tiny).
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	return port, ln.Close()
}

// writeSecrets writes the three credential files (mode 0600 in a 0700
// directory), as systemd's LoadCredential= would hand them over.
func writeSecrets(dir string, im *imitation) (string, error) {
	cd := filepath.Join(dir, credDirName)
	if err := os.MkdirAll(cd, 0o700); err != nil {
		return "", err
	}
	for name, v := range map[string]string{tokenFile: im.token, apiKeyFile: im.apiKey, sessionFile: im.sessionKey} {
		if err := os.WriteFile(filepath.Join(cd, name), []byte(v+"\n"), 0o600); err != nil {
			return "", err
		}
	}
	return cd, nil
}

// writeConfig writes the rules and the daemon's config; it returns the
// config's path. Secrets are named by file (relative: read from
// $CREDENTIALS_DIRECTORY), never written into the config. database is an
// SQLite path or a postgres:// URL (of a trust-authenticated throwaway
// server: no password to name).
func writeConfig(dir string, o options, im *imitation, listen, database string) (string, error) {
	rulesPath := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(rulesPath, []byte(rulesYAML), 0o600); err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# written by bench/load\n")
	fmt.Fprintf(&b, "database: %s\n", strconv.Quote(database))
	fmt.Fprintf(&b, "rules: %s\n", strconv.Quote(rulesPath))
	fmt.Fprintf(&b, "schedule: \"@every %s\"\n", o.Period)
	fmt.Fprintf(&b, "timezone: Asia/Shanghai\n")
	fmt.Fprintf(&b, "listen: %s\n", listen)
	// Info: each daemon's cycle times are read from its "cycle done" lines
	// (a few hundred lines a cycle at most: one per decision and send).
	fmt.Fprintf(&b, "log: {level: info, format: text}\n")
	if o.SendJitter != "" {
		fmt.Fprintf(&b, "send_jitter: %s\n", o.SendJitter)
	}
	fmt.Fprintf(&b, "sources:\n  douyin:\n")
	fmt.Fprintf(&b, "    base_url: %s\n", im.base)
	fmt.Fprintf(&b, "    token_file: %s\n", tokenFile)
	fmt.Fprintf(&b, "    responder: kitkot\n")
	fmt.Fprintf(&b, "    self_uids: [\"%s\"]\n", im.kk.BotUID)
	fmt.Fprintf(&b, "    backlog: skip\n")
	fmt.Fprintf(&b, "    rate: %s\n", strconv.Quote(o.SourceRate))
	fmt.Fprintf(&b, "    burst: %d\n", o.SourceBurst)
	fmt.Fprintf(&b, "    concurrency: %d\n", o.Concurrency)
	// Keys added by adaptive polling: written only when asked for, so that
	// the harness runs against daemons with and without them.
	if o.MaxInterval != "" {
		fmt.Fprintf(&b, "    max_interval: %s\n", o.MaxInterval)
	}
	if o.QuietPolls != 0 {
		fmt.Fprintf(&b, "    quiet_polls: %d\n", o.QuietPolls)
	}
	if o.VideoMaxPages != 0 {
		fmt.Fprintf(&b, "    video_max_pages: %d\n", o.VideoMaxPages)
	}
	switch {
	case o.Threads > 0 && o.ThreadsFile:
		p, err := writeThreadsFile(dir, o.Threads)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "    threads_file: %s\n", strconv.Quote(p))
	case o.Threads > 0:
		fmt.Fprintf(&b, "    threads:\n")
		for i := range o.Threads {
			fmt.Fprintf(&b, "      - {comment_id: \"%s\", aweme_id: \"%s\"}\n", threadID(i), awemeID(i))
		}
	}
	if o.Videos > 0 {
		fmt.Fprintf(&b, "    videos:\n")
		for i := range o.Videos {
			fmt.Fprintf(&b, "      - {aweme_id: \"%s\", labels: {bench: load}, top_level: answer, threads: discover}\n", videoID(i))
		}
	}
	fmt.Fprintf(&b, "responders:\n  kitkot:\n")
	fmt.Fprintf(&b, "    base_url: %s/api\n", im.base)
	fmt.Fprintf(&b, "    api_key_file: %s\n", apiKeyFile)
	fmt.Fprintf(&b, "    session_key_file: %s\n", sessionFile)
	if o.SendRate == "" {
		// The config has no "unlimited": the daemon's default is 20/m.
		fmt.Fprintf(&b, "    rate: 1000000/s\n    burst: 1000\n")
	} else {
		fmt.Fprintf(&b, "    rate: %s\n", strconv.Quote(o.SendRate))
		if o.SendBurst > 0 {
			fmt.Fprintf(&b, "    burst: %d\n", o.SendBurst)
		}
	}
	fmt.Fprintf(&b, "    daily_cap: 0\n")
	p := filepath.Join(dir, "config.yaml")
	return p, os.WriteFile(p, []byte(b.String()), 0o600)
}

// threadsFileName is the watched threads' list file with -threads-file.
const threadsFileName = "threads.jsonl"

// writeThreadsFile writes the n watched threads as a JSON Lines list file
// (threads_file) in dir and returns its path. At 100,000 threads the same
// list inline in the YAML costs the daemon 1.5–2 s of every start (see
// BENCHMARKS.md, "Config at 100,000 threads").
func writeThreadsFile(dir string, n int) (string, error) {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "{\"comment_id\": \"%s\", \"aweme_id\": \"%s\"}\n", threadID(i), awemeID(i))
	}
	p := filepath.Join(dir, threadsFileName)
	return p, os.WriteFile(p, []byte(b.String()), 0o600)
}

// daemonProc is the autoreplyd child process.
type daemonProc struct {
	cmd     *exec.Cmd
	base    string // http://127.0.0.1:PORT of /metrics and /-/ready
	logPath string
	logFile *os.File
	exited  chan struct{}
	waitErr error
	client  *http.Client
}

// startDaemon runs `bin [pre...] run --config cfg` and waits for /-/ready
// to answer 200; it returns the time from exec to that answer. The
// daemon's output goes to logName in dir; listen is where it serves
// /metrics (set by env, one config serving several daemons), instance its
// AUTOREPLYD_INSTANCE ("" = unset).
func startDaemon(ctx context.Context, bin string, pre []string, cfg, credDir, listen, instance, dir, logName string) (*daemonProc, time.Duration, error) {
	logPath := filepath.Join(dir, logName)
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, 0, err
	}
	cmd := exec.Command(bin, append(pre, "run", "--config", cfg)...) //nolint:gosec // G204: running the binary it built is the benchmark
	env := []string{"CREDENTIALS_DIRECTORY=" + credDir, "AUTOREPLYD_LISTEN=" + listen}
	if instance != "" {
		env = append(env, "AUTOREPLYD_INSTANCE="+instance)
	}
	for _, kv := range os.Environ() {
		// No other override may change the written config.
		if !strings.HasPrefix(kv, "AUTOREPLYD_") && !strings.HasPrefix(kv, "CREDENTIALS_DIRECTORY=") &&
			!strings.HasPrefix(kv, "NOTIFY_SOCKET=") && !strings.HasPrefix(kv, "WATCHDOG_") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	cmd.Stdout = lf
	cmd.Stderr = lf
	d := &daemonProc{cmd: cmd, base: "http://" + listen, logPath: logPath, logFile: lf, exited: make(chan struct{}),
		// Uncompressed: gzip would add to what the scrapes cost the daemon.
		client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableCompression: true}}}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, 0, errors.Join(fmt.Errorf("start %s: %w", bin, err), lf.Close())
	}
	go func() { d.waitErr = cmd.Wait(); close(d.exited) }()
	fast := &http.Client{Timeout: 2 * time.Second}
	deadline := time.NewTimer(5 * time.Minute)
	defer deadline.Stop()
	for {
		resp, err := fast.Get(d.base + "/-/ready")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return d, time.Since(start), nil
			}
		}
		select {
		case <-d.exited:
			return nil, 0, fmt.Errorf("autoreplyd exited before it was ready (%w):\n%s", d.waitErr, d.logTail(20))
		case <-ctx.Done():
			return nil, 0, errors.Join(ctx.Err(), d.kill())
		case <-deadline.C:
			return nil, 0, errors.Join(fmt.Errorf("autoreplyd not ready after 5 minutes:\n%s", d.logTail(20)), d.kill())
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// logTail is the end of the daemon's log, for errors.
func (d *daemonProc) logTail(n int) string {
	b, _ := os.ReadFile(d.logPath)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// logLines counts the daemon's log lines by level (text format: level=WARN).
func (d *daemonProc) logLines() map[string]int {
	b, err := os.ReadFile(d.logPath)
	if err != nil {
		return nil
	}
	out := map[string]int{}
	for line := range strings.Lines(string(b)) {
		lvl := "other"
		if i := strings.Index(line, "level="); i >= 0 {
			lvl = strings.ToLower(strings.Fields(line[i+len("level="):])[0])
		}
		out[lvl]++
	}
	return out
}

// kill ends the daemon at once (it may have exited already) and closes
// its log.
func (d *daemonProc) kill() error {
	_ = d.cmd.Process.Kill()
	<-d.exited
	return d.logFile.Close()
}

// stop sends SIGTERM and waits for the exit; it returns how long that took.
func (d *daemonProc) stop(timeout time.Duration) (time.Duration, error) {
	start := time.Now()
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return 0, err
	}
	select {
	case <-d.exited:
	case <-time.After(timeout):
		return time.Since(start), errors.Join(fmt.Errorf("autoreplyd did not exit within %s of SIGTERM (killed)", timeout), d.kill())
	}
	if err := d.logFile.Close(); err != nil {
		return time.Since(start), err
	}
	if d.waitErr != nil {
		return time.Since(start), fmt.Errorf("autoreplyd exited with %w:\n%s", d.waitErr, d.logTail(20))
	}
	return time.Since(start), nil
}

// procStatus reads fields of /proc/PID/status in bytes (VmHWM, VmRSS).
func procStatus(pid int, fields ...string) map[string]int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return nil
	}
	out := map[string]int64{}
	for _, line := range strings.Split(string(b), "\n") {
		name, rest, ok := strings.Cut(line, ":")
		if !ok || !slices.Contains(fields, name) {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			continue
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			continue
		}
		if len(f) > 1 && f[1] == "kB" {
			n *= 1024
		}
		out[name] = n
	}
	return out
}

// metrics is one scrape of /metrics: series (name plus sorted labels) to value.
type metrics struct {
	at     time.Time
	series map[string]float64
}

// get is the value of name with the given label pairs (k1, v1, k2, v2...),
// 0 when absent.
func (m metrics) get(name string, labels ...string) float64 {
	return m.series[seriesKey(name, labels...)]
}

// has reports whether the scrape holds the series name (with no labels).
func (m metrics) has(name string) bool {
	_, ok := m.series[name]
	return ok
}

func seriesKey(name string, labels ...string) string {
	if len(labels) == 0 {
		return name
	}
	pairs := make([]string, 0, len(labels)/2)
	for i := 0; i+1 < len(labels); i += 2 {
		pairs = append(pairs, labels[i]+"="+strconv.Quote(labels[i+1]))
	}
	slices.Sort(pairs)
	return name + "{" + strings.Join(pairs, ",") + "}"
}

// scrape reads /metrics (the Prometheus text format).
func (d *daemonProc) scrape(ctx context.Context) (metrics, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.base+"/metrics", nil)
	if err != nil {
		return metrics{}, err
	}
	req.Header.Set("Accept", "text/plain; version=0.0.4")
	resp, err := d.client.Do(req)
	if err != nil {
		return metrics{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return metrics{}, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return metrics{}, err
	}
	return parseMetrics(body, time.Now())
}

// parseMetrics parses the text exposition format; label sets are put in a
// canonical order so that get finds them.
func parseMetrics(body []byte, at time.Time) (metrics, error) {
	m := metrics{at: at, series: map[string]float64{}}
	for _, line := range bytes.Split(body, []byte("\n")) {
		s := strings.TrimSpace(string(line))
		if s == "" || s[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(s, ' ')
		if i < 0 {
			return m, fmt.Errorf("metrics line %q", s)
		}
		v, err := strconv.ParseFloat(s[i+1:], 64)
		if err != nil {
			return m, fmt.Errorf("metrics line %q: %w", s, err)
		}
		key := s[:i]
		if j := strings.IndexByte(key, '{'); j >= 0 && strings.HasSuffix(key, "}") {
			labels, err := parseLabels(key[j+1 : len(key)-1])
			if err != nil {
				return m, fmt.Errorf("metrics line %q: %w", s, err)
			}
			key = seriesKey(key[:j], labels...)
		}
		m.series[key] = v
	}
	return m, nil
}

// parseLabels parses `a="x",b="y"` into a, x, b, y.
func parseLabels(s string) ([]string, error) {
	var out []string
	for s != "" {
		k, rest, ok := strings.Cut(s, "=")
		if !ok || rest == "" || rest[0] != '"' {
			return nil, fmt.Errorf("labels %q", s)
		}
		// The value ends at the first unescaped quote.
		end := 1
		for end < len(rest) && rest[end] != '"' {
			if rest[end] == '\\' {
				end++
			}
			end++
		}
		if end >= len(rest) {
			return nil, fmt.Errorf("labels %q", s)
		}
		v, err := strconv.Unquote(rest[:end+1])
		if err != nil {
			return nil, fmt.Errorf("labels %q: %w", s, err)
		}
		out = append(out, strings.TrimSpace(k), v)
		s = strings.TrimPrefix(rest[end+1:], ",")
	}
	return out, nil
}

// cycleCount is the number of finished cycles in a scrape.
func cycleCount(m metrics) int { return int(m.get("autoreplyd_cycle_duration_seconds_count")) }

// waitCycles waits until at least n cycles have finished and returns the
// scrape that says so, and how many scrapes it took. It first sleeps until
// notBefore (the cycle cannot end before it starts), then scrapes every
// 100 to 250 ms as the cycle goes on, and always just before a tick, so that
// a cycle that ends before a tick is seen before the next one starts (the
// figures read then are the cycle's alone; the caller checks that they
// are, see cycleReport.Spill).
func (d *daemonProc) waitCycles(ctx context.Context, n int, notBefore time.Time, ticks *tickClock) (metrics, int, error) {
	for scrapes := 0; ; {
		wait := time.Until(notBefore)
		if scrapes > 0 {
			wait = min(max(time.Since(notBefore)/25, 100*time.Millisecond), 250*time.Millisecond)
			until := time.Until(ticks.next(time.Now()))
			for _, lead := range preTick {
				if pre := until - lead; pre > 0 && pre < wait {
					wait = pre
				}
			}
		}
		if wait > 0 {
			select {
			case <-d.exited:
				return metrics{}, scrapes, fmt.Errorf("autoreplyd exited (%w):\n%s", d.waitErr, d.logTail(20))
			case <-ctx.Done():
				return metrics{}, scrapes, ctx.Err()
			case <-time.After(wait):
			}
		}
		m, err := d.scrape(ctx)
		scrapes++
		if err == nil && cycleCount(m) >= n {
			return m, scrapes, nil
		}
	}
}

// preTick is how long before each tick waitCycles scrapes (twice: a scrape
// can take a while on a busy machine).
var preTick = []time.Duration{120 * time.Millisecond, 30 * time.Millisecond}

// scrapeCost is what one scrape of /metrics allocates in the daemon.
type scrapeCost struct{ mallocs, bytes float64 }

// scrapeCost measures what one scrape allocates in the daemon, from 50
// scrapes in a row between cycles (the Go runtime publishes allocation
// counts span by span, so a few scrapes' difference is noise). ok is false
// when the daemon did anything else meanwhile.
func (d *daemonProc) scrapeCost(ctx context.Context) (scrapeCost, bool) {
	const n = 50
	m1, err := d.scrape(ctx)
	if err != nil {
		return scrapeCost{}, false
	}
	for range n {
		if _, err := d.scrape(ctx); err != nil {
			return scrapeCost{}, false
		}
	}
	m2, err := d.scrape(ctx)
	if err != nil || cycleCount(m2) != cycleCount(m1) ||
		m2.get("autoreplyd_polls_total", "platform", "douyin", "source", "douyin") != m1.get("autoreplyd_polls_total", "platform", "douyin", "source", "douyin") {
		return scrapeCost{}, false
	}
	// Between the two readings: the end of the first scrape, n scrapes and
	// the start of the last.
	return scrapeCost{
		mallocs: (m2.get("go_memstats_mallocs_total") - m1.get("go_memstats_mallocs_total")) / (n + 1),
		bytes:   (m2.get("go_memstats_alloc_bytes_total") - m1.get("go_memstats_alloc_bytes_total")) / (n + 1),
	}, true
}

// median is the scrape cost of median mallocs.
func median(cs []scrapeCost) (scrapeCost, bool) {
	if len(cs) == 0 {
		return scrapeCost{}, false
	}
	s := slices.Clone(cs)
	slices.SortFunc(s, func(a, b scrapeCost) int { return cmp.Compare(a.mallocs, b.mallocs) })
	return s[len(s)/2], true
}
