package wechat_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/platform/wechat"
)

// expires_in comes from the platform: a hostile value must neither cost us
// the token (it was an int64: 1e300, "abc" or "7200" failed the fetch), nor
// keep a token for decades (3e9 s), nor overflow, nor make every call fetch
// a token (1 s).
func TestHostileExpiresIn(t *testing.T) {
	t.Parallel()
	// The documented lifetime (wechat.TokenLife) and the shortest believed
	// (wechat.MinTokenLife), spelt out so that the test also runs on the
	// code before them.
	const life, minLife = 7200 * time.Second, time.Minute
	refresh := life - wechat.DefaultRefreshEarly + time.Second
	for _, tc := range []struct {
		raw string
		// cachedFor is how long the token is still used without a fetch;
		// refreshedAfter is when a new one must have been fetched.
		cachedFor, refreshedAfter time.Duration
	}{
		{`7200`, refresh - 2*time.Second, refresh},
		{`"7200"`, refresh - 2*time.Second, refresh},
		{`1e300`, refresh - 2*time.Second, refresh},
		{`"1e300"`, refresh - 2*time.Second, refresh},
		{`3000000000`, refresh - 2*time.Second, refresh},
		{`9223372036854775807`, refresh - 2*time.Second, refresh},
		{`"abc"`, refresh - 2*time.Second, refresh},
		{`{"s":7200}`, refresh - 2*time.Second, refresh},
		{`null`, refresh - 2*time.Second, refresh},
		{`-1`, refresh - 2*time.Second, refresh},
		{`1`, 20 * time.Second, minLife},
	} {
		t.Run(tc.raw, func(t *testing.T) {
			sim, c, clk := setup(t, "")
			sim.ExpiresInJSON = tc.raw
			ctx := context.Background()
			t1, err := c.Token(ctx)
			if err != nil {
				t.Fatalf("token: %v", err)
			}
			clk.Add(tc.cachedFor)
			if err := c.Call(ctx, list, nil); err != nil {
				t.Fatal(err)
			}
			if t2, err := c.Token(ctx); err != nil || t2 != t1 || c.TokenFetches() != 1 {
				t.Fatalf("after %v: %d fetches, same token %v, %v", tc.cachedFor, c.TokenFetches(), t2 == t1, err)
			}
			clk.Add(tc.refreshedAfter - tc.cachedFor)
			if _, err := c.Token(ctx); err != nil || c.TokenFetches() != 2 {
				t.Fatalf("after %v: %d fetches (want the token replaced before it expires), %v", tc.refreshedAfter, c.TokenFetches(), err)
			}
			if err := c.Call(ctx, list, nil); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A token answer that cannot be read may still hold the new access token,
// which no redaction knows yet: its error never quotes the answer.
func TestUnreadableTokenAnswerNotQuoted(t *testing.T) {
	t.Parallel()
	const tok = "NEW-ACCESS-TOKEN-0123456789"
	for _, status := range []int{http.StatusOK, http.StatusBadGateway} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"access_token":%q,"expires_in":7200,"errcode":"zero"}`, tok)
		}))
		c, err := wechat.NewClient(wechat.ClientConfig{BaseURL: srv.URL, AppID: "wx0123456789abcdef", AppSecret: "app-secret-value", Timeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Token(context.Background())
		srv.Close()
		if err == nil || strings.Contains(err.Error(), tok) || strings.Contains(err.Error(), "access_token") {
			t.Errorf("HTTP %d: err = %v, want an error without the answer", status, err)
		}
	}
}
