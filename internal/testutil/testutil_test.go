package testutil

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// fatalRecorder is a testing.TB whose Fatalf records the message and ends
// the goroutine, as the real one does.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Helper() {}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// run calls f with a recorder in a goroutine and returns what it failed
// with ("" when it returned).
func run(t *testing.T, f func(tb testing.TB)) string {
	r := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r.msg
}

func TestWaitForReturnsOnceTheConditionHolds(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		calls := 0
		msg := run(t, func(tb testing.TB) {
			WaitFor(tb, "three looks", func() bool { calls++; return calls == 3 })
		})
		if msg != "" || calls != 3 {
			t.Fatalf("failed with %q after %d calls", msg, calls)
		}
		if waited := time.Since(start); waited >= maxPoll {
			t.Errorf("waited %s (in the bubble's time) for a condition met on the third look", waited)
		}
	})
}

func TestWaitForGivesUpAfterHangTimeout(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		msg := run(t, func(tb testing.TB) { WaitFor(tb, "nothing", func() bool { return false }) })
		if msg != "timed out waiting for nothing" {
			t.Errorf("message %q", msg)
		}
		if waited := time.Since(start); waited < HangTimeout || waited > HangTimeout+maxPoll {
			t.Errorf("gave up after %s (in the bubble's time), want HangTimeout", waited)
		}
	})
}

func TestWaitForNoErrorNamesTheLastError(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		n := 0
		msg := run(t, func(tb testing.TB) {
			WaitForNoError(tb, "the claims", func() error { n++; return fmt.Errorf("claim %d pending", n) })
		})
		if want := fmt.Sprintf("timed out waiting for the claims: claim %d pending", n); msg != want {
			t.Errorf("message %q, want %q", msg, want)
		}
		msg = run(t, func(tb testing.TB) {
			WaitForNoError(tb, "the claims", func() error { return errors.New("x") })
		})
		if !strings.HasSuffix(msg, ": x") {
			t.Errorf("message %q", msg)
		}
	})
}

func TestWriteFileMakesDirectories(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "a", "b", "rules.yaml")
	WriteFile(t, path, "规则: 😀\n")
	data, err := os.ReadFile(path)
	if err != nil || string(data) != "规则: 😀\n" {
		t.Fatalf("read back %q, %v", data, err)
	}
}

func TestSaveByRenameReplacesTheFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "rules.yaml")
	WriteFile(t, path, "old")
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	SaveByRename(t, path, "new")
	after, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(path); string(data) != "new" {
		t.Errorf("content %q", data)
	}
	if os.SameFile(before, after) {
		t.Error("the file was written in place, not replaced")
	}
	if _, err := os.Stat(path + ".tmp"); !os.IsNotExist(err) {
		t.Errorf("temporary file left: %v", err)
	}
}
