package main

// The web console in a real headless Chromium (internal/browsertest),
// against a running daemon on the imitations: signing in, the inbox's held
// answers and flagged comments acted on in the page (and what that does to
// kitkot and the history), the keyboard, the playground, CSRF and the Host
// check, and a screenshot of every page at a desktop and a phone size.
// Without Chromium these tests skip; .ci/run makes them required.

import (
	"bufio"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"golang.org/x/net/html"

	"github.com/autoreplyd/autoreplyd/internal/browsertest"
	"github.com/autoreplyd/autoreplyd/internal/testutil"
)

// docImagesEnv names a directory (docs/images) to write the operator
// guide's two console screenshots to; unset, they are not made.
const docImagesEnv = "TEST_DOC_IMAGES"

// The console's users: ops has a bcrypt hash in the config, lin a
// credential file holding the password. Both passwords are secrets.
const (
	opsPassword = "ops-PW-e2e-小心火烛-3c9d"
	linPassword = "lin-PW-e2e-4e1f7a"
)

const consoleRules = `rules:
  - name: complaint
    when: 'containsAny(text, ["投诉", "退款"])'
    action: flag
  - name: price
    when: 'text matches "多少钱|价格"'
    reply: '{{ user.nickname }} 你好，价格请看橱窗'
    approve: true
  - name: thanks
    when: 'text contains "好看"'
    reply: '谢谢{{ user.nickname }}！'
`

// kitkotMaxLength is the configured limit on an answer's length, for the
// invalid edit.
const kitkotMaxLength = 50

// consoleWorld is a world whose daemon runs with the console, and a
// browser on it.
type consoleWorld struct {
	*world
	base string // http://127.0.0.1:port
	d    *daemon
	b    *browsertest.Browser
	// cookies are the console's cookies the test saw, secrets all.
	cookies map[string]string
}

// newConsoleWorld starts the daemon (a cycle a second) with a console and
// two users, and a browser that may reach only the daemon. The threads
// have been seen once, so comments added now are new.
func newConsoleWorld(t *testing.T) *consoleWorld {
	t.Helper()
	browsertest.Require(t) // skip before building anything
	w := newWorld(t, "@every 1s", true)
	must(t, os.WriteFile(filepath.Join(w.dir, "rules.yaml"), []byte(consoleRules), 0o644))
	base := w.listenOn()
	w.editConfig("    burst: 10\n", fmt.Sprintf("    burst: 10\n    max_length: %d\n", kitkotMaxLength))
	must(t, os.WriteFile(filepath.Join(w.creds, "console-lin"), []byte(linPassword+"\n"), 0o600))
	cfg := fmt.Sprintf(`console:
  users:
    - {name: ops, password_hash: %q}
    - {name: lin, password_file: console-lin}
  session_ttl: 1h
`, w.hashPassword(opsPassword))
	must(t, os.WriteFile(w.cfg, append(must1(os.ReadFile(w.cfg)), cfg...), 0o644))
	w.once()
	cw := &consoleWorld{world: w, base: base, d: w.start(), cookies: map[string]string{}}
	testutil.WaitFor(t, "the console to answer", func() bool {
		code, _ := w.scrape(base + "/ui/login")
		return code == http.StatusOK
	})
	cw.b = browsertest.Start(t, base)
	t.Cleanup(func() { cw.assertNoConsoleSecrets() })
	return cw
}

// hashPassword runs `autoreplyd console hash-password` with pw on stdin.
func (w *world) hashPassword(pw string) string {
	w.t.Helper()
	cmd := exec.Command(binary, "console", "hash-password")
	cmd.Env = w.environ()
	cmd.Stdin = strings.NewReader(pw + "\n")
	out, err := cmd.Output()
	if err != nil {
		w.t.Fatalf("console hash-password: %v", err)
	}
	hash := strings.TrimSpace(string(out))
	if !strings.HasPrefix(hash, "$2") || strings.Contains(hash, pw) {
		w.t.Fatalf("console hash-password printed %q", hash)
	}
	return hash
}

