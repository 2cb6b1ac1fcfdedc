package config

import (
	"strings"
	"testing"

	"github.com/autoreplyd/autoreplyd/platform/wechat"
)

const wechatBase = `
sources:
  wechat:
    app_id: wx1
    app_secret: ws
    articles: [{msg_data_id: "2247483647", index: 0}]
responders:
  wechat: {app_id: wx1, app_secret: ws%s}
`

func TestWechatTokenAPIAndMaxLength(t *testing.T) {
	c := mustLoad(t, strings.Replace(wechatBase, "%s", "", 1))
	if srcs(c).Wechat.TokenAPI != wechat.TokenStable || resps(c).Wechat.TokenAPI != wechat.TokenStable ||
		resps(c).Wechat.MaxLength != wechat.DefaultMaxLength {
		t.Fatalf("defaults: %+v %+v", *srcs(c).Wechat, *resps(c).Wechat)
	}
	c = mustLoad(t, strings.Replace(wechatBase, "%s", ", token_api: legacy, max_length: 300", 1))
	if resps(c).Wechat.TokenAPI != wechat.TokenLegacy || resps(c).Wechat.MaxLength != 300 {
		t.Fatalf("set: %+v", *resps(c).Wechat)
	}
	for _, tc := range []struct{ extra, want string }{
		{", token_api: v3", `responders.wechat.token_api: "v3" is not one of stable, legacy`},
		{", max_length: 0", "responders.wechat.max_length: must be at least 1"},
	} {
		if got := loadErr(t, strings.Replace(wechatBase, "%s", tc.extra, 1)); !strings.Contains(got, tc.want) {
			t.Errorf("%s: %s", tc.extra, got)
		}
	}
	bad := strings.Replace(strings.Replace(wechatBase, "%s", "", 1), "app_secret: ws\n", "app_secret: ws\n    token_api: old\n", 1)
	if got := loadErr(t, bad); !strings.Contains(got, `sources.wechat.token_api: "old" is not one of stable, legacy`) {
		t.Errorf("source token_api: %s", got)
	}
}
