// Package regfiletest helps test that reading a configured path cannot hang:
// it makes FIFOs, and runs a read under the test's deadline.
package regfiletest

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// FIFO makes a named pipe called name in dir and returns its path. At the
// end of the test it is opened for writing once, which releases a reader
// still blocked on it (the code under test failed), so the test binary does
// not keep a goroutine stuck in open(2).
func FIFO(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	t.Cleanup(func() {
		if f, err := os.OpenFile(p, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			if err := f.Close(); err != nil {
				t.Error(err)
			}
		}
	})
	return p
}

// Returns runs fn and fails the test if fn has not returned shortly before
// the test binary's deadline (go test -timeout): it must not hang. It waits
// for fn, never for a fixed time; without a deadline it waits as long as fn.
func Returns(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	var expired <-chan time.Time
	if deadline, ok := t.Deadline(); ok {
		// Leave a tenth of the time left (at most 10 s) to report the
		// failure before the test binary panics.
		left := time.Until(deadline)
		timer := time.NewTimer(left - min(left/10, 10*time.Second))
		defer timer.Stop()
		expired = timer.C
	}
	select {
	case <-done:
	case <-expired:
		t.Fatalf("%s did not return before the test's deadline: it hangs", what)
	}
}