// assertNoConsoleSecrets: neither password nor the session's cookie in
// anything the binary printed or stored.
func (cw *consoleWorld) assertNoConsoleSecrets() {
	secrets := []string{opsPassword, linPassword}
	for _, v := range cw.cookies {
		if len(v) >= 8 { // a session id or token, not a flag
			secrets = append(secrets, v)
		}
	}
	outs := []string{cw.d.log()}
	files, _ := filepath.Glob(filepath.Join(cw.dir, "state", "*"))
	for _, f := range files {
		if data, err := os.ReadFile(f); err == nil {
			outs = append(outs, string(data))
		}
	}
	for _, out := range outs {
		for _, s := range secrets {
			if strings.Contains(out, s) {
				cw.t.Errorf("a console secret (password or session cookie) appeared in the log or the database")
			}
		}
	}
}

// page opens /ui/<path> and waits for it.
func (cw *consoleWorld) page(path string) {
	cw.t.Helper()
	cw.b.Do(chromedp.Navigate(cw.base + path))
}

// signIn signs in through the login form and requires to land on the
// inbox.
func (cw *consoleWorld) signIn(user, pw string) {
	cw.t.Helper()
	cw.page("/ui/login")
	status := cw.fillLogin(user, pw)
	if _, doc := cw.b.Status(); status != http.StatusOK || !strings.HasSuffix(doc, "/ui/inbox") {
		cw.t.Fatalf("signing in as %s: HTTP %d at %s", user, status, doc)
	}
	for k, v := range cw.b.Cookies() {
		cw.cookies[k] = v
	}
}

// fillLogin fills the login form on the current page and submits it,
// returning the status of the page it leads to.
func (cw *consoleWorld) fillLogin(user, pw string) int64 {
	cw.t.Helper()
	cw.b.Do(
		chromedp.SendKeys(chromedp.CSS(`form#login input[name=username]`), user),
		chromedp.SetValue(chromedp.CSS(`form#login input[name=password]`), pw),
	)
	return cw.b.Submit(chromedp.Click(chromedp.CSS(`form#login button[type=submit]`)))
}

// text is the text of the first element sel matches.
func (cw *consoleWorld) text(sel string) string {
	cw.t.Helper()
	return browsertest.Run(cw.b, chromedp.Text(chromedp.CSS(sel)))
}

// count counts the elements sel matches.
func (cw *consoleWorld) count(sel string) int {
	cw.t.Helper()
	return browsertest.Eval[int](cw.b, fmt.Sprintf(`document.querySelectorAll(%s).length`, jsString(sel)))
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// claimStatus reads a claim's status and who decided it from the database.
func (w *world) claimStatus(commentID string) (status, by string) {
	w.t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(w.dir, "state", "autoreplyd.db")+"?mode=ro&_pragma=busy_timeout(5000)")
	must(w.t, err)
	defer testutil.Close(w.t, db)
	err = db.QueryRow(`SELECT status, decided_by FROM replies WHERE comment_id = ?`, commentID).Scan(&status, &by)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ""
	}
	must(w.t, err)
	return status, by
}

// waitStatus waits for a comment's claim to reach status.
func (w *world) waitStatus(commentID, status string) {
	w.t.Helper()
	testutil.WaitFor(w.t, "comment "+commentID+" to be "+status, func() bool {
		st, _ := w.claimStatus(commentID)
		return st == status
	})
}

// decisionRow is the part of a `history --format json` line about a
// person's decision.
type decisionRow struct {
	CommentID    string `json:"comment_id"`
	Status       string `json:"status"`
	ReplyText    string `json:"reply_text"`
	DecidedBy    string `json:"decided_by"`
	DecisionNote string `json:"decision_note"`
}

func (w *world) decisions() map[string]decisionRow {
	w.t.Helper()
	stdout, stderr, code := w.run("history", "--config", w.cfg, "--format", "json", "--limit", "0")
	if code != 0 {
		w.t.Fatalf("history exited %d:\n%s", code, stderr)
	}
	out := map[string]decisionRow{}
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		var r decisionRow
		must(w.t, json.Unmarshal(sc.Bytes(), &r))
		out[r.CommentID] = r
	}
	return out
}

// cycles waits for n more of the daemon's cycles to finish: long enough
// for anything approved to have been sent, twice if it were going to be.
func (cw *consoleWorld) cycles(n int) {
	cw.t.Helper()
	start := strings.Count(cw.d.log(), "cycle done")
	testutil.WaitFor(cw.t, fmt.Sprintf("%d more cycles", n), func() bool {
		return strings.Count(cw.d.log(), "cycle done") >= start+n
	})
}

