package daemon

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/notify/notifytest"
	"github.com/autoreplyd/autoreplyd/simulator"
)

const rulesNotify = `rules:
  - name: complaint
    when: 'text contains "投诉"'
    action: flag
    notify: [ops, crm]
`

// A failing channel shows in /-/ready's detail without making the daemon
// unready, and delays neither the cycle nor the other channel; the
// notifications are delivered once it recovers. Reloaded rules naming a
// channel that is not configured are refused.
func TestChannelsInReadyAndCycle(t *testing.T) {
	t.Parallel()
	jo, _, url := imitations(t)
	ops := notifytest.NewWeCom(t)
	crm := notifytest.NewWebhook(t, "daemon-hook-secret-7c1d")
	dir := t.TempDir()
	cfg := load(t, writeConfig(t, dir, url, "@every 1h", rulesNotify, `notify:
  ops:
    type: wecom
    url: `+ops.URL()+`
  crm:
    type: webhook
    url: `+crm.URL()+`
    secret: `+crm.Secret()+`
`))
	d, err := New(t.Context(), cfg, Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, d)
	d.Cycle(t.Context()) // first sight

	ops.Fail(1, notifytest.FaultBadWebhook)
	jo.AddReply(threadA, simulator.Reply{AwemeID: aweme, Text: "我要投诉", UserUID: "1003", Nickname: "王五", CreateTime: time.Now().Unix(), ReplyToReplyID: "0"})
	if st := d.Cycle(t.Context()); st.Flagged != 1 {
		t.Fatalf("cycle: %+v", st)
	}
	if err := d.FlushNotifications(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(crm.Messages()) != 1 || len(ops.Messages()) != 0 {
		t.Fatalf("crm %d messages, ops %d", len(crm.Messages()), len(ops.Messages()))
	}
	code, body := get(t, d.HealthHandler(), "/-/ready")
	if code != http.StatusOK || !strings.HasPrefix(body, "ready\n") ||
		!strings.Contains(body, "notify.ops (wecom) failing (fix its config or the robot's settings)") || !strings.Contains(body, "93000") ||
		!strings.Contains(body, "1 waiting") {
		t.Fatalf("ready with a failing channel: %d %q", code, body)
	}
	if strings.Contains(body, ops.Token()) || strings.Contains(body, "crm") {
		t.Fatalf("ready shows the key, or a healthy channel: %q", body)
	}
	// Metrics count both outcomes.
	_, metrics := get(t, d.HealthHandler(), "/metrics")
	for _, want := range []string{`autoreplyd_notifications_total{channel="crm",status="sent"} 1`,
		`autoreplyd_notifications_total{channel="ops",status="retrying"} 1`, `autoreplyd_inbox{status="flagged"} 1`,
		`autoreplyd_replies_total{platform="douyin",responder="kitkot",status="flagged"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	// A reload whose rules name an unknown channel is refused.
	testutil.WriteFile(t, cfg.Rules, strings.Replace(rulesNotify, "[ops, crm]", "[ops, crn]", 1))
	if err := d.Reload(); err == nil || !strings.Contains(err.Error(), `notify "crn" is not a configured channel (configured: crm, ops)`) {
		t.Fatalf("reload: %v", err)
	}
}
