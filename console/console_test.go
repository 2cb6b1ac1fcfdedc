package console

import (
	"context"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/autoreplyd/autoreplyd/internal/redact"
	"github.com/autoreplyd/autoreplyd/internal/syncbuf"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/notify"
	"github.com/autoreplyd/autoreplyd/platform"
	"github.com/autoreplyd/autoreplyd/poller"
	"github.com/autoreplyd/autoreplyd/rules"
	"github.com/autoreplyd/autoreplyd/store"
)

// Distinctive values: a test fails if any shows up in a page or a log.
const (
	opsPassword   = "PASSWORD-s3cr3t-ops-7e1f"
	linPassword   = "PASSWORD-s3cr3t-lin-2b9c"
	platformToken = "TOKEN-s3cr3t-platform-44aa"
	listenAddr    = "127.0.0.1:9464"
)

// opsHash is opsPassword hashed once (bcrypt is slow on purpose).
var opsHash = sync.OnceValue(func() string {
	h, err := bcrypt.GenerateFromPassword([]byte(opsPassword), bcrypt.MinCost)
	if err != nil {
		panic(err)
	}
	return string(h)
})

const testRules = `rules:
  - name: complaint
    when: 'text contains "投诉"'
    action: flag
  - name: price
    when: 'text contains "多少钱"'
    reply: '{{ user.nickname }} 你好，价格请看橱窗 🛒'
    approve: true
  - name: never
    when: 'text == "no one writes this"'
    reply: 'never'
`

// limited is a responder that refuses answers longer than 20 characters,
// as a platform's TextChecker does.
type limited struct{}

func (limited) Name() string { return "kitkot" }
func (limited) Send(context.Context, model.Reply) (model.SendResult, error) {
	return model.SendResult{}, nil
}
func (limited) CheckText(_ model.Comment, text string) error {
	if n := utf8.RuneCountInString(text); n > 20 {
		return &model.SendError{Kind: model.Permanent, Msg: fmt.Sprintf("reply is %d characters, more than responders.kitkot.max_length (20)", n)}
	}
	return nil
}

// world is a console over a real store with two waiting claims.
type world struct {
	t       *testing.T
	c       *Console
	st      *store.Store
	srv     *httptest.Server
	logs    *syncbuf.Buffer
	now     time.Time
	clockMu sync.Mutex
	held    int64 // a held answer (price)
	flagged int64 // a flagged comment (complaint)
	rules   *rules.Set
}

func (w *world) clock() time.Time {
	w.clockMu.Lock()
	defer w.clockMu.Unlock()
	return w.now
}

func (w *world) advance(d time.Duration) {
	w.clockMu.Lock()
	defer w.clockMu.Unlock()
	w.now = w.now.Add(d)
}

// hostile are the texts a world's comments carry: markup, a direction
// override, quotes.
const (
	hostileComment  = "<script>alert(\"x\")</script>投诉 \u202egnirts\u202c"
	hostileNickname = `"><img src=x onerror=alert(1)>小王's`
)