// row is the inbox row of a comment's claim.
func (cw *consoleWorld) row(commentID string) string {
	cw.t.Helper()
	return fmt.Sprintf(`table#inbox tbody tr.item[data-id="%s"]`, cw.claimIDs()[commentID])
}

func TestConsoleSignIn(t *testing.T) {
	t.Parallel()
	cw := newConsoleWorld(t)
	b := cw.b

	// Not signed in: any page is the login page.
	cw.page("/ui/inbox")
	if _, doc := b.Status(); !strings.HasSuffix(doc, "/ui/login") || cw.count(`form#login`) != 1 || cw.count(`table#inbox`) != 0 {
		t.Fatalf("an unauthenticated /ui/inbox showed %s", doc)
	}
	if lang := browsertest.Eval[string](b, `document.documentElement.lang`); lang != "zh-CN" {
		t.Errorf("login page lang = %q, want zh-CN", lang)
	}
	if cw.count(`form#login input[name=csrf_token][type=hidden]`) != 1 {
		t.Error("the login form has no hidden csrf_token")
	}
	b.Screenshots("login")

	// A wrong password: 401, the form again with the error.
	if status := cw.fillLogin("ops", "not-the-password"); status != http.StatusUnauthorized {
		t.Errorf("wrong password: HTTP %d, want 401", status)
	}
	if got := cw.text(`.error`); !strings.Contains(got, "用户名或密码错误") {
		t.Errorf("wrong password error %q", got)
	}
	if cw.count(`form#login`) != 1 {
		t.Error("no login form after a wrong password")
	}
	b.Screenshots("login-error")

	// In English when the browser asks for it.
	b.Language("en-US,en;q=0.9")
	cw.page("/ui/login")
	if lang := browsertest.Eval[string](b, `document.documentElement.lang`); lang != "en" {
		t.Errorf("login page lang with Accept-Language en = %q", lang)
	}
	cw.fillLogin("nobody", "x")
	if got := cw.text(`.error`); !strings.Contains(got, "wrong user name or password") {
		t.Errorf("wrong password error in English %q", got)
	}
	b.Language("zh-CN,zh;q=0.9")

	// lin's password comes from a credential file.
	cw.signIn("lin", linPassword)
	for _, href := range []string{"/ui/inbox", "/ui/live", "/ui/rules", "/ui/playground", "/ui/replay", "/ui/health"} {
		if cw.count(fmt.Sprintf(`nav a[href=%q]`, href)) != 1 {
			t.Errorf("the nav has no link to %s", href)
		}
	}
	if cw.count(`form#logout`) != 1 {
		t.Error("no logout form")
	}
	// Signing out ends the session: the inbox is the login page again.
	b.Submit(chromedp.Click(chromedp.CSS(`form#logout button`)))
	cw.page("/ui/inbox")
	if _, doc := b.Status(); !strings.HasSuffix(doc, "/ui/login") {
		t.Errorf("after logout /ui/inbox showed %s", doc)
	}
}

