package simulator

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	kkTestAPIKey     = "kk-api-key"
	kkTestSessionKey = "kk-session-key"
)

func kkServer(t *testing.T) (*Kitkot, *httptest.Server) {
	t.Helper()
	k := NewKitkot(kkTestAPIKey, kkTestSessionKey)
	srv := httptest.NewServer(k)
	t.Cleanup(srv.Close)
	return k, srv
}

// kkParams are valid parameters; callers change what they test.
func kkParams() url.Values {
	return url.Values{
		"api_key":     {kkTestAPIKey},
		"session_key": {kkTestSessionKey},
		"aweme_id":    {"7251517975340027197"},
		"text":        {"你好 [呲牙] a&b #c +d 100%"},
		"reply_id":    {"7251524159191958327"},
	}
}

// kkGet calls the reply endpoint; a nil answer means the connection failed.
func kkGet(t *testing.T, srv *httptest.Server, q url.Values) (int, map[string]any) {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	resp, err := client.Get(srv.URL + KitkotReplyPath + "?" + q.Encode())
	if err != nil {
		return 0, nil
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read answer: %v", err)
	}
	var v map[string]any
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return resp.StatusCode, map[string]any{"_raw": string(body)}
	}
	return resp.StatusCode, v
}

func TestKitkotSuccessShape(t *testing.T) {
	t.Parallel()
	k, srv := kkServer(t)
	var hooked []Post
	var mu sync.Mutex
	k.OnPost = func(p Post) {
		mu.Lock()
		defer mu.Unlock()
		hooked = append(hooked, p)
	}
	q := kkParams()
	status, ans := kkGet(t, srv, q)
	if status != 200 || ans["code"] != json.Number("200") || ans["msg"] != "Comment sent successfully" {
		t.Fatalf("answer %d %v", status, ans)
	}
	c, ok := ans["comment"].(map[string]any)
	if !ok {
		t.Fatalf("no comment object: %v", ans)
	}
	cid, _ := c["cid"].(string)
	if n, err := strconv.ParseUint(cid, 10, 64); err != nil || len(cid) != 19 || n <= 1<<53 {
		t.Errorf("cid %q is not a 19-digit string above 2^53", cid)
	}
	for field, want := range map[string]string{
		"text": q.Get("text"), "aweme_id": q.Get("aweme_id"), "reply_id": q.Get("reply_id"), "reply_to_reply_id": "0",
	} {
		if c[field] != want {
			t.Errorf("comment.%s = %v, want %q", field, c[field], want)
		}
	}
	if _, ok := c["create_time"].(json.Number); !ok {
		t.Errorf("comment.create_time = %v", c["create_time"])
	}
	u, _ := c["user"].(map[string]any)
	if u["uid"] != k.BotUID || u["nickname"] != "官方小助手" || k.BotUID != "7000000000000000001" {
		t.Errorf("user = uid %v nickname %v", u["uid"], u["nickname"])
	}
	if len(u) < 100 {
		t.Errorf("user object has %d fields, the document shows about 130", len(u))
	}

	posts := k.Posts()
	if len(posts) != 1 {
		t.Fatalf("posts = %v", posts)
	}
	p := posts[0]
	if p.CID != cid || p.Text != q.Get("text") || p.AwemeID != q.Get("aweme_id") || p.ReplyID != q.Get("reply_id") || p.At.IsZero() {
		t.Errorf("post = %+v", p)
	}
	mu.Lock()
	if len(hooked) != 1 || hooked[0] != p {
		t.Errorf("OnPost saw %v, want [%v]", hooked, p)
	}
	mu.Unlock()
	if k.Requests() != 1 {
		t.Errorf("Requests() = %d", k.Requests())
	}
}

func TestKitkotRefusals(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		change  func(url.Values)
		maxLen  int
		wantMsg string
	}{
		{"wrong api_key", func(q url.Values) { q.Set("api_key", "nope") }, 0, "api_key"},
		{"wrong session_key", func(q url.Values) { q.Set("session_key", "nope") }, 0, "session_key"},
		{"text too long", func(q url.Values) { q.Set("text", "一二三四五六") }, 5, "too long"},
		{"duplicated text", func(q url.Values) { q.Add("text", "again") }, 0, "more than once"},
	}
	for _, name := range kkRequiredParams {
		cases = append(cases,
			struct {
				name    string
				change  func(url.Values)
				maxLen  int
				wantMsg string
			}{"missing " + name, func(q url.Values) { q.Del(name) }, 0, name},
			struct {
				name    string
				change  func(url.Values)
				maxLen  int
				wantMsg string
			}{"empty " + name, func(q url.Values) { q.Set(name, "") }, 0, name})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k, srv := kkServer(t)
			k.MaxLength = c.maxLen
			called := false
			k.OnPost = func(Post) { called = true }
			q := kkParams()
			c.change(q)
			status, ans := kkGet(t, srv, q)
			msg, _ := ans["msg"].(string)
			if status != 400 || ans["code"] != json.Number("400") || !strings.Contains(msg, c.wantMsg) {
				t.Errorf("answer %d %v, want 400 with msg about %q", status, ans, c.wantMsg)
			}
			if len(k.Posts()) != 0 || called {
				t.Errorf("refused request was posted")
			}
		})
	}
}

