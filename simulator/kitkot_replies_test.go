package simulator

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"testing"
)

// krGet lists replies; it returns the HTTP status and the decoded answer.
func krGet(t *testing.T, base string, q url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(base + KitkotRepliesPath + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var v map[string]any
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return resp.StatusCode, v
}

func TestKitkotRepliesPaging(t *testing.T) {
	t.Parallel()
	k, srv := kkServer(t)
	k.AddThread("100", "900")
	var ids []string
	for i := range 5 {
		ids = append(ids, k.AddReply("100", KitkotComment{Text: "t" + strconv.Itoa(i), UserUID: "7", CreateTime: int64(1000 + i)}))
	}
	k.SetReplyOrder(OrderNewest)
	cursor, seen := "0", []string{}
	for range 10 {
		code, v := krGet(t, srv.URL, url.Values{"api_key": {kkTestAPIKey}, "comment_id": {"100"}, "count": {"2"}, "cursor": {cursor}})
		if code != 200 || v["code"] != json.Number("200") || v["total_replies"] != json.Number("5") {
			t.Fatalf("answer %d %v", code, v)
		}
		for _, r := range v["replies"].([]any) {
			m := r.(map[string]any)
			if m["aweme_id"] != "900" || m["reply_id"] != "100" {
				t.Fatalf("item %v", m)
			}
			seen = append(seen, m["cid"].(string))
		}
		cursor = string(v["nextCursor"].(json.Number))
		if v["has_more"] != true {
			break
		}
	}
	if len(seen) != 5 || seen[0] != ids[4] || seen[4] != ids[0] {
		t.Fatalf("seen %v, added %v", seen, ids)
	}
	if k.ListCalls() != 3 {
		t.Fatalf("ListCalls %d", k.ListCalls())
	}
	k.RemoveReply("100", ids[0])
	if n := len(k.ThreadReplies("100")); n != 4 {
		t.Fatalf("after remove: %d", n)
	}
}

func TestKitkotRepliesErrors(t *testing.T) {
	t.Parallel()
	k, srv := kkServer(t)
	k.AddThread("100", "900")
	ok := url.Values{"api_key": {kkTestAPIKey}, "comment_id": {"100"}}
	for _, tc := range []struct {
		name string
		q    url.Values
		msg  string
	}{
		{"no key", url.Values{"comment_id": {"100"}}, "Missing required parameter: api_key"},
		{"wrong key", url.Values{"api_key": {"nope"}, "comment_id": {"100"}}, "Invalid api_key"},
		{"no comment", url.Values{"api_key": {kkTestAPIKey}}, "Missing required parameter: comment_id"},
		{"unknown comment", url.Values{"api_key": {kkTestAPIKey}, "comment_id": {"5"}}, "Comment not found: comment_id 5"},
		{"bad cursor", url.Values{"api_key": {kkTestAPIKey}, "comment_id": {"100"}, "cursor": {"x"}}, "Invalid cursor"},
		{"bad count", url.Values{"api_key": {kkTestAPIKey}, "comment_id": {"100"}, "count": {"0"}}, "Invalid count"},
	} {
		code, v := krGet(t, srv.URL, tc.q)
		if code != 400 || v["code"] != json.Number("400") || v["msg"] != tc.msg {
			t.Errorf("%s: %d %v", tc.name, code, v)
		}
	}
	k.Faults.Push(Fault{Kind: FaultCode, Code: 400, Msg: "Failed to fetch replies"})
	if code, v := krGet(t, srv.URL, ok); code != 400 || v["msg"] != "Failed to fetch replies" {
		t.Errorf("fault: %d %v", code, v)
	}
	if code, v := krGet(t, srv.URL, ok); code != 200 || len(v["replies"].([]any)) != 0 || v["has_more"] != false {
		t.Errorf("empty thread: %d %v", code, v)
	}
}
