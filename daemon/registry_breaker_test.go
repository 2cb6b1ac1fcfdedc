package daemon

import (
	"testing"

	"github.com/autoreplyd/autoreplyd/config"
	"github.com/autoreplyd/autoreplyd/platform"
	"github.com/autoreplyd/autoreplyd/poller"
)

// The config's defaults are the poller's and the source's: one policy,
// whichever way a Poller is built.
func TestConfigDefaultsMatchPoller(t *testing.T) {
	t.Parallel()
	checks := []struct {
		name      string
		cfg, want any
	}{
		{"retry.max_attempts", config.DefaultRetryMaxAttempts, poller.DefaultMaxAttempts},
		{"retry.max_age", config.DefaultRetryMaxAge, poller.DefaultMaxRetryAge},
		{"retry.initial_delay", config.DefaultRetryInitialDelay, poller.DefaultRetryInitial},
		{"retry.max_delay", config.DefaultRetryMaxDelay, poller.DefaultRetryMax},
		{"breaker_failures", config.DefaultBreakerFailures, poller.DefaultBreakerFailures},
		{"breaker_pause", config.DefaultBreakerPause, poller.DefaultBreakerPause},
		{"stop_pause", config.DefaultSourceStopPause, poller.DefaultSourceStopPause},
		{"burst", config.DefaultSourceBurst, platform.DefaultCallBurst},
	}
	for _, c := range checks {
		if c.cfg != c.want {
			t.Errorf("%s: config default %v, poller default %v", c.name, c.cfg, c.want)
		}
	}
}

func TestApplyRetry(t *testing.T) {
	t.Parallel()
	cfg := &config.Config{Retry: config.Retry{MaxAttempts: 3, MaxAge: 7, InitialDelay: 2, MaxDelay: 5}}
	var po poller.Options
	ApplyRetry(&po, cfg)
	if po.MaxAttempts != 3 || po.MaxRetryAge != 7 || po.RetryInitial != 2 || po.RetryMax != 5 {
		t.Fatalf("ApplyRetry: %+v", po)
	}
}
