package daemon

import (
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/config"
)

func TestBuildWeibo(t *testing.T) {
	t.Parallel()
	cfg := &config.Config{Location: time.UTC,
		Sources: config.Sources{Weibo: &config.WeiboSource{BaseURL: "http://127.0.0.1:1", AccessToken: "wb-token",
			Responder: "weibo", SelfUIDs: []string{"5000000001"}, Backlog: "skip", Timeout: time.Second,
			Weibos: []config.Weibo{{ID: "4023227965"}}}},
		Responders: config.Responders{Weibo: &config.WeiboResponder{API: "v1", BaseURL: "http://127.0.0.1:1",
			AppKey: "123", Username: "u", Password: "pw", Timeout: time.Second, Pacing: config.Pacing{RateLimit: 1, Burst: 1}}},
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
	cfg.Responders.Weibo.API = "v2"
	if _, _, _, err := Build(cfg); err == nil || !strings.HasPrefix(err.Error(), "responders.weibo:") || strings.Contains(err.Error(), "pw") {
		t.Fatalf("v2 without token: %v", err)
	}
}
