package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"

	"golang.org/x/net/netutil"

	"github.com/autoreplyd/autoreplyd/internal/termesc"
	"github.com/autoreplyd/autoreplyd/rules"
)

// healthTimeout bounds one /-/ready answer: it reads the pauses from the
// store, which may wait on a lock.
const healthTimeout = 5 * time.Second

// Ready reports whether the daemon is doing its whole job, and if not, why:
// a source or responder paused, stopped or backing off, or the last rules
// reload refused (the last good rules keep running, but the edit did not
// take effect).
func (d *Daemon) Ready(ctx context.Context) (bool, []string) {
	var why []string
	if err := d.store.CheckFile(); err != nil {
		// Nothing more is read from a store whose file is gone.
		return false, []string{"database lost, nothing is polled or sent: " + err.Error()}
	}
	if msg := d.lastReloadErr.Load(); msg != nil {
		why = append(why, "rules reload refused (the last good rules keep running): "+*msg)
	}
	ps, err := d.poller.Pauses(ctx)
	if err != nil {
		why = append(why, "cannot read pauses from the database: "+err.Error())
	}
	for _, p := range ps {
		line := fmt.Sprintf("%s %s: %s", p.Scope, p.Kind, p.Reason)
		if !p.Until.IsZero() {
			line += " (until " + p.Until.In(d.cfg.Location).Format(time.RFC3339) + ")"
		}
		why = append(why, line)
	}
	return len(why) == 0, why
}

// HealthHandler serves /-/healthy (the process answers), /-/ready (200
// "ready", or 503 with one reason a line), /metrics (Prometheus) and
// POST /-/reload (see serveReload). A cross-origin browser request to a
// state-changing route (a web page posting to /-/reload) gets 403
// (http.CrossOriginProtection: Sec-Fetch-Site, else Origin against Host);
// curl and other clients that send neither header are served. The listener
// adds its Host check (see guardHost).
func (d *Daemon) HealthHandler() http.Handler {
	mux := http.NewServeMux()
	// Other methods get 405 with Allow: POST from the mux.
	mux.HandleFunc("POST /-/reload", d.serveReload)
	if d.console != nil {
		// The console guards itself: sign-in, CSRF, its Host check.
		mux.Handle("/ui/", d.console.Handler())
	}
	mux.Handle("GET /metrics", d.metrics.Handler())
	mux.HandleFunc("GET /-/healthy", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "healthy")
	})
	mux.HandleFunc("GET /-/ready", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
		defer cancel()
		ok, why := d.Ready(ctx)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if ok {
			fmt.Fprintln(w, "ready")
			// Detail that does not make the daemon unready.
			for _, line := range d.channelHealth() {
				fmt.Fprintln(w, "  "+d.display(line))
			}
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "not ready:")
		for _, line := range append(why, d.channelHealth()...) {
			fmt.Fprintln(w, "  "+d.display(line))
		}
	})
	return http.NewCrossOriginProtection().Handler(mux)
}

