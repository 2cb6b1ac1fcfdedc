package daemon

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/autoreplyd/autoreplyd/rules"
)

// reloadDebounce is how long the rules must stay quiet before a reload. One
// editor save is a burst of events (a temporary file written and renamed
// over, or a truncate followed by several writes): waiting for the burst to
// end reloads the finished file once, not a half-written one several times.
// 250 ms outlasts a save and is still well below what an operator notices.
const reloadDebounce = 250 * time.Millisecond

// watchRules reloads the rules when their files change, until ctx ends. It
// watches the directory, not the files: editors save by renaming over the
// file, which ends a watch on the file itself. If watching fails it logs why
// and returns; the daemon keeps running and SIGHUP still reloads.
func (d *Daemon) watchRules(ctx context.Context) {
	log := d.watchLog
	rw, err := newRulesWatch(d.cfg.Rules)
	if err != nil {
		log.Error("cannot watch the rules: live reload is off, SIGHUP still reloads", "err", err)
		return
	}
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		log.Error("cannot watch the rules: live reload is off, SIGHUP still reloads", "err", err)
		return
	}
	defer func() {
		if err := fw.Close(); err != nil {
			log.Warn("closing the rules watcher", "err", err)
		}
	}()
	if err := fw.Add(rw.dir); err != nil {
		log.Error("cannot watch the rules: live reload is off, SIGHUP still reloads", "dir", rw.dir, "err", err)
		return
	}
	log.Info("watching rules for changes", "dir", rw.dir, "debounce", d.debounce.String())

	var timer *time.Timer
	var fire <-chan time.Time // non-nil while a reload is pending
	schedule := func() {
		if timer == nil {
			timer = time.NewTimer(d.debounce)
		} else {
			timer.Reset(d.debounce) // no stale tick after Reset since Go 1.23
		}
		fire = timer.C
	}
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	// An edit made between the first load and this watch would be missed.
	if d.rulesChanged() {
		schedule()
	}
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-fw.Events:
			if !ok {
				return
			}
			relevant := rw.relevant(ev)
			if relevant {
				log.Debug("rules changed", "event", ev.String())
				schedule()
			}
			if filepath.Clean(ev.Name) == rw.dir && ev.Op.Has(fsnotify.Remove|fsnotify.Rename) {
				log.Warn("the watched rules directory was removed or moved: live reload stops until restart, SIGHUP still reloads", "dir", rw.dir)
			}
			if d.watchHook != nil {
				d.watchHook(ev, relevant, fire != nil)
			}
		case err, ok := <-fw.Errors:
			if !ok {
				return
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				log.Warn("rules watch lost events; reloading to be sure", "err", err)
				schedule()
				continue
			}
			log.Error("rules watch", "err", err)
		case <-fire:
			fire = nil
			_ = d.reload("file change") // logs its outcome
		}
	}
}

// rulesChanged says whether the rules files differ from the live rules'.
func (d *Daemon) rulesChanged() bool {
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	now, err := rulesDigest(d.cfg.Rules)
	return err != nil || now != d.digest
}

// rulesWatch decides which events in the watched directory concern the
// rules.
type rulesWatch struct {
	path  string // the rules file or directory as configured
	dir   string // the directory watched
	isDir bool   // path is a directory of rule files
	base  string // in file mode, the rules file's name in dir
	links string // what the rules resolved to through symlinks, last seen
	// resolved counts the resolutions (each stats every rule file and
	// follows its links).
	resolved int
}

func newRulesWatch(path string) (*rulesWatch, error) {
	path = filepath.Clean(path)
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	w := &rulesWatch{path: path}
	if fi.IsDir() {
		w.dir, w.isDir = path, true
	} else {
		// The link's directory, not the target's, if path is a symlink: a
		// swapped link shows up there, and a reload reads through it.
		w.dir, w.base = filepath.Dir(path), filepath.Base(path)
	}
	w.links = w.resolve()
	return w, nil
}

