package daemon

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/autoreplyd/autoreplyd/internal/regfile/regfiletest"
	"github.com/autoreplyd/autoreplyd/internal/testutil"
)

// A rules file replaced by a FIFO refuses the reload at once, instead of
// blocking the reload (SIGHUP, POST /-/reload, the watcher) for ever; the
// last good rules keep running.
func TestReloadRefusesFIFO(t *testing.T) {
	t.Parallel()
	cfg := load(t, writeConfig(t, t.TempDir(), closedURL(t), "@every 1h", rulesV1, ""))
	d, err := New(t.Context(), cfg, Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, d)
	if err := os.Remove(cfg.Rules); err != nil {
		t.Fatal(err)
	}
	regfiletest.FIFO(t, filepath.Dir(cfg.Rules), filepath.Base(cfg.Rules))
	regfiletest.Returns(t, "Reload", func() { err = d.Reload() })
	if err == nil || !strings.Contains(err.Error(), cfg.Rules+": not a regular file (a named pipe)") {
		t.Errorf("reload of a FIFO: %v", err)
	}
	if d.Rules().Len() != 2 {
		t.Errorf("rules %v, want the last good ones", ruleNames(d))
	}
}
