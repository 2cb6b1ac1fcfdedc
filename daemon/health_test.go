package daemon

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
)

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	body, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(body)
}

func TestReadyReportsPausesAndRefusedReloads(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := load(t, writeConfig(t, dir, closedURL(t), "@every 1h", rulesV1, ""))
	d, err := New(t.Context(), cfg, Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, d)
	h := d.HealthHandler()

	if code, body := get(t, h, "/-/healthy"); code != 200 || body != "healthy\n" {
		t.Fatalf("healthy: %d %q", code, body)
	}
	if code, body := get(t, h, "/-/ready"); code != 200 || body != "ready\n" {
		t.Fatalf("ready: %d %q", code, body)
	}

	// A persisted pause (a quota answer, or a tripped responder) makes it
	// not ready, with the reason.
	until := time.Now().Add(time.Hour)
	if err := d.Store().SetPause(t.Context(), "responder:kitkot", until, "5 permanent failures in a row, last code 400", time.Now()); err != nil {
		t.Fatal(err)
	}
	code, body := get(t, h, "/-/ready")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "responder:kitkot") || !strings.Contains(body, "code 400") {
		t.Fatalf("ready while paused: %d %q", code, body)
	}

	// A refused reload is reported too, and cleared by a good one.
	if err := d.Store().ClearPause(t.Context(), "responder:kitkot"); err != nil {
		t.Fatal(err)
	}
	testutil.WriteFile(t, cfg.Rules, rulesBroken)
	if err := d.Reload(); err == nil {
		t.Fatal("broken rules reloaded")
	}
	code, body = get(t, h, "/-/ready")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "rules reload refused") || !strings.Contains(body, "rules.yaml:") {
		t.Fatalf("ready after a refused reload: %d %q", code, body)
	}
	testutil.WriteFile(t, cfg.Rules, rulesV2)
	if err := d.Reload(); err != nil {
		t.Fatal(err)
	}
	if code, body := get(t, h, "/-/ready"); code != 200 {
		t.Fatalf("ready after a good reload: %d %q", code, body)
	}
}

func TestRunServesHealthAndRefusesBusyAddress(t *testing.T) {
	t.Parallel()
	// An address already taken fails New before anything is logged (no
	// "ready"), with one line naming the listen key.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, busy)
	dir := t.TempDir()
	cfg := load(t, writeConfig(t, dir, closedURL(t), "@every 1h", rulesV1, ""))
	cfg.Listen = busy.Addr().String()
	var logs strings.Builder
	if _, err := New(t.Context(), cfg, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))}); err == nil ||
		!strings.HasPrefix(err.Error(), "listen: "+cfg.Listen+" is in use by another process: bind: address already in use") ||
		strings.Contains(err.Error(), "\n") {
		t.Fatalf("New on a busy address: %v", err)
	}
	if logs.Len() != 0 {
		t.Errorf("New logged before failing on a busy address:\n%s", logs.String())
	}

	// Without the listener (run --once), the busy address is no matter.
	d, err := New(t.Context(), cfg, Options{Logger: quietLogger(), NoListen: true})
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, d)

	// A free address is served while Run runs.
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := free.Addr().String()
	testutil.Close(t, free)
	cfg.Listen = addr
	runUntilHealthy(t, d, addr)
	if _, err := http.Get("http://" + addr + "/-/healthy"); err == nil {
		t.Fatal("still serving after Run returned")
	}
}

// New holds the listen address from its first step, so that nothing (the
// "ready" line, READY=1) comes before a busy port is known; it lets go of it
// when it fails later, and Close does when Run never took it.
func TestNewBindsTheListenAddressFirst(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	dir := t.TempDir()
	cfg := load(t, writeConfig(t, dir, closedURL(t), "@every 1h", rulesV1, ""))
	cfg.Listen = addr

	// A later failure (here the rules) releases the address.
	rulesPath := cfg.Rules
	cfg.Rules = filepath.Join(dir, "missing.yaml")
	if _, err := New(t.Context(), cfg, Options{Logger: quietLogger()}); err == nil {
		t.Fatal("New with missing rules succeeded")
	}
	mustBind(t, addr)

	cfg.Rules = rulesPath
	d, err := New(t.Context(), cfg, Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if ln, err := net.Listen("tcp", addr); err == nil {
		testutil.Close(t, ln)
		t.Fatal("New did not bind the listen address")
	}
	testutil.Close(t, d)
	mustBind(t, addr)

	// Run serves the listener New bound.
	d, err = New(t.Context(), cfg, Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, d)
	runUntilHealthy(t, d, addr)
}

// freeAddr is a loopback address nothing listens on (as of the call).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, ln)
	return ln.Addr().String()
}

// mustBind checks that addr is free by binding it.
func mustBind(t *testing.T, addr string) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("%s is still held: %v", addr, err)
	}
	testutil.Close(t, ln)
}

// runUntilHealthy runs d until its listener at addr answers /-/healthy,
// then stops it; Run must return nil.
func runUntilHealthy(t *testing.T, d *Daemon, addr string) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, nil) }()
	testutil.WaitFor(t, "/-/healthy", func() bool {
		resp, err := http.Get("http://" + addr + "/-/healthy")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
