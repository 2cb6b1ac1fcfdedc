package config

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// allSources configures every source and its responder; each %s is where
// a test adds keys to a source section.
const allSources = `
sources:
  douyin:
    token: dt
    threads: [{comment_id: "7251524159191958327"}]%s
  tiktok:
    api_key: tk
    threads: [{comment_id: "7300000000000000000"}]%s
  wechat:
    app_id: wx1
    app_secret: ws
    articles: [{msg_data_id: "2247483647", index: 0}]%s
  weibo:
    access_token: wbt
    weibos: [{id: "4023227965"}]%s
responders:
  kitkot: {api_key: a, session_key: s}
  wechat: {app_id: wx1, app_secret: ws}
  weibo: {access_token: wbt}
`

func adaptiveOf(c *Config) map[string]Adaptive {
	s := srcs(c)
	return map[string]Adaptive{
		"douyin": s.Douyin.Adaptive, "tiktok": s.TikTok.Adaptive,
		"wechat": s.Wechat.Adaptive, "weibo": s.Weibo.Adaptive,
	}
}

func TestAdaptiveDefaults(t *testing.T) {
	for name, a := range adaptiveOf(mustLoad(t, fmt.Sprintf(allSources, "", "", "", ""))) {
		if a.MaxInterval != 0 || a.QuietPolls != DefaultQuietPolls {
			t.Errorf("sources.%s: %+v, want max_interval 0 (off) and quiet_polls %d", name, a, DefaultQuietPolls)
		}
	}
}

func TestAdaptiveKeys(t *testing.T) {
	c := mustLoad(t, fmt.Sprintf(allSources,
		"\n    max_interval: 15m\n    quiet_polls: 5",
		"\n    max_interval: 1h",
		"\n    max_interval: 1d\n    quiet_polls: 1",
		"\n    max_interval: 0"))
	want := map[string]Adaptive{
		"douyin": {MaxInterval: 15 * time.Minute, QuietPolls: 5},
		"tiktok": {MaxInterval: time.Hour, QuietPolls: DefaultQuietPolls},
		"wechat": {MaxInterval: 24 * time.Hour, QuietPolls: 1},
		"weibo":  {MaxInterval: 0, QuietPolls: DefaultQuietPolls},
	}
	for name, a := range adaptiveOf(c) {
		if a != want[name] {
			t.Errorf("sources.%s: %+v, want %+v", name, a, want[name])
		}
	}
}

func TestAdaptiveEnv(t *testing.T) {
	c := mustLoad(t, minimal, "AUTOREPLYD_SOURCES__DOUYIN__MAX_INTERVAL=20m", "AUTOREPLYD_SOURCES__DOUYIN__QUIET_POLLS=4")
	if a := srcs(c).Douyin.Adaptive; a.MaxInterval != 20*time.Minute || a.QuietPolls != 4 {
		t.Errorf("douyin: %+v", a)
	}
	wantContains(t, loadErr(t, minimal, "AUTOREPLYD_SOURCES__DOUYIN__QUIET_POLLS=0"),
		"sources.douyin.quiet_polls: must be at least 1", "$AUTOREPLYD_SOURCES__DOUYIN__QUIET_POLLS")
}

// wantSectionErrors adds each case's extra to each source section of
// allSources in turn and wants the load error to hold the section's key
// followed by the case's want.
func wantSectionErrors(t *testing.T, cases []struct{ extra, want string }) {
	t.Helper()
	for i, name := range []string{"douyin", "tiktok", "wechat", "weibo"} {
		for _, tc := range cases {
			in := []any{"", "", "", ""}
			in[i] = "\n    " + tc.extra
			t.Run(name+"/"+tc.extra, func(t *testing.T) {
				wantContains(t, loadErr(t, fmt.Sprintf(allSources, in...)), "sources."+name+tc.want)
			})
		}
	}
}

func TestAdaptiveValidation(t *testing.T) {
	wantSectionErrors(t, []struct{ extra, want string }{
		{"max_interval: -1m", ".max_interval: must not be negative"},
		{"max_interval: 15", ".max_interval: a duration needs a unit"},
		{"max_interval: soon", `.max_interval: invalid duration "soon"`},
		{"quiet_polls: 0", ".quiet_polls: must be at least 1"},
		{"quiet_polls: -2", ".quiet_polls: must be at least 1"},
		{"quiet_poll: 3", ".quiet_poll: unknown key"},
	})
}

func TestExampleAdaptive(t *testing.T) {
	credDir := t.TempDir()
	for _, name := range []string{"justoneapi-token", "kitkot-api-key", "kitkot-session-key"} {
		if err := os.WriteFile(filepath.Join(credDir, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c, err := Load("../config.example.yaml", []string{"CREDENTIALS_DIRECTORY=" + credDir})
	if err != nil {
		t.Fatal(err)
	}
	if a := srcs(c).Douyin.Adaptive; a.MaxInterval != 15*time.Minute || a.QuietPolls != 3 {
		t.Errorf("example douyin adaptive polling: %+v", a)
	}
}
