package main

import (
	"bytes"
	"net"
	"os"
	"strings"
	"testing"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
)

// The binary, with its listen port taken by another process, exits 1 with
// one line naming the listen key, and logs nothing before it (no "ready").
func TestEndToEndBusyListenPortIsOneLine(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "@every 1m", true)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer testutil.Close(t, busy)
	addr := busy.Addr().String()
	cfg, err := os.ReadFile(w.cfg)
	must(t, err)
	must(t, os.WriteFile(w.cfg, bytes.Replace(cfg, []byte(`listen: ""`), []byte("listen: "+addr), 1), 0o644))

	_, stderr, code := w.run("run", "--config", w.cfg)
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	if code != 1 || len(lines) != 1 || !strings.HasPrefix(lines[0], "autoreplyd: listen: "+addr+" is in use by another process: ") {
		t.Fatalf("run on a busy port: exit %d, stderr:\n%s", code, stderr)
	}
	if strings.Contains(stderr, `"msg":"ready"`) {
		t.Errorf("something said ready:\n%s", stderr)
	}
}
