package douyin

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/platform"
	"github.com/autoreplyd/autoreplyd/simulator"
)

var (
	fuzzNow = time.Date(2025, 3, 1, 12, 30, 0, 0, time.UTC)
	fuzzLoc = time.FixedZone("CST", 8*3600)
)

// foldGet returns the member of object m that encoding/json would decode
// into a field named key (names match case-insensitively); ok is false
// when m is not an object or when several members match, since which one
// wins then depends on their order, which a map loses.
func foldGet(m any, key string) (v any, present, ok bool) {
	obj, isObj := m.(map[string]any)
	if !isObj {
		return nil, false, false
	}
	for k, x := range obj {
		if strings.EqualFold(k, key) {
			if present {
				return nil, false, false
			}
			v, present = x, true
		}
	}
	return v, present, true
}

// wantID is what a flexID must hold for JSON value v; ok is false when v
// is not an id at all (then decoding must have failed).
func wantID(v any) (id string, ok bool) {
	switch x := v.(type) {
	case nil:
		return "", true
	case json.Number:
		return string(x), true // every digit, as written
	case string:
		return x, true
	}
	return "", false
}

func FuzzDecodePage(f *testing.F) {
	f.Add(pageOf20(f))
	for _, s := range []string{
		// Ids as 19-digit JSON numbers (beyond 2^53) keep every digit.
		`{"code":0,"data":{"comments":[{"cid":7251536675678782265,"aweme_id":7251517975340027197,"reply_id":7251524159191958327,` +
			`"reply_to_reply_id":9007199254740993123,"text":"兄弟那你得多补补橱窗牡蛎精安排吧[暗中观察]","create_time":1688379962,` +
			`"digg_count":23,"user":{"uid":74470874573,"nickname":"史密斯夫妇💑","unique_id":"GMJ_1116","is_verified":true}}],` +
			`"cursor":10,"has_more":1,"total":117}}`,
		`{"code":"0","data":{"comments":[{"cid":"7251536675678782265","reply_to_reply_id":"0"}],"has_more":true,"cursor":"20","total":"117"}}`,
		`{"code":" 0 ","data":{"comments":[],"has_more":"false","cursor":1.5e1,"total":null}}`,
		`{"code":0,"data":{"comments":[{"cid":1e400},{"cid":-0.0e-0},{"CID":"upper","cid":"lower"}],"has_more":"1"}}`,
		`{"code":0,"data":{"comments":[null,{"cid":null,"user":null}],"has_more":0}}`,
		`{"code":0,"data":null}`,
		`{"code":0}`,
		`{"code":0,"data":{"comments":[{"cid":true}]}}`,
		`{"code":0,"data":{"comments":[{"cid":"\u0037\u0032\ud83d\ude02"}]}}`,
		`{"code":0,"data":{"has_more":"maybe"}}`,
		`{"code":0,"data":{"comments":[{"cid":1.5e`,
		`{"code":0,"data":{"comments":[{"cid":"72515366756787`,
		"\ufeff{\"code\":0}",
		`{"data":{}}`,
		`{"code":null}`,
		`{"code":100,"message":"Invalid or Inactive Token"}`,
		`{"code":"301","msg":"Collection Failed. Please Retry."}`,
		`{"code":302}`,
		`{"code":303,"message":"Daily Quota Exceeded"}`,
		`{"code":400,"message":"Invalid Parameters"}`,
		`{"code":601,"message":"Insufficient Balance"}`,
		`{"code":"0.0"}`,
		`{"code":[0]}`,
		`[]`, `null`, `""`, ``, `0`,
		`{"code":0,"data":{"comments":[{"cid":"1","create_time":"1e99","digg_count":"NaN","level":"-9223372036854775809"}]}}`,
		strings.Repeat(`{"a":`, 10000) + strings.Repeat(`}`, 10000),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := decodePage(body, fuzzNow, fuzzLoc)
		ref, ok := checkEnvelope(t, body, err)
		if !ok {
			return
		}
		checkHasMore(t, ref, p.HasMore)
		items, ok := listedItems(ref)
		if !ok {
			return
		}
		if len(items) != len(p.Comments) {
			t.Fatalf("%d comments decoded, %d in the answer", len(p.Comments), len(items))
		}
		exact := utf8.Valid(body) // else encoding/json replaces bad bytes, fast paths may not
		for i, item := range items {
			r := &p.Comments[i]
			user, _, userOK := foldGet(item, "user")
			checkIDs(t, i, exact, []idField{
				{item, true, "cid", r.CID},
				{item, true, "aweme_id", r.AwemeID},
				{item, true, "reply_id", r.ReplyID},
				{item, true, "reply_to_reply_id", r.ReplyToReplyID},
				{user, userOK, "uid", r.User.UID},
			})
			// The shared model keeps the id as decoded.
			if c := comment(model.Thread{ID: "7251524159191958327"}, r, time.Now()); c.ID != string(r.CID) {
				t.Errorf("comment id %q, decoded %q", c.ID, r.CID)
			}
		}
	})
}

