package cli

import (
	"net"
	"os"
	"strings"
	"testing"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
)

// run with its listen address taken by another process exits 1 with one
// line naming the listen key, before anything says ready; run --once does
// not listen, so it works beside a running service.
func TestRunListenPortBusy(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, busy)
	addr := busy.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	cfg, _ := checkWorld(t, goodRules, "")
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Info logging, so that a "ready" line would show.
	testutil.WriteFile(t, cfg, strings.Replace(string(data), `listen: ""`, "listen: "+addr+"\nlog: {level: debug}", 1))

	r := runCLI(t, nil, "run", "--config", cfg)
	want := "autoreplyd: listen: " + addr + " is in use by another process: bind: address already in use " +
		"(`ss -ltnp 'sport = :" + port + "'` names it; set listen to a free address, or \"\" to turn the listener off)\n"
	if r.code != 1 || r.stderr != want {
		t.Errorf("run on a busy port: exit %d, stderr:\n%s\nwant exit 1 and only:\n%s", r.code, r.stderr, want)
	}

	r = runCLI(t, nil, "run", "--once", "--config", cfg)
	if r.code != 0 || !strings.Contains(r.stderr, "cycle done") {
		t.Errorf("run --once beside a busy listen port: exit %d\n%s", r.code, r.stderr)
	}
}
