package daemon

import (
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/config"
	"github.com/autoreplyd/autoreplyd/platform"
	"github.com/autoreplyd/autoreplyd/platform/weibo"
)

func TestBuildWeibo(t *testing.T) {
	t.Parallel()
	src := weibo.NewSourceSection()
	src.BaseURL, src.AccessToken, src.Responder, src.Timeout = "http://127.0.0.1:1", "wb-token", "weibo", time.Second
	src.SelfUIDList = []string{"5000000001"}
	src.Weibos = []weibo.Watch{{ID: "4023227965"}}
	resp := weibo.NewResponderSection()
	resp.API, resp.BaseURL, resp.AppKey, resp.Username, resp.Password, resp.Timeout = "v1", "http://127.0.0.1:1", "123", "u", "pw", time.Second
	resp.Pacing = platform.Pacing{RateLimit: 1, Burst: 1}
	cfg := &config.Config{Location: time.UTC,
		Sources:    []*config.Source{sourceOf(t, "weibo", "weibo", src)},
		Responders: []*config.Responder{responderOf(t, "weibo", "weibo", resp)},
	}
	bs, rs, pacing, err := Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 1 || bs[0].Source.Platform() != "weibo" || bs[0].Responder != "weibo" || len(bs[0].SelfUIDs) != 1 {
		t.Fatalf("bindings %+v", bs)
	}
	if rs["weibo"] == nil || pacing["weibo"].Burst != 1 {
		t.Fatalf("responders %v pacing %v", rs, pacing)
	}
	if w := SelfUIDsWarning(bs[0]); w != "" {
		t.Errorf("warning: %q", w)
	}
	// v2 without a token is refused, without leaking the v1 password.
	resp.API = "v2"
	if _, _, _, err := Build(cfg); err == nil || !strings.HasPrefix(err.Error(), "responders.weibo:") || strings.Contains(err.Error(), "pw") {
		t.Fatalf("v2 without token: %v", err)
	}
}
