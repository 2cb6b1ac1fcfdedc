package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
	"golang.org/x/time/rate"

	"github.com/autoreplyd/autoreplyd/platform/kitkot"
	"github.com/autoreplyd/autoreplyd/platform/weibo"
)

// Distinctive values: a test fails if any shows up where it must not.
const (
	secretToken   = "TOKEN-s3cr3t-douyin-9f8e7d"
	secretAPIKey  = "APIKEY-s3cr3t-kitkot-1a2b3c"
	secretSession = "SESSION-s3cr3t-kitkot-4d5e6f"
)

// minimal is the smallest valid config: one douyin thread, kitkot responder.
const minimal = `
sources:
  douyin:
    token: ` + secretToken + `
    threads:
      - comment_id: "7251524159191958327"
responders:
  kitkot:
    api_key: ` + secretAPIKey + `
    session_key: ` + secretSession + `
`

// with returns minimal with extra (YAML) merged over it, key by key.
func with(t *testing.T, extra string) string {
	t.Helper()
	var base, over map[string]any
	if err := yaml.Unmarshal([]byte(minimal), &base); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal([]byte(extra), &over); err != nil {
		t.Fatalf("extra: %v", err)
	}
	merge(base, over)
	b, err := yaml.Marshal(base)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func merge(dst, src map[string]any) {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				merge(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
}

// writeConfig writes content as config.yaml in a fresh directory.
func writeConfig(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeSecretFile writes a test's secret (or other) file with the mode the
// case needs.
func writeSecretFile(t *testing.T, path string, data []byte, perm os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, data, perm); err != nil {
		t.Fatal(err)
	}
}

func mustLoad(t *testing.T, content string, environ ...string) *Config {
	t.Helper()
	cfg, err := Load(writeConfig(t, content), environ)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return cfg
}

func loadErr(t *testing.T, content string, environ ...string) string {
	t.Helper()
	path := writeConfig(t, content)
	_, err := Load(path, environ)
	if err == nil {
		t.Fatalf("Load succeeded, want an error")
	}
	msg := err.Error()
	if !strings.Contains(msg, path) {
		t.Errorf("error does not name the file %s:\n%s", path, msg)
	}
	return msg
}

func wantContains(t *testing.T, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("missing %q in:\n%s", w, got)
		}
	}
}

func TestMinimalDefaults(t *testing.T) {
	c := mustLoad(t, minimal)
	checks := []struct {
		name      string
		got, want any
	}{
		{"database", c.Database, DefaultDatabase},
		{"rules", c.Rules, DefaultRules},
		{"schedule", c.Schedule, "@every 1m"},
		{"timezone", c.Timezone, "Local"},
		{"location", c.Location, time.Local},
		{"dry_run", c.DryRun, false},
		{"listen", c.Listen, "127.0.0.1:9464"},
		{"log.level", c.Log.Level, "info"},
		{"log.format", c.Log.Format, "text"},
		{"douyin.base_url", srcs(c).Douyin.BaseURL, "https://api.justoneapi.com"},
		{"douyin.token", srcs(c).Douyin.Token.Value(), secretToken},
		{"douyin.responder", srcs(c).Douyin.Responder, "kitkot"},
		{"douyin.backlog", srcs(c).Douyin.Backlog, "skip"},
		{"douyin.timeout", srcs(c).Douyin.Timeout, 60 * time.Second},
		{"douyin.max_pages", srcs(c).Douyin.MaxPages, 500},
		{"douyin.full_rescan_every", srcs(c).Douyin.FullRescanEvery, 60},
		{"douyin.threads", len(srcs(c).Douyin.Threads), 1},
		{"tiktok", srcs(c).TikTok == nil, true},
		{"wechat", srcs(c).Wechat == nil, true},
		{"weibo", srcs(c).Weibo == nil, true},
		{"kitkot.base_url", resps(c).Kitkot.BaseURL, "https://kitkot.xyz/api"},
		{"kitkot.timeout", resps(c).Kitkot.Timeout, 30 * time.Second},
		{"kitkot.rate", resps(c).Kitkot.Rate, "20/m"},
		{"kitkot.rate_limit", resps(c).Kitkot.RateLimit, rate.Limit(20.0 / 60)},
		{"kitkot.burst", resps(c).Kitkot.Burst, 1},
		{"kitkot.daily_cap", resps(c).Kitkot.DailyCap, 500},
		{"responders.wechat", resps(c).Wechat == nil, true},
		{"responders.weibo", resps(c).Weibo == nil, true},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("%s = %v, want %v", ck.name, ck.got, ck.want)
		}
	}
	if !filepath.IsAbs(c.File) {
		t.Errorf("File %q is not absolute", c.File)
	}
}