// consoleHosts refuses, with 403, a POST /-/reload whose Host the console
// does not answer to (the listen address, console.allowed_hosts): with a
// console, the listener is a browser's to reach, and a reload is the one
// state-changing route outside it. Without a console it is next alone.
func (d *Daemon) consoleHosts(next http.Handler) http.Handler {
	if d.console == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/-/reload" && !d.console.AllowedHost(r.Host) {
			http.Error(w, "forbidden: host "+strings.ToValidUTF8(hostOnly(r.Host), "?")+" is not the listen address or one of console.allowed_hosts", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// serveReload reloads the rules as SIGHUP does and answers with the
// outcome: 200 "reloaded" (a new rule set is live) or "unchanged" (the files
// are byte-identical to the live rules'); 400 with every problem, one a line
// with file:line:col, when the rules are refused (the last good rules keep
// running); 500 with the error when they could not be read at all.
func (d *Daemon) serveReload(w http.ResponseWriter, _ *http.Request) {
	changed, err := d.reloadChanged("http")
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	switch {
	case err != nil:
		code := http.StatusInternalServerError
		if le := (*rules.LoadError)(nil); errors.As(err, &le) {
			code = http.StatusBadRequest
		}
		w.WriteHeader(code)
		fmt.Fprintln(w, "rules reload refused, the last good rules keep running:")
		for _, line := range strings.Split(strings.TrimRight(err.Error(), "\n"), "\n") {
			fmt.Fprintln(w, d.display(line))
		}
	case changed:
		fmt.Fprintln(w, "reloaded")
	default:
		fmt.Fprintln(w, "unchanged")
	}
}

// healthLimits bound what clients of the listener may hold: its clients are
// a Prometheus scraper, a service manager's or orchestrator's probes and an
// operator's curl, all quick, so a slow, idle or numerous client is refused
// rather than allowed to pile up connections and memory.
type healthLimits struct {
	readHeader, read, write, idle time.Duration
	maxHeaderBytes, maxConns      int
}

// defaultHealthLimits are the listener's limits; tests shorten them.
var defaultHealthLimits = healthLimits{
	// Real clients send their headers at once; this cuts off a slowloris.
	readHeader: 5 * time.Second,
	// No route reads a body (POST /-/reload has none): a request is its
	// headers, so this only bounds a client trickling a body nobody reads.
	read: 10 * time.Second,
	// The slowest answers: /-/ready waits up to healthTimeout on the
	// store, a reload compiles the rules (about a second per MiB of rules).
	write: 60 * time.Second,
	// Idle keep-alive connections are closed after this: a scraper every
	// 15 s keeps its connection, a slower one reconnects (cheap on
	// loopback); without it idle connections and their buffers pile up
	// (BENCHMARKS.md, "Figures behind the code's limits").
	idle: 30 * time.Second,
	// curl and Prometheus send a few hundred bytes of headers; Go's default
	// is 1 MiB per connection.
	maxHeaderBytes: 8 << 10,
	// Connections served at once; more wait in the kernel's accept queue
	// until one closes. A scraper or two, probes and an operator need a
	// handful; 32 connections cost well under a megabyte.
	maxConns: 32,
}

// serveHealth serves the listener New bound, else listens on cfg.Listen
// ("" = off), until stop is called. A busy address is an error at startup,
// not a silent loss of health checks.
func (d *Daemon) serveHealth(ctx context.Context) (stop func(), err error) {
	ln := d.listener
	d.listener = nil
	if ln == nil {
		if d.cfg.Listen == "" {
			return func() {}, nil
		}
		if ln, err = listen(d.cfg.Listen); err != nil {
			return nil, err
		}
	}
	return d.serveHealthOn(ctx, ln, defaultHealthLimits), nil
}

// listen binds addr, the listen key. Its error is one line naming the key;
// a port taken by another process (often a second autoreplyd) says so and
// how to find it.
func listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		return ln, nil
	}
	// The *net.OpError repeats the address: keep its cause only.
	cause := err
	if oe := (*net.OpError)(nil); errors.As(err, &oe) && oe.Err != nil {
		cause = oe.Err
	}
	if errors.Is(err, syscall.EADDRINUSE) {
		_, port, _ := net.SplitHostPort(addr)
		return nil, fmt.Errorf("listen: %s is in use by another process: %w (`ss -ltnp 'sport = :%s'` names it; set listen to a free address, or \"\" to turn the listener off)", addr, cause, port)
	}
	return nil, fmt.Errorf("listen: cannot listen on %s: %w", addr, cause)
}

