// Package console is autoreplyd's web console, served under /ui/ on the
// listen address when the config has a console section: the inbox of
// flagged comments and held answers (approve, edit, reject, done; a model's
// drafts among them), the live decisions (server-sent events), the rules
// with their counts, a playground that explains a made-up comment (and may
// ask a model for a draft of it), replay of edited rules and the daemon's
// health. Pages are rendered on the server (html/template, assets embedded);
// the little JavaScript there is adds keyboard keys and the live feed.
//
// Everything under /ui/ needs a signed-in user (console.users). Sessions
// live in memory: a restart signs everyone out. See auth.go for the
// security model.
package console

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/redact"
	"github.com/autoreplyd/autoreplyd/llm"
	"github.com/autoreplyd/autoreplyd/notify"
	"github.com/autoreplyd/autoreplyd/platform"
	"github.com/autoreplyd/autoreplyd/poller"
	"github.com/autoreplyd/autoreplyd/rules"
	"github.com/autoreplyd/autoreplyd/store"
)

// User is one person who may sign in: with a bcrypt Hash, or the Password
// itself (read from a credential file).
type User struct {
	Name     string
	Hash     string
	Password string
}

// Status is the daemon's state as the health and rules pages show it.
type Status struct {
	// Sources and Responders are the configured sections' names.
	Sources, Responders []string
	// Pauses in force: persisted pauses, stops and backoffs.
	Pauses []poller.PauseState
	// Problems are why the daemon is not ready (/-/ready's reasons).
	Problems []string
	// LastCycle is when the last cycle ended (zero: none yet) and Cycle
	// its counts; CallsToday the source API calls of today's cycles.
	LastCycle  time.Time
	Cycle      poller.Stats
	CallsToday int
	// Channels are the notification channels' states.
	Channels []notify.ChannelState
	// Reload is the last rules reload's outcome (zero At: none since start).
	Reload Reload
	// RuleErrors are each rule's run-time errors since the start (they are
	// metrics, not history).
	RuleErrors map[string]int
}

// Reload is the outcome of one rules reload.
type Reload struct {
	At      time.Time
	Changed bool
	// Err is why the reload was refused, one problem a line ("" when it
	// went through).
	Err string
}

// Options configure a Console.
type Options struct {
	Users []User
	// SessionTTL is how long a sign-in lasts.
	SessionTTL time.Duration
	// Listen is the listener's address (host:port as bound); AllowedHosts
	// are the other host:port names it answers to (console.allowed_hosts).
	Listen       string
	AllowedHosts []string
	// TLS: the listener speaks HTTPS, so cookies are Secure.
	TLS bool

	// Store is the daemon's store: decisions are written to it.
	Store *store.Store
	// Reader reads the same database for the pages and replay (nil:
	// Store). The daemon gives a read-only store of its own, so that a
	// page's reads neither wait for the poller's one connection nor hold
	// it up.
	Reader *store.Store
	// Stats are the read queries of the rules page and the inbox's
	// context (nil: Store's own).
	Stats Stats
	// Rules is the live rule set; RulesPath its file or directory, whose
	// YAML the playground starts from.
	Rules     func() *rules.Set
	RulesPath string
	// Responders check an edited answer (by name, as claims record them).
	Responders map[string]platform.Responder
	// LLM are the daemon's model endpoints by name (llm.NAME): the
	// playground may ask them for a draft, under their own rates. Nil or
	// empty: the playground offers no draft.
	LLM map[string]*llm.Client
	// ApprovalMaxAge is approval.max_age.
	ApprovalMaxAge time.Duration
	// Status reports the daemon's state (nil: the health page is empty).
	Status func(context.Context) Status
	// Location shows times and reads the playground's and replay's.
	Location *time.Location
	// Redact scrubs secrets from everything shown (nil: nothing to scrub).
	Redact *redact.Redactor
	Logger *slog.Logger
	// Now is the clock (nil: time.Now); tests move it.
	Now func() time.Time
}

// Console is the web console. Its Handler serves /ui/.
type Console struct {
	opts     Options
	log      *slog.Logger
	auth     *auth
	pages    pages
	live     *broker
	stats    Stats
	redact   *redact.Redactor
	handler  http.Handler
	closed   chan struct{}
	closeOne func()
}

