package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/autoreplyd/autoreplyd/internal/syncbuf"
	"github.com/autoreplyd/autoreplyd/internal/testutil"
)

// rulesThanks is a second rules file for directory mode.
const rulesThanks = `rules:
  - name: thanks
    when: 'text contains "好看"'
    reply: '谢谢{{ user.nickname }}！'
`

// reloads counts the outcomes the daemon reports through OnReload.
type reloads struct {
	mu                          sync.Mutex
	changed, unchanged, refused int
	errs                        []error
}

func (r *reloads) on(changed bool, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case err != nil:
		r.refused++
		r.errs = append(r.errs, err)
	case changed:
		r.changed++
	default:
		r.unchanged++
	}
}

// counts returns changed, unchanged and refused.
func (r *reloads) counts() [3]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return [3]int{r.changed, r.unchanged, r.refused}
}

func (r *reloads) lastErr() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.errs) == 0 {
		return nil
	}
	return r.errs[len(r.errs)-1]
}

type seenEvent struct {
	ev                fsnotify.Event
	relevant, pending bool
}

// watched is a running daemon whose rules watch is observed.
type watched struct {
	t       *testing.T
	d       *Daemon
	dir     string // the watched directory
	reloads *reloads
	logs    *syncbuf.Buffer
	done    chan error

	mu       sync.Mutex
	seen     []seenEvent
	sentinel int
}

func (w *watched) hook(ev fsnotify.Event, relevant, pending bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seen = append(w.seen, seenEvent{ev, relevant, pending})
}

// find returns the last event the watcher read on name.
func (w *watched) find(name string) (seenEvent, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, s := range slices.Backward(w.seen) {
		if s.ev.Name == name {
			return s, true
		}
	}
	return seenEvent{}, false
}

// startWatched runs a daemon on the config at cfgPath (no cycle is needed:
// the source may be unreachable) and waits for its rules watch. A non-zero
// debounce replaces reloadDebounce.
func startWatched(t *testing.T, cfgPath string, debounce time.Duration) *watched {
	t.Helper()
	cfg := load(t, cfgPath)
	w := &watched{t: t, reloads: &reloads{}, logs: &syncbuf.Buffer{}, done: make(chan error, 1)}
	log := slog.New(slog.NewTextHandler(w.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	d, err := New(t.Context(), cfg, Options{Logger: log, OnReload: w.reloads.on})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { testutil.Close(t, d) })
	if debounce > 0 {
		d.debounce = debounce
	}
	d.watchHook = w.hook
	w.d = d
	w.dir = cfg.Rules
	if fi, err := os.Stat(cfg.Rules); err != nil || !fi.IsDir() {
		w.dir = filepath.Dir(cfg.Rules)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { w.done <- d.Run(ctx, nil) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-w.done:
			if err != nil {
				t.Errorf("Run returned %v", err)
			}
		case <-time.After(60 * time.Second):
			t.Error("Run did not return after cancellation")
		}
	})
	testutil.WaitFor(t, "the rules watch", func() bool { return strings.Contains(w.logs.String(), "watching rules for changes") })
	return w
}

// settle waits until the watcher has read every event caused so far and no
// reload is pending: it creates an ignored file and waits for the watcher to
// see it (inotify reports one directory's events in order).
func (w *watched) settle() {
	w.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		w.sentinel++
		name := filepath.Join(w.dir, fmt.Sprintf(".sentinel-%d", w.sentinel))
		testutil.WriteFile(w.t, name, "")
		var s seenEvent
		testutil.WaitFor(w.t, "the watcher to see "+name, func() bool {
			var ok bool
			s, ok = w.find(name)
			return ok
		})
		if s.relevant {
			w.t.Fatalf("the sentinel %s counted as a rules change", name)
		}
		if !s.pending {
			return
		}
		if time.Now().After(deadline) {
			w.t.Fatal("a reload stayed pending")
		}
		time.Sleep(50 * time.Millisecond) // a reload is pending: let it fire
	}
}

