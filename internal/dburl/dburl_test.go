package dburl

import (
	"strings"
	"testing"
)

func TestDisplayAndCheck(t *testing.T) {
	for _, c := range []struct{ in, shown, err string }{
		{"/var/lib/autoreplyd/autoreplyd.db", "/var/lib/autoreplyd/autoreplyd.db", ""},
		{"postgres://ar@db1:5432/autoreplyd?sslmode=verify-full", "postgres://ar@db1:5432/autoreplyd?sslmode=verify-full", ""},
		{"postgresql://ar@db1/autoreplyd?passfile=/etc/autoreplyd/pgpass&sslmode=require", "postgresql://ar@db1/autoreplyd?sslmode=require", ""},
		{"postgres://ar:hunter2-secret@db1/autoreplyd", "postgres://ar@db1/autoreplyd", "holds a password"},
		{"postgres://ar@db1/autoreplyd?password=hunter2-secret", "postgres://ar@db1/autoreplyd", "holds a password"},
		{"postgres://ar@db1/autoreplyd?sslmode=verify-full&sslpassword=hunter2-secret", "postgres://ar@db1/autoreplyd?sslmode=verify-full", "holds a password"},
		{"postgres://ar@db1/", "postgres://ar@db1/", "names no database"},
		{"postgres://ar@db1:bad port/x\x7f", "postgres://(unreadable URL)", "not a readable"},
	} {
		if got := Display(c.in); got != c.shown {
			t.Errorf("Display(%q) = %q, want %q", c.in, got, c.shown)
		}
		err := Check(c.in)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("Check(%q) = %v", c.in, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("Check(%q) = %v, want %q", c.in, err, c.err)
		case err != nil && strings.Contains(err.Error(), "hunter2"):
			t.Errorf("Check(%q) shows the password: %v", c.in, err)
		}
	}
}
