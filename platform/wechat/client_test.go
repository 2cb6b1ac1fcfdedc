package wechat_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/platform/wechat"
	"github.com/autoreplyd/autoreplyd/simulator"
)

const (
	appID  = "wx0123456789abcdef"
	secret = "wx-SECRET-unit-4e1d7a"
)

// clock is a settable clock shared by the imitation and the client.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func setup(t *testing.T, api string) (*simulator.WeChat, *wechat.Client, *clock) {
	t.Helper()
	clk := &clock{t: time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)}
	sim := simulator.NewWeChat(appID, secret)
	sim.Now = clk.Now
	sim.AddArticle("2247483647", 0)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	c, err := wechat.NewClient(wechat.ClientConfig{BaseURL: srv.URL, AppID: appID, AppSecret: secret, TokenAPI: api, Timeout: 2 * time.Second, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return sim, c, clk
}

var list = wechat.Request{Path: wechat.CommentListPath,
	Body: map[string]any{"msg_data_id": 2247483647, "index": 0, "begin": 0, "count": 49, "type": 0}}

func count(calls []simulator.WeChatCall, path string) int {
	n := 0
	for _, c := range calls {
		if c.Path == path {
			n++
		}
	}
	return n
}

func TestTokenCachedAndRefreshedBeforeExpiry(t *testing.T) {
	t.Parallel()
	_, c, clk := setup(t, "")
	ctx := context.Background()
	t1, err := c.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if err := c.Call(ctx, list, nil); err != nil {
			t.Fatal(err)
		}
	}
	clk.Add(7200*time.Second - 5*time.Minute - time.Second)
	if t2, _ := c.Token(ctx); t2 != t1 || c.TokenFetches() != 1 {
		t.Fatalf("token refreshed early or per request: fetches %d", c.TokenFetches())
	}
	clk.Add(2 * time.Second) // less than 5 minutes left: replaced before it expires
	t3, err := c.Token(ctx)
	if err != nil || t3 == t1 || c.TokenFetches() != 2 {
		t.Fatalf("not refreshed before expiry: same=%v fetches=%d err=%v", t3 == t1, c.TokenFetches(), err)
	}
	if err := c.Call(ctx, list, nil); err != nil {
		t.Fatal(err)
	}
}

func TestOneRefreshUnderConcurrentCallers(t *testing.T) {
	t.Parallel()
	for _, api := range []string{wechat.TokenStable, wechat.TokenLegacy} {
		t.Run(api, func(t *testing.T) {
			sim, c, _ := setup(t, api)
			var wg sync.WaitGroup
			errs := make(chan error, 32)
			for range 32 {
				wg.Go(func() { errs <- c.Call(context.Background(), list, nil) })
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			if c.TokenFetches() != 1 {
				t.Fatalf("%d token fetches for 32 concurrent callers", c.TokenFetches())
			}
			if n := count(sim.Calls(), wechat.StableTokenPath) + count(sim.Calls(), wechat.LegacyTokenPath); n != 1 {
				t.Fatalf("%d token requests", n)
			}
		})
	}
}

func TestTokenCodeRefreshesOnceAndRetriesOnce(t *testing.T) {
	t.Parallel()
	sim, c, _ := setup(t, "")
	ctx := context.Background()
	if err := c.Call(ctx, list, nil); err != nil {
		t.Fatal(err)
	}
	// The token expires on the platform's side: one refresh (forced), one retry.
	sim.ExpireTokens()
	sim.ResetCalls()
	if err := c.Call(ctx, list, nil); err != nil {
		t.Fatal(err)
	}
	calls := sim.Calls()
	if len(calls) != 3 || calls[0].ErrCode != 42001 || calls[1].Path != wechat.StableTokenPath || !calls[1].Force || !calls[2].TokenOK || calls[2].ErrCode != 0 {
		t.Fatalf("calls: %+v", calls)
	}
	// A token refused twice: one refresh, one retry, then the error.
	for _, code := range []int{40001, 40014, 42001} {
		sim.ResetCalls()
		sim.Faults.Push(simulator.Fault{Kind: simulator.FaultCode, Code: code, Msg: "invalid credential"},
			simulator.Fault{Kind: simulator.FaultCode, Code: code, Msg: "invalid credential"})
		err := c.Call(ctx, list, nil)
		var we *wechat.Error
		if !errors.As(err, &we) || we.Code != code || we.TokenFetch() {
			t.Fatalf("code %d: %v", code, err)
		}
		if n := count(sim.Calls(), wechat.CommentListPath); n != 2 || count(sim.Calls(), wechat.StableTokenPath) != 1 {
			t.Fatalf("code %d: calls %+v", code, sim.Calls())
		}
	}
}

func TestFatalCodesAreLoudAndSecretFree(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		code int
		hint string
	}{{40164, "whitelist"}, {40013, "app_id"}, {40125, "app_secret"}} {
		sim, c, _ := setup(t, "")
		sim.TokenFaults.Push(simulator.Fault{Kind: simulator.FaultCode, Code: tc.code, Msg: "invalid ip 1.2.3.4, not in whitelist " + secret})
		err := c.Call(context.Background(), list, nil)
		var we *wechat.Error
		if !errors.As(err, &we) || we.Code != tc.code || !we.TokenFetch() || !wechat.IsFatalCode(tc.code) {
			t.Fatalf("%d: %v", tc.code, err)
		}
		if !strings.Contains(err.Error(), tc.hint) || strings.Contains(err.Error(), secret) {
			t.Fatalf("%d: %v", tc.code, err)
		}
	}
}

