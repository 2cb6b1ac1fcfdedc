package daemon

import (
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/config"
)

func wechatConfig(sourceSecret, responderSecret string) *config.Config {
	return &config.Config{
		Location: time.UTC,
		Sources: config.Sources{Wechat: &config.WechatSource{BaseURL: "http://127.0.0.1:1", AppID: "wx1",
			AppSecret: config.Secret(sourceSecret), TokenAPI: "stable", Responder: "wechat", Backlog: "skip", Timeout: time.Second,
			Articles: []config.Article{{MsgDataID: "2247483647", Index: 0}}}},
		Responders: config.Responders{Wechat: &config.WechatResponder{BaseURL: "http://127.0.0.1:1", AppID: "wx1",
			AppSecret: config.Secret(responderSecret), TokenAPI: "stable", Timeout: time.Second, MaxLength: 600}},
	}
}

func TestBuildWechatSharesOneClient(t *testing.T) {
	t.Parallel()
	env := &buildEnv{}
	cfg := wechatConfig("wx-secret-1", "wx-secret-1")
	if _, _, _, err := wechatResponder(cfg, env); err != nil {
		t.Fatal(err)
	}
	if _, _, err := wechatSource(cfg, env); err != nil {
		t.Fatal(err)
	}
	if len(env.wechat) != 1 {
		t.Fatalf("%d clients for one app", len(env.wechat))
	}
	bindings, rs, _, err := Build(cfg)
	if err != nil || len(bindings) != 1 || bindings[0].Source.Platform() != "wechat" || rs["wechat"] == nil {
		t.Fatalf("Build: %v %v %v", bindings, rs, err)
	}
	if w := SelfUIDsWarning(bindings[0]); w != "" {
		t.Errorf("self_uids warning for wechat: %s", w)
	}
	_, _, _, err = Build(wechatConfig("wx-secret-1", "wx-secret-2"))
	if err == nil || !strings.Contains(err.Error(), "app_id wx1") || strings.Contains(err.Error(), "wx-secret") {
		t.Fatalf("two secrets for one app: %v", err)
	}
}