// serveHealthOn serves HealthHandler on ln, within lim and behind guardHost,
// until stop is called.
func (d *Daemon) serveHealthOn(ctx context.Context, ln net.Listener, lim healthLimits) (stop func()) {
	loopback := isLoopbackAddr(ln.Addr())
	log := d.log.With("component", "health")
	var consoleHost func(string) bool
	if d.console != nil {
		consoleHost = d.console.AllowedHost
	}
	srv := &http.Server{
		Handler:           guardHost(d.consoleHosts(d.HealthHandler()), loopback, consoleHost),
		ReadHeaderTimeout: lim.readHeader,
		ReadTimeout:       lim.read,
		WriteTimeout:      lim.write,
		IdleTimeout:       lim.idle,
		MaxHeaderBytes:    lim.maxHeaderBytes,
		// net/http's own complaints (bad requests, accept errors) go
		// through the daemon's logger, which scrubs secrets.
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	cc := d.cfg.Console
	if d.console != nil {
		// Open live streams end at shutdown rather than hold it up.
		srv.RegisterOnShutdown(d.console.Close)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		var err error
		if cc.TLS() {
			// Every route of the listener speaks HTTPS then.
			err = srv.ServeTLS(netutil.LimitListener(ln, lim.maxConns), cc.TLSCertFile, cc.TLSKeyFile)
		} else {
			err = srv.Serve(netutil.LimitListener(ln, lim.maxConns))
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("health listener stopped", "addr", ln.Addr().String(), "err", err)
		}
	}()
	what := "/metrics, /-/healthy, /-/ready and POST /-/reload"
	if d.console != nil {
		what += ", and the web console under /ui/"
	}
	d.log.Info("serving "+what, "addr", ln.Addr().String(), "loopback_only", loopback, "tls", cc.TLS())
	return func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		<-done
	}
}

// guardHost refuses requests whose Host header the listener does not answer
// to, with 421. That defeats DNS rebinding: a web page the operator opens can
// point its own host name at 127.0.0.1 and have the browser send requests
// there and read the answers (/metrics and /-/ready name file paths), but the
// browser still sends the page's host name as Host.
//
//   - On a loopback listener (loopbackOnly) every route wants Host
//     localhost, 127.0.0.0/8 or [::1], any port (or no Host, as HTTP/1.0
//     allows).
//   - On any other address the names the daemon is reached by are not
//     known, so GET routes take any Host; a state-changing request (POST
//     /-/reload) still wants an IP address or localhost, which no rebinding
//     produces.
//
// A host the console answers to (consoleHost: console.allowed_hosts) is
// served on any listener; the console checks the Host of its own routes
// and of POST /-/reload, with 403 (see consoleHosts).
func guardHost(next http.Handler, loopbackOnly bool, consoleHost func(string) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := hostOnly(r.Host)
		switch {
		case host == "" || isLoopbackHost(host):
		case consoleHost != nil && (consoleHost(r.Host) || r.URL.Path == "/-/reload" || strings.HasPrefix(r.URL.Path, "/ui/")):
			// The console's routes and POST /-/reload are refused with
			// 403 by the console's own check when the host is not one of
			// its.
		case loopbackOnly:
			http.Error(w, "misdirected request: this listener answers to localhost, 127.0.0.1 or [::1] only", http.StatusMisdirectedRequest)
			return
		case !isSafeMethod(r.Method) && !isIPHost(host):
			http.Error(w, "misdirected request: "+r.Method+" wants the listener's IP address or localhost as host", http.StatusMisdirectedRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// isSafeMethod says whether method changes nothing (RFC 9110 safe methods).
func isSafeMethod(method string) bool {
	return method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
}

// hostOnly is a Host header (or a listen address's host) without its port
// and IPv6 brackets.
func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]")
}

// isLoopbackHost says whether host (no port) is localhost or a loopback IP
// address.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

// isIPHost says whether host (no port) is an IP address literal.
func isIPHost(host string) bool {
	_, err := netip.ParseAddr(host)
	return err == nil
}

// isLoopbackAddr says whether a listener's address is a loopback one (not
// the unspecified 0.0.0.0 or ::, which take every interface).
func isLoopbackAddr(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}

// metricRuleNames are the names of set's rules, for the metrics.
func metricRuleNames(set *rules.Set) []string {
	if set == nil {
		return nil
	}
	infos := set.Rules()
	names := make([]string, len(infos))
	for i, r := range infos {
		names[i] = r.Name
	}
	return names
}

// display makes one line of text from the platforms, the database or a
// rule file safe to serve: secrets scrubbed, control characters and bidi
// overrides escaped (an API message of "\x1b[2J...\nforged line" must not
// clear a terminal that curls /-/ready, nor forge a line of its answer).
func (d *Daemon) display(line string) string { return termesc.String(d.redact.String(line)) }

// firstLine is the first line of a multi-line error, for one-line reasons.
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}
