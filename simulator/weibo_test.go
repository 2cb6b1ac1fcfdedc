package simulator

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func wbPost(t *testing.T, srv *httptest.Server, path string, form url.Values, basic ...string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if len(basic) == 2 {
		req.SetBasicAuth(basic[0], basic[1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return resp.StatusCode, m
}

func wbCode(m map[string]any) string {
	if c, ok := m["error_code"].(json.Number); ok {
		return c.String()
	}
	return ""
}

func TestWeiboReplyRules(t *testing.T) {
	t.Parallel()
	x := NewWeibo("tok")
	x.SetV1Account("key", "u", "p")
	x.AddWeibo("100")
	cid := x.AddComment("100", WeiboComment{UID: "1", ScreenName: "小新", Text: "hi"})
	srv := httptest.NewServer(x)
	defer srv.Close()
	v2 := func(kv ...string) url.Values {
		f := url.Values{"access_token": {"tok"}, "id": {"100"}, "cid": {cid}}
		for i := 0; i < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		return f
	}
	for _, tc := range []struct {
		name string
		form url.Values
		code string
	}{
		{"bad token", url.Values{"access_token": {"no"}, "id": {"100"}, "cid": {cid}, "comment": {"x"}}, "21332"},
		{"no weibo", v2("id", "999", "comment", "x"), "20101"},
		{"no comment", v2("cid", "123", "comment", "x"), "20201"},
		// 135 + "回复@小新:" (5) = 140 fits; 136 does not.
		{"too long", v2("comment", strings.Repeat("长", 136)), "20012"},
		{"fits", v2("comment", strings.Repeat("长", 135)), ""},
		{"repeat", v2("comment", strings.Repeat("长", 135)), "20019"},
		{"without mention fits 140", v2("comment", strings.Repeat("长", 140), "without_mention", "1"), ""},
	} {
		status, m := wbPost(t, srv, WeiboReplyV2Path, tc.form)
		if got := wbCode(m); got != tc.code {
			t.Errorf("%s: code %q (HTTP %d) want %q: %v", tc.name, got, status, tc.code, m)
		}
		if tc.code != "" && (m["request"] != WeiboReplyV2Path || status == 200) {
			t.Errorf("%s: %d %v", tc.name, status, m)
		}
		if tc.code == "" && (m["idstr"] == nil || m["reply_comment"] == nil) {
			t.Errorf("%s: %v", tc.name, m)
		}
	}
	// v1: basic auth and source.
	f := url.Values{"id": {"100"}, "cid": {cid}, "comment": {"v1"}, "source": {"key"}}
	if _, m := wbPost(t, srv, WeiboReplyV1Path, f, "u", "bad"); wbCode(m) != "21301" {
		t.Errorf("v1 bad password: %v", m)
	}
	if _, m := wbPost(t, srv, WeiboReplyV1Path, f, "u", "p"); wbCode(m) != "" {
		t.Errorf("v1: %v", m)
	}
	// The cid trap: no cid, a valid id: a top-level comment.
	if _, m := wbPost(t, srv, WeiboReplyV2Path, url.Values{"access_token": {"tok"}, "id": {"100"}, "comment": {"trap"}}); wbCode(m) != "" {
		t.Errorf("trap: %v", m)
	}
	posts := x.Posts()
	if len(posts) != 4 || !posts[3].TopLevel || posts[3].Text != "trap" || posts[2].API != "v1" || posts[0].Text != "回复@小新:"+strings.Repeat("长", 135) {
		t.Fatalf("posts %+v", posts)
	}
	for _, c := range x.Calls() {
		if c.ErrorCode == -2 {
			t.Errorf("call %+v", c)
		}
	}
}

func TestWeiboRateLimit(t *testing.T) {
	t.Parallel()
	x := NewWeibo("tok")
	x.RateLimit = 1
	x.AddWeibo("100")
	cid := x.AddComment("100", WeiboComment{UID: "1", ScreenName: "a", Text: "hi"})
	srv := httptest.NewServer(x)
	defer srv.Close()
	f := url.Values{"access_token": {"tok"}, "id": {"100"}, "cid": {cid}, "comment": {"one"}}
	if _, m := wbPost(t, srv, WeiboReplyV2Path, f); wbCode(m) != "" {
		t.Fatal(m)
	}
	f.Set("comment", "two")
	if status, m := wbPost(t, srv, WeiboReplyV2Path, f); wbCode(m) != "10024" || status != 403 {
		t.Fatal(status, m)
	}
}

func TestWeiboShow(t *testing.T) {
	t.Parallel()
	x := NewWeibo("tok")
	x.AddWeibo("100")
	var ids []string
	for range 5 {
		ids = append(ids, x.AddComment("100", WeiboComment{UID: "1", ScreenName: "a", Text: "t"}))
	}
	srv := httptest.NewServer(x)
	defer srv.Close()
	resp, err := http.Get(srv.URL + WeiboShowPath + "?access_token=tok&id=100&since_id=" + ids[1] + "&count=2&page=1")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var ans struct {
		Comments []struct {
			IDStr     string `json:"idstr"`
			CreatedAt string `json:"created_at"`
		} `json:"comments"`
		Total int `json:"total_number"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil {
		t.Fatal(err)
	}
	if ans.Total != 3 || len(ans.Comments) != 2 || ans.Comments[0].IDStr != ids[4] || ans.Comments[1].IDStr != ids[3] ||
		!strings.HasSuffix(ans.Comments[0].CreatedAt, "+0800 "+ans.Comments[0].CreatedAt[len(ans.Comments[0].CreatedAt)-4:]) {
		t.Fatalf("%+v", ans)
	}
}
