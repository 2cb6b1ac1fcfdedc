package daemon

import (
	"database/sql"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/simulator"
)

// TestSecretsScrubbedAcrossComponents: each platform client scrubs its own
// credentials, but a platform may echo another's. kitkot echoing the
// JustOneAPI token in a refusal, and JustOneAPI echoing the kitkot key (and
// a terminal escape) in a balance refusal, reach neither the database nor
// /-/ready: the daemon scrubs every configured secret from both.
func TestSecretsScrubbedAcrossComponents(t *testing.T) {
	t.Parallel()
	jo, kk, url := imitations(t)
	cfg := load(t, writeConfig(t, t.TempDir(), url, "@every 1h", rulesV1, ""))
	d, err := New(t.Context(), cfg, Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, d)

	d.Cycle(t.Context()) // first sight: the threads' backlog (none)
	jo.AddReply(threadA, simulator.Reply{AwemeID: aweme, Text: "多少钱", UserUID: "1001", Nickname: "小明", CreateTime: time.Now().Unix(), ReplyToReplyID: "0"})
	kk.Faults.Push(simulator.Fault{Kind: simulator.FaultCode, Code: 400, Msg: "bad request token=" + token + " session " + sessionKey})
	d.Cycle(t.Context())
	if n := len(kk.Posts()); n != 0 {
		t.Fatalf("%d replies posted through a refusing kitkot", n)
	}
	jo.Faults.Push(simulator.Fault{Kind: simulator.FaultCode, Code: 601, Msg: "insufficient balance for api_key=" + apiKey + "\x1b[2J\nforged"})
	jo.Faults.Push(simulator.Fault{Kind: simulator.FaultCode, Code: 601, Msg: "insufficient balance for api_key=" + apiKey + "\x1b[2J\nforged"})
	d.Cycle(t.Context())

	db, err := sql.Open("sqlite", "file:"+cfg.Database+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, db)
	var errText, pauseReason string
	if err := db.QueryRow(`SELECT error FROM replies WHERE rule = 'price'`).Scan(&errText); err != nil {
		t.Fatalf("the refused answer: %v", err)
	}
	if err := db.QueryRow(`SELECT reason FROM pauses WHERE scope = 'source:douyin'`).Scan(&pauseReason); err != nil {
		t.Fatalf("the balance pause: %v", err)
	}
	for _, s := range []string{errText, pauseReason} {
		if strings.Contains(s, token) || strings.Contains(s, apiKey) || strings.Contains(s, sessionKey) || !strings.Contains(s, "[redacted]") {
			t.Errorf("stored %q: a secret, or nothing redacted", s)
		}
	}

	code, body := get(t, d.HealthHandler(), "/-/ready")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "source:douyin") {
		t.Fatalf("ready: %d %q", code, body)
	}
	for _, bad := range []string{token, apiKey, sessionKey, "\x1b", "\nforged"} {
		if strings.Contains(body, bad) {
			t.Errorf("/-/ready holds %q:\n%s", bad, body)
		}
	}
	if !strings.Contains(body, `api_key=[redacted]\x1b[2J\nforged`) {
		t.Errorf("/-/ready does not show the reason escaped and scrubbed:\n%s", body)
	}
}
