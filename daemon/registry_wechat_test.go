package daemon

import (
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/config"
	"github.com/autoreplyd/autoreplyd/platform"
	"github.com/autoreplyd/autoreplyd/platform/wechat"
)

func wechatConfig(t *testing.T, sourceSecret, responderSecret string) *config.Config {
	src := wechat.NewSourceSection()
	src.BaseURL, src.AppID, src.AppSecret, src.Responder, src.Timeout = "http://127.0.0.1:1", "wx1", platform.Secret(sourceSecret), "wechat", time.Second
	src.Articles = []wechat.Watch{{MsgDataID: "2247483647", Index: 0}}
	resp := wechat.NewResponderSection()
	resp.BaseURL, resp.AppID, resp.AppSecret, resp.Timeout = "http://127.0.0.1:1", "wx1", platform.Secret(responderSecret), time.Second
	return &config.Config{
		Location:   time.UTC,
		Sources:    []*config.Source{sourceOf(t, "wechat", "wechat", src)},
		Responders: []*config.Responder{responderOf(t, "wechat", "wechat", resp)},
	}
}

func TestBuildWechatSharesOneClient(t *testing.T) {
	t.Parallel()
	env := &platform.Env{}
	cfg := wechatConfig(t, "wx-secret-1", "wx-secret-1")
	r := cfg.Responders[0]
	if _, err := r.Spec.New(r.Section, env); err != nil {
		t.Fatal(err)
	}
	s := cfg.Sources[0]
	if _, err := s.Spec.New(s.Section, env); err != nil {
		t.Fatal(err)
	}
	n := 0
	if _, err := env.Shared("wechat-app:wx1", func() (any, error) { n++; return nil, nil }); err != nil || n != 0 {
		t.Fatalf("the source and the responder of one app do not share its client (%d made anew, %v)", n, err)
	}
	bindings, rs, _, err := Build(cfg)
	if err != nil || len(bindings) != 1 || bindings[0].Source.Platform() != "wechat" || rs["wechat"] == nil {
		t.Fatalf("Build: %v %v %v", bindings, rs, err)
	}
	if w := SelfUIDsWarning(bindings[0]); w != "" {
		t.Errorf("self_uids warning for wechat: %s", w)
	}
	_, _, _, err = Build(wechatConfig(t, "wx-secret-1", "wx-secret-2"))
	if err == nil || !strings.Contains(err.Error(), "app_id wx1") || strings.Contains(err.Error(), "wx-secret") {
		t.Fatalf("two secrets for one app: %v", err)
	}
}
