package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/time/rate"
)

// The security model, in short:
//
//   - Sessions are random 32-byte ids in an HttpOnly, SameSite=Strict
//     cookie (Secure under TLS), kept in memory and ended at SessionTTL
//     after sign-in, at sign-out, or by a restart.
//   - Every POST carries a csrf_token form field: the session's own random
//     token, compared in constant time. The login form's token is bound to
//     a pre-session cookie (an HMAC of it under a key made at start), so a
//     page elsewhere cannot sign a browser in to its own account either.
//   - Passwords: a bcrypt hash, or a credential file's content compared as
//     SHA-256 digests in constant time; an unknown user costs a bcrypt
//     comparison too, so timing does not tell who exists.
//   - Sign-in attempts are rate-limited per client address.
//   - A Host that is not the listen address or an allowed host gets 403:
//     DNS rebinding cannot reach the console from another site's page.

// Names of the cookies: the session, and the pre-session the login form's
// CSRF token is bound to.
const (
	sessionCookie = "autoreplyd_session"
	loginCookie   = "autoreplyd_login"
	cookiePath    = "/ui/"
)

// Sign-in rate limit per client address: a burst of loginBurst attempts,
// then one every loginEvery. A person mistyping gets five tries at once;
// guessing a password at 6 a minute is hopeless against any real one.
const (
	loginBurst = 5
	loginEvery = 10 * time.Second
	// maxLimiters bounds the addresses remembered: beyond it the table is
	// cleared (everyone gets a fresh burst), rather than grow without end
	// under a flood of addresses.
	maxLimiters = 10000
	// maxSessions bounds the sessions kept: a signed-in user is needed to
	// make one, so this only stops a script signing in in a loop.
	maxSessions = 10000
)

// session is one signed-in browser.
type session struct {
	id      string
	user    string
	csrf    string
	expires time.Time
	// flash is the message the next page shows once (what an action did).
	flash string
}

// auth holds the users, the sessions and the limits.
type auth struct {
	opts     Options
	users    map[string]User
	hosts    map[string]bool
	loopback string // the listen port, when the listener is on loopback
	key      []byte // signs the login form's CSRF tokens
	dummy    []byte // an unknown user's hash: the same work as a known one

	mu       sync.Mutex
	sessions map[string]*session
	limiters map[string]*rate.Limiter
}

func newAuth(opts Options) (*auth, error) {
	a := &auth{opts: opts, users: map[string]User{}, hosts: map[string]bool{}, key: randomBytes(32),
		sessions: map[string]*session{}, limiters: map[string]*rate.Limiter{}}
	for _, u := range opts.Users {
		if u.Name == "" || (u.Hash == "") == (u.Password == "") {
			return nil, errorf("user %q: want a name and either a hash or a password", u.Name)
		}
		a.users[u.Name] = u
	}
	dummy, err := bcrypt.GenerateFromPassword(randomBytes(16), bcrypt.DefaultCost)
	if err != nil {
		return nil, errorf("%v", err)
	}
	a.dummy = dummy
	for _, h := range append([]string{opts.Listen}, opts.AllowedHosts...) {
		if h != "" {
			a.hosts[strings.ToLower(h)] = true
		}
	}
	if host, port, err := net.SplitHostPort(opts.Listen); err == nil && isLoopback(host) {
		a.loopback = port
	}
	return a, nil
}

// randomBytes reads n bytes from crypto/rand (which never fails).
func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func randomID() string { return base64.RawURLEncoding.EncodeToString(randomBytes(32)) }

func (a *auth) allowedHost(hostport string) bool {
	hp := strings.ToLower(hostport)
	if a.hosts[hp] {
		return true
	}
	if a.loopback == "" {
		return false
	}
	host, port, err := net.SplitHostPort(hp)
	return err == nil && port == a.loopback && isLoopback(host)
}

// isLoopback says whether host (no port) is localhost or a loopback IP.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"))
	return err == nil && ip.Unmap().IsLoopback()
}

// check reports whether password is name's. It takes about as long for a
// user that does not exist.
func (a *auth) check(name, password string) bool {
	u, ok := a.users[name]
	switch {
	case !ok:
		_ = bcrypt.CompareHashAndPassword(a.dummy, []byte(password))
		return false
	case u.Hash != "":
		return bcrypt.CompareHashAndPassword([]byte(u.Hash), []byte(password)) == nil
	}
	// Digests of equal length: the comparison's time says nothing of the
	// password's length or of where it differs.
	got, want := sha256.Sum256([]byte(password)), sha256.Sum256([]byte(u.Password))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

// allow takes one sign-in attempt from addr's budget.
func (a *auth) allow(addr string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	l := a.limiters[addr]
	if l == nil {
		if len(a.limiters) >= maxLimiters {
			clear(a.limiters)
		}
		l = rate.NewLimiter(rate.Every(loginEvery), loginBurst)
		a.limiters[addr] = l
	}
	return l.AllowN(a.opts.Now(), 1)
}

// start signs user in: a new session (a new id, so an id planted before
// sign-in is worth nothing).
func (a *auth) start(user string) *session {
	now := a.opts.Now()
	s := &session{id: randomID(), user: user, csrf: randomID(), expires: now.Add(a.opts.SessionTTL)}
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.sessions) >= maxSessions {
		for id, old := range a.sessions {
			if !now.Before(old.expires) {
				delete(a.sessions, id)
			}
		}
	}
	a.sessions[s.id] = s
	return s
}