func (w *watched) waitCounts(what string, want [3]int) {
	w.t.Helper()
	testutil.WaitFor(w.t, what, func() bool { return w.reloads.counts() == want })
	w.settle()
	if got := w.reloads.counts(); got != want {
		w.t.Fatalf("after %s: changed, unchanged, refused = %v, want %v\n%s", what, got, want, w.logs.String())
	}
}

func TestWatchRenameOverReloadsOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	w := startWatched(t, writeConfig(t, dir, closedURL(t), "@every 1h", rulesV1, ""), 0)
	rulesPath := filepath.Join(dir, "rules.yaml")

	testutil.SaveByRename(t, rulesPath, rulesV2)
	w.waitCounts("the reload", [3]int{1, 0, 0})
	if !slices.Equal(ruleNames(w.d), []string{"spam", "price", "thanks"}) {
		t.Fatalf("rules after the edit: %v", ruleNames(w.d))
	}
	if !strings.Contains(w.logs.String(), "rules reloaded") {
		t.Errorf("no \"rules reloaded\" in the log:\n%s", w.logs.String())
	}
}

func TestWatchBurstOfWritesReloadsOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// A longer quiet period than reloadDebounce, so a stall of this loaded
	// test machine between two writes cannot split the burst.
	w := startWatched(t, writeConfig(t, dir, closedURL(t), "@every 1h", rulesV1, ""), time.Second)
	rulesPath := filepath.Join(dir, "rules.yaml")

	// Truncate and write, five times; the half-way versions do not compile.
	for i := range 5 {
		content := rulesV2
		if i < 4 {
			content = rulesV2[:len(rulesV2)*(i+1)/5] + "\n    when: 'txet'\n"
		}
		testutil.WriteFile(t, rulesPath, content)
	}
	w.waitCounts("the reload", [3]int{1, 0, 0})
	if w.d.Rules().Len() != 3 {
		t.Fatalf("rules after the burst: %v", ruleNames(w.d))
	}
}

func TestWatchBrokenEditKeepsLastGoodRules(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	w := startWatched(t, writeConfig(t, dir, closedURL(t), "@every 1h", rulesV1, ""), 0)
	rulesPath := filepath.Join(dir, "rules.yaml")
	before := w.d.Rules()

	testutil.SaveByRename(t, rulesPath, rulesBroken)
	w.waitCounts("the refusal", [3]int{0, 0, 1})
	if w.d.Rules() != before {
		t.Fatalf("a refused reload replaced the rules: %v", ruleNames(w.d))
	}
	logs := w.logs.String()
	if !strings.Contains(logs, "rules reload refused; the last good rules keep running") || !strings.Contains(logs, "rules.yaml:8:") {
		t.Errorf("the refusal does not name file:line:col:\n%s", logs)
	}

	testutil.SaveByRename(t, rulesPath, rulesV2)
	w.waitCounts("the fixed reload", [3]int{1, 0, 1})
	if w.d.Rules().Len() != 3 {
		t.Fatalf("rules after the fix: %v", ruleNames(w.d))
	}
}

func TestWatchDeleteThenRecreate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	w := startWatched(t, writeConfig(t, dir, closedURL(t), "@every 1h", rulesV1, ""), 0)
	rulesPath := filepath.Join(dir, "rules.yaml")
	before := w.d.Rules()

	if err := os.Remove(rulesPath); err != nil {
		t.Fatal(err)
	}
	w.waitCounts("the refusal", [3]int{0, 0, 1})
	// The refusal names the config file and its rules key.
	if err, want := w.reloads.lastErr(), filepath.Join(dir, "config.yaml")+": rules: "+rulesPath+" does not exist"; err == nil || err.Error() != want {
		t.Errorf("reload of a deleted file: %v, want %q", err, want)
	}
	if w.d.Rules() != before {
		t.Fatal("the rules changed when their file was deleted")
	}

	testutil.WriteFile(t, rulesPath, rulesV2)
	w.waitCounts("the recreated file", [3]int{1, 0, 1})
	if w.d.Rules().Len() != 3 {
		t.Fatalf("rules after the file came back: %v", ruleNames(w.d))
	}
}

