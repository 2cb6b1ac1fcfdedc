package cli

import (
	"os"
	"path/filepath"
	"testing"
)

// The commands the demo and simulate print name the binary that runs:
// go run's temporary executable is gone once it exits, so they say go run.
func TestProgram(t *testing.T) {
	saved := os.Args
	t.Cleanup(func() { os.Args = saved })
	bin := filepath.Join(t.TempDir(), "autoreplyd")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ arg0, want string }{
		{"/tmp/go-build2806154447/b001/exe/autoreplyd", "go run ./cmd/autoreplyd"},
		{"autoreplyd", "autoreplyd"},
		{"./autoreplyd", "./autoreplyd"},
		{bin, bin}, // not what $PATH finds
		{"/opt/my tools/autoreplyd", "'/opt/my tools/autoreplyd'"},
	} {
		os.Args = []string{tc.arg0, "demo"}
		if got := program(); got != tc.want {
			t.Errorf("os.Args[0] %s: program() = %q, want %q", tc.arg0, got, tc.want)
		}
	}
	// The same file found through $PATH: its name alone.
	t.Setenv("PATH", filepath.Dir(bin))
	os.Args = []string{bin}
	if got := program(); got != "autoreplyd" {
		t.Errorf("on $PATH: program() = %q", got)
	}
}
