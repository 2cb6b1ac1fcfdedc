package config

import (
	"testing"
	"time"

	"golang.org/x/time/rate"
)

func TestRetryAndBreakerDefaults(t *testing.T) {
	c := mustLoad(t, minimal)
	checks := []struct {
		name      string
		got, want any
	}{
		{"retry.max_attempts", c.Retry.MaxAttempts, 5},
		{"retry.max_age", c.Retry.MaxAge, 24 * time.Hour},
		{"retry.initial_delay", c.Retry.InitialDelay, time.Minute},
		{"retry.max_delay", c.Retry.MaxDelay, time.Hour},
		{"sources.douyin.rate", srcs(c).Douyin.Rate, "5/s"},
		{"sources.douyin.rate_limit", srcs(c).Douyin.RateLimit, rate.Limit(5)},
		{"sources.douyin.burst", srcs(c).Douyin.Burst, 1},
		{"sources.douyin.concurrency", srcs(c).Douyin.Concurrency, 1},
		{"sources.douyin.stop_pause", srcs(c).Douyin.StopPause, time.Hour},
		{"responders.kitkot.breaker_failures", resps(c).Kitkot.BreakerFailures, 5},
		{"responders.kitkot.breaker_pause", resps(c).Kitkot.BreakerPause, 30 * time.Minute},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("%s = %v, want %v", ck.name, ck.got, ck.want)
		}
	}
}

func TestRetryAndBreakerKeys(t *testing.T) {
	c := mustLoad(t, with(t, `
retry: {max_attempts: 3, max_age: 2h, initial_delay: 30s, max_delay: 10m}
sources: {douyin: {rate: 2/m, burst: 3, concurrency: 4, stop_pause: 15m}}
responders: {kitkot: {breaker_failures: 0, breaker_pause: 1h}}
`))
	checks := []struct {
		name      string
		got, want any
	}{
		{"retry.max_attempts", c.Retry.MaxAttempts, 3},
		{"retry.max_age", c.Retry.MaxAge, 2 * time.Hour},
		{"retry.initial_delay", c.Retry.InitialDelay, 30 * time.Second},
		{"retry.max_delay", c.Retry.MaxDelay, 10 * time.Minute},
		{"sources.douyin.rate_limit", srcs(c).Douyin.RateLimit, rate.Limit(2.0 / 60)},
		{"sources.douyin.burst", srcs(c).Douyin.Burst, 3},
		{"sources.douyin.concurrency", srcs(c).Douyin.Concurrency, 4},
		{"sources.douyin.stop_pause", srcs(c).Douyin.StopPause, 15 * time.Minute},
		{"responders.kitkot.breaker_failures", resps(c).Kitkot.BreakerFailures, 0},
		{"responders.kitkot.breaker_pause", resps(c).Kitkot.BreakerPause, time.Hour},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("%s = %v, want %v", ck.name, ck.got, ck.want)
		}
	}
}

func TestRetryAndBreakerEnv(t *testing.T) {
	c := mustLoad(t, minimal,
		"AUTOREPLYD_RETRY__MAX_ATTEMPTS=7",
		"AUTOREPLYD_RETRY__MAX_AGE=6h",
		"AUTOREPLYD_RETRY__INITIAL_DELAY=10s",
		"AUTOREPLYD_RETRY__MAX_DELAY=20m",
		"AUTOREPLYD_SOURCES__DOUYIN__RATE=1/s",
		"AUTOREPLYD_SOURCES__DOUYIN__BURST=2",
		"AUTOREPLYD_SOURCES__DOUYIN__CONCURRENCY=1",
		"AUTOREPLYD_SOURCES__DOUYIN__STOP_PAUSE=5m",
		"AUTOREPLYD_RESPONDERS__KITKOT__BREAKER_FAILURES=3",
		"AUTOREPLYD_RESPONDERS__KITKOT__BREAKER_PAUSE=2h",
	)
	if c.Retry.MaxAttempts != 7 || c.Retry.MaxAge != 6*time.Hour || c.Retry.InitialDelay != 10*time.Second || c.Retry.MaxDelay != 20*time.Minute {
		t.Errorf("retry: %+v", c.Retry)
	}
	d := srcs(c).Douyin
	if d.RateLimit != 1 || d.Burst != 2 || d.Concurrency != 1 || d.StopPause != 5*time.Minute {
		t.Errorf("douyin: rate %v burst %d concurrency %d stop_pause %s", d.RateLimit, d.Burst, d.Concurrency, d.StopPause)
	}
	if k := resps(c).Kitkot; k.BreakerFailures != 3 || k.BreakerPause != 2*time.Hour {
		t.Errorf("kitkot: %d %s", k.BreakerFailures, k.BreakerPause)
	}
}

func TestRetryAndBreakerValidation(t *testing.T) {
	tests := []struct{ name, extra, want string }{
		{"max_attempts", "retry: {max_attempts: 0}\n", "retry.max_attempts: must be at least 1"},
		{"max_age", "retry: {max_age: 0s}\n", "retry.max_age: must be a positive duration"},
		{"initial_delay", "retry: {initial_delay: -1s}\n", "retry.initial_delay: must be a positive duration"},
		{"max_delay", "retry: {max_delay: 0s}\n", "retry.max_delay: must be a positive duration"},
		{"initial above max", "retry: {initial_delay: 2h, max_delay: 1h}\n", "retry.initial_delay: 2h0m0s is longer than retry.max_delay 1h0m0s"},
		{"retry unknown key", "retry: {attempts: 3}\n", "retry.attempts: unknown key"},
		{"source rate", "sources: {douyin: {rate: fast}}\n", `sources.douyin.rate: "fast": want N/s, N/m or N/h`},
		{"source rate zero", "sources: {douyin: {rate: 0/s}}\n", `sources.douyin.rate: "0/s": count must be a positive number`},
		{"source burst", "sources: {douyin: {burst: 0}}\n", "sources.douyin.burst: must be at least 1"},
		{"source concurrency", "sources: {douyin: {concurrency: 0}}\n", "sources.douyin.concurrency: must be at least 1"},
		{"stop_pause", "sources: {douyin: {stop_pause: 0s}}\n", "sources.douyin.stop_pause: must be a positive duration"},
		{"breaker_failures", "responders: {kitkot: {breaker_failures: -1}}\n", "responders.kitkot.breaker_failures: must not be negative"},
		{"breaker_pause", "responders: {kitkot: {breaker_pause: 0s}}\n", "responders.kitkot.breaker_pause: must be a positive duration"},
		{"breaker_pause unit", "responders: {kitkot: {breaker_pause: 30}}\n", "responders.kitkot.breaker_pause"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantContains(t, loadErr(t, with(t, tt.extra)), tt.want)
		})
	}
}
