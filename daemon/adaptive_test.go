package daemon

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/config"
	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/platform"
	"github.com/autoreplyd/autoreplyd/poller"
)

func TestSchedulePeriod(t *testing.T) {
	t.Parallel()
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 5, 1, 10, 0, 30, 0, shanghai)
	for _, tc := range []struct {
		spec string
		want time.Duration
	}{
		{"@every 1m", time.Minute},
		{"@every 90s", 90 * time.Second},
		{"*/5 * * * *", 5 * time.Minute},
		{"*/20 * * * * *", 20 * time.Second},
		{"@hourly", time.Hour},
		{"0 9 * * *", 24 * time.Hour},
		{"CRON_TZ=Asia/Shanghai */2 8-23 * * *", 2 * time.Minute},
		{"0 0 30 2 *", 0}, // February 30th: never
	} {
		sched, err := config.ParseSchedule(tc.spec)
		if err != nil {
			t.Fatalf("%s: %v", tc.spec, err)
		}
		if got := schedulePeriod(sched, now); got != tc.want {
			t.Errorf("%s: period %s, want %s", tc.spec, got, tc.want)
		}
	}
}

func TestQuietPollsDefaultMatchesPoller(t *testing.T) {
	t.Parallel()
	if config.DefaultQuietPolls != poller.DefaultQuietPolls {
		t.Fatalf("quiet_polls: config default %d, poller default %d", config.DefaultQuietPolls, poller.DefaultQuietPolls)
	}
}

// Every source's binding gets its max_interval and quiet_polls; Douyin its
// concurrency, the others 1.
func TestBuildAdaptive(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	testutil.WriteFile(t, path, `
sources:
  douyin:
    token: dt
    max_interval: 15m
    quiet_polls: 4
    concurrency: 3
    threads: [{comment_id: "7251524159191958327"}]
  tiktok:
    api_key: tk
    max_interval: 1h
    threads: [{comment_id: "7300000000000000000"}]
  wechat:
    app_id: wx1
    app_secret: ws
    max_interval: 30m
    quiet_polls: 1
    articles: [{msg_data_id: "2247483647", index: 0}]
  weibo:
    access_token: wbt
    weibos: [{id: "4023227965"}]
responders:
  kitkot: {api_key: a, session_key: s}
  wechat: {app_id: wx1, app_secret: ws}
  weibo: {access_token: wbt}
`)
	bindings, _, _, err := Build(load(t, path))
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		max                time.Duration
		quiet, concurrency int
	}
	wants := map[string]want{
		"douyin": {15 * time.Minute, 4, 3},
		"tiktok": {time.Hour, 3, 1},
		"wechat": {30 * time.Minute, 1, 1},
		"weibo":  {0, 3, 1},
	}
	if len(bindings) != len(wants) {
		t.Fatalf("%d bindings", len(bindings))
	}
	for _, b := range bindings {
		got := want{b.MaxInterval, b.QuietPolls, b.Concurrency}
		if w := wants[b.Source.Platform()]; got != w {
			t.Errorf("%s: %+v, want %+v", b.Source.Platform(), got, w)
		}
	}
}

// The poller is told the schedule's period.
func TestNewPassesPeriod(t *testing.T) {
	t.Parallel()
	cfg := load(t, writeConfig(t, t.TempDir(), closedURL(t), "@every 2m", rulesV1, ""))
	var period time.Duration
	d, err := New(t.Context(), cfg, Options{Logger: quietLogger(), Tune: func(o *poller.Options) { period = o.Period }})
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, d)
	if period != 2*time.Minute {
		t.Fatalf("poller period %s, want 2m", period)
	}
}

// douyinOnly is a Source that only has a platform.
type douyinOnly struct{ platform.Source }

func (douyinOnly) Platform() string { return "douyin" }

func TestAdaptiveWarning(t *testing.T) {
	t.Parallel()
	b := func(maxInterval time.Duration) poller.Binding {
		return poller.Binding{Source: douyinOnly{}, MaxInterval: maxInterval}
	}
	for _, tc := range []struct {
		max, period time.Duration
		warn        bool
	}{
		{0, time.Minute, false},
		{30 * time.Second, time.Minute, true},
		{90 * time.Second, time.Minute, true}, // due again 1m after its poll: the next cycle
		{91 * time.Second, time.Minute, false},
		{15 * time.Minute, time.Minute, false},
		{15 * time.Minute, 0, false},
	} {
		w := adaptiveWarning(b(tc.max), tc.period)
		if (w != "") != tc.warn {
			t.Errorf("max_interval %s, period %s: warning %q", tc.max, tc.period, w)
		}
		if w != "" && !strings.Contains(w, "sources.douyin.max_interval") {
			t.Errorf("warning does not name the key: %s", w)
		}
	}
}
