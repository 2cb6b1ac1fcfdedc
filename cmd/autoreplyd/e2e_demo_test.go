package main

// End-to-end test of `autoreplyd demo` as the built binary runs it.

import (
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// Without --dir the demo works in a temporary directory and removes it at
// the end; its hint then names the binary that ran and suggests --dir, not
// the removed database. Its end is no error.
func TestEndToEndDemoTemporaryDir(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(binary, "demo", "--duration", "2s", "--tick", "300ms", "--seed", "9")
	cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH"), "TMPDIR=" + t.TempDir()}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("demo: %v\n%s\n%s", err, out.String(), errb.String())
	}
	o := out.String()
	m := regexp.MustCompile(`database (\S+)/autoreplyd\.db\n`).FindStringSubmatch(o)
	if m == nil {
		t.Fatalf("no database in the first line:\n%s", o)
	}
	if _, err := os.Stat(m[1]); !os.IsNotExist(err) {
		t.Errorf("temporary directory %s left behind: %v", m[1], err)
	}
	if want := "is removed now; to keep the database and query it:\n  " + binary + " demo --dir autoreplyd-demo\n"; !strings.Contains(o, want) {
		t.Errorf("output lacks %q:\n%s", want, o)
	}
	if strings.Contains(o, "history --database") {
		t.Errorf("the hint points at the removed database:\n%s", o)
	}
	if strings.Contains(errb.String(), "level=ERROR") {
		t.Errorf("the demo's end logged an error:\n%s", errb.String())
	}
}
