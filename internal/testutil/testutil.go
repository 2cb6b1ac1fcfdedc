// Package testutil holds the helpers the tests of several packages share:
// waiting for a condition instead of sleeping, writing fixture files, and
// closing what a test opened. It is imported by tests only.
package testutil

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// HangTimeout bounds every wait. It only stops a test that would hang: no
// test asserts how long something took, so it is far beyond what any
// condition needs on a slow, busy machine.
const HangTimeout = time.Minute

// maxPoll is the longest pause between two looks at a condition. Waits
// start with short pauses, so a condition met in memory is seen at once,
// and grow to this, so one that takes a child process seconds is not
// checked thousands of times.
const maxPoll = 20 * time.Millisecond

// WaitFor checks cond until it holds. If it does not within HangTimeout, t
// fails with "timed out waiting for " + what.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	WaitForNoError(t, what, func() error {
		if cond() {
			return nil
		}
		return errNotYet
	})
}

// WaitForNoError calls check until it returns nil. If it does not within
// HangTimeout, t fails naming what and the last error check returned, so a
// wait on many things says which one was missing.
func WaitForNoError(t testing.TB, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(HangTimeout)
	pause := time.Millisecond
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			if errors.Is(err, errNotYet) {
				t.Fatalf("timed out waiting for %s", what)
			}
			t.Fatalf("timed out waiting for %s: %v", what, err)
		}
		time.Sleep(pause)
		pause = min(2*pause, maxPoll)
	}
}

// errNotYet is WaitFor's condition not holding yet: it has no detail.
var errNotYet = errors.New("not yet")

// WriteFile writes content to path (mode 0644), creating the missing
// directories on the way, and fails t on any error.
func WriteFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// SaveByRename saves content to path the way many editors do: written to
// path + ".tmp", then renamed over path, so a watcher sees a new file
// appear in place of the old one rather than a write to it.
func SaveByRename(t testing.TB, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	WriteFile(t, tmp, content)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// Close closes c and fails the test (t.Error: the test goes on, as the
// caller of a deferred call does) when the Close fails: a database, daemon
// or listener that will not close cleanly is a finding (an unfinalized
// statement, a leaked connection), not noise. Use it as
// `defer testutil.Close(t, st)` or in a t.Cleanup.
func Close(t testing.TB, c io.Closer) {
	t.Helper()
	if err := c.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
}