// newWorld is a world; tune, if given, changes the console's options
// before it is built.
func newWorld(t *testing.T, tune ...func(*Options)) *world {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(t.Context(), testDatabase(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	rulesPath := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(rulesPath, []byte(testRules), 0o600); err != nil {
		t.Fatal(err)
	}
	set, err := rules.Load(rulesPath, rules.Options{Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	pwFile := linPassword
	w := &world{t: t, st: st, logs: &syncbuf.Buffer{}, now: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC), rules: set}
	ctx := t.Context()
	rec := func(id, replyTo, text, nick string, cl store.Claim) int64 {
		c := model.Comment{Platform: model.PlatformDouyin, ID: id, ThreadID: "7251524159191958327", PostID: "p1", ReplyToID: replyTo,
			Text: text, CreatedAt: w.now.Add(-time.Hour), User: model.User{UID: "u" + nick, Nickname: nick}}
		got, err := st.Record(ctx, c, model.DispositionEvaluated, []store.Claim{cl}, w.now.Add(-30*time.Minute))
		if err != nil || len(got) != 1 {
			t.Fatalf("Record: %v %v", got, err)
		}
		return got[0].ID
	}
	// The held comment's author asked before, and was answered.
	earlier := rec("7300000000000000000", "0", "链接在哪", hostileNickname,
		store.Claim{Rule: "buy_link", Responder: "kitkot", Status: model.StatusPending, ReplyText: "点小黄车 🛒"})
	if err := st.Settle(ctx, earlier, store.Settlement{Status: model.StatusSent, PlatformReplyID: "r1"}, w.now.Add(-45*time.Minute)); err != nil {
		t.Fatal(err)
	}
	w.held = rec("7300000000000000001", "7300000000000000000", "多少钱？ "+platformToken, hostileNickname,
		store.Claim{Rule: "price", Responder: "kitkot", Status: model.StatusHeld, ReplyText: "小王 你好，价格请看橱窗 🛒"})
	w.flagged = rec("7300000000000000002", "0", hostileComment, "林",
		store.Claim{Rule: "complaint", Responder: "kitkot", Status: model.StatusFlagged})
	logger := slog.New(slog.NewTextHandler(w.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts := Options{
		Users:          []User{{Name: "ops", Hash: opsHash()}, {Name: "林", Password: pwFile}},
		SessionTTL:     time.Hour,
		Listen:         listenAddr,
		AllowedHosts:   []string{"autoreplyd.internal:9464"},
		Store:          st,
		Rules:          func() *rules.Set { return set },
		RulesPath:      rulesPath,
		Responders:     map[string]platform.Responder{"kitkot": limited{}},
		ApprovalMaxAge: 24 * time.Hour,
		Status: func(context.Context) Status {
			return Status{Sources: []string{"douyin"}, Responders: []string{"kitkot"},
				Pauses:   []poller.PauseState{{Scope: "responder:kitkot", Kind: "paused", Reason: "code 601: balance " + platformToken, Until: w.clock().Add(time.Hour)}},
				Problems: []string{"responder:kitkot paused"}, LastCycle: w.clock(), Cycle: poller.Stats{Polled: 3, Calls: 4, Sent: 1},
				CallsToday: 42, Channels: []notify.ChannelState{{Name: "ops", Type: "wecom", Healthy: false, LastError: "HTTP 500"}},
				Reload: Reload{At: w.clock(), Err: "rules.yaml:3:5: bad <b>expr</b>"}, RuleErrors: map[string]int{"price": 3}}
		},
		Location: time.UTC,
		Redact:   redact.New(platformToken),
		Logger:   logger,
		Now:      w.clock,
	}
	for _, f := range tune {
		f(&opts)
	}
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	w.c = c
	w.srv = httptest.NewServer(c.Handler())
	t.Cleanup(w.srv.Close)
	t.Cleanup(c.Close)
	return w
}

// client is a browser: a cookie jar, no redirects followed, the Host and
// language it sends.
type client struct {
	w    *world
	hc   *http.Client
	host string
	lang string
}

func (w *world) client() *client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		w.t.Fatal(err)
	}
	return &client{w: w, host: listenAddr, hc: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

type response struct {
	code     int
	body     string
	location string
	header   http.Header
}

func (cl *client) do(method, path string, form url.Values) response {
	cl.w.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, cl.w.srv.URL+path, body)
	if err != nil {
		cl.w.t.Fatal(err)
	}
	req.Host = cl.host
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if cl.lang != "" {
		req.Header.Set("Accept-Language", cl.lang)
	}
	res, err := cl.hc.Do(req)
	if err != nil {
		cl.w.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		cl.w.t.Fatal(err)
	}
	return response{code: res.StatusCode, body: string(b), location: res.Header.Get("Location"), header: res.Header}
}

func (cl *client) get(path string) response { return cl.do(http.MethodGet, path, nil) }

var csrfRe = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// token is the CSRF token of the page at path.
func (cl *client) token(path string) string {
	cl.w.t.Helper()
	r := cl.get(path)
	m := csrfRe.FindStringSubmatch(r.body)
	if m == nil {
		cl.w.t.Fatalf("GET %s: %d, no csrf_token in:\n%s", path, r.code, r.body)
	}
	return html.UnescapeString(m[1])
}

func (cl *client) login(user, password string) response {
	cl.w.t.Helper()
	return cl.do(http.MethodPost, "/ui/login", url.Values{"username": {user}, "password": {password}, "csrf_token": {cl.token("/ui/login")}})
}

// signedIn is a client signed in as ops.
func (w *world) signedIn() *client {
	w.t.Helper()
	cl := w.client()
	if r := cl.login("ops", opsPassword); r.code != http.StatusSeeOther || r.location != "/ui/inbox" {
		w.t.Fatalf("login: %d %s\n%s", r.code, r.location, r.body)
	}
	return cl
}

// post posts form to path with the CSRF token of the page from.
func (cl *client) post(from, path string, form url.Values) response {
	cl.w.t.Helper()
	form.Set("csrf_token", cl.token(from))
	return cl.do(http.MethodPost, path, form)
}

// pageRoutes are every GET page of a signed-in user.
var pageRoutes = []string{"/ui/inbox", "/ui/live", "/ui/rules", "/ui/playground", "/ui/replay", "/ui/health"}

// postRoutes are every POST route behind a session.
func (w *world) postRoutes() []string {
	return []string{"/ui/logout", fmt.Sprintf("/ui/inbox/%d", w.held), "/ui/playground", "/ui/replay"}
}

func wantIn(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, s := range wants {
		if !strings.Contains(body, s) {
			t.Errorf("%s lacks %q:\n%s", what, s, body)
		}
	}
}

func TestLoginAndPages(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	cl := w.signedIn()
	for _, path := range pageRoutes {
		r := cl.get(path)
		if r.code != http.StatusOK {
			t.Errorf("GET %s: %d\n%s", path, r.code, r.body)
			continue
		}
		wantIn(t, path, r.body, `<html lang="zh-CN">`, `<nav>`, `href="/ui/inbox"`, `href="/ui/live"`, `href="/ui/rules"`,
			`href="/ui/playground"`, `href="/ui/replay"`, `href="/ui/health"`, `<form id="logout" method="post" action="/ui/logout">`)
		h := r.header
		if !strings.HasPrefix(h.Get("Content-Security-Policy"), "default-src 'self'") || h.Get("X-Frame-Options") != "DENY" ||
			h.Get("Referrer-Policy") != "no-referrer" || h.Get("Cache-Control") != "no-store" {
			t.Errorf("GET %s: security headers %v", path, h)
		}
	}
	// The password file's user signs in too, by its Chinese name.
	if r := w.client().login("林", linPassword); r.code != http.StatusSeeOther {
		t.Errorf("林's login: %d", r.code)
	}
	// The login page of a signed-in user goes to the inbox; /ui/ too.
	if r := cl.get("/ui/login"); r.code != http.StatusSeeOther || r.location != "/ui/inbox" {
		t.Errorf("GET /ui/login signed in: %d %s", r.code, r.location)
	}
	if r := cl.get("/ui/"); r.code != http.StatusSeeOther || r.location != "/ui/inbox" {
		t.Errorf("GET /ui/: %d %s", r.code, r.location)
	}
	// Sign out: the session is gone.
	if r := cl.post("/ui/inbox", "/ui/logout", url.Values{}); r.code != http.StatusSeeOther || r.location != "/ui/login" {
		t.Fatalf("logout: %d %s", r.code, r.location)
	}
	if r := cl.get("/ui/inbox"); r.code != http.StatusSeeOther || r.location != "/ui/login" {
		t.Errorf("after logout: %d %s", r.code, r.location)
	}
}

func TestLoginPage(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r := w.client().get("/ui/login")
	wantIn(t, "login page", r.body, `<form id="login" method="post" action="/ui/login">`, `name="username"`, `name="password"`,
		`type="hidden" name="csrf_token"`, `<button type="submit">`)
	if r.code != http.StatusOK || strings.Contains(r.body, "<nav>") {
		t.Errorf("login page: %d", r.code)
	}
	ck := r.header.Get("Set-Cookie")
	for _, want := range []string{loginCookie + "=", "HttpOnly", "SameSite=Strict", "Path=/ui/"} {
		if !strings.Contains(ck, want) {
			t.Errorf("pre-session cookie %q lacks %s", ck, want)
		}
	}
}

func TestWrongPassword(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	for _, tc := range []struct{ user, pw, lang, msg string }{
		{"ops", "wrong", "", "用户名或密码错误"},
		{"nobody", opsPassword, "en-US,en;q=0.9", "wrong user name or password"},
		{"林", opsPassword, "", "用户名或密码错误"},
		{"ops", "", "", "用户名或密码错误"},
	} {
		cl := w.client()
		cl.lang = tc.lang
		r := cl.login(tc.user, tc.pw)
		if r.code != http.StatusUnauthorized || !strings.Contains(r.body, `<div class="error" role="alert">`+tc.msg) ||
			!strings.Contains(r.body, `<form id="login"`) {
			t.Errorf("%s/%s: %d\n%s", tc.user, tc.pw, r.code, r.body)
		}
		if strings.Contains(r.header.Get("Set-Cookie"), sessionCookie) {
			t.Errorf("%s/%s: a session cookie was set", tc.user, tc.pw)
		}
	}
}

func TestLoginRateLimit(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	cl := w.client()
	for i := range loginBurst {
		if r := cl.login("ops", "wrong"); r.code != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i+1, r.code)
		}
	}
	// Even the right password waits now.
	r := cl.login("ops", opsPassword)
	if r.code != http.StatusTooManyRequests || !strings.Contains(r.body, `<div class="error" role="alert">尝试次数过多`) {
		t.Fatalf("attempt past the burst: %d\n%s", r.code, r.body)
	}
	// The budget refills with time (the console's clock, not a sleep).
	w.advance(loginEvery)
	if r := cl.login("ops", opsPassword); r.code != http.StatusSeeOther {
		t.Fatalf("after %v: %d", loginEvery, r.code)
	}
}

func TestUnauthenticatedSeesNoData(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	cl := w.client()
	for _, path := range append([]string{"/ui/", "/ui/live/events", "/ui/nonexistent"}, pageRoutes...) {
		r := cl.get(path)
		if r.code != http.StatusSeeOther || r.location != "/ui/login" {
			t.Errorf("GET %s: %d %s", path, r.code, r.location)
		}
		if strings.Contains(r.body, "价格") || strings.Contains(r.body, "投诉") {
			t.Errorf("GET %s shows data:\n%s", path, r.body)
		}
	}
	for _, path := range w.postRoutes() {
		r := cl.do(http.MethodPost, path, url.Values{"action": {"approve"}, "text": {"hi"}})
		if r.code != http.StatusForbidden {
			t.Errorf("POST %s: %d", path, r.code)
		}
	}
	// Nothing was decided.
	if row, _ := w.st.ClaimRow(t.Context(), w.held); row.Status != model.StatusHeld {
		t.Errorf("held claim is %s", row.Status)
	}
	// A forged session cookie is a stranger.
	u, _ := url.Parse(w.srv.URL + "/ui/")
	cl.hc.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: randomID(), HttpOnly: true, SameSite: http.SameSiteStrictMode}}) //nolint:gosec // G124: a forged cookie; Secure would keep it off plain HTTP
	if r := cl.get("/ui/inbox"); r.code != http.StatusSeeOther {
		t.Errorf("forged session: %d", r.code)
	}
}