// lookup is the live session of r, or nil.
func (a *auth) lookup(r *http.Request) *session {
	ck, err := r.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.sessions[ck.Value]
	if s == nil {
		return nil
	}
	if !a.opts.Now().Before(s.expires) {
		delete(a.sessions, s.id)
		return nil
	}
	return s
}

// end signs s out.
func (a *auth) end(s *session) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.sessions, s.id)
}

// setFlash and takeFlash keep the message of the page after an action.
func (a *auth) setFlash(s *session, msg string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s.flash = msg
}

func (a *auth) takeFlash(s *session) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	f := s.flash
	s.flash = ""
	return f
}

// validCSRF compares a form's token with the session's.
func validCSRF(s *session, token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.csrf)) == 1
}

// loginToken is the login form's CSRF token for a pre-session id.
func (a *auth) loginToken(pre string) string {
	m := hmac.New(sha256.New, a.key)
	m.Write([]byte("login\x00" + pre))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// validLoginCSRF checks a login form's token against its pre-session.
func (a *auth) validLoginCSRF(r *http.Request, token string) bool {
	ck, err := r.Cookie(loginCookie)
	if err != nil || ck.Value == "" || token == "" {
		return false
	}
	return hmac.Equal([]byte(token), []byte(a.loginToken(ck.Value)))
}

// cookie is one of the console's cookies, kept by the browser for maxAge
// (0: until it closes; a value of "" deletes it). Max-Age, not Expires: the
// browser's clock need not agree with ours.
func (a *auth) cookie(name, value string, maxAge time.Duration) *http.Cookie {
	//nolint:gosec // G124: Secure exactly when the listener speaks TLS; a Secure cookie over plain HTTP would never come back
	ck := &http.Cookie{Name: name, Value: value, Path: cookiePath, HttpOnly: true, Secure: a.opts.TLS, SameSite: http.SameSiteStrictMode}
	switch {
	case value == "":
		ck.MaxAge = -1
	case maxAge > 0:
		ck.MaxAge = int(maxAge / time.Second)
	}
	return ck
}

// clientAddr is the address a request came from, without the port: the
// key of the sign-in rate limit. Behind a reverse proxy every request has
// the proxy's address, so the limit is shared.
func clientAddr(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return h
	}
	return r.RemoteAddr
}

// handlerFunc is a page handler of a signed-in user.
type handlerFunc func(http.ResponseWriter, *http.Request, *session)

// signedIn serves next to a signed-in user only: a stranger's GET goes to
// the login page, a stranger's POST gets 403; a POST without the session's
// CSRF token gets 403.
func (c *Console) signedIn(next handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := c.auth.lookup(r)
		if s == nil {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
				return
			}
			http.Error(w, "forbidden: sign in first (/ui/login)", http.StatusForbidden)
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxForm)
			if !validCSRF(s, r.PostFormValue("csrf_token")) {
				http.Error(w, "forbidden: missing or wrong CSRF token (reload the page)", http.StatusForbidden)
				return
			}
		}
		next(w, r, s)
	})
}

// maxForm bounds a form: the playground's and replay's rules are the
// biggest field (rules files are a few KiB to a few hundred).
const maxForm = 2 << 20

// getLogin shows the login form, binding its token to a pre-session.
func (c *Console) getLogin(w http.ResponseWriter, r *http.Request) {
	if c.auth.lookup(r) != nil {
		http.Redirect(w, r, "/ui/inbox", http.StatusSeeOther)
		return
	}
	c.renderLogin(w, r, http.StatusOK, "")
}

// renderLogin answers with the login form (and msg as its error), with a
// pre-session cookie its token is bound to.
func (c *Console) renderLogin(w http.ResponseWriter, r *http.Request, code int, msg string) {
	pre := ""
	if ck, err := r.Cookie(loginCookie); err == nil && len(ck.Value) == len(randomID()) {
		pre = ck.Value
	} else {
		pre = randomID()
	}
	http.SetCookie(w, c.auth.cookie(loginCookie, pre, 0))
	c.render(w, r, code, "login", &page{Error: msg, CSRF: c.auth.loginToken(pre)}, nil)
}

// postLogin signs a user in.
func (c *Console) postLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	l := c.lang(r)
	if !c.auth.validLoginCSRF(r, r.PostFormValue("csrf_token")) {
		http.Error(w, "forbidden: missing or wrong CSRF token (reload the login page)", http.StatusForbidden)
		return
	}
	if !c.auth.allow(clientAddr(r)) {
		c.log.Warn("console sign-in refused: too many attempts", "addr", clientAddr(r))
		c.renderLogin(w, r, http.StatusTooManyRequests, l.T("login.too_many"))
		return
	}
	name := r.PostFormValue("username")
	if !c.auth.check(name, r.PostFormValue("password")) {
		// The name is the user's input: logged escaped and scrubbed, the
		// password never.
		c.log.Warn("console sign-in failed", "user", c.show(name), "addr", clientAddr(r))
		c.renderLogin(w, r, http.StatusUnauthorized, l.T("login.wrong"))
		return
	}
	s := c.auth.start(name)
	http.SetCookie(w, c.auth.cookie(loginCookie, "", 0))
	http.SetCookie(w, c.auth.cookie(sessionCookie, s.id, c.opts.SessionTTL))
	c.log.Info("console sign-in", "user", name, "addr", clientAddr(r))
	http.Redirect(w, r, "/ui/inbox", http.StatusSeeOther)
}

// postLogout signs the user out.
func (c *Console) postLogout(w http.ResponseWriter, r *http.Request, s *session) {
	c.auth.end(s)
	http.SetCookie(w, c.auth.cookie(sessionCookie, "", 0))
	c.log.Info("console sign-out", "user", s.user)
	http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
}