// checkEnvelope checks what decoding body gave, the envelope's part: an
// error is a *model.SourceError saying what to do, a success is code 0 of
// an answer encoding/json accepts. ok says the decoding succeeded; ref is
// then body as encoding/json sees it, numbers as written.
func checkEnvelope(t *testing.T, body []byte, err error) (ref any, ok bool) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	refErr := dec.Decode(&ref)
	if refErr == nil && dec.More() {
		refErr = errors.New("trailing data")
	}

	if err != nil {
		var se *model.SourceError
		if !errors.As(err, &se) {
			t.Fatalf("error is %T, not *model.SourceError: %v", err, err)
		}
		if se.Action < model.SourceRetry || se.Action > model.SourceSkipThread || strings.HasPrefix(se.Action.String(), "SourceAction(") {
			t.Errorf("error without a known action: %#v", se)
		}
		if se.Msg == "" {
			t.Errorf("error without a message: %#v", se)
		}
		if se.Action == model.SourcePause && !se.Until.After(fuzzNow) {
			t.Errorf("pause until %v, not after now", se.Until)
		}
		if se.Code == "0" {
			t.Errorf("code 0 is success, not an error: %v", se)
		}
		return nil, false
	}
	if refErr != nil {
		t.Fatalf("decoding accepted what encoding/json refuses (%v): %q", refErr, body)
	}

	// Success means business code 0.
	if code, present, ok := foldGet(ref, "code"); ok {
		switch c := code.(type) {
		case json.Number:
			if c != "0" {
				t.Errorf("success with code %s", c)
			}
		case string:
			if strings.TrimSpace(c) != "0" {
				t.Errorf("success with code %q", c)
			}
		default:
			t.Errorf("success with code %v (present %v)", code, present)
		}
	}
	return ref, true
}

// idField is an id decoded (got) from member key of obj, an object of the
// answer when objOK.
type idField struct {
	obj   any
	objOK bool
	key   string
	got   flexID
}

// checkIDs checks the ids of comment i: each holds what the answer says,
// a number every digit as written, a string as it is when exact (the body
// is valid UTF-8: else encoding/json replaces bad bytes, fast paths may not).
func checkIDs(t *testing.T, i int, exact bool, fields []idField) {
	t.Helper()
	for _, fld := range fields {
		if !fld.objOK {
			continue
		}
		v, _, ok := foldGet(fld.obj, fld.key)
		if !ok {
			continue
		}
		want, isID := wantID(v)
		if !isID {
			t.Errorf("comment %d: %s %v accepted as id %q", i, fld.key, v, fld.got)
			continue
		}
		if _, isNum := v.(json.Number); (exact || isNum) && string(fld.got) != want {
			t.Errorf("comment %d: %s is %q, the answer says %q", i, fld.key, fld.got, want)
		}
	}
}

// checkHasMore checks that has_more, an int or a bool in ref, was decoded
// as got.
func checkHasMore(t *testing.T, ref any, got bool) {
	t.Helper()
	data, _, ok := foldGet(ref, "data")
	if !ok {
		return
	}
	if hm, present, ok := foldGet(data, "has_more"); ok && present {
		switch x := hm.(type) {
		case bool:
			if got != x {
				t.Errorf("has_more %v decoded as %v", x, got)
			}
		case json.Number:
			if f, err := strconv.ParseFloat(string(x), 64); err == nil && got != (f != 0) {
				t.Errorf("has_more %s decoded as %v", x, got)
			}
		}
	}
}

// listedItems are the items of ref's data.comments; ok is false when they
// cannot be told (data or comments matched twice).
func listedItems(ref any) (items []any, ok bool) {
	data, _, ok := foldGet(ref, "data")
	if !ok {
		return nil, false
	}
	list, _, ok := foldGet(data, "comments")
	if !ok {
		return nil, false
	}
	items, _ = list.([]any)
	return items, true
}

// videoPageOf20 renders a page of 20 full top-level comments through the
// imitation, one of them with replies.
func videoPageOf20(tb testing.TB) []byte {
	tb.Helper()
	api := simulator.NewJustOneAPI("tok")
	for i := range 20 {
		cid := api.AddComment(videoID, simulator.Reply{
			Text: "多少钱？怎么买[呲牙]😂", CreateTime: 1688379962 + int64(i), UserUID: "74470874573",
			Nickname: "史密斯夫妇💑", UniqueID: "GMJ_1116", SecUID: "MS4wLjABAAAA6KxayaNDf8hvL5Nti7fsnlJIMQRpUQQexZGW8GTIgqk",
		})
		if i == 3 {
			api.AddReply(cid, simulator.Reply{Text: "私信你了"})
		}
	}
	q := url.Values{"token": {"tok"}, "awemeId": {videoID}, "page": {"1"}}
	rec := httptest.NewRecorder()
	api.ServeHTTP(rec, httptest.NewRequest("GET", simulator.JustOneAPIVideoPath+"?"+q.Encode(), nil))
	return rec.Body.Bytes()
}