func TestCSRF(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	cl := w.signedIn()
	for _, path := range w.postRoutes() {
		for name, tok := range map[string][]string{"missing": nil, "wrong": {"x" + cl.token("/ui/inbox")}} {
			form := url.Values{"action": {"done"}, "text": {"x"}, "rules": {testRules}}
			if tok != nil {
				form["csrf_token"] = tok
			}
			r := cl.do(http.MethodPost, path, form)
			if r.code != http.StatusForbidden || !strings.Contains(r.body, "CSRF") {
				t.Errorf("POST %s, token %s: %d %s", path, name, r.code, r.body)
			}
		}
	}
	// Another session's token is wrong for this one.
	other := w.signedIn()
	r := cl.do(http.MethodPost, fmt.Sprintf("/ui/inbox/%d", w.flagged), url.Values{"action": {"done"}, "csrf_token": {other.token("/ui/inbox")}})
	if r.code != http.StatusForbidden {
		t.Errorf("another session's token: %d", r.code)
	}
	// Login: a token without its pre-session cookie, or none.
	fresh := w.client()
	tok := cl.token("/ui/inbox")
	for _, form := range []url.Values{
		{"username": {"ops"}, "password": {opsPassword}},
		{"username": {"ops"}, "password": {opsPassword}, "csrf_token": {tok}},
	} {
		if r := fresh.do(http.MethodPost, "/ui/login", form); r.code != http.StatusForbidden || !strings.Contains(r.body, "CSRF") {
			t.Errorf("login without a valid token: %d %s", r.code, r.body)
		}
	}
	if row, _ := w.st.ClaimRow(t.Context(), w.flagged); row.Status != model.StatusFlagged {
		t.Errorf("flagged claim is %s", row.Status)
	}
}

