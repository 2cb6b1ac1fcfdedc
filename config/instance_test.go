package config

import (
	"strings"
	"testing"
)

func TestInstanceOfHostName(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ host, want string }{
		{"web-1", "web-1"},
		{"Web-1.Example.COM", "web-1.example.com"},
		{"my host_2", "my-host_2"},
		{"主机", "--"},
		{"", fallbackInstance},
		{strings.Repeat("a", 70), strings.Repeat("a", 64)},
	} {
		if got := instanceOf(c.host); got != c.want {
			t.Errorf("instanceOf(%q) = %q, want %q", c.host, got, c.want)
		}
	}
}

func TestInstanceDefaultsToHostName(t *testing.T) {
	t.Parallel()
	c := mustLoad(t, minimal)
	if c.Instance == "" || c.Instance != DefaultInstance() {
		t.Errorf("instance = %q, want the host's %q", c.Instance, DefaultInstance())
	}
}

func TestInstanceGiven(t *testing.T) {
	t.Parallel()
	if c := mustLoad(t, with(t, "instance: Node-A.1")); c.Instance != "Node-A.1" {
		t.Errorf("instance = %q, want Node-A.1", c.Instance)
	}
	if c := mustLoad(t, minimal, "AUTOREPLYD_INSTANCE=node-b"); c.Instance != "node-b" {
		t.Errorf("instance from the environment = %q, want node-b", c.Instance)
	}
	for _, bad := range []string{"-lead", ".hidden", "a b", "名字", strings.Repeat("x", 65)} {
		msg := loadErr(t, with(t, "instance: "+quoteYAML(bad)))
		wantContains(t, msg, "instance", "not a valid instance name")
	}
}

// quoteYAML quotes s as a YAML double-quoted string.
func quoteYAML(s string) string { return `"` + s + `"` }