func FuzzDecodeVideoPage(f *testing.F) {
	f.Add(videoPageOf20(f))
	for _, s := range []string{
		// Ids and counts as numbers, ids beyond 2^53 keeping every digit.
		`{"code":0,"data":{"status_code":0,"comments":[{"cid":7251536675678782265,"aweme_id":7251517975340027197,"reply_id":"0",` +
			`"text":"多少钱？[呲牙]","create_time":1688379962,"digg_count":23,"reply_comment_total":12,"level":1,` +
			`"user":{"uid":74470874573,"nickname":"史密斯夫妇💑","unique_id":"GMJ_1116","region":"CN"}}],"cursor":20,"has_more":1,"total":117}}`,
		`{"code":"0","data":{"comments":[{"cid":"7251536675678782265","reply_comment_total":"3"}],"has_more":true,"total":"4"}}`,
		`{"code":0,"data":{"comments":[{"cid":"1","reply_comment_total":-1},{"cid":"1","reply_comment_total":1e30},{"cid":"2","reply_comment_total":"x"}]}}`,
		`{"code":0,"data":{"comments":[{"cid":"3","reply_comment_total":9223372036854775808}]}}`,
		`{"code":0,"data":{"comments":[{"cid":"4","reply_comment_total":null,"user":null,"aweme_id":null},{"text":"no cid"},null]}}`,
		`{"code":0,"data":{"comments":[{"cid":"5","reply_id":"7251524159191958327","reply_to_reply_id":"6","level":2}],"has_more":false}}`,
		`{"code":0,"data":{"comments":null,"has_more":0}}`,
		`{"code":0,"data":{"comments":[{"CID":"upper","cid":"lower","Reply_Comment_Total":1}]}}`,
		`{"code":0,"data":{"comments":[{"cid":"7","reply_comment_total":1`,
		`{"code":303,"message":"Daily Quota Exceeded","data":null}`,
		`{"code":"602","msg":"Spend Cap Reached"}`,
		`{"code":0,"data":{"has_more":"maybe"}}`,
		`[]`, `null`, ``,
		`{"code":0,"data":{"comments":[` + strings.Repeat(`{"cid":"8"},`, 5000) + `{"cid":"9"}]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		l, err := decodeListing[videoItem](body, fuzzNow, fuzzLoc)
		ref, ok := checkEnvelope(t, body, err)
		if !ok {
			return
		}
		p := videoPage(videoID, l, platform.NewCommentTimes(fuzzNow))
		checkHasMore(t, ref, p.HasMore)
		if p.HasMore != l.HasMore || p.Items != len(l.Comments) {
			t.Errorf("page %d items, has_more %v; decoded %d, %v", p.Items, p.HasMore, len(l.Comments), l.HasMore)
		}

		// Each distinct cid once, in the listing's order, a thread of its
		// own under the video, answering it.
		var want []string
		first := map[string]int{} // cid -> its first item
		for i := range l.Comments {
			if id := string(l.Comments[i].CID); id != "" {
				if _, dup := first[id]; !dup {
					first[id] = i
					want = append(want, id)
				}
			}
		}
		got := make([]string, len(p.Comments))
		for i, c := range p.Comments {
			got[i] = c.ID
			if c.ThreadID != c.ID || c.RootID != "0" || c.ReplyToID != "0" || c.ReplyToUser != "" || c.PostID == "" ||
				c.PostID == "0" || c.Level == 0 || c.ReplyTotal < 0 || c.Platform != model.PlatformDouyin {
				t.Errorf("comment %+v", c)
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("comments %q, want %q", got, want)
		}

		items, ok := listedItems(ref)
		if !ok {
			return
		}
		if len(items) != p.Items {
			t.Fatalf("%d items decoded, %d in the answer", p.Items, len(items))
		}
		exact := utf8.Valid(body)
		for i, item := range items {
			it := &l.Comments[i]
			user, _, userOK := foldGet(item, "user")
			checkIDs(t, i, exact, []idField{
				{item, true, "cid", it.CID},
				{item, true, "aweme_id", it.AwemeID},
				{user, userOK, "uid", it.User.UID},
			})
			// An integral reply count is kept as it is; the page's is
			// never negative.
			if v, _, ok := foldGet(item, "reply_comment_total"); ok {
				if n, isNum := v.(json.Number); isNum {
					if x, err := strconv.ParseInt(string(n), 10, 64); err == nil && int64(it.ReplyTotal) != x {
						t.Errorf("item %d: reply_comment_total %s decoded as %d", i, n, it.ReplyTotal)
					}
				}
			}
		}
		for _, c := range p.Comments {
			it := &l.Comments[first[c.ID]]
			if want := max(int64(it.ReplyTotal), 0); int64(c.ReplyTotal) != want {
				t.Errorf("comment %s: reply total %d, decoded %d", c.ID, c.ReplyTotal, it.ReplyTotal)
			}
		}
	})
}
