// Package browsertest drives a real headless Chromium for the tests of the
// web console: it finds the browser, starts it with a fresh profile per
// test, watches every request the page makes so that nothing reaches past
// the loopback server under test, and writes screenshots at a desktop and
// a phone size. It is imported by tests only.
//
// Without a Chromium binary the tests that use it skip, saying why, so
// `go test ./...` passes on a machine with only Go; with
// TEST_BROWSER=require (as .ci/run sets it) they fail instead,
// so CI never passes without having run them.
package browsertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// Environment variables that steer the browser tests.
const (
	// RequireEnv set to "require" turns a missing Chromium from a skip
	// into a failure.
	RequireEnv = "TEST_BROWSER"
	// ChromiumEnv names the browser binary when it is not on PATH under
	// one of the usual names.
	ChromiumEnv = "TEST_CHROMIUM"
	// ScreenshotsEnv names a directory for the screenshots, kept after the
	// run; without it they go to the test's artifact directory (kept with
	// go test -artifacts, removed after the test otherwise).
	ScreenshotsEnv = "TEST_SCREENSHOTS"
)

// Timeout bounds one test's use of the browser. It only stops a test that
// would hang (a page that never loads, a selector that never matches): a
// whole console test takes a few seconds.
const Timeout = 90 * time.Second

// slots bounds how many browsers run at once. A Chromium starting and
// rendering takes a core for a while; the e2e tests run eight at a time on
// two cores, and more browsers at once would only make each test slower.
var slots = make(chan struct{}, 2)

// Viewport is a window size to render and photograph pages at.
type Viewport struct {
	Name          string
	Width, Height int64
	// Mobile makes the page see a touch device, as a phone's browser does.
	Mobile bool
}

// The two sizes every page is photographed at: a laptop's window and a
// common phone (390×844 CSS pixels).
var (
	Desktop = Viewport{Name: "desktop", Width: 1280, Height: 800}
	Phone   = Viewport{Name: "phone", Width: 390, Height: 844, Mobile: true}
)

// names are the usual names of a Chromium or Chrome binary on PATH, the
// first of them Debian's package.
var names = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"}

// ExecPath finds the browser: $TEST_CHROMIUM, else the first of the
// usual names on PATH.
func ExecPath() (string, error) {
	if p := os.Getenv(ChromiumEnv); p != "" {
		//nolint:gosec // G703: the tester names the browser to run
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", ChromiumEnv, p, err)
		}
		return p, nil
	}
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no Chromium on PATH (looked for %s; install Debian's chromium or set %s)", strings.Join(names, ", "), ChromiumEnv)
}

// Require skips t, or fails it under TEST_BROWSER=require, when
// there is no browser; it returns the browser's path. Call it before
// setting up anything costly.
func Require(t testing.TB) string {
	t.Helper()
	p, err := ExecPath()
	if err == nil {
		return p
	}
	if os.Getenv(RequireEnv) == "require" {
		t.Fatalf("browser test: %v (%s=require)", err, RequireEnv)
	}
	t.Skipf("browser test skipped: %v", err)
	return ""
}

// Browser is one headless Chromium with one tab, belonging to one test.
type Browser struct {
	t      testing.TB
	ctx    context.Context
	origin string
	shots  string

	mu        sync.Mutex
	foreign   []string // requests to anything but origin
	status    int64    // the last document's HTTP status
	document  string   // and its URL
	responses []string // the URLs of every response's headers, in order
}

