package regfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/autoreplyd/autoreplyd/internal/regfile/regfiletest"
	"github.com/autoreplyd/autoreplyd/internal/testutil"
)

func TestReadRefusesWhatIsNotARegularFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fifo := regfiletest.FIFO(t, dir, "fifo")
	for _, tc := range []struct{ path, kind string }{
		{fifo, "a named pipe"},
		{"/dev/zero", "a character device"},
		{dir, "a directory"},
	} {
		var err error
		regfiletest.Returns(t, "Read("+tc.path+")", func() { _, err = Read(tc.path, 1<<20) })
		if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), tc.kind) || !strings.Contains(err.Error(), tc.path) {
			t.Errorf("Read(%s): %v, want ErrNotRegular naming the path and %q", tc.path, err, tc.kind)
		}
	}
}

func TestReadIsBounded(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("12345"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := Read(p, 5); err != nil || string(b) != "12345" {
		t.Errorf("Read at the limit: %q, %v", b, err)
	}
	if _, err := Read(p, 4); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Read over the limit: %v, want ErrTooLarge", err)
	}
	// A /proc file says it has 0 bytes: the limit holds by reading.
	if fi, err := os.Stat("/proc/self/environ"); err == nil && fi.Size() == 0 && len(os.Environ()) > 0 {
		if _, err := Read("/proc/self/environ", 1); !errors.Is(err, ErrTooLarge) {
			t.Errorf("Read(/proc/self/environ, 1): %v, want ErrTooLarge", err)
		}
	}
}

func TestOpenInStaysInside(t *testing.T) {
	t.Parallel()
	outside := filepath.Join(t.TempDir(), "outside")
	if err := os.WriteFile(outside, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, root)
	for _, name := range []string{"link", "../outside", filepath.Join("..", filepath.Base(filepath.Dir(outside)), "outside")} {
		if f, err := OpenIn(root, name); err == nil {
			testutil.Close(t, f)
			t.Errorf("OpenIn(%s) opened a file outside the root", name)
		}
	}
	regfiletest.FIFO(t, dir, "fifo")
	regfiletest.Returns(t, "OpenIn(fifo)", func() {
		if _, err := OpenIn(root, "fifo"); !errors.Is(err, ErrNotRegular) {
			t.Errorf("OpenIn(fifo): %v, want ErrNotRegular", err)
		}
	})
}
