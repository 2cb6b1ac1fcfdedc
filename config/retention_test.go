package config

import (
	"testing"
	"time"
)

func TestRetention(t *testing.T) {
	if c := mustLoad(t, minimal); c.Retention != 0 {
		t.Errorf("default retention %v, want 0 (keep forever)", c.Retention)
	}
	for _, tc := range []struct {
		yaml string
		env  []string
		want time.Duration
	}{
		{"retention: 90d\n", nil, 90 * 24 * time.Hour},
		{"retention: 720h\n", nil, 720 * time.Hour},
		{"retention: 1d12h\n", nil, 36 * time.Hour},
		{"retention: 0\n", nil, 0},
		{"retention: 0d\n", nil, 0},
		{"", []string{"AUTOREPLYD_RETENTION=30d"}, 30 * 24 * time.Hour},
	} {
		if c := mustLoad(t, with(t, tc.yaml), tc.env...); c.Retention != tc.want {
			t.Errorf("%q %v: retention %v, want %v", tc.yaml, tc.env, c.Retention, tc.want)
		}
	}
	// Other durations take days too.
	if c := mustLoad(t, with(t, "retry: {max_age: 2d}\n")); c.Retry.MaxAge != 48*time.Hour {
		t.Errorf("retry.max_age 2d = %v", c.Retry.MaxAge)
	}
	for _, tc := range []struct{ yaml, want string }{
		{"retention: -30d\n", "retention: must not be negative"},
		{"retention: -1h\n", "retention: must not be negative"},
		{"retention: 12h\n", "retention: 12h0m0s is too short: at least 1d"},
		{"retention: 30days\n", `retention: invalid duration "30days"`},
		{"retention: d\n", `retention: invalid duration "d"`},
		{"retention: 1d-2h\n", `retention: invalid duration "1d-2h"`},
		{"retention: 99999999999999d\n", `retention: invalid duration "99999999999999d"`},
		{"retention: 30\n", "retention: a duration needs a unit"},
	} {
		wantContains(t, loadErr(t, with(t, tc.yaml)), tc.want)
	}
	wantContains(t, loadErr(t, minimal, "AUTOREPLYD_RETENTION=-2d"), "retention: must not be negative", "$AUTOREPLYD_RETENTION")
}