// Start starts a browser for t whose page may reach origin
// ("http://127.0.0.1:port") and nothing else. The browser and its profile
// directory go away when t ends; t fails then if the page made a request to
// another origin.
func Start(t testing.TB, origin string) *Browser {
	t.Helper()
	path := Require(t)
	b := &Browser{t: t, origin: strings.TrimSuffix(origin, "/")}
	u, err := url.Parse(b.origin)
	if err != nil || u.Host == "" {
		t.Fatalf("browsertest: origin %q is not a URL", origin)
	}
	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]),
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", "new"),
		chromedp.WindowSize(int(Desktop.Width), int(Desktop.Height)),
		// Belt and braces beside the request check below: no name but the
		// server's own resolves, so even a missed external reference
		// cannot leave the machine.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE "+u.Hostname()),
		chromedp.Flag("no-proxy-server", true),
	)
	// Chromium refuses to start as root with its sandbox on; CI runs as
	// root. Elsewhere the sandbox stays.
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	slots <- struct{}{}
	ctx, cancelTimeout := context.WithTimeout(context.Background(), Timeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	b.ctx, _ = chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		// Closing the browser first lets chromedp remove the profile
		// before t.TempDir's own cleanup runs.
		_ = chromedp.Cancel(b.ctx)
		cancelAlloc()
		cancelTimeout()
		<-slots
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, f := range b.foreign {
			t.Errorf("the page made a request beyond %s: %s", b.origin, f)
		}
	})
	if err := chromedp.Listen(b.ctx, b.event); err != nil {
		t.Fatalf("browsertest: start %s: %v", path, err)
	}
	// Chinese first, as the console's users' browsers mostly ask; headless
	// Chromium would ask for en-US whatever --lang says.
	b.Language("zh-CN,zh;q=0.9")
	b.shots = os.Getenv(ScreenshotsEnv)
	if b.shots != "" {
		b.shots = filepath.Join(b.shots, safeName(t.Name()))
	}
	return b
}

// event watches the tab's requests and documents. It runs on chromedp's
// reading goroutine, so it only records.
func (b *Browser) event(ev any) {
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		if !b.local(ev.Request.URL) {
			b.mu.Lock()
			b.foreign = append(b.foreign, ev.Request.URL)
			b.mu.Unlock()
		}
	case *network.EventResponseReceived:
		if ev.Response == nil {
			return
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		b.responses = append(b.responses, ev.Response.URL)
		if ev.Type == network.ResourceTypeDocument {
			b.status, b.document = ev.Response.Status, ev.Response.URL
		}
	}
}

// local reports whether a request URL stays with the server under test.
// data: and blob: URLs are the page's own bytes and never touch a network.
func (b *Browser) local(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	switch u.Scheme {
	case "data", "blob", "about":
		return true
	case "http", "https", "ws", "wss":
		o, _ := url.Parse(b.origin)
		return u.Host == o.Host
	}
	return false
}

// Context is the tab's context, for chromedp calls the helpers here do not
// cover.
func (b *Browser) Context() context.Context { return b.ctx }

// Do runs actions in order and fails the test on the first error.
func (b *Browser) Do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("browser: %v", b.explain(err))
	}
}

// Run runs one action for its value and fails the test on an error.
func Run[T any](b *Browser, a chromedp.Action[T]) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, a)
	if err != nil {
		b.t.Fatalf("browser: %v", b.explain(err))
	}
	return v
}

// explain adds where the page was to an error, which is most of what one
// needs to know about a selector that never matched.
func (b *Browser) explain(err error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w (after browsertest.Timeout; the page was %s, HTTP %d)", err, b.document, b.status)
	}
	return fmt.Errorf("%w (the page was %s, HTTP %d)", err, b.document, b.status)
}

// Status is the HTTP status of the last document the tab loaded, and its
// URL: a form's answer after a submit, a redirect's target after a 303.
func (b *Browser) Status() (int64, string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.status, b.document
}

// Responded reports whether the headers of a response from u have
// arrived: for a stream (server-sent events), that it is open.
func (b *Browser) Responded(u string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Contains(b.responses, u)
}

// Language makes the tab ask for pages in lang, as a browser set to that
// language does (its Accept-Language header).
func (b *Browser) Language(lang string) {
	b.t.Helper()
	_, err := chromedp.Call(b.ctx, network.SetExtraHTTPHeaders,
		network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Accept-Language": lang}})
	if err != nil {
		b.t.Fatalf("browser: Accept-Language %s: %v", lang, err)
	}
}

// Cookies are the values of the cookies the browser holds for the server
// under test, by name.
func (b *Browser) Cookies() map[string]string {
	b.t.Helper()
	r, err := chromedp.Call(b.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{b.origin + "/"}})
	if err != nil {
		b.t.Fatalf("browser: cookies: %v", err)
	}
	out := map[string]string{}
	for _, c := range r.Cookies {
		out[c.Name] = c.Value
	}
	return out
}

// Eval evaluates a JavaScript expression in the page.
func Eval[T any](b *Browser, js string) T {
	b.t.Helper()
	return Run(b, chromedp.Evaluate[T](js))
}