// New checks opts and builds the console.
func New(opts Options) (*Console, error) {
	if len(opts.Users) == 0 {
		return nil, errors.New("console: no user")
	}
	if opts.Store == nil || opts.Rules == nil {
		return nil, errors.New("console: a store and the rules are required")
	}
	if opts.SessionTTL <= 0 {
		return nil, errors.New("console: session TTL must be positive")
	}
	if opts.Reader == nil {
		opts.Reader = opts.Store
	}
	if opts.Location == nil {
		opts.Location = time.Local
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	c := &Console{opts: opts, log: opts.Logger.With("component", "console"), live: newBroker(liveKeep), stats: opts.Stats,
		redact: opts.Redact, closed: make(chan struct{})}
	if c.redact == nil {
		c.redact = redact.New()
	}
	if c.stats == nil {
		c.stats = opts.Reader
	}
	a, err := newAuth(opts)
	if err != nil {
		return nil, err
	}
	c.auth = a
	if c.pages, err = parsePages(); err != nil {
		return nil, err
	}
	var once bool
	c.closeOne = func() {
		if !once {
			once = true
			close(c.closed)
		}
	}
	c.handler = c.routes()
	return c, nil
}

// Handler serves /ui/ and everything under it.
func (c *Console) Handler() http.Handler { return c.handler }

// Close ends the live streams (server-sent events), so that a server
// shutting down does not wait for browsers to hang up. Call it once.
func (c *Console) Close() { c.closeOne() }

// Publish shows a decision on the live page. It never blocks: a browser
// too slow to take events loses some (see broker).
func (c *Console) Publish(ev poller.Event) {
	if ev.Status == "" && ev.Err == nil {
		return // a comment recorded without a claim: nothing was decided
	}
	c.live.publish(c.liveRow(ev))
}

// AllowedHost reports whether host (a request's Host header) is one the
// console answers to: the listen address, one of the allowed hosts, or,
// on a loopback listener, localhost or a loopback address at its port. No
// DNS rebinding produces any of these, while a page of another site that
// resolves its own name to this address sends that name.
func (c *Console) AllowedHost(host string) bool { return c.auth.allowedHost(host) }

// routes is the console's mux behind its guards.
func (c *Console) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ui/static/{file}", serveStatic)
	mux.HandleFunc("GET /ui/login", c.getLogin)
	mux.HandleFunc("POST /ui/login", c.postLogin)
	mux.Handle("POST /ui/logout", c.signedIn(c.postLogout))
	mux.Handle("GET /ui/{$}", c.signedIn(func(w http.ResponseWriter, r *http.Request, _ *session) {
		http.Redirect(w, r, "/ui/inbox", http.StatusSeeOther)
	}))
	mux.Handle("GET /ui/inbox", c.signedIn(c.getInbox))
	mux.Handle("POST /ui/inbox/{id}", c.signedIn(c.postInbox))
	mux.Handle("GET /ui/live", c.signedIn(c.getLive))
	mux.Handle("GET /ui/live/events", c.signedIn(c.liveEvents))
	mux.Handle("GET /ui/rules", c.signedIn(c.getRules))
	mux.Handle("GET /ui/playground", c.signedIn(c.playground))
	mux.Handle("POST /ui/playground", c.signedIn(c.playground))
	mux.Handle("GET /ui/replay", c.signedIn(c.replayPage))
	mux.Handle("POST /ui/replay", c.signedIn(c.replayPage))
	mux.Handle("GET /ui/health", c.signedIn(c.getHealth))
	// Anything else under /ui/: the login page for strangers, 404 for
	// the signed-in.
	mux.Handle("/ui/", c.signedIn(func(w http.ResponseWriter, r *http.Request, s *session) {
		c.fail(w, r, s, http.StatusNotFound, c.lang(r).T("error.not_found"))
	}))
	return c.guard(mux)
}

// guard sets the headers every answer carries and refuses a Host the
// console does not answer to.
func (c *Console) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		// Nothing from elsewhere: no CDN, no inline script or style, no
		// framing (clickjacking), no referrer (ids in URLs), no caching of
		// pages that hold comments and answers.
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		if !strings.HasPrefix(r.URL.Path, "/ui/static/") {
			h.Set("Cache-Control", "no-store")
		}
		if !c.AllowedHost(r.Host) {
			http.Error(w, "forbidden: this console does not answer to host "+strings.ToValidUTF8(hostOnly(r.Host), "?")+" (add it to console.allowed_hosts)", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// hostOnly is a Host header without its port and IPv6 brackets.
func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]")
}

// now is the console's clock.
func (c *Console) now() time.Time { return c.opts.Now() }

// show makes text from the platforms or the database fit to show: secrets
// scrubbed. html/template escapes the rest; control characters and
// direction overrides are left to be escaped by showLine where a line is
// meant.
func (c *Console) show(s string) string { return c.redact.String(s) }

// timeText formats t in the console's zone ("" for zero).
func (c *Console) timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(c.opts.Location).Format("2006-01-02 15:04:05")
}

// errorf is fmt.Errorf for the console's own errors.
func errorf(format string, args ...any) error { return fmt.Errorf("console: "+format, args...) }