func TestConsoleApproveEditedAndReject(t *testing.T) {
	t.Parallel()
	cw := newConsoleWorld(t)
	b := cw.b
	cw.signIn("ops", opsPassword)

	approved := cw.add(threadA, "这个多少钱", "小明🍓", "6001")
	rejected := cw.add(threadB, "价格？", "小红", "6002")
	cw.waitStatus(approved, "held")
	cw.waitStatus(rejected, "held")
	cw.page("/ui/inbox")
	if title := browsertest.Run(b, chromedp.Title()); !strings.HasPrefix(title, "(2) ") {
		t.Errorf("inbox title %q does not start with the count (2)", title)
	}
	if n := cw.count(`table#inbox tbody tr.item[data-status=held]`); n != 2 {
		t.Fatalf("%d held rows, want 2", n)
	}
	row := cw.row(approved)
	if got := browsertest.Run(b, chromedp.Value(chromedp.CSS(row+` form.approve textarea[name=text]`))); got != "小明🍓 你好，价格请看橱窗" {
		t.Errorf("the approve form proposes %q", got)
	}
	if got := cw.text(row); !strings.Contains(got, "这个多少钱") || !strings.Contains(got, "小明🍓") {
		t.Errorf("the row does not show the comment and its author: %q", got)
	}

	// An edit too long for kitkot: 422 naming the limit, nothing changed.
	tooLong := strings.Repeat("长", kitkotMaxLength+1)
	b.Do(chromedp.SetValue(chromedp.CSS(row+` form.approve textarea[name=text]`), tooLong))
	if status := b.Submit(chromedp.Click(chromedp.CSS(row + ` form.approve button[name=action][value=approve]`))); status != http.StatusUnprocessableEntity {
		t.Errorf("a too long edit: HTTP %d, want 422", status)
	}
	if got := cw.text(`div.error`); !strings.Contains(got, fmt.Sprint(kitkotMaxLength)) {
		t.Errorf("the error does not name the limit %d: %q", kitkotMaxLength, got)
	}
	if st, _ := cw.claimStatus(approved); st != "held" {
		t.Fatalf("after a refused edit the claim is %s", st)
	}

	// The edited answer, approved.
	edited := "小明，价格在橱窗第一格 🛒"
	cw.page("/ui/inbox")
	b.Do(chromedp.SetValue(chromedp.CSS(row+` form.approve textarea[name=text]`), edited))
	if status := b.Submit(chromedp.Click(chromedp.CSS(row + ` form.approve button[name=action][value=approve]`))); status != http.StatusOK {
		t.Errorf("approve: HTTP %d", status)
	}
	if _, doc := b.Status(); !strings.HasSuffix(doc, "/ui/inbox") || cw.count(`div.flash`) != 1 {
		t.Errorf("after approving: %s, flash %d", doc, cw.count(`div.flash`))
	}
	b.Screenshots("inbox-approved")

	// The other one, rejected with a reason.
	reject := cw.row(rejected)
	b.Do(chromedp.SetValue(chromedp.CSS(reject+` form.reject input[name=reason]`), "不回答价格"))
	b.Submit(chromedp.Click(chromedp.CSS(reject + ` form.reject button[name=action][value=reject]`)))
	if cw.count(`div.flash`) != 1 || cw.count(`table#inbox tbody tr.item`) != 0 {
		t.Errorf("after rejecting: flash %d, %d rows left", cw.count(`div.flash`), cw.count(`table#inbox tbody tr.item`))
	}

	// The edited text reaches kitkot, once; the rejected answer never.
	testutil.WaitFor(t, "the approved answer to reach kitkot", func() bool { return len(cw.kk.Posts()) > 0 })
	cw.cycles(2)
	posts := cw.kk.Posts()
	if len(posts) != 1 || posts[0].Text != edited {
		t.Fatalf("kitkot got %+v, want the edited answer once", posts)
	}
	rows := cw.decisions()
	if r := rows[approved]; r.Status != "sent" || r.ReplyText != edited || r.DecidedBy != "ops" {
		t.Errorf("the approved claim: %+v", r)
	}
	if r := rows[rejected]; r.Status != "rejected" || r.DecidedBy != "ops" || !strings.Contains(r.DecisionNote, "不回答价格") {
		t.Errorf("the rejected claim: %+v", r)
	}
}

func TestConsoleFlagDone(t *testing.T) {
	t.Parallel()
	cw := newConsoleWorld(t)
	cw.signIn("lin", linPassword)
	flagged := cw.add(threadA, "我要投诉！退款😡", "老王", "7001")
	cw.waitStatus(flagged, "flagged")
	cw.page("/ui/inbox")
	row := cw.row(flagged)
	if cw.count(row+`[data-status=flagged]`) != 1 || cw.count(row+` form.approve`) != 0 {
		t.Fatalf("no flagged row without an approve form for the complaint")
	}
	if got := cw.text(row); !strings.Contains(got, "我要投诉！退款😡") {
		t.Errorf("the flagged row does not show the comment: %q", got)
	}
	cw.b.Submit(chromedp.Click(chromedp.CSS(row + ` form.done button[name=action][value=done]`)))
	if cw.count(`div.flash`) != 1 || cw.count(`table#inbox tbody tr.item`) != 0 {
		t.Errorf("after done: flash %d, rows %d", cw.count(`div.flash`), cw.count(`table#inbox tbody tr.item`))
	}
	if r := cw.decisions()[flagged]; r.Status != "handled" || r.DecidedBy != "lin" {
		t.Errorf("the flagged claim after done: %+v", r)
	}
	if n := len(cw.kk.Posts()); n != 0 {
		t.Errorf("a flagged comment was answered: %d posts", n)
	}
}