func TestExplicitZeroValuesKept(t *testing.T) {
	c := mustLoad(t, with(t, `
listen: ""
dry_run: true
responders:
  kitkot:
    daily_cap: 0
    api_key: x
    session_key: y
sources:
  douyin:
    full_rescan_every: 0
    token: z
    threads: [{comment_id: "1"}]
`))
	if c.Listen != "" || !c.DryRun || resps(c).Kitkot.DailyCap != 0 || srcs(c).Douyin.FullRescanEvery != 0 {
		t.Errorf("explicit zero values replaced by defaults: listen=%q dry_run=%v daily_cap=%d full_rescan_every=%d",
			c.Listen, c.DryRun, resps(c).Kitkot.DailyCap, srcs(c).Douyin.FullRescanEvery)
	}
}

func TestEnvOverrides(t *testing.T) {
	tests := []struct {
		name  string
		env   []string
		check func(*Config) (got, want any)
	}{
		{"nested secret", []string{"AUTOREPLYD_SOURCES__DOUYIN__TOKEN=from-env"},
			func(c *Config) (any, any) { return srcs(c).Douyin.Token.Value(), "from-env" }},
		{"bool", []string{"AUTOREPLYD_DRY_RUN=true"},
			func(c *Config) (any, any) { return c.DryRun, true }},
		{"duration", []string{"AUTOREPLYD_SOURCES__DOUYIN__TIMEOUT=90s"},
			func(c *Config) (any, any) { return srcs(c).Douyin.Timeout, 90 * time.Second }},
		{"int", []string{"AUTOREPLYD_RESPONDERS__KITKOT__BURST=3"},
			func(c *Config) (any, any) { return resps(c).Kitkot.Burst, 3 }},
		{"base_url with underscore", []string{"AUTOREPLYD_SOURCES__DOUYIN__BASE_URL=http://127.0.0.1:8080/"},
			func(c *Config) (any, any) { return srcs(c).Douyin.BaseURL, "http://127.0.0.1:8080" }},
		{"top level with underscore", []string{"AUTOREPLYD_FULL_RESCAN_EVERY_IS_NOT_HERE=1", "AUTOREPLYD_DRY_RUN=1"},
			nil},
		{"log level", []string{"AUTOREPLYD_LOG__LEVEL=debug"},
			func(c *Config) (any, any) { return c.Log.Level, "debug" }},
		{"list from commas", []string{"AUTOREPLYD_SOURCES__DOUYIN__SELF_UIDS=111, 222"},
			func(c *Config) (any, any) { return strings.Join(srcs(c).Douyin.SelfUIDList, "|"), "111|222" }},
		{"last one wins", []string{"AUTOREPLYD_LISTEN=:1", "AUTOREPLYD_LISTEN=:2"},
			func(c *Config) (any, any) { return c.Listen, ":2" }},
		{"empty listen", []string{"AUTOREPLYD_LISTEN="},
			func(c *Config) (any, any) { return c.Listen, "" }},
		{"other variables ignored", []string{"HOME=/root", "AUTOREPLYDX=1", "autoreplyd_dry_run=true"},
			func(c *Config) (any, any) { return c.DryRun, false }},
		{"AUTOREPLYD_CONFIG is not an override", []string{"AUTOREPLYD_CONFIG=/somewhere/else.yaml"},
			func(c *Config) (any, any) { return c.Database, DefaultDatabase }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.check == nil {
				loadErr(t, minimal, tt.env...)
				return
			}
			c := mustLoad(t, minimal, tt.env...)
			if got, want := tt.check(c); got != want {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
}

func TestEnvErrorsNameVariable(t *testing.T) {
	msg := loadErr(t, minimal, "AUTOREPLYD_SOURCES__DOUYIN__TIMEOUT=soon", "AUTOREPLYD_DRY_RUN=maybe", "AUTOREPLYD_BOGUS=1")
	wantContains(t, msg,
		"sources.douyin.timeout: invalid duration",
		"(from $AUTOREPLYD_SOURCES__DOUYIN__TIMEOUT)",
		"dry_run: expected true or false (from $AUTOREPLYD_DRY_RUN)",
		"bogus: unknown key (from $AUTOREPLYD_BOGUS)",
	)
}

func TestDefaultPath(t *testing.T) {
	tests := []struct {
		env  []string
		want string
	}{
		{nil, "/etc/autoreplyd/config.yaml"},
		{[]string{"AUTOREPLYD_CONFIG=/srv/a.yaml"}, "/srv/a.yaml"},
		{[]string{"AUTOREPLYD_CONFIG="}, "/etc/autoreplyd/config.yaml"},
		{[]string{"AUTOREPLYD_CONFIGX=/x", "XAUTOREPLYD_CONFIG=/y"}, "/etc/autoreplyd/config.yaml"},
	}
	for _, tt := range tests {
		if got := DefaultPath(tt.env); got != tt.want {
			t.Errorf("DefaultPath(%q) = %q, want %q", tt.env, got, tt.want)
		}
	}
}

func TestUnknownKeys(t *testing.T) {
	tests := []struct {
		name, extra, want string
	}{
		{"top level", "dry_runn: true\n", "dry_runn: unknown key"},
		{"nested", "log: {levle: info}\n", "log.levle: unknown key"}, //nolint:misspell // a deliberate typo: the case checks the did-you-mean message
		{"source", "sources: {douyin: {tokn: x}}\n", "sources.douyin.tokn: unknown key"},
		{"thread item", "sources: {douyin: {threads: [{comment_id: '1', awemeid: '2'}]}}\n", "sources.douyin.threads[0].awemeid: unknown key"},
		{"unknown platform", "sources: {kuaishou: {token: x}}\n", `sources.kuaishou: unknown source "kuaishou": a section's name is its type (douyin, tiktok, wechat, weibo) unless the section sets ` + "`type`"},
		{"unknown responder section", "responders: {telegram: {}}\n", `responders.telegram: unknown responder "telegram": a section's name is its type (kitkot, wechat, weibo) unless the section sets ` + "`type`"},
		{"wrong case", "Dry_Run: true\n", "Dry_Run: unknown key"},
		{"parsed-only key", "rate_limit: 3\n", "rate_limit: unknown key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := loadErr(t, with(t, tt.extra))
			wantContains(t, msg, tt.want)
		})
	}
}

func TestShapeErrors(t *testing.T) {
	tests := []struct{ name, extra, want string }{
		{"list for string", "database: [a, b]\n", "database: expected a single value, got a list"},
		{"mapping for section", "log: info\n", "log: expected a mapping of keys, got a single value"},
		{"mapping for list", "sources: {douyin: {threads: {comment_id: '1'}}}\n", "sources.douyin.threads: expected a list, got a mapping"},
		{"bad int", "responders: {kitkot: {burst: many}}\n", "responders.kitkot.burst: expected an integer"},
		{"label value list", "sources: {douyin: {threads: [{comment_id: '1', labels: {a: [1]}}]}}\n", "sources.douyin.threads[0].labels.a: expected a single value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantContains(t, loadErr(t, with(t, tt.extra)), tt.want)
		})
	}
}

func TestSecrets(t *testing.T) {
	// Files shared by the cases: an absolute one, and one in a credentials dir.
	dir := t.TempDir()
	abs := filepath.Join(dir, "token")
	writeSecretFile(t, abs, []byte("  from-abs-file\n"), 0o600)
	credDir := t.TempDir()
	writeSecretFile(t, filepath.Join(credDir, "justoneapi-token"), []byte("from-cred-dir\n"), 0o600)
	writeSecretFile(t, filepath.Join(credDir, "empty"), []byte(" \n"), 0o600)
	writeSecretFile(t, filepath.Join(credDir, "kitkot-api-key"), []byte("kk-api"), 0o600)
	writeSecretFile(t, filepath.Join(credDir, "kitkot-session-key"), []byte("kk-session"), 0o600)
	dirAsFile := t.TempDir()

	const kitkotResponder = "responders: {kitkot: {api_key: a, session_key: s}}\n"
	const thread = "threads: [{comment_id: '1'}]"
	tests := []struct {
		name    string
		config  string
		env     []string
		want    string // the token's value, or
		wantErr string // a substring of the error
	}{
		{name: "value", config: "sources: {douyin: {token: inline, " + thread + "}}\n" + kitkotResponder, want: "inline"},
		{name: "absolute file", config: "sources: {douyin: {token_file: " + abs + ", " + thread + "}}\n" + kitkotResponder, want: "from-abs-file"},
		{name: "relative file in CREDENTIALS_DIRECTORY", config: "sources: {douyin: {token_file: justoneapi-token, " + thread + "}}\n" + kitkotResponder,
			env: []string{"CREDENTIALS_DIRECTORY=" + credDir}, want: "from-cred-dir"},
		{name: "relative file without CREDENTIALS_DIRECTORY", config: "sources: {douyin: {token_file: token-here, " + thread + "}}\n" + kitkotResponder,
			wantErr: "sources.douyin.token_file: cannot read "},
		{name: "both", config: "sources: {douyin: {token: inline, token_file: " + abs + ", " + thread + "}}\n" + kitkotResponder,
			wantErr: "sources.douyin.token: set either token or token_file, not both"},
		{name: "missing", config: "sources: {douyin: {" + thread + "}}\n" + kitkotResponder,
			wantErr: "sources.douyin.token: missing (set token or token_file)"},
		{name: "empty value is missing", config: "sources: {douyin: {token: '', " + thread + "}}\n" + kitkotResponder,
			wantErr: "sources.douyin.token: missing (set token or token_file)"},
		{name: "unreadable", config: "sources: {douyin: {token_file: /nonexistent/token, " + thread + "}}\n" + kitkotResponder,
			wantErr: "sources.douyin.token_file: cannot read /nonexistent/token: no such file or directory"},
		{name: "directory", config: "sources: {douyin: {token_file: " + dirAsFile + ", " + thread + "}}\n" + kitkotResponder,
			wantErr: "sources.douyin.token_file: cannot read " + dirAsFile},
		{name: "empty file", config: "sources: {douyin: {token_file: empty, " + thread + "}}\n" + kitkotResponder,
			env: []string{"CREDENTIALS_DIRECTORY=" + credDir}, wantErr: "sources.douyin.token_file: " + filepath.Join(credDir, "empty") + " is empty"},
		{name: "kitkot missing both", config: "sources: {douyin: {token: t, " + thread + "}}\nresponders: {kitkot: {}}\n",
			wantErr: "responders.kitkot.api_key: missing (set api_key or api_key_file)"},
		{name: "kitkot files", config: "sources: {douyin: {token: t, " + thread + "}}\nresponders: {kitkot: {api_key_file: kitkot-api-key, session_key_file: kitkot-session-key}}\n",
			env: []string{"CREDENTIALS_DIRECTORY=" + credDir}, want: "t"},
		{name: "env value conflicts with file", config: "sources: {douyin: {token_file: " + abs + ", " + thread + "}}\n" + kitkotResponder,
			env: []string{"AUTOREPLYD_SOURCES__DOUYIN__TOKEN=x"}, wantErr: "not both (from $AUTOREPLYD_SOURCES__DOUYIN__TOKEN)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.config)
			c, err := Load(path, tt.env)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("no error, want %q", tt.wantErr)
				}
				wantContains(t, err.Error(), path, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := srcs(c).Douyin.Token.Value(); got != tt.want {
				t.Errorf("token = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMalformedSecretReportedOnce(t *testing.T) {
	msg := loadErr(t, with(t, "sources: {douyin: {token: [a, b]}}\n"))
	if n := strings.Count(msg, "sources.douyin.token:"); n != 1 {
		t.Errorf("%d errors for sources.douyin.token, want 1:\n%s", n, msg)
	}
	wantContains(t, msg, "sources.douyin.token: expected a single value, got a list")
}

func TestSecretInLogs(t *testing.T) {
	var b strings.Builder
	for _, h := range []slog.Handler{slog.NewTextHandler(&b, nil), slog.NewJSONHandler(&b, nil)} {
		slog.New(h).Info("x", "token", Secret(secretToken), "cfg", Secret(secretAPIKey))
	}
	if strings.Contains(b.String(), "s3cr3t") || !strings.Contains(b.String(), Redacted) {
		t.Errorf("log output:\n%s", b.String())
	}
}

func TestSecretRelativeToConfigDir(t *testing.T) {
	path := writeConfig(t, "sources: {douyin: {token_file: secrets/token, threads: [{comment_id: '1'}]}}\nresponders: {kitkot: {api_key: a, session_key: s}}\n")
	if err := os.Mkdir(filepath.Join(filepath.Dir(path), "secrets"), 0o700); err != nil {
		t.Fatal(err)
	}
	writeSecretFile(t, filepath.Join(filepath.Dir(path), "secrets", "token"), []byte("beside-config\n"), 0o600)
	c, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := srcs(c).Douyin.Token.Value(); got != "beside-config" {
		t.Errorf("token = %q", got)
	}
}

func TestUnreadableSecretPermission(t *testing.T) {
	if runtime.GOOS == "windows" || os.Geteuid() == 0 {
		t.Skip("root reads any file")
	}
	f := filepath.Join(t.TempDir(), "token")
	writeSecretFile(t, f, []byte(secretToken), 0o000)
	msg := loadErr(t, "sources: {douyin: {token_file: "+f+", threads: [{comment_id: '1'}]}}\nresponders: {kitkot: {api_key: a, session_key: s}}\n")
	wantContains(t, msg, "sources.douyin.token_file: cannot read "+f+": permission denied")
	if strings.Contains(msg, secretToken) {
		t.Errorf("error leaks the secret: %s", msg)
	}
}

// TestSecretsNeverPrinted formats a loaded Config every way we can think of,
// and provokes errors around secrets, and looks for the secret values.
func TestSecretsNeverPrinted(t *testing.T) {
	credDir := t.TempDir()
	writeSecretFile(t, filepath.Join(credDir, "session"), []byte(secretSession+"\n"), 0o600)
	c := mustLoad(t, `
sources:
  douyin:
    token: `+secretToken+`
    threads: [{comment_id: "1"}]
responders:
  kitkot:
    api_key: `+secretAPIKey+`
    session_key_file: session
`, "CREDENTIALS_DIRECTORY="+credDir)

	secrets := []string{secretToken, secretAPIKey, secretSession}
	if got := c.Secrets(); !slices.Equal(got, secrets) {
		t.Errorf("Secrets() = %d values, want the 3 configured ones", len(got))
	}
	js, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"%v *Config":   fmt.Sprintf("%v", c),
		"%+v *Config":  fmt.Sprintf("%+v", c),
		"%#v Config":   fmt.Sprintf("%#v", *c),
		"%v Config":    fmt.Sprintf("%v", *c),
		"%+v Config":   fmt.Sprintf("%+v", *c),
		"%+v douyin":   fmt.Sprintf("%+v", *srcs(c).Douyin),
		"%#v douyin":   fmt.Sprintf("%#v", *srcs(c).Douyin),
		"%+v kitkot":   fmt.Sprintf("%+v", *resps(c).Kitkot),
		"%s secret":    fmt.Sprintf("%s", srcs(c).Douyin.Token),
		"%q secret":    fmt.Sprintf("%q", srcs(c).Douyin.Token),
		"%x secret":    fmt.Sprintf("%x", srcs(c).Douyin.Token),
		"String()":     c.String(),
		"json":         string(js),
		"text marshal": func() string { b, _ := srcs(c).Douyin.Token.MarshalText(); return string(b) }(),
	}
	for name, out := range outputs {
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("%s contains a secret:\n%s", name, out)
			}
		}
	}
	wantContains(t, c.String(), "sources.douyin.token = [redacted]", "responders.kitkot.session_key = [redacted]", "sources.douyin.timeout = 1m0s")

	// Errors around secrets: wrong shapes, conflicts, other problems.
	bad := []string{
		"sources: {douyin: {token: [" + secretToken + "], threads: [{comment_id: '1'}]}}\nresponders: {kitkot: {api_key: a, session_key: s}}\n",
		"sources: {douyin: {token: {x: " + secretToken + "}, threads: [{comment_id: '1'}]}}\nresponders: {kitkot: {api_key: a, session_key: s}}\n",
		"sources: {douyin: {token: " + secretToken + ", token_file: /x, threads: [{comment_id: '1'}]}}\nresponders: {kitkot: {api_key: a, session_key: s}}\n",
		"sources: {douyin: {token: " + secretToken + ", threads: [{comment_id: '1'}]}}\nresponders: {kitkot: {api_key: " + secretAPIKey + ", session_key: s, rate: fast}}\n",
	}
	for i, cfg := range bad {
		msg := loadErr(t, cfg)
		for _, s := range secrets {
			if strings.Contains(msg, s) {
				t.Errorf("case %d: error contains a secret:\n%s", i, msg)
			}
		}
	}
	if msg := loadErr(t, minimal, "AUTOREPLYD_SOURCES__DOUYIN__TOKEN__X="+secretToken); strings.Contains(msg, secretToken) {
		t.Errorf("env error contains a secret:\n%s", msg)
	}
}

func TestValidation(t *testing.T) {
	tests := []struct{ name, extra, want string }{
		{"bad duration", "sources: {douyin: {timeout: fast}}\n", `sources.douyin.timeout: invalid duration "fast"`},
		{"duration without unit", "sources: {douyin: {timeout: 60}}\n", "sources.douyin.timeout: a duration needs a unit"},
		{"zero duration", "responders: {kitkot: {timeout: 0s}}\n", "responders.kitkot.timeout: must be a positive duration"},
		{"negative duration", "sources: {douyin: {timeout: -5s}}\n", "sources.douyin.timeout: must be a positive duration"},
		{"negative max_pages", "sources: {douyin: {max_pages: -1}}\n", "sources.douyin.max_pages: must be at least 1"},
		{"negative rescan", "sources: {douyin: {full_rescan_every: -1}}\n", "sources.douyin.full_rescan_every: must not be negative"},
		{"negative daily_cap", "responders: {kitkot: {daily_cap: -1}}\n", "responders.kitkot.daily_cap: must not be negative"},
		{"zero burst", "responders: {kitkot: {burst: 0}}\n", "responders.kitkot.burst: must be at least 1"},
		{"backlog", "sources: {douyin: {backlog: all}}\n", `sources.douyin.backlog: "all" is not one of skip, answer`},
		{"log level", "log: {level: verbose}\n", `log.level: "verbose" is not one of debug, info, warn, error`},
		{"log format", "log: {format: xml}\n", `log.format: "xml" is not one of text, json`},
		{"timezone", "timezone: Mars/Olympus\n", `timezone: unknown time zone "Mars/Olympus"`},
		{"empty timezone", "timezone: ''\n", "timezone: empty"},
		{"cron", "schedule: '61 * * * *'\n", "schedule: invalid cron spec"},
		{"cron too few fields", "schedule: '* * *'\n", "schedule: invalid cron spec"},
		{"cron bad zone", "schedule: 'CRON_TZ=Nowhere/Land * * * * *'\n", "schedule: invalid cron spec"},
		{"cron zone only", "schedule: 'CRON_TZ=UTC'\n", "schedule: invalid cron spec"},
		{"cron empty", "schedule: ''\n", "schedule: invalid cron spec: empty"},
		{"rate unit", "responders: {kitkot: {rate: 20/d}}\n", "responders.kitkot.rate: \"20/d\": unit must be s, m or h"},
		{"rate count", "responders: {kitkot: {rate: -3/m}}\n", "responders.kitkot.rate: \"-3/m\": count must be a positive number"},
		{"rate zero", "responders: {kitkot: {rate: 0/m}}\n", "responders.kitkot.rate: \"0/m\": count must be a positive number"},
		{"rate shape", "responders: {kitkot: {rate: fast}}\n", "responders.kitkot.rate: \"fast\": want N/s, N/m or N/h"},
		{"base_url", "sources: {douyin: {base_url: 'api.justoneapi.com'}}\n", "sources.douyin.base_url: want an absolute http or https URL"},
		{"base_url user info", "responders: {kitkot: {base_url: 'https://u:p@kitkot.xyz/api'}}\n", "responders.kitkot.base_url: must not contain user info"},
		{"listen", "listen: localhost\n", "listen: want host:port"},
		{"responder unknown", "sources: {douyin: {responder: telegram}}\n", `sources.douyin.responder: unknown responder "telegram"`},
		{"responder not configured", "sources: {douyin: {responder: wechat}}\n", `sources.douyin.responder: responder "wechat" is not configured: add a responders.wechat section`},
		{"thread id not numeric", "sources: {douyin: {threads: [{comment_id: 'abc'}]}}\n", `sources.douyin.threads[0].comment_id: "abc" is not a numeric id`},
		{"thread id missing", "sources: {douyin: {threads: [{aweme_id: '1'}]}}\n", "sources.douyin.threads[0].comment_id: missing"},
		{"aweme id not numeric", "sources: {douyin: {threads: [{comment_id: '1', aweme_id: 'v1'}]}}\n", `sources.douyin.threads[0].aweme_id: "v1" is not a numeric id`},
		{"no threads", "sources: {douyin: {threads: []}}\n", "sources.douyin.threads: no threads or videos to watch"},
		{"empty self uid", "sources: {douyin: {self_uids: ['1', '']}}\n", "sources.douyin.self_uids[1]: empty"},
		{"weibo api", "responders: {weibo: {api: v3, access_token: t}}\n", `responders.weibo.api: "v3" is not one of v1, v2`},
		{"weibo v1 needs password", "responders: {weibo: {api: v1, app_key: '1', username: u}}\n", "responders.weibo.password: missing (set password or password_file)"},
		{"weibo v2 needs token", "responders: {weibo: {}}\n", "responders.weibo.access_token: missing"},
		{"wechat source", "sources: {wechat: {app_secret: s, articles: [{msg_data_id: '1', index: -1}]}}\n", "sources.wechat.app_id: missing"},
		{"wechat index", "sources: {wechat: {app_id: a, app_secret: s, articles: [{msg_data_id: '1', index: -1}]}}\n", "sources.wechat.articles[0].index: must not be negative"},
		{"weibo duplicate", "sources: {weibo: {access_token: t, weibos: [{id: '5'}, {id: 5}]}}\n", "sources.weibo.weibos[1].id: duplicate id 5: also at sources.weibo.weibos[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantContains(t, loadErr(t, with(t, tt.extra)), tt.want)
		})
	}
}

func TestNoSource(t *testing.T) {
	wantContains(t, loadErr(t, "responders: {kitkot: {api_key: a, session_key: s}}\n"), "sources: no source configured")
	wantContains(t, loadErr(t, ""), "sources: no source configured")
}

func TestFileErrors(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "missing.yaml"), nil)
	if err == nil || !strings.Contains(err.Error(), "missing.yaml: no such file") {
		t.Errorf("missing file: %v", err)
	}
	msg := loadErr(t, "sources: {douyin: [\n")
	wantContains(t, msg, "yaml")
}