// touch and chmod change no content: no reload. Rewriting the same bytes
// reloads but does not swap.
func TestWatchUnchangedContent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	w := startWatched(t, writeConfig(t, dir, closedURL(t), "@every 1h", rulesV1, ""), 0)
	rulesPath := filepath.Join(dir, "rules.yaml")
	before := w.d.Rules()

	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(rulesPath, later, later); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(rulesPath, 0o600); err != nil {
		t.Fatal(err)
	}
	w.settle()
	if got := w.reloads.counts(); got != [3]int{} {
		t.Fatalf("touch/chmod caused reloads: %v", got)
	}

	testutil.WriteFile(t, rulesPath, rulesV1)
	w.waitCounts("the no-op reload", [3]int{0, 1, 0})
	if w.d.Rules() != before {
		t.Fatal("identical files were swapped in")
	}
	if !strings.Contains(w.logs.String(), "rules unchanged") {
		t.Errorf("no \"rules unchanged\" in the log:\n%s", w.logs.String())
	}
	// SIGHUP's path says the same.
	if err := w.d.Reload(); err != nil || w.d.Rules() != before {
		t.Fatalf("Reload of unchanged files: %v", err)
	}
}

// dirConfig writes a config whose rules are the directory rules.d holding
// a.yaml (rulesV1).
func dirConfig(t *testing.T, dir string) (cfgPath, rulesDir string) {
	t.Helper()
	cfgPath = writeConfig(t, dir, closedURL(t), "@every 1h", rulesV1, "")
	rulesDir = filepath.Join(dir, "rules.d")
	if err := os.Mkdir(rulesDir, 0o755); err != nil {
		t.Fatal(err)
	}
	testutil.WriteFile(t, filepath.Join(rulesDir, "a.yaml"), rulesV1)
	data, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	testutil.WriteFile(t, cfgPath, strings.Replace(string(data), "rules: rules.yaml", "rules: rules.d", 1))
	return cfgPath, rulesDir
}

func TestWatchDirectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfgPath, rulesDir := dirConfig(t, dir)
	w := startWatched(t, cfgPath, 0)

	// A new rule file joins the rules.
	testutil.SaveByRename(t, filepath.Join(rulesDir, "b.yaml"), rulesThanks)
	w.waitCounts("the new file", [3]int{1, 0, 0})
	if !slices.Equal(ruleNames(w.d), []string{"spam", "price", "thanks"}) {
		t.Fatalf("rules with b.yaml: %v", ruleNames(w.d))
	}

	// Other files and editor temporaries are not rules: no reload.
	ignored := []string{"notes.txt", "README", ".hidden.yaml", ".#b.yaml", "#b.yaml#", "b.yaml~", "b.yaml.swp", "b.yaml.tmp", "4913"}
	for _, name := range ignored {
		testutil.WriteFile(t, filepath.Join(rulesDir, name), "rules: [garbage\n")
	}
	w.settle()
	if got := w.reloads.counts(); got != [3]int{1, 0, 0} {
		t.Fatalf("ignored files caused reloads: %v", got)
	}
	for _, name := range ignored {
		if s, ok := w.find(filepath.Join(rulesDir, name)); !ok || s.relevant {
			t.Errorf("%s: seen %v, relevant %v", name, ok, s.relevant)
		}
	}

	// A removed rule file leaves the rules.
	if err := os.Remove(filepath.Join(rulesDir, "b.yaml")); err != nil {
		t.Fatal(err)
	}
	w.waitCounts("the removed file", [3]int{2, 0, 0})
	if !slices.Equal(ruleNames(w.d), []string{"spam", "price"}) {
		t.Fatalf("rules without b.yaml: %v", ruleNames(w.d))
	}
}

