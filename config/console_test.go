package config

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// secretConsolePassword is a console password written to a credential file.
const secretConsolePassword = "PASSWORD-s3cr3t-console-5c6d"

func consoleHash(t *testing.T, cost int) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte("correct horse"), cost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

func TestConsoleSection(t *testing.T) {
	t.Parallel()
	hash := consoleHash(t, bcrypt.MinCost+6) // 10: the lowest accepted, quick
	creds := t.TempDir()
	writeSecretFile(t, filepath.Join(creds, "console-lin"), []byte(secretConsolePassword+"\n"), 0o600)
	cfg := mustLoad(t, with(t, `
console:
  users:
    - {name: ops, password_hash: "`+hash+`"}
    - {name: 林, password_file: console-lin}
  allowed_hosts: ["autoreplyd.internal:9464"]
`), EnvCredentialsDirectory+"="+creds)
	cs := cfg.Console
	if cs == nil || len(cs.Users) != 2 {
		t.Fatalf("console = %+v", cs)
	}
	if cs.SessionTTL != DefaultSessionTTL || cs.TLS() {
		t.Errorf("session_ttl = %v, tls = %v", cs.SessionTTL, cs.TLS())
	}
	if cs.Users[0].PasswordHash.Value() != hash || cs.Users[1].Name != "林" || cs.Users[1].Password.Value() != secretConsolePassword {
		t.Errorf("users = %+v %+v", cs.Users[0], cs.Users[1])
	}
	secrets := strings.Join(cfg.Secrets(), "\n")
	if !strings.Contains(secrets, hash) || !strings.Contains(secrets, secretConsolePassword) {
		t.Error("Secrets() lacks the console's hash or password: logs would not scrub them")
	}
	js, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{cfg.String(), string(js)} {
		if strings.Contains(out, hash) || strings.Contains(out, secretConsolePassword) || strings.Contains(out, "$2a$") {
			t.Errorf("a console secret is printed:\n%s", out)
		}
	}
	wantContains(t, cfg.String(), `console.users[0].name = "ops"`, "console.users[0].password_hash = "+Redacted, "console.session_ttl = 12h0m0s")

	if cfg := mustLoad(t, minimal); cfg.Console != nil {
		t.Errorf("console without the section = %+v", cfg.Console)
	}
}

func TestConsoleSectionErrors(t *testing.T) {
	t.Parallel()
	weak := consoleHash(t, bcrypt.MinCost)
	for _, tc := range []struct{ name, yaml, want string }{
		{"no users", "console: {session_ttl: 1h}", "console.users: no user"},
		{"no password", "console: {users: [{name: ops}]}", "console.users[0]: no password"},
		{"not a hash", `console: {users: [{name: ops, password_hash: "hunter2"}]}`, "console.users[0].password_hash: not a bcrypt hash"},
		{"weak hash", `console: {users: [{name: ops, password_hash: "` + weak + `"}]}`, "bcrypt cost 4 is too low"},
		{"inline password", `console: {users: [{name: ops, password: "hunter2"}]}`, "console.users[0].password: unknown key"},
		{"twice", `console: {users: [{name: ops, password_file: /nonexistent/a}, {name: ops, password_file: /nonexistent/b}]}`, `console.users[1].name: "ops" is listed twice`},
		{"bad ttl", `console: {users: [{name: ops, password_file: /nonexistent/a}], session_ttl: -1h}`, "console.session_ttl: must be a positive duration"},
		{"bad host", `console: {users: [{name: ops, password_file: /nonexistent/a}], allowed_hosts: ["autoreplyd.internal"]}`, "console.allowed_hosts[0]"},
		{"tls half", `console: {users: [{name: ops, password_file: /nonexistent/a}], tls_cert_file: /etc/c.crt}`, "set both tls_cert_file and tls_key_file"},
		{"tls missing", `console: {users: [{name: ops, password_file: /nonexistent/a}], tls_cert_file: /nonexistent/c.crt, tls_key_file: /nonexistent/c.key}`, "console.tls_cert_file: cannot load"},
		{"no listen", "listen: \"\"\nconsole: {users: [{name: ops, password_file: /nonexistent/a}]}", "console: the console is served on the listen address"},
		{"control name", "console: {users: [{name: \"o\\u202eps\", password_file: /nonexistent/a}]}", "console.users[0].name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			msg := loadErr(t, with(t, tc.yaml))
			wantContains(t, msg, tc.want)
			if strings.Contains(msg, "hunter2") || strings.Contains(msg, "$2a$") {
				t.Errorf("the error shows a password or hash:\n%s", msg)
			}
		})
	}
}

func TestConsoleSessionTTL(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeSecretFile(t, filepath.Join(dir, "pw"), []byte("x\n"), 0o600)
	cfg := mustLoad(t, with(t, `console: {users: [{name: ops, password_file: `+filepath.Join(dir, "pw")+`}], session_ttl: 30m}`))
	if cfg.Console.SessionTTL != 30*time.Minute {
		t.Errorf("session_ttl = %v", cfg.Console.SessionTTL)
	}
}
