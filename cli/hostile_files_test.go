package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/autoreplyd/autoreplyd/internal/regfile/regfiletest"
)

// Secrets written in a config file every user may read pass check with a
// warning naming the file and the keys (never the values); a private file,
// or secrets from *_file, give none.
func TestCheckInlineSecretsReadable(t *testing.T) {
	t.Parallel()
	cfg, db := checkWorld(t, goodRules, "")
	if err := os.Chmod(cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, nil, "check", "--config", cfg)
	if r.code != 0 {
		t.Fatalf("exit %d\nstderr: %s", r.code, r.stderr)
	}
	want := "warning: " + cfg + " is readable by every user (mode 0644) and holds secrets inline: " +
		"sources.douyin.token, responders.kitkot.api_key, responders.kitkot.session_key; give them as *_file"
	if !strings.HasPrefix(r.stderr, want) || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("stderr:\n%s\nwant one line starting %q", r.stderr, want)
	}
	for _, secret := range []string{"jo-token", "kk-key", "kk-session"} {
		if strings.Contains(r.stderr+r.stdout, secret) {
			t.Errorf("check printed the secret %q:\n%s%s", secret, r.stdout, r.stderr)
		}
	}
	if !strings.Contains(r.stdout, "config "+cfg+": OK") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	assertNoDatabase(t, db)

	// The same secrets from files: no warning, whatever the config's mode.
	creds := t.TempDir()
	for name, v := range map[string]string{"token": "jo-token", "api-key": "kk-key", "session-key": "kk-session"} {
		if err := os.WriteFile(filepath.Join(creds, name), []byte(v+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.NewReplacer("token: jo-token", "token_file: token", "api_key: kk-key", "api_key_file: api-key",
		"session_key: kk-session", "session_key_file: session-key").Replace(string(data))
	if err := os.WriteFile(cfg, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	r = runCLI(t, []string{"CREDENTIALS_DIRECTORY=" + creds}, "check", "--config", cfg)
	if r.code != 0 || r.stderr != "" {
		t.Errorf("secrets from files: exit %d, stderr %q; want 0 and nothing", r.code, r.stderr)
	}
}

// A listen address off loopback passes check with a warning naming the key;
// a loopback one gives none.
func TestCheckListenNotLoopback(t *testing.T) {
	t.Parallel()
	cfg, _ := checkWorld(t, goodRules, "")
	for _, tc := range []struct{ listen, want string }{
		{"0.0.0.0:9464", "warning: listen: 0.0.0.0:9464 listens on every interface: /metrics, /-/healthy, /-/ready"},
		{":9464", "warning: listen: :9464 listens on every interface"},
		{"192.0.2.7:9464", "warning: listen: 192.0.2.7:9464 is not a loopback address"},
		{"metrics.example:9464", "warning: listen: metrics.example:9464 is not a loopback address"},
		{"127.0.0.1:9464", ""},
		{"[::1]:9464", ""},
		{"localhost:9464", ""},
	} {
		r := runCLI(t, []string{"AUTOREPLYD_LISTEN=" + tc.listen}, "check", "--config", cfg)
		if r.code != 0 {
			t.Fatalf("listen %s: exit %d\nstderr: %s", tc.listen, r.code, r.stderr)
		}
		if tc.want == "" && r.stderr != "" || !strings.HasPrefix(r.stderr, tc.want) || strings.Count(r.stderr, "\n") > 1 {
			t.Errorf("listen %s: stderr:\n%s\nwant one line starting %q", tc.listen, r.stderr, tc.want)
		}
	}
}

// Every file a command reads from a path it is given is refused at once when
// it is a FIFO: the config, the rules, a rule test file, the database.
func TestCommandsRefuseFIFOs(t *testing.T) {
	t.Parallel()
	cfg, db := checkWorld(t, goodRules, "")
	fifo := regfiletest.FIFO(t, t.TempDir(), "fifo.yaml")
	if err := os.MkdirAll(filepath.Dir(db), 0o755); err != nil {
		t.Fatal(err)
	}
	fifoDB := regfiletest.FIFO(t, filepath.Dir(db), filepath.Base(db))
	for _, tc := range []struct {
		name    string
		environ []string
		args    []string
	}{
		{"config", nil, []string{"check", "--config", fifo}},
		{"rules", []string{"AUTOREPLYD_RULES=" + fifo}, []string{"check", "--config", cfg}},
		{"explain --rules", nil, []string{"explain", "--rules", fifo, "--timezone", "UTC", "--text", "x"}},
		{"test file", []string{"AUTOREPLYD_CONFIG=" + cfg}, []string{"test", fifo}},
		{"database", nil, []string{"history", "--database", fifoDB}},
		{"check's database", nil, []string{"check", "--config", cfg}},
	} {
		var r result
		regfiletest.Returns(t, tc.name, func() { r = runCLI(t, tc.environ, tc.args...) })
		// check only warns about a database it cannot read.
		if r.code != 1 && (tc.name != "check's database" || r.code != 0) {
			t.Errorf("%s: exit %d, want 1\nstderr: %s", tc.name, r.code, r.stderr)
		}
		if !strings.Contains(r.stderr, "not a regular file (a named pipe)") {
			t.Errorf("%s: stderr does not say why:\n%s", tc.name, r.stderr)
		}
	}
}
