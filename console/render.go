package console

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/autoreplyd/autoreplyd/internal/termesc"
)

// web holds the templates and the static assets (no build step, nothing
// fetched from elsewhere).
//
//go:embed web
var web embed.FS

// pageNames are the templates, each web/NAME.html beside web/layout.html.
var pageNames = []string{"login", "inbox", "live", "rules", "playground", "replay", "health", "error"}

// pages are the parsed templates by name.
type pages map[string]*template.Template

// funcs are the templates' helpers.
var funcs = template.FuncMap{
	// line shows text meant as one line with its control characters and
	// direction overrides visible (\n, \u202e), as the CLI does.
	"line": termesc.String,
}

func parsePages() (pages, error) {
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(web, "web/layout.html")
	if err != nil {
		return nil, errorf("templates: %v", err)
	}
	out := pages{}
	for _, name := range pageNames {
		t, err := template.Must(base.Clone()).ParseFS(web, "web/"+name+".html")
		if err != nil {
			return nil, errorf("templates: %v", err)
		}
		out[name] = t
	}
	return out, nil
}

// page is what the layout shows around a page's content.
type page struct {
	L     *lang
	Nav   string // the page's nav entry
	Title string
	User  string
	CSRF  string
	Flash string
	Error string
	// Errors are more lines of Error (rule problems).
	Errors []string
}

// T is L.T, for the templates.
func (p *page) T(key string, args ...any) string { return p.L.T(key, args...) }

// render writes the page name with data (its own fields beside .P, the
// layout's) at code. A template error is a bug: it is logged and answered
// 500 without a half page.
func (c *Console) render(w http.ResponseWriter, r *http.Request, code int, name string, p *page, data any) {
	if p.L == nil {
		p.L = c.lang(r)
	}
	if p.Title == "" {
		p.Title = p.L.T(name + ".title")
	}
	var buf bytes.Buffer
	if err := c.pages[name].ExecuteTemplate(&buf, "layout.html", struct {
		P *page
		D any
	}{p, data}); err != nil {
		c.log.Error("console page failed", "page", name, "err", err)
		http.Error(w, "internal error rendering the page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, _ = buf.WriteTo(w)
}

// fail answers a signed-in user's request with an error page.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, s *session, code int, msg string) {
	l := c.lang(r)
	c.render(w, r, code, "error", &page{L: l, Title: msg, User: s.user, CSRF: s.csrf, Error: msg}, nil)
}

// signedPage is the layout data of a signed-in user's page.
func (c *Console) signedPage(r *http.Request, s *session, nav string) *page {
	return &page{L: c.lang(r), Nav: nav, User: s.user, CSRF: s.csrf, Flash: c.auth.takeFlash(s)}
}

// serveStatic serves web/static: the stylesheet and the script. They hold
// no data, so they need no sign-in (the login page uses them).
func serveStatic(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	data, err := fs.ReadFile(web, "web/static/"+path.Base(name))
	if err != nil || strings.HasPrefix(name, ".") {
		http.NotFound(w, r)
		return
	}
	switch path.Ext(name) {
	case ".css":
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	case ".js":
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	}
	w.Header().Set("Cache-Control", "max-age=300")
	_, _ = w.Write(data) //nolint:gosec // G705: an embedded file of ours, served with its own type and nosniff
}
