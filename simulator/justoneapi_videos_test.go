package simulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const joVideo1 = "7251517975340027197"

// joVideoFetch asks srv for one page of a video's top-level comments; page 0
// leaves the parameter out.
func joVideoFetch(t *testing.T, srv *httptest.Server, token, awemeID string, page int) (joPage, []byte) {
	t.Helper()
	return joGet(t, srv, JustOneAPIVideoPath, "awemeId", token, awemeID, page)
}

// joFillVideo adds n top-level comments created one second apart and
// returns their cids.
func joFillVideo(api *JustOneAPI, awemeID string, n int) []string {
	var cids []string
	for i := range n {
		cids = append(cids, api.AddComment(awemeID, Reply{
			Text: fmt.Sprintf("多少钱 %d", i), CreateTime: 1_700_000_000 + int64(i),
			UserUID: strconv.Itoa(2000 + i), Nickname: "观众" + strconv.Itoa(i),
		}))
	}
	return cids
}

func TestJustOneAPIVideoPaging(t *testing.T) {
	t.Parallel()
	api := NewJustOneAPI(joTestToken)
	srv := httptest.NewServer(api)
	defer srv.Close()
	cids := joFillVideo(api, joVideo1, 45)

	for i, want := range []struct {
		n, cursor int
		hasMore   string
	}{{20, 20, "1"}, {20, 40, "1"}, {5, 45, "0"}, {0, 45, "0"}} {
		p, _ := joVideoFetch(t, srv, joTestToken, joVideo1, i+1)
		if string(p.Code) != "0" || p.Data == nil {
			t.Fatalf("page %d: code %s", i+1, p.Code)
		}
		got := joCIDs(p)
		if len(got) != want.n || p.Data.Cursor != want.cursor || string(p.Data.HasMore) != want.hasMore || p.Data.Total != 45 {
			t.Errorf("page %d: %d items, cursor %d, has_more %s, total %d; want %+v",
				i+1, len(got), p.Data.Cursor, p.Data.HasMore, p.Data.Total, want)
		}
		if want.n > 0 && !slices.Equal(got, cids[i*20:i*20+want.n]) {
			t.Errorf("page %d: cids %v", i+1, got)
		}
	}
	if p, _ := joVideoFetch(t, srv, joTestToken, joVideo1, 0); !slices.Equal(joCIDs(p), cids[:20]) {
		t.Errorf("default page: %v", joCIDs(p))
	}
	// A video nobody commented on is an empty listing, billed like any other.
	if p, _ := joVideoFetch(t, srv, joTestToken, "7000000000000000001", 1); string(p.Code) != "0" || len(joCIDs(p)) != 0 ||
		string(p.Data.HasMore) != "0" || p.Data.Total != 0 {
		t.Errorf("empty video: %+v", p)
	}

	// The video listing's calls and bills are its own.
	calls := api.VideoCalls()
	if len(calls) != 6 || api.VideoCallCount() != 6 || api.CallCount() != 0 {
		t.Fatalf("video calls %+v, reply calls %d", calls, api.CallCount())
	}
	if calls[0] != (Call{AwemeID: joVideo1, Page: 1, TokenOK: true}) || calls[4].Page != 1 {
		t.Errorf("calls: %+v", calls)
	}
	if api.Billed(JustOneAPIVideoPath) != 6 || api.Billed(JustOneAPIPath) != 0 {
		t.Errorf("billed: videos %d, replies %d", api.Billed(JustOneAPIVideoPath), api.Billed(JustOneAPIPath))
	}
	joFetch(t, srv, joTestToken, cids[0], 1)
	if api.Billed(JustOneAPIVideoPath) != 6 || api.Billed(JustOneAPIPath) != 1 || api.CallCount() != 1 {
		t.Errorf("after a reply listing: videos %d, replies %d", api.Billed(JustOneAPIVideoPath), api.Billed(JustOneAPIPath))
	}
	api.ResetCalls()
	if api.VideoCallCount() != 0 || api.CallCount() != 0 || api.Billed(JustOneAPIVideoPath) != 0 || api.Billed(JustOneAPIPath) != 0 {
		t.Errorf("after ResetCalls: %d, %d calls", api.VideoCallCount(), api.CallCount())
	}
}