func TestHostCheck(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	for _, tc := range []struct {
		host string
		ok   bool
	}{
		{listenAddr, true}, {"autoreplyd.internal:9464", true}, {"AUTOREPLYD.INTERNAL:9464", true},
		{"localhost:9464", true}, {"[::1]:9464", true},
		{"evil.example:9464", false}, {"autoreplyd.internal:80", false}, {"localhost:8080", false}, {"", false},
	} {
		cl := w.client()
		cl.host = tc.host
		r := cl.get("/ui/login")
		if (r.code == http.StatusOK) != tc.ok || (!tc.ok && r.code != http.StatusForbidden) {
			t.Errorf("Host %q: %d", tc.host, r.code)
		}
		if !tc.ok {
			r = cl.do(http.MethodPost, "/ui/login", url.Values{"username": {"ops"}, "password": {opsPassword}})
			if r.code != http.StatusForbidden {
				t.Errorf("POST with Host %q: %d", tc.host, r.code)
			}
		}
	}
	if !w.c.AllowedHost(listenAddr) || w.c.AllowedHost("evil.example") {
		t.Error("AllowedHost")
	}
}

func TestSessionExpiry(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	cl := w.signedIn()
	w.advance(time.Hour - time.Second)
	if r := cl.get("/ui/inbox"); r.code != http.StatusOK {
		t.Fatalf("before expiry: %d", r.code)
	}
	tok := cl.token("/ui/inbox")
	w.advance(time.Second)
	if r := cl.get("/ui/inbox"); r.code != http.StatusSeeOther || r.location != "/ui/login" {
		t.Errorf("after session_ttl: %d %s", r.code, r.location)
	}
	r := cl.do(http.MethodPost, fmt.Sprintf("/ui/inbox/%d", w.flagged), url.Values{"action": {"done"}, "csrf_token": {tok}})
	if r.code != http.StatusForbidden {
		t.Errorf("POST after session_ttl: %d", r.code)
	}
}