func TestConsoleKeyboard(t *testing.T) {
	t.Parallel()
	cw := newConsoleWorld(t)
	b := cw.b
	cw.signIn("ops", opsPassword)
	approve := cw.add(threadA, "多少钱一件", "甲", "8001")
	reject := cw.add(threadA, "价格多少", "乙", "8002")
	keep := cw.add(threadB, "这个多少钱呀", "丙", "8003")
	done := cw.add(threadB, "我要退款", "丁", "8004")
	for _, id := range []string{approve, reject, keep} {
		cw.waitStatus(id, "held")
	}
	cw.waitStatus(done, "flagged")
	cw.page("/ui/inbox")
	rowIDs := func() []string {
		return browsertest.Eval[[]string](b, `Array.from(document.querySelectorAll('table#inbox tbody tr.item')).map(r => r.dataset.id)`)
	}
	selected := func() int {
		if n := cw.count(`tr.item.selected`); n > 1 {
			t.Fatalf("%d rows selected", n)
		}
		return browsertest.Eval[int](b, `Array.from(document.querySelectorAll('table#inbox tbody tr.item')).findIndex(r => r.classList.contains('selected'))`)
	}
	if n := len(rowIDs()); n != 4 {
		t.Fatalf("%d rows, want 4", n)
	}
	start := selected()
	b.Do(chromedp.KeyEvent("j"))
	want := max(start+1, 0)
	if got := selected(); got != want {
		t.Fatalf("after j the selection is row %d, want %d (from %d)", got, want, start)
	}
	b.Do(chromedp.KeyEvent("j"))
	if got := selected(); got != want+1 {
		t.Fatalf("after j j the selection is row %d, want %d", got, want+1)
	}
	b.Do(chromedp.KeyEvent("k"))
	if got := selected(); got != want {
		t.Fatalf("after k the selection is row %d, want %d", got, want)
	}

	// act moves the selection to a comment's row with j or k and presses
	// key on it.
	act := func(commentID, key string) {
		t.Helper()
		claim := cw.claimIDs()[commentID]
		to := slices.Index(rowIDs(), claim)
		if to < 0 {
			t.Fatalf("no row for claim %s in %v", claim, rowIDs())
		}
		for at := selected(); at != to; at = selected() {
			move := "j"
			if at > to {
				move = "k"
			}
			b.Do(chromedp.KeyEvent(move))
			if selected() == at {
				t.Fatalf("%s did not move the selection from row %d", move, at)
			}
		}
		b.Submit(chromedp.KeyEvent(key))
		if cw.count(`div.flash`) != 1 {
			t.Errorf("no flash after %s", key)
		}
	}
	act(approve, "a")
	act(reject, "r")
	act(done, "d")
	if got := rowIDs(); len(got) != 1 || got[0] != cw.claimIDs()[keep] {
		t.Errorf("rows left %v, want only claim %s", got, cw.claimIDs()[keep])
	}
	testutil.WaitFor(t, "the approved answer to reach kitkot", func() bool { return len(cw.kk.Posts()) > 0 })
	cw.cycles(1)
	rows := cw.decisions()
	for id, want := range map[string]string{approve: "sent", reject: "rejected", keep: "held", done: "handled"} {
		if r := rows[id]; r.Status != want {
			t.Errorf("comment %s: %s, want %s", id, r.Status, want)
		}
	}
	if posts := cw.kk.Posts(); len(posts) != 1 || posts[0].Text != "甲 你好，价格请看橱窗" {
		t.Errorf("kitkot got %+v, want the approved answer once", posts)
	}
}

