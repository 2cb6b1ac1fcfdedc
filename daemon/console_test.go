package daemon

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/poller"
)

// consoleDaemon is a daemon with a console section, serving its listener
// on a fresh loopback port; it returns the daemon and the address.
func consoleDaemon(t *testing.T) (*Daemon, string) {
	t.Helper()
	dir := t.TempDir()
	path := writeConfig(t, dir, closedURL(t), "@every 1h", rulesV1, `console:
  users:
    - {name: ops, password_file: console-ops}
  allowed_hosts: ["autoreplyd.internal:9464"]
`)
	testutil.WriteFile(t, filepath.Join(dir, "console-ops"), "PASSWORD-s3cr3t-daemon-console\n")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	testutil.WriteFile(t, path, strings.Replace(string(b), `listen: ""`, `listen: "127.0.0.1:0"`, 1))
	cfg := load(t, path)
	d, err := New(t.Context(), cfg, Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { testutil.Close(t, d) })
	addr := d.listener.Addr().String()
	stop, err := d.serveHealth(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return d, addr
}

func TestConsoleMounted(t *testing.T) {
	t.Parallel()
	d, addr := consoleDaemon(t)
	for _, tc := range []struct {
		method, path, host string
		code               int
		want               string
	}{
		{"GET", "/ui/login", "", http.StatusOK, `<form id="login"`},
		{"GET", "/ui/login", "localhost" + addr[strings.LastIndexByte(addr, ':'):], http.StatusOK, `<form id="login"`},
		{"GET", "/ui/login", "autoreplyd.internal:9464", http.StatusOK, `<form id="login"`},
		{"GET", "/ui/login", "evil.example:9464", http.StatusForbidden, "console.allowed_hosts"},
		{"POST", "/ui/login", "evil.example:9464", http.StatusForbidden, "console.allowed_hosts"},
		{"GET", "/ui/inbox", "", http.StatusOK, `<form id="login"`}, // redirected to the login page
		{"POST", "/-/reload", "evil.example:9464", http.StatusForbidden, "console.allowed_hosts"},
		{"POST", "/-/reload", "autoreplyd.internal:9464", http.StatusOK, "unchanged"},
		{"POST", "/-/reload", "", http.StatusOK, "unchanged"},
		{"GET", "/metrics", "", http.StatusOK, "autoreplyd_build_info"},
		{"GET", "/metrics", "evil.example:9464", http.StatusMisdirectedRequest, "misdirected"},
	} {
		code, body := request(t, addr, tc.method, tc.path, tc.host, nil)
		if code != tc.code || !strings.Contains(body, tc.want) {
			t.Errorf("%s %s Host %q: %d, want %d with %q:\n%.300s", tc.method, tc.path, tc.host, code, tc.code, tc.want, body)
		}
	}
	// Decisions reach the live page without blocking the poller.
	if d.console == nil {
		t.Fatal("no console")
	}
	on := d.onEvent(nil)
	for range 1000 {
		on(poller.Event{Comment: model.Comment{Platform: model.PlatformDouyin, Text: "多少钱"}, Rule: "price", Status: model.StatusSent})
	}
	st := d.consoleStatus(t.Context(), []string{"douyin"}, []string{"kitkot"})
	if len(st.Sources) != 1 || st.Reload.At.IsZero() || st.Reload.Err != "" {
		t.Errorf("console status = %+v", st)
	}
}