func TestWrongCredentialsFromTheImitation(t *testing.T) {
	t.Parallel()
	sim := simulator.NewWeChat(appID, "another-secret")
	srv := httptest.NewServer(sim)
	defer srv.Close()
	for _, api := range []string{wechat.TokenStable, wechat.TokenLegacy} {
		c, _ := wechat.NewClient(wechat.ClientConfig{BaseURL: srv.URL, AppID: appID, AppSecret: secret, TokenAPI: api})
		_, err := c.Token(context.Background())
		var we *wechat.Error
		if !errors.As(err, &we) || we.Code != 40125 || strings.Contains(err.Error(), secret) {
			t.Fatalf("%s: %v", api, err)
		}
		c, _ = wechat.NewClient(wechat.ClientConfig{BaseURL: srv.URL, AppID: "wxnope", AppSecret: secret, TokenAPI: api})
		if _, err = c.Token(context.Background()); !errors.As(err, &we) || we.Code != 40013 {
			t.Fatalf("%s: %v", api, err)
		}
	}
}

func TestTransportErrorsHoldNoSecret(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(simulator.NewWeChat(appID, secret))
	url := srv.URL
	srv.Close() // connection refused
	for _, api := range []string{wechat.TokenStable, wechat.TokenLegacy} {
		c, _ := wechat.NewClient(wechat.ClientConfig{BaseURL: url, AppID: appID, AppSecret: secret, TokenAPI: api, Timeout: time.Second})
		err := c.Call(context.Background(), list, nil)
		var we *wechat.Error
		if !errors.As(err, &we) || !we.Transport || we.Written || !we.TokenFetch() || strings.Contains(err.Error(), secret) {
			t.Fatalf("%s: %#v", api, err)
		}
	}
}

func TestEncodeKeepsHTML(t *testing.T) {
	t.Parallel()
	b, err := wechat.Encode(map[string]string{"content": `<a href="https://e.com/?a=1&b=2">看</a>`})
	if err != nil || strings.Contains(string(b), `\u00`) || !strings.Contains(string(b), `<a href=\"https://e.com/?a=1&b=2\">`) {
		t.Fatalf("%s %v", b, err)
	}
}

func TestNewRefusesBadConfigWithoutSecret(t *testing.T) {
	t.Parallel()
	for _, cfg := range []wechat.ClientConfig{
		{BaseURL: "ftp://x", AppID: appID, AppSecret: secret},
		{BaseURL: "http://x", AppSecret: secret},
		{BaseURL: "http://x", AppID: appID},
		{BaseURL: "http://x", AppID: appID, AppSecret: secret, TokenAPI: "v3"},
	} {
		_, err := wechat.NewClient(cfg)
		if err == nil || strings.Contains(err.Error(), secret) {
			t.Fatalf("%v", err)
		}
	}
}