func TestSessionCookie(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r := w.client().login("ops", opsPassword)
	var ck string
	for _, c := range r.header.Values("Set-Cookie") {
		if strings.HasPrefix(c, sessionCookie+"=") {
			ck = c
		}
	}
	for _, want := range []string{"HttpOnly", "SameSite=Strict", "Path=/ui/", "Max-Age=3600"} {
		if !strings.Contains(ck, want) {
			t.Errorf("session cookie %q lacks %s", ck, want)
		}
	}
	if strings.Contains(ck, "Secure") {
		t.Errorf("session cookie %q is Secure without TLS", ck)
	}
	id := strings.TrimPrefix(strings.SplitN(ck, ";", 2)[0], sessionCookie+"=")
	if len(id) != len(randomID()) {
		t.Errorf("session id %q: want 32 random bytes", id)
	}
	w.c.auth.opts.TLS = true
	if c := w.c.auth.cookie(sessionCookie, "x", time.Hour); !c.Secure {
		t.Error("not Secure under TLS")
	}
}

func TestInbox(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	cl := w.signedIn()
	r := cl.get("/ui/inbox")
	wantIn(t, "inbox", r.body, "<title>(2) 收件箱 · autoreplyd</title>", `<table id="inbox">`,
		fmt.Sprintf(`<tr class="item" data-id="%d" data-status="held">`, w.held),
		fmt.Sprintf(`<tr class="item" data-id="%d" data-status="flagged">`, w.flagged),
		fmt.Sprintf(`<form class="approve" method="post" action="/ui/inbox/%d">`, w.held),
		`<textarea name="text" rows="3">小王 你好，价格请看橱窗 🛒</textarea>`,
		`<button type="submit" name="action" value="approve">`, `<input name="reason"`, `<button type="submit" name="action" value="reject">`,
		fmt.Sprintf(`<form class="done" method="post" action="/ui/inbox/%d">`, w.flagged), `<button type="submit" name="action" value="done">`,
		"<details>", `<p class="parent">&#34;&gt;&lt;img src=x onerror=alert(1)&gt;小王&#39;s: 链接在哪</p>`,
		`<ul class="thread"><li>2026-11-22 09:30:00 buy_link sent: 点小黄车 🛒</li></ul>`,
		`<ul class="history"><li>2026-11-22 09:30:00 链接在哪 → buy_link sent: 点小黄车 🛒</li></ul>`)
	if n := strings.Count(r.body, `<tr class="item"`); n != 2 {
		t.Errorf("%d rows", n)
	}
	en := w.signedIn()
	en.lang = "en"
	wantIn(t, "English inbox", en.get("/ui/inbox").body, `<html lang="en">`, "<title>(2) Inbox · autoreplyd</title>")
}

func TestApproveEdited(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	cl := w.signedIn()
	path := fmt.Sprintf("/ui/inbox/%d", w.held)
	// Too long for the responder: 422, the limit named, nothing changed.
	r := cl.post("/ui/inbox", path, url.Values{"action": {"approve"}, "text": {strings.Repeat("价", 21)}})
	if r.code != http.StatusUnprocessableEntity || !strings.Contains(r.body, `<div class="error" role="alert">`) ||
		!strings.Contains(r.body, "more than responders.kitkot.max_length (20)") {
		t.Fatalf("too long: %d\n%s", r.code, r.body)
	}
	for _, bad := range []string{" \n ", "价格\u202e请看", "价格\n请看"} {
		if r := cl.post("/ui/inbox", path, url.Values{"action": {"approve"}, "text": {bad}}); r.code != http.StatusUnprocessableEntity {
			t.Errorf("text %q: %d", bad, r.code)
		}
	}
	if row, _ := w.st.ClaimRow(t.Context(), w.held); row.Status != model.StatusHeld || row.ReplyText != "小王 你好，价格请看橱窗 🛒" {
		t.Fatalf("after refused edits: %+v", row)
	}
	// Edited within the limit: recorded with the user's name.
	r = cl.post("/ui/inbox", path, url.Values{"action": {"approve"}, "text": {"  您好，价格 99 元 ✅ \n"}})
	if r.code != http.StatusSeeOther || r.location != "/ui/inbox" {
		t.Fatalf("approve: %d %s\n%s", r.code, r.location, r.body)
	}
	row, err := w.st.ClaimRow(t.Context(), w.held)
	if err != nil || row.Status != model.StatusRetrying || row.ReplyText != "您好，价格 99 元 ✅" || row.DecidedBy != "ops" || row.DecisionNote != "edited" {
		t.Fatalf("approved: %+v %v", row, err)
	}
	page := cl.get("/ui/inbox")
	wantIn(t, "inbox after approving", page.body, fmt.Sprintf(`<div class="flash" role="status">评论 %d 已按修改后的文字通过`, w.held), "<title>(1) 收件箱")
	if strings.Contains(cl.get("/ui/inbox").body, `class="flash"`) {
		t.Error("the flash shows twice")
	}
	// Twice: 409, says what it is.
	if r := cl.post("/ui/inbox", path, url.Values{"action": {"approve"}, "text": {"x"}}); r.code != http.StatusConflict || !strings.Contains(r.body, "it is retrying") {
		t.Errorf("approve twice: %d\n%s", r.code, r.body)
	}
}