// relevant says whether ev may have changed the rules. Chmod alone (touch,
// chmod) never does; events on other names do not either, unless they
// changed where a symlinked rules file points (a Kubernetes ConfigMap update
// renames a "..data" link and touches no rules file name).
//
// A write to another name is let go without resolving the links (a swap
// creates, renames or removes, it does not write): the database, its -wal
// and the log may live in the rules' directory, and are written many times
// a second.
func (w *rulesWatch) relevant(ev fsnotify.Event) bool {
	if ev.Op&^fsnotify.Chmod == 0 {
		return false
	}
	if ev.Op&^(fsnotify.Chmod|fsnotify.Write) == 0 && filepath.Clean(ev.Name) != w.dir {
		name := filepath.Base(ev.Name)
		if w.isDir && !isRuleFileName(name) || !w.isDir && name != w.base {
			return false
		}
	}
	links := w.resolve()
	moved := links != w.links
	w.links = links
	if filepath.Clean(ev.Name) == w.dir {
		return true // the directory itself went away
	}
	name := filepath.Base(ev.Name)
	if w.isDir {
		if isRuleFileName(name) {
			return true // a rule file written, created, renamed or removed
		}
	} else if name == w.base {
		return true
	}
	return moved
}

// resolve describes what the rules files are through symlinks.
func (w *rulesWatch) resolve() string {
	w.resolved++
	paths, err := ruleFilePaths(w.path)
	if err != nil {
		return ""
	}
	var b strings.Builder
	for _, p := range paths {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			b.WriteString(r)
		}
		b.WriteByte(0)
	}
	return b.String()
}

// isRuleFileName says whether rules.Load reads a file of this name in a
// rules directory: *.yaml and *.yml, not dotfiles (".x.yaml", Emacs's
// ".#x.yaml") nor "#x.yaml#". Other editor temporaries ("x.yaml~",
// "x.yaml.swp", "x.yaml.tmp") fail the extension test.
func isRuleFileName(name string) bool {
	ext := filepath.Ext(name)
	if ext != ".yaml" && ext != ".yml" {
		return false
	}
	return !strings.HasPrefix(name, ".") && !strings.HasPrefix(name, "#") && !strings.HasSuffix(name, "~")
}

// ruleFilePaths lists the files rules.Load reads for path, in its order.
func ruleFilePaths(path string) ([]string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return []string{path}, nil
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if !isRuleFileName(e.Name()) {
			continue
		}
		p := filepath.Join(path, e.Name())
		if fi, err := os.Stat(p); err != nil || fi.IsDir() {
			continue
		}
		out = append(out, p)
	}
	slices.Sort(out)
	return out, nil
}

// rulesDigest is a hash of the names and contents of the files rules.Load
// reads for path: equal digests mean a reload would load the same rules.
func rulesDigest(path string) (string, error) {
	paths, err := ruleFilePaths(path)
	if err != nil {
		return "", err
	}
	datas := make([][]byte, len(paths))
	for i, p := range paths {
		if datas[i], err = rules.ReadFile(p); err != nil {
			return "", err
		}
	}
	return digestOf(paths, datas), nil
}

// digestOf hashes files by name, length and contents.
func digestOf(paths []string, datas [][]byte) string {
	h := sha256.New()
	for i, p := range paths {
		fmt.Fprintf(h, "%s\x00%d\x00", p, len(datas[i]))
		h.Write(datas[i])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// fileVersions identifies the versions of the files rules.Load reads for
// path (nil on error); see sameVersions.
func fileVersions(path string) []os.FileInfo {
	paths, err := ruleFilePaths(path)
	if err != nil {
		return nil
	}
	out := make([]os.FileInfo, len(paths))
	for i, p := range paths {
		if out[i], err = os.Stat(p); err != nil {
			return nil
		}
	}
	return out
}

// sameVersions says whether no file was added, removed, renamed over or
// written between two fileVersions.
func sameVersions(a, b []os.FileInfo) bool {
	if a == nil || b == nil || len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name() != b[i].Name() || !os.SameFile(a[i], b[i]) || a[i].Size() != b[i].Size() || !a[i].ModTime().Equal(b[i].ModTime()) {
			return false
		}
	}
	return true
}