func TestConsolePlayground(t *testing.T) {
	t.Parallel()
	cw := newConsoleWorld(t)
	b := cw.b
	cw.signIn("ops", opsPassword)
	b.Language("en")
	cw.page("/ui/playground")
	live := browsertest.Run(b, chromedp.Value(chromedp.CSS(`form#playground textarea[name=rules]`)))
	if !strings.Contains(live, "name: price") || !strings.Contains(live, "价格请看橱窗") {
		t.Fatalf("the playground's rules are not the live rules:\n%s", live)
	}
	try := func(rules string) map[string]string {
		t.Helper()
		b.Do(
			chromedp.SetValue(chromedp.CSS(`form#playground textarea[name=text]`), "请问这个多少钱[呲牙]"),
			chromedp.SetValue(chromedp.CSS(`form#playground input[name=nickname]`), "史密斯夫妇💑"),
			chromedp.SetValue(chromedp.CSS(`form#playground textarea[name=labels]`), "campaign=spring"),
			chromedp.SetValue(chromedp.CSS(`form#playground textarea[name=rules]`), rules),
		)
		if status := b.Submit(chromedp.Click(chromedp.CSS(`form#playground button[type=submit]`))); status != http.StatusOK {
			t.Fatalf("playground: HTTP %d", status)
		}
		out := map[string]string{}
		for _, v := range browsertest.Run(b, chromedp.AttributesAll(chromedp.CSSAll(`div#verdicts div.verdict`))) {
			out[v["data-rule"]] = v["data-acts"]
		}
		return out
	}
	acts := try(live)
	if fmt.Sprint(acts) != "map[complaint:false price:true thanks:false]" {
		t.Errorf("verdicts: %v", acts)
	}
	price := `div#verdicts div.verdict[data-rule=price]`
	if got := cw.text(price); !strings.Contains(got, "史密斯夫妇💑 你好，价格请看橱窗") {
		t.Errorf("the price verdict does not show the rendered answer: %q", got)
	}
	// Each outcome in the words of `autoreplyd explain`.
	out, stderr, code := cw.run("explain", "--config", cw.cfg, "--text", "请问这个多少钱[呲牙]", "--nickname", "史密斯夫妇💑", "--label", "campaign=spring")
	if code != 0 {
		t.Fatalf("explain exited %d:\n%s", code, stderr)
	}
	for _, rule := range []string{"complaint", "price", "thanks"} {
		outcome := strings.TrimSpace(cw.text(fmt.Sprintf(`div#verdicts div.verdict[data-rule=%s] .outcome`, rule)))
		if outcome == "" || !explainLine(out, rule, outcome) {
			t.Errorf("rule %s: outcome %q is not in explain's line:\n%s", rule, outcome, out)
		}
	}
	b.Screenshots("playground")

	// An edited rule changes the verdict; nothing is saved.
	before := must1(os.ReadFile(filepath.Join(cw.dir, "rules.yaml")))
	acts = try(strings.Replace(live, "价格请看橱窗", "价格请私信", 1))
	if acts["price"] != "true" || !strings.Contains(cw.text(price), "史密斯夫妇💑 你好，价格请私信") {
		t.Errorf("the edited rule's verdict: %v %q", acts, cw.text(price))
	}
	if after := must1(os.ReadFile(filepath.Join(cw.dir, "rules.yaml"))); string(after) != string(before) {
		t.Error("the playground changed the rule file")
	}
	if n := len(cw.kk.Posts()); n != 0 {
		t.Errorf("the playground sent %d answers", n)
	}
}

// explainLine reports whether explain's line for rule contains outcome.
func explainLine(out, rule, outcome string) bool {
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 && f[1] == rule && strings.Contains(l, outcome) {
			return true
		}
	}
	return false
}

