package main

// End-to-end test of named accounts: one Douyin source whose threads are
// answered by two kitkot accounts (responders `shop` and `brand`), each with
// its own session key, pacing, daily cap, breaker and pause, each served by
// its own loopback kitkot imitation that accepts only that account's keys.

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/autoreplyd/autoreplyd/simulator"
)

const (
	shopSession  = "kk-SESSION-shop-41d0a7"
	brandSession = "kk-SESSION-brand-8e22c5"
)

func TestEndToEndTwoKitkotAccounts(t *testing.T) {
	t.Parallel()
	w := &world{t: t, dir: t.TempDir()}
	w.jo = simulator.NewJustOneAPI(tokenSecret)
	jo := httptest.NewServer(w.jo)
	t.Cleanup(jo.Close)
	account := func(session, uid, nickname string) (*simulator.Kitkot, *httptest.Server) {
		kk := simulator.NewKitkot(apiKeySecret, session)
		kk.BotUID, kk.BotNickname = uid, nickname
		kk.OnPost = func(p simulator.Post) {
			w.jo.AddReply(p.ReplyID, simulator.Reply{CID: p.CID, AwemeID: p.AwemeID, Text: p.Text,
				UserUID: kk.BotUID, Nickname: kk.BotNickname, CreateTime: p.At.Unix(), ReplyToReplyID: "0"})
		}
		mux := http.NewServeMux()
		mux.Handle("/api/video/", kk)
		srv := httptest.NewServer(mux)
		t.Cleanup(srv.Close)
		return kk, srv
	}
	shop, shopSrv := account(shopSession, "7000000000000000101", "店铺号")
	brand, brandSrv := account(brandSession, "7000000000000000202", "品牌号")

	w.creds = filepath.Join(w.dir, "creds")
	must(t, os.MkdirAll(w.creds, 0o700))
	for name, v := range map[string]string{"token": tokenSecret, "kk-key": apiKeySecret, "kk-shop": shopSession, "kk-brand": brandSession} {
		must(t, os.WriteFile(filepath.Join(w.creds, name), []byte(v), 0o600))
	}
	must(t, os.WriteFile(filepath.Join(w.dir, "rules.yaml"), []byte(e2eRules), 0o644))
	must(t, os.MkdirAll(filepath.Join(w.dir, "state"), 0o755))
	w.cfg = filepath.Join(w.dir, "config.yaml")
	must(t, os.WriteFile(w.cfg, fmt.Appendf(nil, `database: state/autoreplyd.db
rules: rules.yaml
schedule: "@every 1h"
timezone: Asia/Shanghai
listen: ""
send_jitter: 0s
log: {level: debug, format: json}
responders:
  shop:  {type: kitkot, base_url: %s/api, api_key_file: kk-key, session_key_file: kk-shop, rate: 100/s, burst: 10, timeout: 3s}
  brand: {type: kitkot, base_url: %s/api, api_key_file: kk-key, session_key_file: kk-brand, rate: 100/s, burst: 10, timeout: 3s,
          daily_cap: 2, breaker_failures: 1, breaker_pause: 1h}
sources:
  douyin:
    base_url: %s
    token_file: token
    responder: shop
    self_uids: [%q, %q]
    timeout: 5s
    threads:
      - {comment_id: %q, aweme_id: %q}
      - {comment_id: %q, aweme_id: %q, responder: brand}
`, shopSrv.URL, brandSrv.URL, jo.URL, shop.BotUID, brand.BotUID, threadA, aweme, threadB, aweme), 0o644))
	t.Cleanup(w.assertNoSecrets)
	for _, s := range []string{shopSession, brandSession} {
		t.Cleanup(func() {
			for _, out := range w.outputs {
				if strings.Contains(out, s) {
					t.Errorf("a session key appeared in the output:\n%s", out)
				}
			}
		})
	}

	if _, stderr, code := w.run("check", "--config", w.cfg); code != 0 {
		t.Fatalf("check: %d\n%s", code, stderr)
	}
	w.once() // first sight: the backlog (nothing) is recorded
	a1 := w.add(threadA, "多少钱", "小王", "81000000000000001")
	b1 := w.add(threadB, "多少钱", "小李", "81000000000000002")
	w.once()

	// Each thread's answer went through its own account, and only there.
	if ps := shop.Posts(); len(ps) != 1 || ps[0].ReplyID != threadA || ps[0].Text != "小王 你好，价格请看橱窗[比心]" {
		t.Fatalf("shop posts: %+v", ps)
	}
	if ps := brand.Posts(); len(ps) != 1 || ps[0].ReplyID != threadB || ps[0].Text != "小李 你好，价格请看橱窗[比心]" {
		t.Fatalf("brand posts: %+v", ps)
	}
	rows := map[string]historyRow{}
	for _, r := range w.history() {
		rows[r.CommentID] = r
	}
	if r := rows[a1]; r.Responder != "shop" || r.Status != "sent" {
		t.Errorf("thread A's answer: %+v", r)
	}
	if r := rows[b1]; r.Responder != "brand" || r.Status != "sent" {
		t.Errorf("thread B's answer: %+v", r)
	}

	// The accounts' answers are ours in both threads, whichever account
	// posted them: neither account answers the other. Each account's cap
	// counts its own answers: brand reaches its daily cap of 2, shop does
	// not.
	w.add(threadA, "多少钱", "品牌号", brand.BotUID)
	a2 := w.add(threadA, "好看", "小赵", "81000000000000003")
	b2 := w.add(threadB, "好看", "小钱", "81000000000000004")
	b3 := w.add(threadB, "价格", "小孙", "81000000000000005")
	w.once()
	if n := len(shop.Posts()); n != 2 {
		t.Errorf("shop posted %d answers, want 2 (thread A's two comments by strangers)", n)
	}
	rows = map[string]historyRow{}
	for _, r := range w.history() {
		rows[r.CommentID] = r
	}
	if r := rows[a2]; r.Responder != "shop" || r.Status != "sent" {
		t.Errorf("a2: %+v", r)
	}
	sent, capped := 0, 0
	for _, id := range []string{b2, b3} {
		switch r := rows[id]; {
		case r.Responder == "brand" && r.Status == "sent":
			sent++
		case r.Responder == "brand" && r.Status == "skipped" && r.Reason == "daily_cap":
			capped++
		default:
			t.Errorf("%s: %+v", id, r)
		}
	}
	if sent != 1 || capped != 1 || len(brand.Posts()) != 2 {
		t.Errorf("brand: %d sent, %d capped, %d posts; want 1, 1, 2 (daily_cap 2)", sent, capped, len(brand.Posts()))
	}

	// brand's session is refused: its breaker (1 failure) pauses brand
	// alone; shop goes on answering.
	brand.Faults.Push(simulator.Fault{Kind: simulator.FaultCode, Code: 400, Msg: "Invalid session_key: please log in again"})
	must(t, os.WriteFile(filepath.Join(w.dir, "rules.yaml"), []byte(e2eRules+"  - name: hello\n    when: 'text contains \"在吗\"'\n    reply: 在的\n"), 0o644))
	w.add(threadB, "在吗", "小周", "81000000000000006")
	// brand's cap is spent today: a fresh database day is not available,
	// so lift the cap by config for this round.
	must(t, os.WriteFile(w.cfg, []byte(strings.Replace(mustRead(t, w.cfg), "daily_cap: 2", "daily_cap: 0", 1)), 0o644))
	w.once()
	a3 := w.add(threadA, "在吗", "小吴", "81000000000000007")
	w.once()
	stdout, stderr, code := w.run("resume", "--list", "--config", w.cfg)
	if code != 0 || !strings.Contains(stdout, "responder:brand") || strings.Contains(stdout, "responder:shop") {
		t.Fatalf("resume --list: %d\n%s%s", code, stdout, stderr)
	}
	rows = map[string]historyRow{}
	for _, r := range w.history() {
		rows[r.CommentID] = r
	}
	if r := rows[a3]; r.Responder != "shop" || r.Status != "sent" {
		t.Errorf("shop answered while brand was paused? %+v", r)
	}
	if _, stderr, code := w.run("resume", "--config", w.cfg, "responder:brand"); code != 0 {
		t.Fatalf("resume responder:brand: %d\n%s", code, stderr)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	must(t, err)
	return string(b)
}
