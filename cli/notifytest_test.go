package cli

import (
	"strings"
	"testing"

	"github.com/autoreplyd/autoreplyd/notify/notifytest"
)

func notifyConfig(servers map[string]*notifytest.Server) string {
	var b strings.Builder
	b.WriteString("notify:\n")
	for name, s := range servers {
		b.WriteString("  " + name + ":\n    type: " + s.Type() + "\n    url: " + s.URL() + "\n")
		if s.Secret() != "" {
			b.WriteString("    secret: " + s.Secret() + "\n")
		}
	}
	return b.String()
}

func TestNotifyTest(t *testing.T) {
	t.Parallel()
	servers := map[string]*notifytest.Server{
		"ops":  notifytest.NewWeCom(t),
		"boss": notifytest.NewDingTalk(t, "SECcli-notify-test-51f0"),
		"team": notifytest.NewFeishu(t, "cli-feishu-secret-8d2e"),
		"crm":  notifytest.NewWebhook(t, "cli-hook-secret-3a7b"),
	}
	cfg, _ := checkWorld(t, goodRules, notifyConfig(servers))
	for name, s := range servers {
		r := runCLI(t, nil, "notify-test", name, "--config", cfg)
		if r.code != 0 || !strings.Contains(r.stdout, "notify."+name+" ("+s.Type()+"): HTTP 200 OK") || !strings.Contains(r.stdout, "accepted") {
			t.Errorf("notify-test %s: exit %d\n%s%s", name, r.code, r.stdout, r.stderr)
		}
		msgs := s.Messages()
		if len(msgs) != 1 || !strings.Contains(msgs[0].Text, "测试消息：通知渠道 "+name+" 已连通") {
			t.Errorf("%s got %+v", name, msgs)
		}
		for _, secret := range []string{s.Token(), s.Secret()} {
			if secret != "" && strings.Contains(r.stdout+r.stderr, secret) {
				t.Errorf("notify-test %s printed a secret:\n%s%s", name, r.stdout, r.stderr)
			}
		}
	}

	// A refused robot: the platform's code, and what to do about it.
	servers["ops"].Fail(1, notifytest.FaultBadWebhook)
	r := runCLI(t, nil, "notify-test", "ops", "--config", cfg)
	if r.code != 1 || !strings.Contains(r.stdout, "code 93000") || !strings.Contains(r.stderr, "fix the config") {
		t.Errorf("bad webhook: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	servers["boss"].Fail(1, notifytest.FaultTooFast)
	r = runCLI(t, nil, "notify-test", "boss", "--config", cfg)
	if r.code != 1 || !strings.Contains(r.stdout, "code 130101") || !strings.Contains(r.stderr, "retry later") {
		t.Errorf("too fast: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, servers["boss"].Token()) {
		t.Errorf("the DingTalk access token was printed:\n%s%s", r.stdout, r.stderr)
	}
	r = runCLI(t, nil, "notify-test", "nope", "--config", cfg)
	if r.code != 1 || !strings.Contains(r.stderr, "notify.nope is not a configured channel (configured: boss, crm, ops, team)") {
		t.Errorf("unknown channel: exit %d\n%s", r.code, r.stderr)
	}
}

func TestCheckRefusesUnknownNotifyChannel(t *testing.T) {
	t.Parallel()
	rules := "rules:\n  - name: complaint\n    when: 'text contains \"投诉\"'\n    action: flag\n    notify: [opz]\n"
	cfg, db := checkWorld(t, rules, notifyConfig(map[string]*notifytest.Server{"ops": notifytest.NewWeCom(t)}))
	r := runCLI(t, nil, "check", "--config", cfg)
	if r.code != 1 || !strings.Contains(r.stderr, `rule "complaint": notify "opz" is not a configured channel (configured: ops) (did you mean "ops"?)`) {
		t.Errorf("check: exit %d\n%s", r.code, r.stderr)
	}
	assertNoDatabase(t, db)
}
