package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
)

// The running daemon picks up an edit of its rules file without SIGHUP, and
// refuses a broken one, keeping the last good rules.
func TestEndToEndLiveReloadOnRename(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "@every 1s", true)
	w.once()
	d := w.start()
	testutil.WaitFor(t, "the rules watch and a cycle", func() bool {
		return strings.Contains(d.log(), "watching rules for changes") && strings.Contains(d.log(), "cycle done")
	})
	rulesPath := filepath.Join(w.dir, "rules.yaml")

	// A good edit, saved by rename: the next comment gets the new reply.
	fixed := strings.Replace(e2eRules, `'谢谢{{ user.nickname }}！'`, `'多谢 {{ user.nickname }}'`, 1)
	testutil.SaveByRename(t, rulesPath, fixed)
	testutil.WaitFor(t, "the reload", func() bool { return strings.Contains(d.log(), "rules reloaded") })
	w.add(threadA, "好看", "阿草", "8001")
	testutil.WaitFor(t, "an answer by the new rules", func() bool { return postsByText(w.kk)["多谢 阿草"] == 1 })

	// A broken edit, saved the same way, is refused with its position.
	broken := strings.Replace(fixed, `text contains "好看"`, `txt contains "好看"`, 1)
	testutil.SaveByRename(t, rulesPath, broken)
	testutil.WaitFor(t, "the reload to be refused", func() bool { return strings.Contains(d.log(), "reload refused") })
	if !strings.Contains(d.log(), "rules.yaml:8:") {
		t.Errorf("refusal does not name file:line:col:\n%s", d.log())
	}
	// The last good rules keep answering.
	w.add(threadA, "好看", "阿花", "8002")
	testutil.WaitFor(t, "an answer by the last good rules", func() bool { return postsByText(w.kk)["多谢 阿花"] == 1 })
	if n := strings.Count(d.log(), `"msg":"rules reloaded"`); n != 1 {
		t.Errorf("%d reloads for one good edit:\n%s", n, d.log())
	}
	select {
	case <-d.done:
		t.Fatalf("the daemon exited:\n%s", d.log())
	default:
	}
}