func TestRejectAndDone(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	cl := w.signedIn()
	cl.lang = "en"
	r := cl.post("/ui/inbox", fmt.Sprintf("/ui/inbox/%d", w.held), url.Values{"action": {"reject"}, "reason": {"价格已变 📉"}})
	if r.code != http.StatusSeeOther {
		t.Fatalf("reject: %d\n%s", r.code, r.body)
	}
	if row, _ := w.st.ClaimRow(t.Context(), w.held); row.Status != model.StatusRejected || row.DecidedBy != "ops" || row.DecisionNote != "价格已变 📉" {
		t.Errorf("rejected: %+v", row)
	}
	wantIn(t, "flash", cl.get("/ui/inbox").body, fmt.Sprintf(`<div class="flash" role="status">Claim %d rejected: never sent.`, w.held))
	lin := w.client()
	lin.login("林", linPassword)
	if r := lin.post("/ui/inbox", fmt.Sprintf("/ui/inbox/%d", w.flagged), url.Values{"action": {"done"}}); r.code != http.StatusSeeOther {
		t.Fatalf("done: %d\n%s", r.code, r.body)
	}
	if row, _ := w.st.ClaimRow(t.Context(), w.flagged); row.Status != model.StatusHandled || row.DecidedBy != "林" {
		t.Errorf("done: %+v", row)
	}
	if r := lin.post("/ui/inbox", "/ui/inbox/999999", url.Values{"action": {"done"}}); r.code != http.StatusNotFound {
		t.Errorf("no such claim: %d", r.code)
	}
	if r := lin.post("/ui/inbox", fmt.Sprintf("/ui/inbox/%d", w.flagged), url.Values{"action": {"delete"}}); r.code != http.StatusBadRequest {
		t.Errorf("unknown action: %d", r.code)
	}
}

func TestHostileTextEscaped(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	cl := w.signedIn()
	w.c.Publish(poller.Event{Comment: model.Comment{Platform: model.PlatformDouyin, Text: hostileComment, User: model.User{Nickname: hostileNickname}},
		Rule: "complaint", Status: model.StatusFlagged})
	play := cl.post("/ui/playground", "/ui/playground", url.Values{"text": {hostileComment}, "nickname": {hostileNickname}, "rules": {testRules}})
	// The form gives back what the user typed, as typed (to edit it
	// again); the verdicts below it are the page's own.
	_, verdicts, ok := strings.Cut(play.body, `<div id="verdicts">`)
	if !ok {
		t.Fatalf("no verdicts:\n%s", play.body)
	}
	bodies := map[string]string{"playground": verdicts}
	for _, p := range pageRoutes {
		bodies[p] = cl.get(p).body
	}
	for name, body := range bodies {
		for _, raw := range []string{"<script>alert", `"><img`, "\u202e", "<b>expr</b>", platformToken} {
			if strings.Contains(body, raw) {
				t.Errorf("%s holds %q unescaped", name, raw)
			}
		}
	}
	wantIn(t, "inbox", bodies["/ui/inbox"], "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;投诉", `\u202egnirts`, "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;小王&#39;s", "[redacted]")
	wantIn(t, "live", bodies["/ui/live"], "&lt;script&gt;")
}

