package main

// End-to-end tests of the TikTok platform: the binary polls the loopback
// kitkot imitation's reply listing and answers through kitkot's reply
// endpoint, the same imitation serving both.

import (
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/simulator"
)

const (
	tkThreadA = "7300000000000000011"
	tkThreadB = "7300000000000000022"
	tkAweme   = "7300000000000000001"
)

const tkRules = `rules:
  - name: spam
    when: 'containsAny(text, ["follow me", "加微信"])'
  - name: price
    when: 'platform == "tiktok" && text matches "how much|price|多少钱"'
    reply: 'Hi {{ user.nickname }}, the price is in the shop tab 🛍️ & more'
    via: kitkot
  - name: thanks
    when: 'text contains "love"'
    reply: 'Thank you {{ user.nickname }}! {{ labels.campaign }}'
`

// tkWorld is one TikTok test's imitation, config and working directory.
type tkWorld struct {
	*world
	clock int64 // the last create time add gave
}

// newTkWorld sets up kitkot's imitation (listing and replies) and a config
// with a TikTok source answered by kitkot; order is the listing's order.
func newTkWorld(t *testing.T, order simulator.ReplyOrder, pageMax int) *tkWorld {
	t.Helper()
	w := &tkWorld{world: &world{t: t, dir: t.TempDir()}, clock: time.Now().Unix() - 10_000}
	w.kk = simulator.NewKitkot(apiKeySecret, sessionSecret)
	w.kk.SetReplyOrder(order)
	w.kk.SetReplyPageMax(pageMax)
	w.kk.AddThread(tkThreadA, tkAweme)
	w.kk.AddThread(tkThreadB, tkAweme)
	w.kk.OnPost = func(p simulator.Post) {
		// Our answer lands in the root thread, as on TikTok.
		w.kk.AddReply(p.ReplyID, simulator.KitkotComment{CID: p.CID, AwemeID: p.AwemeID, Text: p.Text,
			UserUID: w.kk.BotUID, Nickname: w.kk.BotNickname, CreateTime: p.At.Unix()})
	}
	w.srv = httptest.NewServer(w.kk)
	t.Cleanup(w.srv.Close)

	w.creds = filepath.Join(w.dir, "creds")
	must(t, os.MkdirAll(w.creds, 0o700))
	must(t, os.WriteFile(filepath.Join(w.creds, "api_key"), []byte(apiKeySecret), 0o600))
	must(t, os.WriteFile(filepath.Join(w.creds, "session_key"), []byte(sessionSecret), 0o600))
	must(t, os.WriteFile(filepath.Join(w.dir, "rules.yaml"), []byte(tkRules), 0o644))
	w.cfg = filepath.Join(w.dir, "config.yaml")
	cfg := fmt.Sprintf(`database: state/autoreplyd.db
rules: rules.yaml
schedule: "@every 1h"
timezone: Asia/Shanghai
listen: ""
log: {level: debug, format: json}
send_jitter: 0s
sources:
  tiktok:
    base_url: %s/api
    api_key_file: api_key
    self_uids: [%q]
    backlog: skip
    timeout: 5s
    threads:
      - comment_id: %q
        aweme_id: %q
        labels: {campaign: summer}
      - comment_id: %q
        aweme_id: %q
responders:
  kitkot:
    base_url: %s/api
    api_key_file: api_key
    session_key_file: session_key
    timeout: 3s
    rate: 100/s
    burst: 10
`, w.srv.URL, w.kk.BotUID, tkThreadA, tkAweme, tkThreadB, tkAweme, w.srv.URL)
	must(t, os.MkdirAll(filepath.Join(w.dir, "state"), 0o755))
	must(t, os.WriteFile(w.cfg, []byte(cfg), 0o644))
	t.Cleanup(w.assertNoSecrets)
	return w
}

// add adds a reply two seconds after the last one: the imitation's times
// are seconds, so replies are spaced apart to give the listing a definite
// order.
func (w *tkWorld) add(thread, text, nickname, uid string) string {
	w.clock += 2
	return w.kk.AddReply(thread, simulator.KitkotComment{Text: text, Nickname: nickname, UserUID: uid,
		UniqueID: "u" + uid, CreateTime: w.clock})
}

const (
	tkPrice   = "Hi Tom, the price is in the shop tab 🛍️ & more"
	tkThanksA = "Thank you Ann! summer"
)

