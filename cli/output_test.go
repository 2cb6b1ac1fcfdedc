package cli

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// failingWriter accepts limit bytes, then fails every write.
type failingWriter struct {
	limit int
	got   bytes.Buffer
}

var errNoSpace = errors.New("no space left on device")

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.got.Len()+len(p) > w.limit {
		n := w.limit - w.got.Len()
		w.got.Write(p[:n])
		return n, errNoSpace
	}
	return w.got.Write(p)
}

// A command whose output could not be written fails, and says so, instead
// of exiting 0 with a truncated output.
func TestMainReportsLostOutput(t *testing.T) {
	for _, limit := range []int{0, 5} {
		out := &failingWriter{limit: limit}
		var errb bytes.Buffer
		code := Main(t.Context(), []string{"version"}, Env{Stdout: out, Stderr: &errb})
		if code != 1 {
			t.Errorf("limit %d: exit %d, want 1", limit, code)
		}
		if want := "autoreplyd: the output is incomplete: no space left on device\n"; errb.String() != want {
			t.Errorf("limit %d: stderr %q, want %q", limit, errb.String(), want)
		}
		if !strings.HasPrefix("autoreplyd ", out.got.String()) || out.got.Len() != limit {
			t.Errorf("limit %d: stdout %q", limit, out.got.String())
		}
	}
	// The same command with room for its output succeeds.
	out := &failingWriter{limit: 1 << 10}
	var errb bytes.Buffer
	if code := Main(t.Context(), []string{"version"}, Env{Stdout: out, Stderr: &errb}); code != 0 || errb.Len() != 0 ||
		!strings.HasPrefix(out.got.String(), "autoreplyd ") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out.got.String(), errb.String())
	}
}
