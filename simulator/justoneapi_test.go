package simulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

const joTestToken = "tok-7f3a9c-secret"

// joPage is the part of an answer the tests look at.
type joPage struct {
	Code    json.RawMessage `json:"code"`
	Message string          `json:"message"`
	Data    *struct {
		StatusCode int `json:"status_code"`
		Comments   []struct {
			CID            string          `json:"cid"`
			AwemeID        string          `json:"aweme_id"`
			ReplyTotal     *int            `json:"reply_comment_total"`
			Text           string          `json:"text"`
			CreateTime     int64           `json:"create_time"`
			ReplyID        string          `json:"reply_id"`
			ReplyToReplyID string          `json:"reply_to_reply_id"`
			Level          int             `json:"level"`
			LabelList      json.RawMessage `json:"label_list"`
			User           struct {
				UID      string `json:"uid"`
				Nickname string `json:"nickname"`
			} `json:"user"`
		} `json:"comments"`
		Cursor  int             `json:"cursor"`
		HasMore json.RawMessage `json:"has_more"`
		Total   int             `json:"total"`
		Extra   *struct {
			Now int64 `json:"now"`
		} `json:"extra"`
		LogPB *struct {
			ImprID string `json:"impr_id"`
		} `json:"log_pb"`
	} `json:"data"`
}

// joFetch asks srv for one page of a thread's replies; page 0 leaves the
// parameter out.
func joFetch(t *testing.T, srv *httptest.Server, token, commentID string, page int) (joPage, []byte) {
	t.Helper()
	return joGet(t, srv, JustOneAPIPath, "commentId", token, commentID, page)
}

// joGet asks srv for one page of listing path, whose id parameter is param.
func joGet(t *testing.T, srv *httptest.Server, path, param, token, id string, page int) (joPage, []byte) {
	t.Helper()
	q := url.Values{}
	if token != "" {
		q.Set("token", token)
	}
	if id != "" {
		q.Set(param, id)
	}
	if page != 0 {
		q.Set("page", strconv.Itoa(page))
	}
	resp, err := http.Get(srv.URL + path + "?" + q.Encode())
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("HTTP %d: %s", resp.StatusCode, body)
	}
	var p joPage
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("decode %q: %v", body, err)
	}
	return p, body
}

func joCIDs(p joPage) []string {
	var out []string
	if p.Data != nil {
		for _, c := range p.Data.Comments {
			out = append(out, c.CID)
		}
	}
	return out
}

// joFill adds n replies created one second apart and returns their cids.
func joFill(api *JustOneAPI, thread string, n int) []string {
	var cids []string
	for i := range n {
		cids = append(cids, api.AddReply(thread, Reply{
			Text: fmt.Sprintf("reply %d", i), CreateTime: 1_700_000_000 + int64(i),
			UserUID: strconv.Itoa(1000 + i), Nickname: "用户" + strconv.Itoa(i),
		}))
	}
	return cids
}

func TestJustOneAPIPaging(t *testing.T) {
	t.Parallel()
	api := NewJustOneAPI(joTestToken)
	srv := httptest.NewServer(api)
	defer srv.Close()
	cids := joFill(api, "root", 25)

	for i, want := range []struct {
		n, cursor int
		hasMore   string
	}{{10, 10, "1"}, {10, 20, "1"}, {5, 25, "0"}, {0, 25, "0"}} {
		p, _ := joFetch(t, srv, joTestToken, "root", i+1)
		if string(p.Code) != "0" || p.Data == nil {
			t.Fatalf("page %d: code %s", i+1, p.Code)
		}
		got := joCIDs(p)
		if len(got) != want.n || p.Data.Cursor != want.cursor || string(p.Data.HasMore) != want.hasMore || p.Data.Total != 25 {
			t.Errorf("page %d: %d items, cursor %d, has_more %s, total %d; want %+v",
				i+1, len(got), p.Data.Cursor, p.Data.HasMore, p.Data.Total, want)
		}
		if want.n > 0 && !slices.Equal(got, cids[i*10:i*10+want.n]) {
			t.Errorf("page %d: cids %v", i+1, got)
		}
	}
	// The page parameter defaults to 1.
	if p, _ := joFetch(t, srv, joTestToken, "root", 0); !slices.Equal(joCIDs(p), cids[:10]) {
		t.Errorf("default page: %v", joCIDs(p))
	}
	calls := api.Calls()
	if len(calls) != 5 || api.CallCount() != 5 {
		t.Fatalf("calls: %+v", calls)
	}
	if calls[0] != (Call{CommentID: "root", Page: 1, TokenOK: true}) || calls[4].Page != 1 {
		t.Errorf("calls: %+v", calls)
	}
	api.ResetCalls()
	if api.CallCount() != 0 {
		t.Errorf("after ResetCalls: %d", api.CallCount())
	}
}

