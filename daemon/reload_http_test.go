package daemon

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
)

func post(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, nil))
	body, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(body)
}

// Two rules that do not compile: two problems, one a line.
const rulesTwoBroken = rulesV1 + `  - name: broken
    when: 'txet contains "x"'
  - name: broken2
    when: 'text contains'
`

func TestReloadEndpoint(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := load(t, writeConfig(t, dir, closedURL(t), "@every 1h", rulesV1, ""))
	rl := &reloads{}
	d, err := New(t.Context(), cfg, Options{Logger: quietLogger(), OnReload: rl.on})
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, d)
	h := d.HealthHandler()

	if code, body := post(t, h, "/-/reload"); code != 200 || body != "unchanged\n" {
		t.Errorf("reload of the same files: %d %q", code, body)
	}
	testutil.WriteFile(t, cfg.Rules, rulesV2)
	if code, body := post(t, h, "/-/reload"); code != 200 || body != "reloaded\n" {
		t.Errorf("reload of new rules: %d %q", code, body)
	}
	if d.Rules().Len() != 3 {
		t.Errorf("rules %v after the reload", ruleNames(d))
	}

	// Refused: 400 with every problem, file:line:col, one a line.
	testutil.WriteFile(t, cfg.Rules, rulesTwoBroken)
	code, body := post(t, h, "/-/reload")
	if code != http.StatusBadRequest {
		t.Errorf("broken rules: status %d, want 400", code)
	}
	lines := strings.Split(strings.TrimSuffix(body, "\n"), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], "refused") ||
		!strings.Contains(lines[1], "rules.yaml:8:12:") || !strings.Contains(lines[1], "txet") ||
		!strings.Contains(lines[2], "rules.yaml:10:24:") {
		t.Errorf("broken rules: body %q, want a heading and the two problems with file:line:col", body)
	}
	if d.Rules().Len() != 3 {
		t.Errorf("rules %v after a refused reload, want the last good ones", ruleNames(d))
	}
	// /-/ready says so too, like a refused SIGHUP reload.
	if code, body := get(t, h, "/-/ready"); code != http.StatusServiceUnavailable || !strings.Contains(body, "rules reload refused") {
		t.Errorf("ready after a refused reload: %d %q", code, body)
	}

	// Rules that cannot be read at all: 500.
	if err := os.Remove(cfg.Rules); err != nil {
		t.Fatal(err)
	}
	if code, body := post(t, h, "/-/reload"); code != http.StatusInternalServerError || !strings.Contains(body, "rules.yaml") {
		t.Errorf("missing rules: %d %q", code, body)
	}
	if d.Rules().Len() != 3 {
		t.Errorf("rules %v after a refused reload, want the last good ones", ruleNames(d))
	}

	// Only POST.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/-/reload", nil))
	if rec.Code != http.StatusMethodNotAllowed || !strings.Contains(rec.Header().Get("Allow"), "POST") {
		t.Errorf("GET /-/reload: %d, Allow %q; want 405 and POST", rec.Code, rec.Header().Get("Allow"))
	}
	if got := rl.counts(); got[0]+got[1]+got[2] != 4 {
		t.Errorf("OnReload told of %v, want 4 reloads", got)
	}
}