func TestNoSecretInPagesOrLogs(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	cl := w.signedIn()
	w.client().login("ops", "wrong-"+linPassword)
	var all strings.Builder
	for _, p := range pageRoutes {
		all.WriteString(cl.get(p).body)
	}
	all.WriteString(w.logs.String())
	for _, secret := range []string{opsPassword, linPassword, opsHash(), platformToken, "$2a$"} {
		if strings.Contains(all.String(), secret) {
			t.Errorf("%q is shown or logged", secret)
		}
	}
	if !strings.Contains(w.logs.String(), "console sign-in failed") {
		t.Errorf("the failed sign-in is not logged:\n%s", w.logs.String())
	}
}

func TestCatalogues(t *testing.T) {
	t.Parallel()
	for k := range zhCN {
		if _, ok := en[k]; !ok {
			t.Errorf("%q is missing in English", k)
		}
	}
	for k := range en {
		if _, ok := zhCN[k]; !ok && !strings.HasSuffix(k, ".") { // "health." + kind: above
			t.Errorf("%q is missing in Chinese", k)
		}
	}
	// Every key the templates and the Go code use is in both.
	used := map[string]bool{}
	keyRe := regexp.MustCompile(`\bT "([a-z_.]+)"|\.T\("([a-z_.]+)"`)
	files, _ := filepath.Glob("web/*.html")
	gofiles, _ := filepath.Glob("*.go")
	for _, f := range append(files, gofiles...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range keyRe.FindAllStringSubmatch(string(b), -1) {
			used[m[1]+m[2]] = true
		}
	}
	// Keys made at run time: the pages' titles by the page's name, the
	// health page's kinds.
	used["health.source"], used["health.responder"] = true, true
	for _, name := range pageNames {
		if name != "error" {
			used[name+".title"] = true
		}
	}
	if len(used) < 50 {
		t.Fatalf("only %d keys found in use: the pattern is broken", len(used))
	}
	for k := range used {
		if _, ok := zhCN[k]; !ok && !strings.HasSuffix(k, ".") { // "health." + kind: above
			t.Errorf("%q is used but not in the catalogues", k)
		}
	}
}

func TestLanguage(t *testing.T) {
	t.Parallel()
	c := &Console{}
	for _, tc := range []struct{ header, want string }{
		{"", "zh-CN"}, {"en", "en"}, {"en-US,en;q=0.9,zh;q=0.8", "en"}, {"zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"},
		{"fr-FR", "zh-CN"}, {"fr;q=0.9,en;q=0.5", "en"}, {"garbage;;", "zh-CN"},
	} {
		r := httptest.NewRequest(http.MethodGet, "/ui/inbox", nil)
		r.Header.Set("Accept-Language", tc.header)
		if got := c.lang(r).Tag(); got != tc.want {
			t.Errorf("Accept-Language %q: %s, want %s", tc.header, got, tc.want)
		}
	}
}

func TestPlayground(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	cl := w.signedIn()
	g := cl.get("/ui/playground")
	wantIn(t, "playground", g.body, `<form id="playground"`, `<textarea name="text"`, `<input name="nickname"`, `<textarea name="labels"`,
		`<input name="time"`, `<textarea name="rules"`, "name: complaint")
	r := cl.post("/ui/playground", "/ui/playground", url.Values{"text": {"这个多少钱"}, "nickname": {"小王"}, "labels": {"campaign=spring"},
		"time": {"2026-11-22 09:58"}, "rules": {testRules}})
	wantIn(t, "verdicts", r.body, `<div id="verdicts">`,
		`<div class="verdict" data-rule="complaint" data-acts="false"><span class="mark">·</span> <b>complaint</b> <span class="outcome">not matched</span>`,
		`<div class="verdict" data-rule="price" data-acts="true"><span class="mark">✓</span> <b>price</b> <span class="outcome">matched → acts</span>`,
		"would hold for approval: &#34;小王 你好，价格请看橱窗 🛒&#34;", "price acts: holds its answer for approval")
	// An edited rule changes the verdict; nothing is saved.
	edited := strings.Replace(testRules, `text contains "多少钱"`, `text contains "价格"`, 1)
	r = cl.post("/ui/playground", "/ui/playground", url.Values{"text": {"这个多少钱"}, "rules": {edited}})
	wantIn(t, "edited", r.body, `data-rule="price" data-acts="false"`, "no rule acts")
	if b, _ := os.ReadFile(w.c.opts.RulesPath); string(b) != testRules {
		t.Error("the rules file changed")
	}
	r = cl.post("/ui/playground", "/ui/playground", url.Values{"text": {"x"}, "rules": {"rules:\n  - name: bad\n    when: 'nope('\n"}})
	if r.code != http.StatusUnprocessableEntity || !strings.Contains(r.body, "console.yaml:3") {
		t.Errorf("broken rules: %d\n%s", r.code, r.body)
	}
}

