package config

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	secretWeComURL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=WECOMKEY-s3cr3t-77aa"
	secretDingSign = "SEC-s3cr3t-dingtalk-88bb"
)

func TestNotifyChannels(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeSecretFile(t, filepath.Join(dir, "wecom-ops-url"), []byte(secretWeComURL+"\n"), 0o600)
	content := with(t, `
approval:
  max_age: 6h
notify:
  ops:
    type: wecom
    url_file: `+filepath.Join(dir, "wecom-ops-url")+`
  dingtalk:
    url: https://oapi.dingtalk.com/robot/send?access_token=abc
    secret: `+secretDingSign+`
    rate: 10/m
  crm:
    type: webhook
    url: https://crm.example.com/hooks/autoreplyd
    template: '{{ rule }}: {{ comment_text }}'
    timeout: 3s
`)
	cfg := mustLoad(t, content)
	if cfg.Approval.MaxAge != 6*time.Hour {
		t.Errorf("approval.max_age = %v", cfg.Approval.MaxAge)
	}
	var names []string
	for _, n := range cfg.Notify {
		names = append(names, n.Name+":"+n.Type)
	}
	if got := strings.Join(names, " "); got != "crm:webhook dingtalk:dingtalk ops:wecom" {
		t.Fatalf("channels = %s", got)
	}
	ops := cfg.NotifyChannel("ops")
	if ops.URL.Value() != secretWeComURL || ops.Rate != DefaultNotifyRate || ops.Timeout != DefaultNotifyTimeout {
		t.Errorf("ops = %+v", ops)
	}
	if d := cfg.NotifyChannel("dingtalk"); d.Secret.Value() != secretDingSign || d.Rate != "10/m" {
		t.Errorf("dingtalk = %+v", d)
	}
	if c := cfg.NotifyChannel("crm"); c.Template != "{{ rule }}: {{ comment_text }}" || c.Timeout != 3*time.Second {
		t.Errorf("crm = %+v", c)
	}
	if cfg.NotifyChannel("nope") != nil {
		t.Error("a channel that is not configured was found")
	}
	// The URL and the signing secret are secrets: never printed.
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{string(b), cfg.String()} {
		if strings.Contains(out, "WECOMKEY") || strings.Contains(out, secretDingSign) || strings.Contains(out, "access_token=abc") {
			t.Errorf("a notify secret is shown: %s", out)
		}
	}
	// The default max age.
	if got := mustLoad(t, minimal).Approval.MaxAge; got != DefaultApprovalMaxAge {
		t.Errorf("default approval.max_age = %v", got)
	}
}

func TestNotifyChannelErrors(t *testing.T) {
	t.Parallel()
	msg := loadErr(t, with(t, `
approval:
  max_age: 0s
notify:
  ops:
    type: wecon
    url: https://example.com/x?key=abc
  boss:
    type: dingtalk
  wecom:
    url: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=WECOMKEY-s3cr3t-77aa
    secret: x
    rate: lots
    timeout: -1s
    colour: red
  "Bad Name":
    type: webhook
`))
	wantContains(t, msg,
		`approval.max_age`,
		`notify.ops.type: unknown type "wecon" (want wecom, dingtalk, feishu or webhook) (did you mean "wecom"?)`,
		`notify.boss.url: missing (set url or url_file)`,
		`notify.wecom.secret: WeCom robots sign nothing`,
		`notify.wecom.rate`,
		`notify.wecom.timeout`,
		`notify.wecom.colour: unknown key`,
		`is not a section name`,
	)
	if strings.Contains(msg, "WECOMKEY") || strings.Contains(msg, "key=abc") {
		t.Errorf("an error shows a channel's URL:\n%s", msg)
	}
}

func TestNotifyEnvOverride(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, with(t, `
notify:
  ops:
    type: feishu
    url: https://open.feishu.cn/open-apis/bot/v2/hook/old
`))
	cfg, err := Load(path, []string{"AUTOREPLYD_NOTIFY__OPS__URL=https://open.feishu.cn/open-apis/bot/v2/hook/new"})
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.NotifyChannel("ops").URL.Value(); got != "https://open.feishu.cn/open-apis/bot/v2/hook/new" {
		t.Errorf("url = %q", got)
	}
}
