package config

import (
	"testing"
	"time"
)

func TestSendJitter(t *testing.T) {
	if c := mustLoad(t, minimal); c.SendJitter != DefaultSendJitter {
		t.Errorf("default send_jitter %v, want %v", c.SendJitter, DefaultSendJitter)
	}
	for _, tc := range []struct {
		yaml string
		env  []string
		want time.Duration
	}{
		{"send_jitter: 10s\n", nil, 10 * time.Second},
		{"send_jitter: 0\n", nil, 0},
		{"", []string{"AUTOREPLYD_SEND_JITTER=500ms"}, 500 * time.Millisecond},
	} {
		if c := mustLoad(t, with(t, tc.yaml), tc.env...); c.SendJitter != tc.want {
			t.Errorf("%q %v: send_jitter %v, want %v", tc.yaml, tc.env, c.SendJitter, tc.want)
		}
	}
	wantContains(t, loadErr(t, with(t, "send_jitter: -1s\n")), "send_jitter: must not be negative")
	wantContains(t, loadErr(t, with(t, "send_jitter: soon\n")), `send_jitter: invalid duration "soon"`)
}