// The watched directory disappearing stops the watch, not the daemon; an
// explicit reload (SIGHUP) still works.
func TestWatchDirectoryRemoved(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfgPath, rulesDir := dirConfig(t, dir)
	w := startWatched(t, cfgPath, 0)
	before := w.d.Rules()

	if err := os.RemoveAll(rulesDir); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, "the refusal", func() bool { return w.reloads.counts()[2] >= 1 })
	testutil.WaitFor(t, "the warning", func() bool { return strings.Contains(w.logs.String(), "watched rules directory was removed") })
	if w.d.Rules() != before {
		t.Fatal("the rules changed when their directory was removed")
	}
	select {
	case err := <-w.done:
		t.Fatalf("Run returned %v", err)
	default:
	}

	if err := os.Mkdir(rulesDir, 0o755); err != nil {
		t.Fatal(err)
	}
	testutil.WriteFile(t, filepath.Join(rulesDir, "a.yaml"), rulesV2)
	if err := w.d.Reload(); err != nil {
		t.Fatal(err)
	}
	if w.d.Rules().Len() != 3 {
		t.Fatalf("rules after an explicit reload: %v", ruleNames(w.d))
	}
}

// A rules file that is a symlink, updated as Kubernetes updates a mounted
// ConfigMap: rules.yaml -> ..data/rules.yaml, and "..data" is swapped by a
// rename. No event names rules.yaml.
func TestWatchConfigMapSymlinkSwap(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfgPath := writeConfig(t, dir, closedURL(t), "@every 1h", rulesV1, "")
	for _, v := range []struct{ dir, rules string }{{"..v1", rulesV1}, {"..v2", rulesV2}} {
		if err := os.Mkdir(filepath.Join(dir, v.dir), 0o755); err != nil {
			t.Fatal(err)
		}
		testutil.WriteFile(t, filepath.Join(dir, v.dir, "rules.yaml"), v.rules)
	}
	rulesPath := filepath.Join(dir, "rules.yaml")
	if err := os.Remove(rulesPath); err != nil {
		t.Fatal(err)
	}
	for _, l := range [][2]string{{"..v1", "..data"}, {"..data/rules.yaml", "rules.yaml"}} {
		if err := os.Symlink(l[0], filepath.Join(dir, l[1])); err != nil {
			t.Fatal(err)
		}
	}
	w := startWatched(t, cfgPath, 0)
	if w.d.Rules().Len() != 2 {
		t.Fatalf("rules through the link: %v", ruleNames(w.d))
	}

	if err := os.Symlink("..v2", filepath.Join(dir, "..data_tmp")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	w.waitCounts("the reload through the swapped link", [3]int{1, 0, 0})
	if w.d.Rules().Len() != 3 {
		t.Fatalf("rules after the swap: %v", ruleNames(w.d))
	}
}

// SIGHUP and the watcher may reload at the same time; the last edit wins.
func TestWatchConcurrentReloads(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"file", "directory"} {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			cfgPath := writeConfig(t, dir, closedURL(t), "@every 1h", rulesV1, "")
			rulesPath := filepath.Join(dir, "rules.yaml")
			if mode == "directory" {
				var rulesDir string
				cfgPath, rulesDir = dirConfig(t, dir)
				rulesPath = filepath.Join(rulesDir, "a.yaml")
			}
			w := startWatched(t, cfgPath, 0)
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					for range 5 {
						_ = w.d.Reload()
						_ = w.d.Rules().Len()
					}
				})
			}
			for _, content := range []string{rulesV2, rulesBroken, rulesV1, rulesV2} {
				testutil.SaveByRename(t, rulesPath, content)
			}
			wg.Wait()
			w.settle()
			if w.d.Rules().Len() != 3 {
				t.Fatalf("rules after the last edit: %v", ruleNames(w.d))
			}
		})
	}
}