func TestConsoleCSRF(t *testing.T) {
	t.Parallel()
	cw := newConsoleWorld(t)
	b := cw.b
	cw.signIn("ops", opsPassword)
	held := cw.add(threadA, "多少钱", "阿强", "9001")
	cw.waitStatus(held, "held")
	cw.page("/ui/inbox")

	// In the browser: the approve form without its token.
	row := cw.row(held)
	b.Do(chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%s).remove()`, jsString(row+` form.approve input[name=csrf_token]`))))
	if status := b.Submit(chromedp.Click(chromedp.CSS(row + ` form.approve button[name=action][value=approve]`))); status != http.StatusForbidden {
		t.Errorf("approve without csrf_token: HTTP %d, want 403", status)
	}
	if body := browsertest.Eval[string](b, `document.body.innerText`); !strings.Contains(body, "CSRF") {
		t.Errorf("the 403 page does not say CSRF: %q", body)
	}
	if st, _ := cw.claimStatus(held); st != "held" {
		t.Fatalf("a POST without the token changed the claim to %s", st)
	}

	// With a plain HTTP client, which follows no redirect.
	jar, err := cookiejar.New(nil)
	must(t, err)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(path string, form url.Values) (int, string) {
		t.Helper()
		resp, err := c.PostForm(cw.base+path, form)
		must(t, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := c.Get(cw.base + path)
		must(t, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	// Unauthenticated: a GET goes to the login page, a POST is refused.
	if code, _ := get("/ui/inbox"); code != http.StatusSeeOther {
		t.Errorf("unauthenticated GET /ui/inbox: %d, want 303", code)
	}
	_, login := get("/ui/login")
	token := csrfToken(t, login)
	if code, body := post("/ui/login", url.Values{"username": {"ops"}, "password": {opsPassword}}); code != http.StatusForbidden || !strings.Contains(body, "CSRF") {
		t.Errorf("login without csrf_token: %d %q", code, body)
	}
	if code, _ := post("/ui/login", url.Values{"username": {"ops"}, "password": {opsPassword}, "csrf_token": {token + "x"}}); code != http.StatusForbidden {
		t.Errorf("login with a wrong csrf_token: %d, want 403", code)
	}
	_, login = get("/ui/login")
	token = csrfToken(t, login)
	if code, _ := post("/ui/login", url.Values{"username": {"ops"}, "password": {opsPassword}, "csrf_token": {token}}); code != http.StatusSeeOther {
		t.Fatalf("login with the token: %d, want 303", code)
	}
	code, inbox := get("/ui/inbox")
	if code != http.StatusOK {
		t.Fatalf("inbox after login: %d", code)
	}
	action := "/ui/inbox/" + cw.claimIDs()[held]
	approve := url.Values{"action": {"approve"}, "text": {"阿强 你好"}}
	if code, body := post(action, approve); code != http.StatusForbidden || !strings.Contains(body, "CSRF") {
		t.Errorf("approve without csrf_token: %d %q", code, body)
	}
	// The browser's token is bound to the browser's session, not this one.
	cw.page("/ui/inbox")
	other := browsertest.Eval[string](b, `document.querySelector('form.approve input[name=csrf_token]').value`)
	if other == "" || other == csrfToken(t, inbox) {
		t.Errorf("two sessions have the same csrf_token %q", other)
	}
	approve.Set("csrf_token", other)
	if code, _ := post(action, approve); code != http.StatusForbidden {
		t.Errorf("approve with another session's csrf_token: %d, want 403", code)
	}
	if st, _ := cw.claimStatus(held); st != "held" {
		t.Fatalf("a POST without a valid token changed the claim to %s", st)
	}
	for _, v := range jar.Cookies(must1(url.Parse(cw.base))) {
		cw.cookies["client-"+v.Name] = v.Value
	}

	// A Host the console does not answer to (DNS rebinding): 403, for the
	// console and for POST /-/reload.
	for _, r := range []struct{ method, path string }{{"GET", "/ui/login"}, {"POST", "/-/reload"}} {
		req, err := http.NewRequest(r.method, cw.base+r.path, nil)
		must(t, err)
		req.Host = "rebound.example:80"
		resp, err := c.Do(req)
		must(t, err)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s %s with Host %s: %d, want 403", r.method, r.path, req.Host, resp.StatusCode)
		}
	}
}

// csrfToken finds the value of the first csrf_token field in a page.
func csrfToken(t *testing.T, page string) string {
	t.Helper()
	z := html.NewTokenizer(strings.NewReader(page))
	for {
		switch z.Next() {
		case html.ErrorToken:
			t.Fatalf("no csrf_token in the page:\n%s", page)
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			if tok.Data != "input" {
				continue
			}
			var name, value string
			for _, a := range tok.Attr {
				switch a.Key {
				case "name":
					name = a.Val
				case "value":
					value = a.Val
				}
			}
			if name == "csrf_token" && value != "" {
				return value
			}
		}
	}
}

// untranslated lists the texts of the page's title, headings, labels,
// buttons, table heads and links that look like a message catalogue's key
// ("playground.title"): a message missing from the page's language.
func untranslated(b *browsertest.Browser) []string {
	return browsertest.Eval[[]string](b, `[document.title].concat(Array.from(document.querySelectorAll(
		'h1,h2,h3,h4,th,label,button,legend,summary,option,a,.flash,.error,p')).map(e => e.textContent.trim()))
		.filter(s => /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$/.test(s))`)
}

// Every page, signed in, with something in the inbox: its DOM, nothing
// fetched or linked beyond the daemon, and screenshots at both sizes. With
// TEST_DOC_IMAGES set, the operator guide's two images as well.
func TestConsolePages(t *testing.T) {
	t.Parallel()
	cw := newConsoleWorld(t)
	b := cw.b
	cw.signIn("ops", opsPassword)
	// The live page, open while the decisions are taken, shows them as
	// they come (server-sent events), with no reload.
	cw.page("/ui/live")
	if n := cw.count(`table#live tbody tr`); n != 0 {
		t.Fatalf("live lists %d decisions before any", n)
	}
	// The stream subscribes before it answers: once its headers are
	// here, no decision can be missed.
	testutil.WaitFor(t, "the live page's event stream", func() bool { return b.Responded(cw.base + "/ui/live/events") })
	held := cw.add(threadA, "请问这个多少钱[呲牙]", "史密斯夫妇💑", "9101")
	flagged := cw.add(threadB, "我要投诉，退款！", "老王", "9102")
	cw.add(threadB, "真好看😍", "小虎", "9103")
	browsertest.Run(b, chromedp.Poll[bool](`document.querySelectorAll('table#live tbody tr').length >= 3`))
	if got := cw.text(`table#live tbody`); !strings.Contains(got, "史密斯夫妇💑") || !strings.Contains(got, "谢谢小虎！") {
		t.Errorf("the live rows do not show the comments and answers:\n%s", got)
	}
	cw.waitStatus(held, "held")
	cw.waitStatus(flagged, "flagged")
	testutil.WaitFor(t, "the thanks answer to reach kitkot", func() bool { return len(cw.kk.Posts()) == 1 })

	pages := []struct{ path, sel string }{
		{"/ui/inbox", `table#inbox tbody tr.item`},
		{"/ui/live", `table#live`},
		{"/ui/rules", `table#rules tr[data-rule=price]`},
		{"/ui/playground", `form#playground`},
		{"/ui/replay", `form#replay`},
		{"/ui/health", `table#health`},
	}
	for _, p := range pages {
		cw.page(p.path)
		if st, doc := b.Status(); st != http.StatusOK || !strings.HasSuffix(doc, p.path) {
			t.Errorf("%s: HTTP %d at %s", p.path, st, doc)
			continue
		}
		if cw.count(p.sel) == 0 {
			t.Errorf("%s has no %s", p.path, p.sel)
		}
		if cw.count(`nav a[href="/ui/inbox"]`) != 1 {
			t.Errorf("%s has no nav", p.path)
		}
		if f := b.ForeignURLs(); len(f) != 0 {
			t.Errorf("%s refers beyond the daemon: %v", p.path, f)
		}
		b.Screenshots(strings.TrimPrefix(p.path, "/ui/"))
	}
	// Both languages complete: no heading, label or button shows a
	// message's key instead of its text.
	for _, lang := range []string{"en", "zh-CN"} {
		b.Language(lang)
		for _, p := range pages {
			cw.page(p.path)
			if keys := untranslated(b); len(keys) != 0 {
				t.Errorf("%s in %s shows message keys: %q", p.path, lang, keys)
			}
		}
	}
	// The live page lists the decisions, newest first.
	cw.page("/ui/live")
	if n := cw.count(`table#live tbody tr`); n < 3 {
		t.Errorf("live lists %d decisions, want at least 3", n)
	}
	for _, f := range []string{"platform", "rule", "status"} {
		if cw.count(fmt.Sprintf(`select[name=%s]`, f)) != 1 {
			t.Errorf("live has no %s filter", f)
		}
	}
	// thanks matched, complaint and price did; no rule is marked never.
	cw.page("/ui/rules")
	if cw.count(`table#rules tr[data-rule=price] svg`) != 1 {
		t.Error("the price rule has no chart")
	}
	if cw.count(`table#rules tr.never`) != 0 {
		t.Errorf("%d rules marked never matched, all three matched", cw.count(`table#rules tr.never`))
	}

	dir := os.Getenv(docImagesEnv)
	if dir == "" {
		return
	}
	cw.page("/ui/inbox")
	for _, p := range []struct {
		name string
		v    browsertest.Viewport
	}{{"console-inbox.png", browsertest.Desktop}, {"console-phone.png", browsertest.Phone}} {
		n := b.Picture(filepath.Join(dir, p.name), p.v)
		t.Logf("%s: %d bytes", p.name, n)
		if n > 150<<10 {
			t.Errorf("%s is %d KB, more than the docs' 150 KB", p.name, n>>10)
		}
	}
}
