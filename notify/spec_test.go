package notify_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/autoreplyd/autoreplyd/notify"
)

// The signatures, against values computed by another implementation
// (Python's hmac and base64) from the platforms' documented formulas.
func TestSignatures(t *testing.T) {
	t.Parallel()
	ts, sign := notify.DingTalkSign("SECtest", time.UnixMilli(1700000000000))
	if ts != "1700000000000" || sign != "aZLLrriXgn05YbwaGR7knYsLeJADjr9NwLaNNKpxh4g=" {
		t.Errorf("DingTalk: %s %s", ts, sign)
	}
	ts, sign = notify.FeishuSign("feishu-secret", time.Unix(1700000000, 0))
	if ts != "1700000000" || sign != "OrBzY1Y01Gq+HgJsl+7OfWcMVwc7YocohQm5iiZwjhU=" {
		t.Errorf("Feishu: %s %s", ts, sign)
	}
	if got := notify.WebhookSignature("crm-key", []byte(`{"event":"test"}`)); got != "sha256=1e9c42fc93f7ff66f37c0a6e3ecd6f693f04a14f867f5e0c9defaaea5ad8aa01" {
		t.Errorf("webhook: %s", got)
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	const key = "93a1f0c2-7d4e-4b6a-9c8d-2e5f1a3b4c6d"
	good := map[string]notify.Spec{
		"wecom":    {Name: "ops", Type: "wecom", URL: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + key},
		"dingtalk": {Name: "boss", Type: "dingtalk", URL: "https://oapi.dingtalk.com/robot/send?access_token=" + key, Secret: "SEC" + key},
		"feishu":   {Name: "team", Type: "feishu", URL: "https://open.feishu.cn/open-apis/bot/v2/hook/" + key, Secret: key},
		"webhook":  {Name: "crm", Type: "webhook", URL: "https://user:" + key + "@crm.example.com:8443/hooks/autoreplyd?token=" + key, Template: "#{{ id }} {{ comment_text }}"},
		"loopback": {Name: "t_1", Type: "wecom", URL: "http://127.0.0.1:8080/cgi-bin/webhook/send?key=" + key, Rate: 1, Burst: 5, Timeout: time.Second},
	}
	for name, s := range good {
		if probs := s.Check(); len(probs) > 0 {
			t.Errorf("%s: %q", name, probs)
		}
	}
	tests := []struct {
		spec notify.Spec
		want string
	}{
		{notify.Spec{Name: "ops", Type: "wecon", URL: good["wecom"].URL}, `notify.ops.type: unknown type "wecon" (want wecom, dingtalk, feishu or webhook)`},
		{notify.Spec{Name: "ops", URL: good["wecom"].URL}, `notify.ops.type: missing`},
		{notify.Spec{Name: "o ps", Type: "wecom", URL: good["wecom"].URL}, `notify.o ps: a channel name is`},
		{notify.Spec{Name: "ops", Type: "wecom"}, `notify.ops.url: missing`},
		{notify.Spec{Name: "ops", Type: "wecom", URL: "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + key}, `notify.ops.url: must be https`},
		{notify.Spec{Name: "ops", Type: "wecom", URL: "qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + key}, `notify.ops.url: not an absolute URL`},
		{notify.Spec{Name: "ops", Type: "wecom", URL: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?k=" + key}, `notify.ops.url: a WeCom robot URL ends in /cgi-bin/webhook/send?key=...: its key is missing`},
		{notify.Spec{Name: "ops", Type: "wecom", URL: "https://user:" + key + "@qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + key}, `notify.ops.url: must not hold a user name or password`},
		{notify.Spec{Name: "ops", Type: "wecom", URL: "https://qyapi.weixin.qq.com:99999/cgi-bin/webhook/send?key=" + key}, `notify.ops.url: its port is not a number`},
		{notify.Spec{Name: "ops", Type: "wecom", URL: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + key + "#x"}, `notify.ops.url: must not have a #fragment`},
		{notify.Spec{Name: "ops", Type: "wecom", URL: good["wecom"].URL, Secret: key}, `notify.ops.secret: WeCom robots sign nothing`},
		{notify.Spec{Name: "boss", Type: "dingtalk", URL: "https://oapi.dingtalk.com/robot/send"}, `notify.boss.url: a DingTalk robot URL ends in /robot/send?access_token=...`},
		{notify.Spec{Name: "boss", Type: "dingtalk", URL: good["dingtalk"].URL + "&timestamp=1&sign=x"}, `notify.boss.url: must not hold timestamp or sign`},
		{notify.Spec{Name: "boss", Type: "dingtalk", URL: good["dingtalk"].URL, Secret: key}, `notify.boss.secret: a DingTalk 加签 secret starts with SEC`},
		{notify.Spec{Name: "boss", Type: "dingtalk", URL: good["dingtalk"].URL, Secret: "SEC" + key + "\n"}, `notify.boss.secret: holds blanks or control characters`},
		{notify.Spec{Name: "team", Type: "feishu", URL: "https://open.feishu.cn/open-apis/bot/v2/"}, `notify.team.url: a Feishu robot URL ends in /open-apis/bot/v2/hook/ID`},
		{notify.Spec{Name: "crm", Type: "webhook", URL: "ftp://crm.example.com/" + key}, `notify.crm.url: must be an https URL`},
		{notify.Spec{Name: "crm", Type: "webhook", URL: "https:///hooks?token=" + key}, `notify.crm.url: has no host`},
		{notify.Spec{Name: "crm", Type: "webhook", URL: good["webhook"].URL, Template: "{{ commnet_text }}"}, `notify.crm.template: character 4: unknown name commnet_text`},
		{notify.Spec{Name: "crm", Type: "webhook", URL: good["webhook"].URL, Rate: -1}, `notify.crm.rate: must be a positive rate`},
		{notify.Spec{Name: "crm", Type: "webhook", URL: good["webhook"].URL, Burst: -1}, `notify.crm.burst: must be 1 or more`},
		{notify.Spec{Name: "crm", Type: "webhook", URL: good["webhook"].URL, Rate: rate.Limit(math.Inf(1))}, `notify.crm.rate: must be a positive rate`},
		{notify.Spec{Name: "crm", Type: "webhook", URL: good["webhook"].URL, Timeout: time.Hour}, `notify.crm.timeout: must be positive and at most 5m0s`},
	}
	for _, tt := range tests {
		probs := tt.spec.Check()
		found := false
		for _, p := range probs {
			found = found || strings.HasPrefix(p, tt.want)
			if strings.Contains(p, key) {
				t.Errorf("a problem quotes the key: %s", p)
			}
		}
		if !found {
			t.Errorf("%v: problems %q, want %q...", tt.spec, probs, tt.want)
		}
		if _, err := notify.New(tt.spec, nil); err == nil || strings.Contains(err.Error(), key) {
			t.Errorf("New: %v", err)
		}
	}
}
