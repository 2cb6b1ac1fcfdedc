package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

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
// POST /-/reload (see serveReload).
func (d *Daemon) HealthHandler() http.Handler {
	mux := http.NewServeMux()
	// Other methods get 405 with Allow: POST from the mux.
	mux.HandleFunc("POST /-/reload", d.serveReload)
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
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "not ready:")
		for _, line := range why {
			fmt.Fprintln(w, "  "+d.display(line))
		}
	})
	return mux
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

// serveHealth listens on cfg.Listen ("" = off) until ctx is done. A busy
// address is an error at startup, not a silent loss of health checks.
func (d *Daemon) serveHealth(ctx context.Context) (stop func(), err error) {
	if d.cfg.Listen == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", d.cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: d.HealthHandler(), ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.log.Error("health listener stopped", "addr", d.cfg.Listen, "err", err)
		}
	}()
	d.log.Info("serving /metrics, /-/healthy, /-/ready and POST /-/reload", "addr", ln.Addr().String())
	return func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		<-done
	}, nil
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