// Submit runs trigger (a click on a submit button, a key press), waits for
// the document it leads to and returns that document's HTTP status.
func (b *Browser) Submit(trigger chromedp.Action[chromedp.Void]) int64 {
	b.t.Helper()
	resp, err := chromedp.RunResponse(b.ctx, trigger)
	if err != nil {
		b.t.Fatalf("browser: %v", b.explain(err))
	}
	// Wait for the document to be parsed, so the next query sees it.
	b.Do(chromedp.WaitReady(chromedp.CSS("body")))
	return resp.Status
}

// ForeignURLs lists the absolute http(s) URLs in the page's src, href and
// action attributes that point anywhere but the server under test: what a
// page would fetch from a CDN, or send a person to.
func (b *Browser) ForeignURLs() []string {
	b.t.Helper()
	all := Eval[[]string](b, `Array.from(document.querySelectorAll('[src],[href],[action],[srcset],[poster],[data]'))
		.flatMap(e => ['src','href','action','srcset','poster','data'].map(a => e.getAttribute(a)).filter(Boolean))
		.concat(Array.from(document.querySelectorAll('style')).map(s => s.textContent))`)
	re := regexp.MustCompile(`(?i)(?:(?:https?|wss?):)?//[^\s"'()<>,]+`)
	var out []string
	for _, s := range all {
		for _, m := range re.FindAllString(s, -1) {
			if strings.HasPrefix(m, "//") {
				m = "http:" + m // scheme-relative: as the page is served
			}
			if !b.local(m) {
				out = append(out, m)
			}
		}
	}
	return out
}

// Screenshots photographs the current page whole at the desktop and the
// phone size, as NAME-desktop.png and NAME-phone.png in the screenshot
// directory, and leaves the tab at the desktop size.
func (b *Browser) Screenshots(name string) {
	b.t.Helper()
	dir := b.shots
	if dir == "" {
		dir = artifactDir(b.t)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		b.t.Fatal(err)
	}
	for _, v := range []Viewport{Desktop, Phone} {
		b.SetViewport(v)
		img := Run(b, chromedp.FullScreenshot(100))
		if err := os.WriteFile(filepath.Join(dir, name+"-"+v.Name+".png"), img, 0o600); err != nil {
			b.t.Fatal(err)
		}
	}
	b.SetViewport(Desktop)
}

// SetViewport resizes the tab's page to v.
func (b *Browser) SetViewport(v Viewport) {
	b.t.Helper()
	var opts []chromedp.EmulateViewportOption
	if v.Mobile {
		opts = append(opts, chromedp.EmulatePortrait, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	b.Do(chromedp.EmulateViewport(v.Width, v.Height, opts...))
}

// Picture photographs the visible part of the page at v (no scrolling),
// cut off below where the page ends, and writes it to path as a compact
// PNG: the documentation's images, which must stay small. It returns the
// file's size.
func (b *Browser) Picture(path string, v Viewport) int {
	b.t.Helper()
	b.SetViewport(v)
	raw := Run(b, chromedp.CaptureScreenshot())
	height := Eval[int](b, `Math.ceil(document.body.getBoundingClientRect().bottom)`)
	b.SetViewport(Desktop)
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		b.t.Fatal(err)
	}
	if r := img.Bounds(); height > 0 && height+pictureMargin < r.Dy() {
		if s, ok := img.(interface {
			SubImage(image.Rectangle) image.Image
		}); ok {
			img = s.SubImage(image.Rect(r.Min.X, r.Min.Y, r.Max.X, r.Min.Y+height+pictureMargin))
		}
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, img); err != nil {
		b.t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		b.t.Fatal(err)
	}
	return buf.Len()
}

// pictureMargin is the blank kept below a page's end in a Picture.
const pictureMargin = 16

// artifactDir is t's artifact directory when t has one (go test -artifacts
// keeps it), else a temporary directory.
func artifactDir(t testing.TB) string {
	if a, ok := t.(interface{ ArtifactDir() string }); ok {
		return a.ArtifactDir()
	}
	return t.TempDir()
}

// safeName turns a test's name into a directory name.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ':' || r == ' ' {
			return '_'
		}
		return r
	}, s)
}
