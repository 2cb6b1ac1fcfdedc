package browsertest

import (
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
)

// recorder is a testing.TB whose Errorf is recorded instead of failing, to
// see what Start's cleanup reports.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// page serves a small form and, on /cdn, a page that loads an image from
// another host, as a page pulling a library from a CDN would.
func page(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `<!doctype html><html lang="zh-CN"><meta name="viewport" content="width=device-width, initial-scale=1"><title>表单</title><body>
<form id="f" method="post" action="/post"><input name="x" value="你好🌏"><button type="submit">送</button></form>
<form id="r" method="post" action="/redirect"><button type="submit">去</button></form>
<a href="/other">same host</a></body></html>`)
	})
	mux.HandleFunc("POST /redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.HandleFunc("POST /post", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnprocessableEntity)
		fmt.Fprintf(w, `<!doctype html><meta name="viewport" content="width=device-width, initial-scale=1"><p id="got">%s</p>`, r.FormValue("x"))
	})
	mux.HandleFunc("GET /cdn", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `<!doctype html><img src="http://cdn.example.com/lib.png"><p>x</p>`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestBrowserFormsScreenshotsAndPictures(t *testing.T) {
	srv := page(t)
	dir := t.TempDir()
	t.Setenv(ScreenshotsEnv, dir)
	b := Start(t, srv.URL)
	b.Do(chromedp.Navigate(srv.URL + "/"))
	if got := b.ForeignURLs(); len(got) != 0 {
		t.Errorf("foreign URLs on a local page: %v", got)
	}
	// A 303 after a POST: the status is the page's it leads to.
	if status := b.Submit(chromedp.Click(chromedp.CSS(`form#r button`))); status != http.StatusOK {
		t.Errorf("submit and redirect: status %d, want 200", status)
	}
	if st, u := b.Status(); st != http.StatusOK || u != srv.URL+"/" {
		t.Errorf("after the redirect Status() = %d %s", st, u)
	}
	status := b.Submit(chromedp.Click(chromedp.CSS(`form#f button[type=submit]`)))
	if status != http.StatusUnprocessableEntity {
		t.Errorf("submit status = %d, want 422", status)
	}
	if got := Run(b, chromedp.Text(chromedp.CSS("#got"))); got != "你好🌏" {
		t.Errorf("the form sent %q", got)
	}
	if st, u := b.Status(); st != http.StatusUnprocessableEntity || !strings.HasSuffix(u, "/post") {
		t.Errorf("Status() = %d %s", st, u)
	}
	b.Screenshots("form")
	for _, v := range []Viewport{Desktop, Phone} {
		f, err := os.Open(filepath.Join(dir, safeName(t.Name()), "form-"+v.Name+".png"))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		_ = f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if w := img.Bounds().Dx(); int64(w) != v.Width {
			t.Errorf("%s screenshot is %d pixels wide, want %d", v.Name, w, v.Width)
		}
	}
	pic := filepath.Join(dir, "pic.png")
	if n := b.Picture(pic, Phone); n == 0 {
		t.Fatal("empty picture")
	}
	f, err := os.Open(pic)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(f)
	_ = f.Close()
	// The phone's width; its height cut where the short page ends.
	if err != nil || int64(cfg.Width) != Phone.Width || cfg.Height < pictureMargin || int64(cfg.Height) >= Phone.Height {
		t.Errorf("picture %dx%d (%v), want the phone's width and less than its height", cfg.Width, cfg.Height, err)
	}
}

func TestBrowserReportsRequestsToOtherHosts(t *testing.T) {
	srv := page(t)
	rec := &recorder{}
	var foreign []string
	t.Run("page", func(t *testing.T) {
		rec.TB = t
		b := Start(rec, srv.URL)
		b.Do(chromedp.Navigate(srv.URL + "/cdn"))
		foreign = b.ForeignURLs()
	})
	if len(foreign) != 1 || foreign[0] != "http://cdn.example.com/lib.png" {
		t.Errorf("ForeignURLs = %v", foreign)
	}
	if len(rec.errs) != 1 || !strings.Contains(rec.errs[0], "http://cdn.example.com/lib.png") {
		t.Errorf("the request to another host was reported as %q", rec.errs)
	}
}

func TestRequireSkipsOrFails(t *testing.T) {
	t.Setenv(ChromiumEnv, filepath.Join(t.TempDir(), "no-such-browser"))
	t.Setenv(RequireEnv, "")
	skipped := t.Run("skip", func(t *testing.T) {
		Require(t)
		t.Error("Require returned without a browser")
	})
	if !skipped {
		t.Error("the subtest failed instead of skipping")
	}
	rec := &recorder{TB: t}
	t.Setenv(RequireEnv, "require")
	fatal := &fataler{recorder: rec}
	func() {
		defer func() { _ = recover() }()
		Require(fatal)
	}()
	if !fatal.called || !strings.Contains(fatal.msg, RequireEnv+"=require") {
		t.Errorf("under %s=require a missing browser gave %q", RequireEnv, fatal.msg)
	}
}

// fataler records Fatalf and stops the caller as Fatalf does.
type fataler struct {
	*recorder
	called bool
	msg    string
}

func (f *fataler) Fatalf(format string, args ...any) {
	f.called, f.msg = true, fmt.Sprintf(format, args...)
	panic("fatal")
}