func TestJustOneAPIVideoCommentShape(t *testing.T) {
	t.Parallel()
	api := NewJustOneAPI(joTestToken)
	srv := httptest.NewServer(api)
	defer srv.Close()
	cid := api.AddComment(joVideo1, Reply{
		AwemeID: "ignored", Text: "多少钱？怎么买[呲牙]😂", CreateTime: 1688379962, UserUID: "74470874573",
		Nickname: "史密斯夫妇💑", UniqueID: "GMJ_1116", SecUID: "MS4wLjABAAAA6K", Region: "CN", Verified: true,
		Digg: 23, AuthorDigged: true, ReplyToReplyID: "123",
	})
	if n, err := strconv.ParseUint(cid, 10, 64); len(cid) != 19 || err != nil || n <= 1<<53 {
		t.Errorf("cid %q: want 19 digits above 2^53", cid)
	}
	if c := api.Comments(joVideo1); len(c) != 1 || c[0].AwemeID != joVideo1 || c[0].ReplyToReplyID != "" {
		t.Errorf("stored %+v", c)
	}

	_, body := joVideoFetch(t, srv, joTestToken, joVideo1, 1)
	for _, want := range []string{
		`"cid":"` + cid + `"`, `"aweme_id":"` + joVideo1 + `"`, `"reply_id":"0"`, `"reply_to_reply_id":"0"`,
		`"text":"多少钱？怎么买[呲牙]😂"`, `"nickname":"史密斯夫妇💑"`, `"is_verified":true`, `"create_time":1688379962`,
		`"digg_count":23`, `"is_author_digged":true`, `"label_list":[{"type":20,"text":"作者赞过"}]`,
		`"reply_comment_total":0`, `"item_comment_total":1`, `"level":1`, `"sec_uid":"MS4wLjABAAAA6K"`,
		`"unique_id":"GMJ_1116"`, `"region":"CN"`, `"has_more":0`, `"total":1`, `"log_pb":{"impr_id":"`,
	} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("answer lacks %s", want)
		}
	}
	var generic struct {
		Data struct {
			Comments []map[string]json.RawMessage `json:"comments"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &generic); err != nil {
		t.Fatal(err)
	}
	item := generic.Data.Comments[0]
	for _, key := range []string{"comment_reply_total", "reply_to_username", "reply_to_userid"} {
		if _, ok := item[key]; ok {
			t.Errorf("a top-level comment has the reply field %s", key)
		}
	}
	var user map[string]json.RawMessage
	if err := json.Unmarshal(item["user"], &user); err != nil {
		t.Fatal(err)
	}
	if len(item) < 30 || len(user) < 180 {
		t.Errorf("comment has %d fields, user %d: want full objects", len(item), len(user))
	}
	if size := len(body); size < 4500 || size > 8000 {
		t.Errorf("a comment is about %d bytes, want about 6 KB", size)
	}
}

func TestJustOneAPIVideoReplyTotals(t *testing.T) {
	t.Parallel()
	api := NewJustOneAPI(joTestToken)
	srv := httptest.NewServer(api)
	defer srv.Close()
	cids := joFillVideo(api, joVideo1, 3)
	replies := joFill(api, cids[1], 4)
	joFill(api, cids[2], 1)

	totals := func() map[string]int {
		p, _ := joVideoFetch(t, srv, joTestToken, joVideo1, 1)
		out := map[string]int{}
		for _, c := range p.Data.Comments {
			if c.ReplyTotal == nil || c.AwemeID != joVideo1 {
				t.Fatalf("comment %s: reply_comment_total %v, aweme_id %q", c.CID, c.ReplyTotal, c.AwemeID)
			}
			out[c.CID] = *c.ReplyTotal
		}
		want := len(out)
		for _, n := range out {
			want += n
		}
		if p.Data.Total != want {
			t.Errorf("total %d, want %d (comments and their replies)", p.Data.Total, want)
		}
		return out
	}
	// Each count is the reply listing's length of that thread.
	check := func(when string) {
		t.Helper()
		got := totals()
		for _, cid := range cids {
			p, _ := joFetch(t, srv, joTestToken, cid, 1)
			if got[cid] != p.Data.Total || got[cid] != len(api.Replies(cid)) {
				t.Errorf("%s: %s has reply_comment_total %d, its thread lists %d", when, cid, got[cid], p.Data.Total)
			}
		}
	}
	check("filled")
	if got := totals(); got[cids[0]] != 0 || got[cids[1]] != 4 || got[cids[2]] != 1 {
		t.Errorf("totals %v", got)
	}
	// A reply added under a top-level comment takes the video's aweme id.
	api.AddReply(cids[0], Reply{Text: "回复", UserUID: "9"})
	if r := api.Replies(cids[0]); len(r) != 1 || r[0].AwemeID != joVideo1 {
		t.Errorf("reply %+v", r)
	}
	check("after a reply")
	api.Remove(cids[1], replies[0])
	check("after a removal")
	if got := totals(); got[cids[0]] != 1 || got[cids[1]] != 3 {
		t.Errorf("totals %v", got)
	}
	api.RemoveComment(joVideo1, cids[2])
	if got := totals(); len(got) != 2 {
		t.Errorf("removed comment still listed: %v", got)
	}
	if len(api.Replies(cids[2])) != 1 {
		t.Errorf("a removed comment's replies went with it")
	}
}

func TestJustOneAPIVideoOrders(t *testing.T) {
	t.Parallel()
	api := NewJustOneAPI(joTestToken)
	api.VideoPageSize = 50
	srv := httptest.NewServer(api)
	defer srv.Close()
	cids := joFillVideo(api, joVideo1, 30)
	// The reply listing's order is its own.
	api.SetOrder(OrderRecommended)

	list := func() []string {
		p, _ := joVideoFetch(t, srv, joTestToken, joVideo1, 1)
		return joCIDs(p)
	}
	rec := joCheckOrders(t, cids, list, api.SetVideoOrder)
	// A reply under one of its comments moves the recommended order, as
	// activity does on Douyin; an unrelated thread does not.
	api.AddReply("7300000000000000000", Reply{})
	if again := list(); !slices.Equal(again, rec) {
		t.Errorf("recommended moved on an unrelated reply")
	}
	api.AddReply(cids[7], Reply{})
	moved := list()
	if slices.Equal(moved, rec) || !slices.Equal(slices.Sorted(slices.Values(moved)), cids) {
		t.Errorf("recommended did not move after a reply")
	}
	api.AddComment(joVideo1, Reply{CreateTime: 1_800_000_000})
	if after := list(); len(after) != 31 || slices.Equal(after[:30], moved) {
		t.Errorf("recommended did not change after an added comment")
	}

	// The default page size is 20, and page boundaries move in the
	// recommended order: page 1 after a comment is not page 1 before it.
	api.SetVideoPageSize(0)
	p1, _ := joVideoFetch(t, srv, joTestToken, joVideo1, 1)
	api.AddComment(joVideo1, Reply{})
	p1b, _ := joVideoFetch(t, srv, joTestToken, joVideo1, 1)
	if len(joCIDs(p1)) != DefaultVideoPageSize || slices.Equal(joCIDs(p1), joCIDs(p1b)) {
		t.Errorf("page 1 %d items, unchanged after a comment: %v", len(joCIDs(p1)), slices.Equal(joCIDs(p1), joCIDs(p1b)))
	}
}

func TestJustOneAPIVideoCodes(t *testing.T) {
	t.Parallel()
	api := NewJustOneAPI(joTestToken)
	api.HasMoreAsBool = true
	api.VideoPageSize = 2
	srv := httptest.NewServer(api)
	defer srv.Close()
	joFillVideo(api, joVideo1, 3)

	for _, tc := range []struct {
		name, token, aweme string
		page               int
		code               string
		tokenOK            bool
	}{
		{"no token", "", joVideo1, 1, "100", false},
		{"wrong token", "nope", joVideo1, 1, "100", false},
		{"no aweme id", joTestToken, "", 1, "400", true},
		{"page zero", joTestToken, joVideo1, -1, "400", true},
	} {
		api.ResetCalls()
		p, _ := joVideoFetch(t, srv, tc.token, tc.aweme, tc.page)
		if string(p.Code) != tc.code || p.Message == "" || p.Data != nil {
			t.Errorf("%s: code %s message %q", tc.name, p.Code, p.Message)
		}
		if c := api.VideoCalls(); len(c) != 1 || c[0].TokenOK != tc.tokenOK || api.Billed(JustOneAPIVideoPath) != 0 {
			t.Errorf("%s: calls %+v, billed %d", tc.name, c, api.Billed(JustOneAPIVideoPath))
		}
	}
	// The commentId of the reply listing is no parameter of this one.
	resp, err := http.Get(srv.URL + JustOneAPIVideoPath + "?token=" + joTestToken + "&commentId=" + joVideo1)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	resp.Body.Close()
	if !strings.Contains(b.String(), `"code":400`) {
		t.Errorf("commentId instead of awemeId: %s", b.String())
	}

	// Every business code through the fault queue, none billed; then has_more
	// as a bool.
	api.ResetCalls()
	codes := []int{100, 301, 302, 303, 400, 500, 600, 601, 602}
	for _, c := range codes {
		api.Faults.Push(Fault{Kind: FaultCode, Code: c})
	}
	for _, c := range codes {
		p, _ := joVideoFetch(t, srv, joTestToken, joVideo1, 1)
		if string(p.Code) != strconv.Itoa(c) || p.Message != joCodeMessages[c] || p.Data != nil {
			t.Errorf("code %d: %s %q", c, p.Code, p.Message)
		}
	}
	p, _ := joVideoFetch(t, srv, joTestToken, joVideo1, 1)
	if string(p.Data.HasMore) != "true" || len(p.Data.Comments) != 2 {
		t.Errorf("has_more %s, %d comments", p.Data.HasMore, len(p.Data.Comments))
	}
	if p, _ = joVideoFetch(t, srv, joTestToken, joVideo1, 2); string(p.Data.HasMore) != "false" {
		t.Errorf("last page: has_more %s", p.Data.HasMore)
	}
	if n, billed := api.VideoCallCount(), api.Billed(JustOneAPIVideoPath); n != len(codes)+2 || billed != 2 {
		t.Errorf("%d calls, %d billed; want %d, 2", n, billed, len(codes)+2)
	}
}

// A fault that strikes after the answer is made still bills it; one that
// strikes before does not.
func TestJustOneAPIVideoFaultBilling(t *testing.T) {
	t.Parallel()
	api := NewJustOneAPI(joTestToken)
	srv := httptest.NewServer(api)
	defer srv.Close()
	joFillVideo(api, joVideo1, 1)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	u := srv.URL + JustOneAPIVideoPath + "?token=" + joTestToken + "&awemeId=" + joVideo1
	for _, tc := range []struct {
		fault  Fault
		billed int
	}{
		{Fault{Kind: FaultHTTPStatus, Status: 502}, 0},
		{Fault{Kind: FaultBrokenJSON}, 0},
		{Fault{Kind: FaultDrop}, 0},
		{Fault{Kind: FaultDropAfter}, 1},
	} {
		api.ResetCalls()
		api.Faults.Push(tc.fault)
		if resp, err := client.Get(u); err == nil {
			resp.Body.Close()
		}
		if api.VideoCallCount() != 1 || api.Billed(JustOneAPIVideoPath) != tc.billed {
			t.Errorf("fault %v: %d calls, %d billed; want 1, %d", tc.fault.Kind, api.VideoCallCount(), api.Billed(JustOneAPIVideoPath), tc.billed)
		}
	}
}