func TestKitkotMaxLengthCountsRunes(t *testing.T) {
	t.Parallel()
	k, srv := kkServer(t)
	k.MaxLength = 5
	q := kkParams()
	q.Set("text", "一二三四五") // 5 runes, 15 bytes
	if status, ans := kkGet(t, srv, q); status != 200 {
		t.Errorf("answer %d %v", status, ans)
	}
}

// Content moderation refuses one text, not the account: the next text goes
// through.
func TestKitkotBannedWords(t *testing.T) {
	t.Parallel()
	k, srv := kkServer(t)
	k.BannedWords = []string{"违禁词"}
	q := kkParams()
	q.Set("text", "@违禁词 你好")
	status, ans := kkGet(t, srv, q)
	if status != 400 || ans["code"] != json.Number("400") || ans["msg"] != KitkotGuidelinesMsg {
		t.Fatalf("banned text: answer %d %v", status, ans)
	}
	if n := len(k.Posts()); n != 0 {
		t.Fatalf("banned text posted: %d posts", n)
	}
	if status, ans := kkGet(t, srv, kkParams()); status != 200 {
		t.Fatalf("next text: answer %d %v", status, ans)
	}
}

func TestKitkotWrongPath(t *testing.T) {
	t.Parallel()
	k, srv := kkServer(t)
	resp, err := http.Get(srv.URL + "/video/comments/publish/reply?" + kkParams().Encode())
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != 404 || len(k.Posts()) != 0 || k.Requests() != 1 {
		t.Errorf("status %d, posts %d, requests %d", resp.StatusCode, len(k.Posts()), k.Requests())
	}
}

func TestKitkotFaults(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		fault      Fault
		wantStatus int // 0: the connection fails
		wantPosted int
	}{
		{"code", Fault{Kind: FaultCode, Code: 400, Msg: "Failed to publish reply"}, 400, 0},
		{"http status", Fault{Kind: FaultHTTPStatus, Status: 503}, 503, 0},
		{"broken json", Fault{Kind: FaultBrokenJSON}, 200, 0},
		{"slow, then normal", Fault{Kind: FaultSlow, Delay: time.Millisecond}, 200, 1},
		{"slow after, then normal", Fault{Kind: FaultSlowAfter, Delay: time.Millisecond}, 200, 1},
		{"drop", Fault{Kind: FaultDrop}, 0, 0},
		{"drop after", Fault{Kind: FaultDropAfter}, 0, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k, srv := kkServer(t)
			var hooked int
			var mu sync.Mutex
			k.OnPost = func(Post) { mu.Lock(); hooked++; mu.Unlock() }
			k.Faults.Push(c.fault)
			status, ans := kkGet(t, srv, kkParams())
			if status != c.wantStatus {
				t.Errorf("status %d (%v), want %d", status, ans, c.wantStatus)
			}
			if c.fault.Kind == FaultCode && (ans["code"] != json.Number("400") || ans["msg"] != c.fault.Msg) {
				t.Errorf("answer %v", ans)
			}
			if c.fault.Kind == FaultBrokenJSON && ans["_raw"] == nil {
				t.Errorf("broken JSON decoded: %v", ans)
			}
			mu.Lock()
			if n := len(k.Posts()); n != c.wantPosted || hooked != c.wantPosted {
				t.Errorf("posts %d, OnPost calls %d; want %d", n, hooked, c.wantPosted)
			}
			mu.Unlock()
			// The fault was consumed: the next request is normal.
			if status, ans := kkGet(t, srv, kkParams()); status != 200 {
				t.Errorf("after the fault: %d %v", status, ans)
			}
			if k.Requests() != 2 || k.Faults.Len() != 0 {
				t.Errorf("requests %d, faults left %d", k.Requests(), k.Faults.Len())
			}
		})
	}
}

func TestKitkotSlowClientGoneIsNotPosted(t *testing.T) {
	t.Parallel()
	k, srv := kkServer(t)
	k.Faults.Push(Fault{Kind: FaultSlow, Delay: 5 * time.Second})
	client := &http.Client{Timeout: 100 * time.Millisecond}
	if resp, err := client.Get(srv.URL + KitkotReplyPath + "?" + kkParams().Encode()); err == nil {
		_ = resp.Body.Close()
		t.Fatal("slow request answered in time")
	}
	srv.Close() // waits for the handler to return
	if n := len(k.Posts()); n != 0 {
		t.Errorf("posts %d, want 0", n)
	}
}

func TestKitkotConcurrentPostsGetUniqueCIDs(t *testing.T) {
	t.Parallel()
	k, srv := kkServer(t)
	const n = 20
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if status, ans := kkGet(t, srv, kkParams()); status != 200 {
				t.Errorf("answer %d %v", status, ans)
			}
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, p := range k.Posts() {
		if seen[p.CID] {
			t.Errorf("cid %s handed out twice", p.CID)
		}
		seen[p.CID] = true
	}
	if len(seen) != n || k.Requests() != n {
		t.Errorf("%d unique cids, %d requests; want %d", len(seen), k.Requests(), n)
	}
}