func TestIsRuleFileName(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]bool{
		"a.yaml": true, "b.yml": true, "10-spam.yaml": true,
		"a.json": false, "README": false, ".a.yaml": false, ".#a.yaml": false, "#a.yaml#": false,
		"a.yaml~": false, "a.yaml.swp": false, ".a.yaml.swp": false, "a.yaml.tmp": false, "4913": false,
	} {
		if got := isRuleFileName(name); got != want {
			t.Errorf("isRuleFileName(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestWatchHostileNestingKeepsRunning saves the reproduction into the
// watched rules file: 520,000 nested parentheses in one condition, a
// 1.04 MB file under the size cap, which crashed the daemon with a stack
// overflow. The reload is refused with its place, and the last good rules
// keep running.
func TestWatchHostileNestingKeepsRunning(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	w := startWatched(t, writeConfig(t, dir, closedURL(t), "@every 1h", rulesV1, ""), 0)
	rulesPath := filepath.Join(dir, "rules.yaml")
	before := w.d.Rules()

	n := 520000
	testutil.SaveByRename(t, rulesPath, "rules:\n  - name: d\n    when: '"+strings.Repeat("(", n)+"true"+strings.Repeat(")", n)+"'\n    reply: hi\n")
	w.waitCounts("the refusal", [3]int{0, 0, 1})
	if w.d.Rules() != before {
		t.Fatalf("a refused reload replaced the rules: %v", ruleNames(w.d))
	}
	if err := w.reloads.lastErr(); err == nil || !strings.Contains(err.Error(), "rules.yaml:3:76: rule \"d\": when: expression nests brackets more than 64 deep") {
		t.Errorf("refusal = %.300v", err)
	}
	testutil.SaveByRename(t, rulesPath, rulesV2)
	w.waitCounts("the fixed reload", [3]int{1, 0, 1})
}

// Writes to other files of the rules' directory (the database and its -wal
// beside the rules, many times a second) are not relevant and resolve no
// links; writes to a rule file and a swapped link still are.
func TestWatchIgnoresWritesToOtherFiles(t *testing.T) {
	t.Parallel()
	for _, isDir := range []bool{true, false} {
		dir := t.TempDir()
		path := filepath.Join(dir, "rules.yaml")
		testutil.WriteFile(t, path, rulesThanks)
		if isDir {
			path = dir
		}
		w, err := newRulesWatch(path)
		if err != nil {
			t.Fatal(err)
		}
		before := w.resolved
		for _, name := range []string{"autoreplyd.db", "autoreplyd.db-wal", "autoreplyd.db-shm", "notes.yaml~"} {
			for range 100 {
				if w.relevant(fsnotify.Event{Name: filepath.Join(dir, name), Op: fsnotify.Write}) {
					t.Fatalf("dir %v: a write to %s is relevant", isDir, name)
				}
			}
		}
		if w.resolved != before {
			t.Errorf("dir %v: %d link resolutions for writes to other files, want none", isDir, w.resolved-before)
		}
		if !w.relevant(fsnotify.Event{Name: filepath.Join(dir, "rules.yaml"), Op: fsnotify.Write}) {
			t.Errorf("dir %v: a write to the rules file is not relevant", isDir)
		}
		// A link swap (a ConfigMap update) is a create, resolved.
		if err := os.Symlink(filepath.Join(dir, "rules.yaml"), filepath.Join(dir, "..data")); err != nil {
			t.Fatal(err)
		}
		n := w.resolved
		w.relevant(fsnotify.Event{Name: filepath.Join(dir, "..data"), Op: fsnotify.Create})
		if w.resolved != n+1 {
			t.Errorf("dir %v: a created name resolved no links", isDir)
		}
	}
}