func TestRulesPage(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r := w.signedIn().get("/ui/rules")
	wantIn(t, "rules", r.body, `<table id="rules">`, `<tr data-rule="price">`, "rules.yaml:5", `<tr data-rule="never" class="never">`,
		`role="img"`, `<div id="reload" class="failed">`, "rules.yaml:3:5: bad &lt;b&gt;expr&lt;/b&gt;", "命中 1 · 已回复 0 · 跳过 0 · 待审 1",
		`<td class="errors">3</td>`, "运行出错（启动以来）")
}

func TestHealthPage(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r := w.signedIn().get("/ui/health")
	wantIn(t, "health", r.body, `<table id="health">`, `<tr data-kind="source" data-name="douyin" class="ok">`,
		`<tr data-kind="responder" data-name="kitkot" class="paused">`, "code 601: balance [redacted]", "直到 2026-11-22 11:00:00",
		`<tr data-kind="channel" data-name="ops" class="failing">`, "HTTP 500", "42", "responder:kitkot paused")
}

func TestReplayPage(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	cl := w.signedIn()
	wantIn(t, "replay", cl.get("/ui/replay").body, `<form id="replay"`, `<input name="since" value="24h">`, "name: price")
	edited := strings.Replace(testRules, "action: flag", "reply: '抱歉'", 1)
	r := cl.post("/ui/replay", "/ui/replay", url.Values{"since": {"1d"}, "rules": {edited}})
	wantIn(t, "replay", r.body, `<div id="replay-summary">`, `<table id="replay-changes">`, "回放了 3 条评论，其中 3 条结果会改变", "complaint: flag")
	if r := cl.post("/ui/replay", "/ui/replay", url.Values{"since": {"8d"}, "rules": {testRules}}); r.code != http.StatusUnprocessableEntity {
		t.Errorf("8 days: %d", r.code)
	}
}

func TestLive(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	cl := w.signedIn()
	wantIn(t, "live", cl.get("/ui/live").body, `<table id="live">`, `<select name="platform">`, `<select name="rule">`, `<select name="status">`)
	// A stream gets what is published after it opened.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, w.srv.URL+"/ui/live/events", nil)
	req.Host = listenAddr
	u, _ := url.Parse(w.srv.URL + "/ui/")
	for _, ck := range cl.hc.Jar.Cookies(u) {
		req.AddCookie(ck)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	buf := make([]byte, 4096)
	if _, err := res.Body.Read(buf); err != nil { // the opening comment: subscribed
		t.Fatal(err)
	}
	w.c.Publish(poller.Event{Comment: model.Comment{Platform: model.PlatformDouyin, Text: "多少钱 " + platformToken}, Rule: "price", Status: model.StatusSent, Reply: "橱窗"})
	var got strings.Builder
	for !strings.Contains(got.String(), "\n\n") {
		n, err := res.Body.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		got.Write(buf[:n])
	}
	wantIn(t, "event", got.String(), "event: decision\ndata: {", `"rule":"price"`, `"status":"sent"`, `"comment":"多少钱 [redacted]"`)
	wantIn(t, "event", got.String(), `"verdict":"/ui/playground?nickname=\u0026platform=douyin\u0026text=`)
	page := cl.get("/ui/live?status=sent").body
	wantIn(t, "live page", page, `<tr data-platform="douyin" data-rule="price" data-status="sent">`,
		`<a href="/ui/playground?nickname=&amp;platform=douyin&amp;text=%E5%A4%9A%E5%B0%91%E9%92%B1&#43;%5Bredacted%5D"`)
	// The link evaluates the comment under the live rules.
	wantIn(t, "verdict", cl.get("/ui/playground?platform=douyin&text=%E5%A4%9A%E5%B0%91%E9%92%B1").body,
		`<div id="verdicts">`, `data-rule="price" data-acts="true"`)
	if strings.Contains(cl.get("/ui/live?status=held").body, `data-rule="price"`+` data-status="sent"`) {
		t.Error("the status filter shows a sent row")
	}
}

func TestBrokerDropsForSlowClients(t *testing.T) {
	t.Parallel()
	b := newBroker(3)
	slow := b.subscribe()
	for i := range liveBuffer + 10 {
		b.publish(liveRow{Rule: fmt.Sprint(i)}) // never blocks
	}
	if len(slow) != liveBuffer || b.dropped != 10 {
		t.Errorf("buffered %d, dropped %d", len(slow), b.dropped)
	}
	if got := b.newest(); len(got) != 3 || got[0].Rule != fmt.Sprint(liveBuffer+9) {
		t.Errorf("newest = %+v", got)
	}
	for range maxLiveClients - 1 {
		if b.subscribe() == nil {
			t.Fatal("refused below the bound")
		}
	}
	if b.subscribe() != nil {
		t.Error("a stream past maxLiveClients")
	}
}
