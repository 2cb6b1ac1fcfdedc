package config

import (
	"fmt"
	"testing"

	"golang.org/x/time/rate"

	"github.com/autoreplyd/autoreplyd/platform"
)

func pollingOf(c *Config) map[string]Polling {
	s := srcs(c)
	return map[string]Polling{
		"douyin": s.Douyin.Polling, "tiktok": s.TikTok.Polling,
		"wechat": s.Wechat.Polling, "weibo": s.Weibo.Polling,
	}
}

// Every source section has rate, burst and concurrency, with the same
// defaults.
func TestPollingDefaults(t *testing.T) {
	want := Polling{Rate: platform.DefaultSourceRate, RateLimit: 5, Burst: DefaultSourceBurst, Concurrency: platform.DefaultSourceConcurrency}
	for name, pl := range pollingOf(mustLoad(t, fmt.Sprintf(allSources, "", "", "", ""))) {
		if pl != want {
			t.Errorf("sources.%s: %+v, want %+v", name, pl, want)
		}
	}
}

func TestPollingKeys(t *testing.T) {
	c := mustLoad(t, fmt.Sprintf(allSources,
		"\n    rate: 2/s\n    concurrency: 8",
		"\n    rate: 30/m\n    burst: 3",
		"\n    rate: 600/h\n    concurrency: 2",
		"\n    rate: 1/s\n    burst: 2\n    concurrency: 4"))
	want := map[string]Polling{
		"douyin": {Rate: "2/s", RateLimit: 2, Burst: 1, Concurrency: 8},
		"tiktok": {Rate: "30/m", RateLimit: 0.5, Burst: 3, Concurrency: 1},
		"wechat": {Rate: "600/h", RateLimit: rate.Limit(600.0 / 3600), Burst: 1, Concurrency: 2},
		"weibo":  {Rate: "1/s", RateLimit: 1, Burst: 2, Concurrency: 4},
	}
	for name, pl := range pollingOf(c) {
		if pl != want[name] {
			t.Errorf("sources.%s: %+v, want %+v", name, pl, want[name])
		}
	}
	c = mustLoad(t, fmt.Sprintf(allSources, "", "", "", ""), "AUTOREPLYD_SOURCES__WEIBO__CONCURRENCY=3", "AUTOREPLYD_SOURCES__TIKTOK__RATE=10/s")
	if srcs(c).Weibo.Concurrency != 3 || srcs(c).TikTok.RateLimit != 10 {
		t.Errorf("env: weibo %+v, tiktok %+v", srcs(c).Weibo.Polling, srcs(c).TikTok.Polling)
	}
}

func TestPollingValidation(t *testing.T) {
	wantSectionErrors(t, []struct{ extra, want string }{
		{"rate: fast", `.rate: "fast": want N/s, N/m or N/h`},
		{"rate: 0/s", `.rate: "0/s": count must be a positive number`},
		{"burst: 0", ".burst: must be at least 1"},
		{"concurrency: 0", ".concurrency: must be at least 1"},
		{"concurency: 2", ".concurency: unknown key"},
	})
}