func TestEndToEndTikTokAnswersOnce(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		order simulator.ReplyOrder
	}{{"oldest", simulator.OrderOldest}, {"newest", simulator.OrderNewest}, {"recommended", simulator.OrderRecommended}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newTkWorld(t, tc.order, 3)
			// The backlog: replies there before autoreplyd first looks.
			for i := range 7 {
				w.add(tkThreadA, fmt.Sprintf("how much #%d", i), "Old", fmt.Sprint(1000+i))
			}
			first := w.once()
			if n := strings.Count(first, `"disposition":"backlog"`); n != 7 {
				t.Fatalf("backlog: %d recorded, want 7; first cycle:\n%s", n, first)
			}
			if n := len(w.kk.Posts()); n != 0 {
				t.Fatalf("backlog answered: %d", n)
			}

			price := w.add(tkThreadA, "how much is it?", "Tom", "2001")
			w.add(tkThreadA, "nice weather", "Bob", "2002")
			spam := w.add(tkThreadB, "follow me 加微信", "Spam", "2003")
			thanks := w.add(tkThreadA, "love it", "Ann", "2004")
			log := w.once()
			byText := postsByText(w.kk)
			if len(w.kk.Posts()) != 2 || byText[tkPrice] != 1 || byText[tkThanksA] != 1 {
				t.Fatalf("posts: %+v\n%s", w.kk.Posts(), log)
			}
			for _, p := range w.kk.Posts() {
				if p.ReplyID != tkThreadA || p.AwemeID != tkAweme {
					t.Errorf("post %+v: want reply_id %s, aweme_id %s", p, tkThreadA, tkAweme)
				}
			}
			// Our own answers show up in the thread; nothing is answered twice.
			w.once()
			w.add(tkThreadB, "love this", "Cat", "2005")
			w.once()
			w.once()
			if n := len(w.kk.Posts()); n != 3 {
				t.Fatalf("%d posts, want 3: %+v", n, w.kk.Posts())
			}

			rows := w.history()
			status := map[string]string{}
			for _, r := range rows {
				status[r.CommentID] = r.Status + "/" + r.Rule
				if r.Platform != "tiktok" || r.Responder != "kitkot" {
					t.Errorf("row %+v", r)
				}
				if r.CommentID == price && (r.ReplyText != tkPrice || r.ThreadID != tkThreadA || r.PlatformReplyID == "") {
					t.Errorf("price row %+v", r)
				}
			}
			if status[price] != "sent/price" || status[thanks] != "sent/thanks" || status[spam] != "skipped/spam" {
				t.Fatalf("history: %v", status)
			}
		})
	}
}

func TestEndToEndTikTokNewestFirstIsFrugal(t *testing.T) {
	t.Parallel()
	w := newTkWorld(t, simulator.OrderNewest, 3)
	for i := range 12 {
		w.add(tkThreadA, fmt.Sprintf("old %d", i), "Old", fmt.Sprint(1000+i))
	}
	w.once() // full scan, learns newest first
	w.once()
	before := w.kk.ListCalls()
	id := w.add(tkThreadA, "price?", "Tom", "2001")
	w.once()
	// Thread A: page 1 holds the new reply, page 2 is all known; thread B:
	// one page. (A whole scan of A would be 5 pages.)
	if n := w.kk.ListCalls() - before; n > 3 {
		t.Errorf("%d listing calls for one new reply", n)
	}
	if len(w.kk.Posts()) != 1 || w.kk.Posts()[0].Text != "Hi Tom, the price is in the shop tab 🛍️ & more" {
		t.Fatalf("posts: %+v (reply %s)", w.kk.Posts(), id)
	}
}

func TestEndToEndTikTokListingErrors(t *testing.T) {
	t.Parallel()
	w := newTkWorld(t, simulator.OrderOldest, 20)
	w.once()
	id := w.add(tkThreadA, "how much", "Tom", "2001")
	// A server error: retried next cycle, nothing lost.
	w.kk.Faults.Push(simulator.Fault{Kind: simulator.FaultHTTPStatus, Status: 502})
	w.once()
	w.once()
	if len(w.kk.Posts()) != 1 {
		t.Fatalf("posts after a 502: %+v (reply %s)", w.kk.Posts(), id)
	}
	// A wrong api_key stops the source, loudly, without printing the key.
	must(t, os.WriteFile(filepath.Join(w.creds, "api_key"), []byte("wrong-"+apiKeySecret[:4]), 0o600))
	_, stderr, _ := w.run("run", "--once", "--config", w.cfg)
	if !strings.Contains(stderr, "Invalid api_key") {
		t.Errorf("no api_key refusal in the log:\n%s", stderr)
	}
}

func TestCheckTikTokVia(t *testing.T) {
	t.Parallel()
	w := newTkWorld(t, simulator.OrderOldest, 20)
	stdout, stderr, code := w.run("check", "--config", w.cfg)
	if code != 0 || !strings.Contains(stdout, "OK") {
		t.Fatalf("check: %d\n%s\n%s", code, stdout, stderr)
	}
	must(t, os.WriteFile(filepath.Join(w.dir, "rules.yaml"),
		[]byte(strings.Replace(tkRules, "via: kitkot", "via: wechat", 1)), 0o644))
	_, stderr, code = w.run("check", "--config", w.cfg)
	if code != 1 || !strings.Contains(stderr, `via "wechat" is not a configured responder`) {
		t.Fatalf("check with via: wechat: %d\n%s", code, stderr)
	}
}
