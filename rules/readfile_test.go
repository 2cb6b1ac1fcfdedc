package rules

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/autoreplyd/autoreplyd/internal/regfile/regfiletest"
)

// A FIFO or a device given as the rules, or lying in a rules directory
// under a rule file's name, is refused at once: not waited on (a FIFO), not
// read without end (/dev/zero).
func TestLoadRefusesWhatIsNotARegularFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "10-good.yaml"), []byte("rules:\n  - name: a\n    when: 'true'\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fifoInDir := regfiletest.FIFO(t, dir, "20-fifo.yaml")
	fifo := regfiletest.FIFO(t, t.TempDir(), "rules.yaml")
	for _, tc := range []struct{ path, want string }{
		{fifo, "load rules: " + fifo + ": not a regular file (a named pipe)"},
		{dir, "load rules: " + fifoInDir + ": not a regular file (a named pipe)"},
		{"/dev/zero", "load rules: /dev/zero: not a regular file (a character device)"},
	} {
		var err error
		regfiletest.Returns(t, "Load("+tc.path+")", func() { _, err = Load(tc.path, Options{}) })
		if err == nil || err.Error() != tc.want {
			t.Errorf("Load(%s): %v, want %q", tc.path, err, tc.want)
		}
		regfiletest.Returns(t, "ReadFile("+tc.path+")", func() { _, err = ReadFile(tc.path) })
		if err == nil {
			t.Errorf("ReadFile(%s) read it", tc.path)
		}
	}
}

// A rule file over the cap is refused as a problem of that file, at its
// first line, without reading past the cap.
func TestLoadRefusesOversizeFile(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(p, []byte("rules: []\n#"+strings.Repeat("x", maxRuleFile)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(p, Options{})
	var le *LoadError
	if !errors.As(err, &le) || err.Error() != p+":1:1: file is larger than the 1 MiB a rule file may have" {
		t.Errorf("Load of a file over 1 MiB: %v", err)
	}
}

// Rules that cannot be read at all are a *ReadError saying what is wrong
// with which path, in words (not "stat ...: no such file or directory"),
// that a caller can attribute to where the path came from.
func TestReadErrorSaysWhatIsWrong(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	missing := filepath.Join(dir, "rules.yaml")
	empty := filepath.Join(dir, "rules.d")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{missing, "load rules: " + missing + " does not exist"},
		{empty, "load rules: " + empty + ": a directory with no *.yaml or *.yml files"},
	} {
		_, err := Load(tc.path, Options{})
		var re *ReadError
		if !errors.As(err, &re) || err.Error() != tc.want {
			t.Errorf("Load(%s): %v, want %q", tc.path, err, tc.want)
			continue
		}
		re.Origin = "/etc/autoreplyd/config.yaml: rules"
		if want := strings.Replace(tc.want, "load rules", re.Origin, 1); err.Error() != want {
			t.Errorf("with its origin: %v, want %q", err, want)
		}
	}
	_, err := ReadFile(missing)
	if !errors.Is(err, fs.ErrNotExist) || err.Error() != "load rules: "+missing+" does not exist" {
		t.Errorf("ReadFile of a missing file: %v", err)
	}
}