func TestAllErrorsSortedByKey(t *testing.T) {
	msg := loadErr(t, with(t, `
timezone: Nowhere/Zone
schedule: nonsense
log: {level: loud}
sources: {douyin: {backlog: maybe}}
responders: {kitkot: {rate: 1/d}}
`))
	lines := strings.Split(msg, "\n")
	var keys []string
	for _, l := range lines {
		_, rest, _ := strings.Cut(l, ".yaml: ")
		k, _, _ := strings.Cut(rest, ":")
		keys = append(keys, k)
	}
	want := []string{"log.level", "responders.kitkot.rate", "schedule", "sources.douyin.backlog", "timezone"}
	if !slices.Equal(keys, want) {
		t.Errorf("keys = %q, want %q\n%s", keys, want, msg)
	}
}

func TestErrorsAsKeyError(t *testing.T) {
	_, err := Load(writeConfig(t, with(t, "dry_runn: 1\n")), nil)
	var ke *KeyError
	if !errors.As(err, &ke) {
		t.Fatalf("errors.As(*KeyError) failed on %v", err)
	}
	if ke.Key != "dry_runn" || ke.Msg != "unknown key" {
		t.Errorf("KeyError = %+v", *ke)
	}
}

func TestSchedules(t *testing.T) {
	ok := []string{
		"@every 1m",
		"@hourly",
		"*/5 * * * *",    // 5 fields
		"30 */5 * * * *", // 6 fields, seconds first
		"CRON_TZ=Asia/Shanghai 0 9 * * *",
		"TZ=UTC 0 0 9 * * mon-fri", // 6 fields with a zone
	}
	for _, spec := range ok {
		if _, err := ParseSchedule(spec); err != nil {
			t.Errorf("ParseSchedule(%q): %v", spec, err)
		}
		c := mustLoad(t, with(t, "schedule: '"+spec+"'\n"))
		if c.Schedule != spec {
			t.Errorf("schedule = %q", c.Schedule)
		}
	}
	for _, spec := range []string{"", "CRON_TZ=UTC", "TZ=", "* * * * * * *", "@fortnightly", "0 25 * * *"} {
		if _, err := ParseSchedule(spec); err == nil {
			t.Errorf("ParseSchedule(%q) accepted", spec)
		}
	}
	// The zone prefix is honoured: 09:00 in Shanghai is 01:00 UTC.
	s, _ := ParseSchedule("CRON_TZ=Asia/Shanghai 0 9 * * *")
	next := s.Next(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	if want := time.Date(2025, 1, 1, 1, 0, 0, 0, time.UTC); !next.Equal(want) {
		t.Errorf("next = %v, want %v", next.UTC(), want)
	}
	// Parser() is the same parser.
	if _, err := Parser().Parse("30 */5 * * * *"); err != nil {
		t.Errorf("Parser(): %v", err)
	}
}

func TestParseRate(t *testing.T) {
	tests := []struct {
		in   string
		want rate.Limit
	}{
		{"20/m", rate.Limit(20.0 / 60)},
		{"2/s", 2},
		{"60/h", rate.Limit(60.0 / 3600)},
		{" 0.5/s ", 0.5},
	}
	for _, tt := range tests {
		got, err := ParseRate(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"", "20", "20/", "/m", "x/m", "20/min", "inf/s", "NaN/s", "-1/s", "0/s"} {
		if _, err := ParseRate(in); err == nil {
			t.Errorf("ParseRate(%q) accepted", in)
		}
	}
}

func TestTimezone(t *testing.T) {
	c := mustLoad(t, with(t, "timezone: Asia/Shanghai\n"))
	if c.Location == nil || c.Location.String() != "Asia/Shanghai" {
		t.Errorf("Location = %v", c.Location)
	}
	c = mustLoad(t, with(t, "timezone: UTC\n"))
	if c.Location != time.UTC {
		t.Errorf("Location = %v, want UTC", c.Location)
	}
}

func TestRelativePaths(t *testing.T) {
	path := writeConfig(t, with(t, "database: state/a.db\nrules: rules.d\n"))
	c, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(path)
	if c.Database != filepath.Join(dir, "state/a.db") || c.Rules != filepath.Join(dir, "rules.d") {
		t.Errorf("database=%q rules=%q, want them under %s", c.Database, c.Rules, dir)
	}
	c = mustLoad(t, with(t, "database: /abs/a.db\n"))
	if c.Database != "/abs/a.db" {
		t.Errorf("absolute database changed to %q", c.Database)
	}

	// A relative config path still resolves against the file's directory.
	wd, _ := os.Getwd()
	t.Chdir(dir)
	c, err = Load("config.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(wd)
	if c.Rules != filepath.Join(dir, "rules.d") {
		t.Errorf("rules = %q", c.Rules)
	}
}

func TestBigThreadIDs(t *testing.T) {
	base := "responders: {kitkot: {api_key: a, session_key: s}}\nsources: {douyin: {token: t, threads: [{comment_id: %s, aweme_id: %s}]}}\n"
	tests := []struct {
		name, comment, aweme string
		want, wantAweme      string
		wantErr              string
	}{
		{name: "unquoted int64", comment: "7251524159191958327", aweme: "7251517975340027197",
			want: "7251524159191958327", wantAweme: "7251517975340027197"},
		{name: "quoted", comment: `"7251524159191958327"`, aweme: `"0007"`,
			want: "7251524159191958327", wantAweme: "0007"},
		{name: "unquoted uint64", comment: "18446744073709551615", aweme: "1",
			want: "18446744073709551615", wantAweme: "1"},
		// YAML would read these as a float that lost digits and as octal 7:
		// the text written is kept.
		{name: "beyond uint64", comment: "99999999999999999999999", aweme: "0007",
			want: "99999999999999999999999", wantAweme: "0007"},
		{name: "exponent", comment: "7.2e18", aweme: "1",
			wantErr: `sources.douyin.threads[0].comment_id: "7.2e18" is not a numeric id: ids are decimal digits only; write the id in quotes`},
		{name: "small float", comment: "12.5", aweme: "1",
			wantErr: `sources.douyin.threads[0].comment_id: "12.5" is not a numeric id`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := fmt.Sprintf(base, tt.comment, tt.aweme)
			if tt.wantErr != "" {
				wantContains(t, loadErr(t, cfg), tt.wantErr)
				return
			}
			c := mustLoad(t, cfg)
			th := srcs(c).Douyin.Threads[0]
			if th.CommentID != tt.want || th.AwemeID != tt.wantAweme {
				t.Errorf("ids = %q, %q; want %q, %q", th.CommentID, th.AwemeID, tt.want, tt.wantAweme)
			}
		})
	}
}

func TestDuplicateThreads(t *testing.T) {
	msg := loadErr(t, `
responders: {kitkot: {api_key: a, session_key: s}}
sources:
  douyin:
    token: t
    threads:
      - comment_id: "7251524159191958327"
      - comment_id: "1"
      - comment_id: 7251524159191958327
`)
	wantContains(t, msg, "sources.douyin.threads[2].comment_id: duplicate comment_id 7251524159191958327: also at sources.douyin.threads[0]")
}

func TestLabels(t *testing.T) {
	c := mustLoad(t, `
responders: {kitkot: {api_key: a, session_key: s}}
sources:
  douyin:
    token: t
    threads:
      - comment_id: "1"
        labels: {campaign: spring, 商品: 保温杯, year: 2025, a.b: dotted}
`)
	got := srcs(c).Douyin.Threads[0].Labels
	want := map[string]string{"campaign": "spring", "商品": "保温杯", "year": "2025", "a.b": "dotted"}
	if len(got) != len(want) {
		t.Fatalf("labels = %v", got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("labels[%q] = %q, want %q", k, got[k], v)
		}
	}
}

func TestOtherPlatformsParse(t *testing.T) {
	c := mustLoad(t, `
sources:
  tiktok:
    api_key: tk
    threads: [{comment_id: "7300000000000000000", aweme_id: "7300000000000000001"}]
  wechat:
    app_id: wx1
    app_secret: ws
    articles: [{msg_data_id: 2247483647, index: 1, labels: {栏目: 周报}}]
  weibo:
    access_token: wbt
    weibos: [{id: "4023227965"}]
responders:
  kitkot: {api_key: a, session_key: s}
  wechat: {app_id: wx1, app_secret: ws2}
  weibo: {api: v1, app_key: "123", username: u, password: pw}
`)
	if srcs(c).TikTok.BaseURL != kitkot.DefaultBaseURL || srcs(c).TikTok.Responder != "kitkot" {
		t.Errorf("tiktok = %+v", *srcs(c).TikTok)
	}
	if srcs(c).Wechat.Responder != "wechat" || srcs(c).Wechat.Articles[0].MsgDataID != "2247483647" || srcs(c).Wechat.Articles[0].Index != 1 {
		t.Errorf("wechat = %+v", *srcs(c).Wechat)
	}
	if srcs(c).Weibo.Responder != "weibo" || srcs(c).Weibo.BaseURL != weibo.DefaultBaseURL {
		t.Errorf("weibo = %+v", *srcs(c).Weibo)
	}
	if r := resps(c).Weibo; r.API != "v1" || r.Password.Value() != "pw" || r.Rate != weibo.DefaultRate {
		t.Errorf("weibo responder = %+v", *r)
	}
	if got := len(c.Secrets()); got != 7 {
		t.Errorf("Secrets() has %d values, want 8", got)
	}
}

func TestExampleLoads(t *testing.T) {
	credDir := t.TempDir()
	for _, name := range []string{"justoneapi-token", "kitkot-api-key", "kitkot-session-key"} {
		if err := os.WriteFile(filepath.Join(credDir, name), []byte("secret-"+name+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c, err := Load("../config.example.yaml", []string{"CREDENTIALS_DIRECTORY=" + credDir})
	if err != nil {
		t.Fatal(err)
	}
	if srcs(c).Douyin.Token.Value() != "secret-justoneapi-token" || resps(c).Kitkot.SessionKey.Value() != "secret-kitkot-session-key" {
		t.Error("secrets not read from $CREDENTIALS_DIRECTORY")
	}
	if len(srcs(c).Douyin.Threads) != 2 || srcs(c).Douyin.Threads[0].Labels["商品"] != "保温杯" {
		t.Errorf("threads = %+v", srcs(c).Douyin.Threads)
	}
	if c.Location.String() != "Asia/Shanghai" {
		t.Errorf("location = %v", c.Location)
	}
}
