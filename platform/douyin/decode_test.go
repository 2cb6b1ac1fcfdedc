package douyin

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/platform"
	"github.com/autoreplyd/autoreplyd/simulator"
)

// pageOf20 renders a page of 20 full replies through the imitation.
func pageOf20(tb testing.TB) []byte {
	tb.Helper()
	api := simulator.NewJustOneAPI("tok")
	api.PageSize = 20
	for i := range 20 {
		api.AddReply(threadID, simulator.Reply{
			AwemeID: "7251517975340027197", Text: "兄弟那你得多补补橱窗牡蛎精安排吧[暗中观察] 多少钱？😂",
			CreateTime: 1688379962 + int64(i), UserUID: "74470874573", Nickname: "史密斯夫妇💑",
			UniqueID: "GMJ_1116", SecUID: "MS4wLjABAAAA6KxayaNDf8hvL5Nti7fsnlJIMQRpUQQexZGW8GTIgqk", Region: "CN",
		})
	}
	q := url.Values{"token": {"tok"}, "commentId": {threadID}, "page": {"1"}}
	rec := httptest.NewRecorder()
	api.ServeHTTP(rec, httptest.NewRequest("GET", simulator.JustOneAPIPath+"?"+q.Encode(), nil))
	return rec.Body.Bytes()
}

func TestDecodeFlexibleFields(t *testing.T) {
	t.Parallel()
	// Ids as JSON numbers beyond 2^53, code and counts as strings, has_more
	// as a bool, flags as numbers.
	body := `{"code":"0","data":{"comments":[{"cid":9007199254740993123,"reply_id":"7251524159191958327",
		"reply_to_reply_id":0,"text":"[呲牙]","create_time":"1688379962","digg_count":"5","is_author_digged":1,
		"level":2,"user":{"uid":74470874573,"is_verified":"true"}},{"cid":"","text":"no id"}],
		"cursor":"10","has_more":true,"total":"117"}}`
	p, err := decodePage([]byte(body), time.Now(), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	r := p.Comments[0]
	if r.CID != "9007199254740993123" || r.ReplyToReplyID != "0" || r.CreateTime != "1688379962" || r.DiggCount != 5 ||
		!bool(r.IsAuthorDigged) || r.User.UID != "74470874573" || !bool(r.User.IsVerified) || r.Text != "[呲牙]" {
		t.Errorf("%+v", r)
	}
	if !p.HasMore || p.Total != 117 || p.Cursor != 10 {
		t.Errorf("%+v", p)
	}
	for _, bad := range []string{`{"code":0,"data":{"comments":[{"cid":1.5e`, `{"data":{}}`, `{"code":0,"data":{"has_more":"maybe"}}`} {
		if _, err := decodePage([]byte(bad), time.Now(), time.UTC); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestReplySize(t *testing.T) {
	t.Parallel()
	body := pageOf20(t)
	if per := len(body) / 20; per < 5000 || per > 8000 {
		t.Errorf("a reply is %d bytes, want about 6 KB", per)
	}
	if strings.Count(string(body), `"cid":`) != 20 {
		t.Error("not 20 replies")
	}
}

func BenchmarkDecodePage(b *testing.B) {
	body := pageOf20(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		p, err := decodePage(body, time.Time{}, time.UTC)
		if err != nil || len(p.Comments) != 20 {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeVideoPage decodes a page of 20 top-level comments and
// converts it, as ListVideoPage does.
func BenchmarkDecodeVideoPage(b *testing.B) {
	body := videoPageOf20(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		l, err := decodeListing[videoItem](body, time.Time{}, time.UTC)
		if err != nil {
			b.Fatal(err)
		}
		if p := videoPage(videoID, l, platform.NewCommentTimes(fuzzNow)); len(p.Comments) != 20 || p.Comments[3].ReplyTotal != 1 {
			b.Fatal("not the 20 comments")
		}
	}
}
