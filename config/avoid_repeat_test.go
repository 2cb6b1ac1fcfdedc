package config

import "testing"

func TestAvoidRepeat(t *testing.T) {
	c := mustLoad(t, minimal)
	if got := resps(c).Kitkot.AvoidRepeat; got != 10 {
		t.Errorf("default kitkot.avoid_repeat = %d, want 10", got)
	}
	c = mustLoad(t, with(t, "responders: {kitkot: {avoid_repeat: 3}}\n"))
	if got := resps(c).Kitkot.AvoidRepeat; got != 3 {
		t.Errorf("kitkot.avoid_repeat = %d, want 3", got)
	}
	c = mustLoad(t, with(t, "responders: {kitkot: {avoid_repeat: 0}}\n"))
	if got := resps(c).Kitkot.AvoidRepeat; got != 0 {
		t.Errorf("explicit kitkot.avoid_repeat 0 = %d, want 0 (off)", got)
	}
	c = mustLoad(t, minimal, "AUTOREPLYD_RESPONDERS__KITKOT__AVOID_REPEAT=5")
	if got := resps(c).Kitkot.AvoidRepeat; got != 5 {
		t.Errorf("env kitkot.avoid_repeat = %d, want 5", got)
	}
	// Every responder section has the key (config.Pacing is embedded).
	c = mustLoad(t, with(t, "responders: {wechat: {app_id: a, app_secret: s, avoid_repeat: 2}, weibo: {access_token: t}}\n"))
	if got := resps(c).Wechat.AvoidRepeat; got != 2 {
		t.Errorf("wechat.avoid_repeat = %d, want 2", got)
	}
	if got := resps(c).Weibo.AvoidRepeat; got != DefaultAvoidRepeat {
		t.Errorf("default weibo.avoid_repeat = %d, want %d", got, DefaultAvoidRepeat)
	}
}

func TestAvoidRepeatNegativeRefused(t *testing.T) {
	for _, tt := range []struct{ extra, want string }{
		{"responders: {kitkot: {avoid_repeat: -1}}\n", "responders.kitkot.avoid_repeat: must not be negative"},
		{"responders: {weibo: {access_token: t, avoid_repeat: -2}}\n", "responders.weibo.avoid_repeat: must not be negative"},
		{"responders: {kitkot: {avoid_repeat: many}}\n", "responders.kitkot.avoid_repeat"},
	} {
		wantContains(t, loadErr(t, with(t, tt.extra)), tt.want)
	}
}