func TestJustOneAPIReplyShape(t *testing.T) {
	t.Parallel()
	api := NewJustOneAPI(joTestToken)
	srv := httptest.NewServer(api)
	defer srv.Close()
	first := api.AddReply("7251524159191958327", Reply{
		AwemeID: "7251517975340027197", Text: "多少钱？[呲牙]😂", CreateTime: 1688379962,
		UserUID: "74470874573", Nickname: "史密斯夫妇💑", UniqueID: "GMJ_1116", SecUID: "MS4wLjABAAAA6K",
		Region: "CN", Verified: true, Digg: 23, AuthorDigged: true,
	})
	second := api.AddReply("7251524159191958327", Reply{Text: "<a>&", ReplyToReplyID: first, ReplyToUsername: "史密斯夫妇💑", UserUID: "1"})

	for _, cid := range []string{first, second} {
		n, err := strconv.ParseUint(cid, 10, 64)
		if len(cid) != 19 || err != nil || n <= 1<<53 {
			t.Errorf("cid %q: want 19 digits above 2^53", cid)
		}
	}
	if second <= first {
		t.Errorf("cids not increasing: %s then %s", first, second)
	}

	_, body := joFetch(t, srv, joTestToken, "7251524159191958327", 1)
	for _, want := range []string{
		`"cid":"` + first + `"`, `"reply_id":"7251524159191958327"`, `"aweme_id":"7251517975340027197"`,
		`"text":"多少钱？[呲牙]😂"`, `"nickname":"史密斯夫妇💑"`, `"is_verified":true`, `"create_time":1688379962`,
		`"digg_count":23`, `"is_author_digged":true`, `"label_list":[{"type":20,"text":"作者赞过"}]`,
		`"reply_to_reply_id":"0"`, `"reply_to_reply_id":"` + first + `"`, `"reply_to_userid":"74470874573"`,
		`"text":"<a>&"`, `"sec_uid":"MS4wLjABAAAA6K"`, `"entity_id":"74470874573"`,
		`"has_more":0`, `"total":2`, `"log_pb":{"impr_id":"`, `"merge_cursor":""`, `"story25_comment":0`,
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
	var user map[string]json.RawMessage
	if err := json.Unmarshal(generic.Data.Comments[0]["user"], &user); err != nil {
		t.Fatal(err)
	}
	if len(generic.Data.Comments[0]) < 30 || len(user) < 180 {
		t.Errorf("reply has %d fields, user %d: want the full documented objects", len(generic.Data.Comments[0]), len(user))
	}
	if size := len(body) / 2; size < 4500 || size > 8000 {
		t.Errorf("a reply is about %d bytes, want about 6 KB", size)
	}
}

func TestJustOneAPIParameters(t *testing.T) {
	t.Parallel()
	api := NewJustOneAPI(joTestToken)
	srv := httptest.NewServer(api)
	defer srv.Close()
	joFill(api, "root", 3)

	for _, tc := range []struct {
		name, token, comment string
		page                 int
		code                 string
		tokenOK              bool
	}{
		{"no token", "", "root", 1, "100", false},
		{"wrong token", "nope", "root", 1, "100", false},
		{"no comment id", joTestToken, "", 1, "400", true},
		{"page zero", joTestToken, "root", -1, "400", true},
	} {
		api.ResetCalls()
		p, _ := joFetch(t, srv, tc.token, tc.comment, tc.page)
		if string(p.Code) != tc.code || p.Message == "" || p.Data != nil {
			t.Errorf("%s: code %s message %q", tc.name, p.Code, p.Message)
		}
		if c := api.Calls(); len(c) != 1 || c[0].TokenOK != tc.tokenOK {
			t.Errorf("%s: calls %+v", tc.name, c)
		}
	}
	if p, _ := joFetch(t, srv, "", "root", 1); p.Message != "Invalid or Inactive Token" {
		t.Errorf("token message %q", p.Message)
	}
	resp, err := http.Get(srv.URL + JustOneAPIPath + "?token=" + joTestToken + "&commentId=root&page=x")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"code":400`) {
		t.Errorf("page=x: %s", b)
	}
	if resp, err := http.Get(srv.URL + "/api/other"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("other path: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
}

// joCheckOrders checks a listing of cids (oldest first, the order set
// first): list gives it after setOrder(OrderNewest) reversed, after
// setOrder(OrderRecommended) shuffled, and the same shuffle twice, which it
// returns.
func joCheckOrders(t *testing.T, cids []string, list func() []string, setOrder func(ReplyOrder)) []string {
	t.Helper()
	if got := list(); !slices.Equal(got, cids) {
		t.Errorf("oldest: %v", got)
	}
	setOrder(OrderNewest)
	rev := slices.Clone(cids)
	slices.Reverse(rev)
	if got := list(); !slices.Equal(got, rev) {
		t.Errorf("newest: %v", got)
	}
	setOrder(OrderRecommended)
	rec := list()
	if slices.Equal(rec, cids) || slices.Equal(rec, rev) || !slices.Equal(slices.Sorted(slices.Values(rec)), cids) {
		t.Errorf("recommended is not a shuffle: %v", rec)
	}
	if again := list(); !slices.Equal(again, rec) {
		t.Errorf("recommended is not deterministic")
	}
	return rec
}

func TestJustOneAPIOrders(t *testing.T) {
	t.Parallel()
	api := NewJustOneAPI(joTestToken)
	api.PageSize = 50
	srv := httptest.NewServer(api)
	defer srv.Close()
	cids := joFill(api, "root", 30)

	list := func() []string {
		p, _ := joFetch(t, srv, joTestToken, "root", 1)
		return joCIDs(p)
	}
	rec := joCheckOrders(t, cids, list, api.SetOrder)
	api.AddReply("root", Reply{CreateTime: 1_800_000_000})
	if after := list(); slices.Equal(after[:30], rec) || len(after) != 31 {
		t.Errorf("recommended did not change after an added reply")
	}

	api.Remove("root", cids[3])
	for _, r := range api.Replies("root") {
		if r.CID == cids[3] {
			t.Errorf("removed reply still listed")
		}
	}
	if n := len(api.Replies("root")); n != 30 {
		t.Errorf("%d replies after remove", n)
	}
}

func TestJustOneAPISettings(t *testing.T) {
	t.Parallel()
	api := NewJustOneAPI(joTestToken)
	api.PageSize = 2
	api.HasMoreAsBool = true
	api.CodeAsString = true
	api.TotalOffset = 100
	srv := httptest.NewServer(api)
	defer srv.Close()
	joFill(api, "root", 3)

	p, _ := joFetch(t, srv, joTestToken, "root", 1)
	if string(p.Code) != `"0"` || string(p.Data.HasMore) != "true" || p.Data.Total != 103 || len(p.Data.Comments) != 2 {
		t.Errorf("page 1: code %s has_more %s total %d", p.Code, p.Data.HasMore, p.Data.Total)
	}
	p, _ = joFetch(t, srv, joTestToken, "root", 2)
	if string(p.Data.HasMore) != "false" || len(p.Data.Comments) != 1 {
		t.Errorf("page 2: has_more %s", p.Data.HasMore)
	}
	p, _ = joFetch(t, srv, "bad", "root", 1)
	if string(p.Code) != `"100"` {
		t.Errorf("error code as string: %s", p.Code)
	}
}

func TestJustOneAPIFaults(t *testing.T) {
	t.Parallel()
	api := NewJustOneAPI(joTestToken)
	srv := httptest.NewServer(api)
	defer srv.Close()
	joFill(api, "root", 1)
	u := srv.URL + JustOneAPIPath + "?token=" + joTestToken + "&commentId=root"
	// A fresh connection per request: Go retries a GET whose reused
	// connection was dropped, which would hide the drop.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	get := func() (int, string, error) {
		resp, err := client.Get(u)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), err
	}

	api.Faults.Push(
		Fault{Kind: FaultCode, Code: 302, Msg: "Rate Limit Exceeded"},
		Fault{Kind: FaultCode, Code: 303},
		Fault{Kind: FaultHTTPStatus, Status: 503},
		Fault{Kind: FaultBrokenJSON},
		Fault{Kind: FaultDrop},
	)
	if st, b, err := get(); err != nil || st != 200 || b != `{"code":302,"message":"Rate Limit Exceeded","data":null}` {
		t.Errorf("code fault: %d %s %v", st, b, err)
	}
	if _, b, _ := get(); !strings.Contains(b, `"message":"Daily Quota Exceeded"`) {
		t.Errorf("code fault, default message: %s", b)
	}
	if st, _, _ := get(); st != 503 {
		t.Errorf("status fault: %d", st)
	}
	if _, b, _ := get(); json.Valid([]byte(b)) {
		t.Errorf("broken JSON fault is valid JSON: %s", b)
	}
	if _, _, err := get(); err == nil {
		t.Errorf("drop fault: no error")
	}
	if st, b, err := get(); err != nil || st != 200 || !strings.Contains(b, `"code":0`) {
		t.Errorf("after the faults: %d %v", st, err)
	}
	if api.Faults.Len() != 0 || api.CallCount() != 6 {
		t.Errorf("faults left %d, calls %d", api.Faults.Len(), api.CallCount())
	}
}

func TestJustOneAPIConcurrent(t *testing.T) {
	t.Parallel()
	api := NewJustOneAPI(joTestToken)
	api.SetOrder(OrderRecommended)
	srv := httptest.NewServer(api)
	defer srv.Close()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			joFill(api, "root", 5)
			api.SetPageSize(3 + i)
		})
		wg.Go(func() {
			joFetch(t, srv, joTestToken, "root", 1)
		})
	}
	wg.Wait()
	if n := len(api.Replies("root")); n != 40 || api.CallCount() != 8 {
		t.Errorf("%d replies, %d calls", n, api.CallCount())
	}
	seen := map[string]bool{}
	for _, r := range api.Replies("root") {
		if seen[r.CID] {
			t.Errorf("cid %s assigned twice", r.CID)
		}
		seen[r.CID] = true
	}
}
