package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A PostgreSQL URL is kept as written (not taken for a relative path), its
// password comes from database_password_file only and is a secret like
// the others, and a password written in the URL is refused without being
// echoed.
func TestDatabasePostgres(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pgpass")
	writeSecretFile(t, pw, []byte("pg-Secret-9f8e7d\n"), 0o600)
	cfg := mustLoad(t, "database_password_file: "+pw+"\n"+minimal+
		"\n", "AUTOREPLYD_DATABASE=postgres://autoreplyd@db1.internal:5432/autoreplyd?sslmode=verify-full")
	if cfg.Database != "postgres://autoreplyd@db1.internal:5432/autoreplyd?sslmode=verify-full" {
		t.Errorf("database = %q", cfg.Database)
	}
	if cfg.DatabasePassword.Value() != "pg-Secret-9f8e7d" {
		t.Errorf("password = %q", cfg.DatabasePassword.Value())
	}
	if !slices.Contains(cfg.Secrets(), "pg-Secret-9f8e7d") {
		t.Error("the database password is not among the secrets scrubbed from output")
	}

	msg := loadErr(t, minimal, "AUTOREPLYD_DATABASE=postgres://autoreplyd:hunter2-pw@db1/autoreplyd")
	wantContains(t, msg, "database", "password")
	if strings.Contains(msg, "hunter2") {
		t.Errorf("the error shows the URL's password:\n%s", msg)
	}
	msg = loadErr(t, "database_password_file: "+pw+"\n"+minimal)
	wantContains(t, msg, "database_password_file", "only for a PostgreSQL database")
	msg = loadErr(t, "database_password_file: /nonexistent/pw\n"+minimal,
		"AUTOREPLYD_DATABASE=postgres://a@h/d")
	wantContains(t, msg, "database_password_file")
	if _, err := os.Stat(pw); err != nil {
		t.Fatal(err)
	}
}
