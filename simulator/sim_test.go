package simulator

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var simTestCreds = SimCredentials{
	JustOneAPIToken: "sim-jo", KitkotAPIKey: "sim-kk", KitkotSessionKey: "sim-kks",
	WeChatAppID: "wxsim0001", WeChatAppSecret: "sim-wx", WeiboAccessToken: "sim-wb",
}

var simTestThreads = []SimThread{
	{Platform: "douyin", ID: "7251524159191958327", PostID: "7251517975340027197"},
	{Platform: "tiktok", ID: "7300000000000000011", PostID: "7300000000000000001"},
	{Platform: "wechat", ID: "2247483647", Index: 1},
	{Platform: "weibo", ID: "4023227965"},
}

// newTestSim serves a Sim watching simTestThreads and collects its events.
func newTestSim(t *testing.T) (*Sim, SimBaseURLs, *httptest.Server, func() []SimEvent) {
	t.Helper()
	s := NewSim(simTestCreds, 1)
	for _, th := range simTestThreads {
		if err := s.Watch(th); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	var evs []SimEvent
	s.OnEvent = func(ev SimEvent) {
		mu.Lock()
		defer mu.Unlock()
		evs = append(evs, ev)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, BaseURLs(srv.URL), srv, func() []SimEvent {
		mu.Lock()
		defer mu.Unlock()
		out := evs
		evs = nil
		return out
	}
}

func getJSON(t *testing.T, u string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	return resp.StatusCode, m
}

// Each imitation answers under its prefix, with the comments Tick and the
// backlog made up for the threads watched.
func TestSimServesEveryPlatform(t *testing.T) {
	t.Parallel()
	s, urls, _, events := newTestSim(t)
	s.Backlog(time.Now().Add(-time.Hour), 2)
	for range 20 {
		s.Tick(time.Now())
	}
	per := map[string]int{}
	for _, ev := range events() {
		if ev.Kind != SimEventComment || ev.ID == "" || ev.Text == "" || ev.User == "" {
			t.Fatalf("event %+v", ev)
		}
		per[ev.Platform]++
	}
	if len(per) != 4 || per["douyin"] < 2 || per["weibo"] < 2 {
		t.Fatalf("comments by platform: %v", per)
	}

	_, jo := getJSON(t, urls.Douyin+JustOneAPIPath+"?"+url.Values{"token": {"sim-jo"}, "commentId": {simTestThreads[0].ID}, "page": {"1"}}.Encode())
	if data, _ := jo["data"].(map[string]any); data == nil || len(data["comments"].([]any)) != per["douyin"] {
		t.Errorf("JustOneAPI: %v, want %d replies", jo, per["douyin"])
	}
	code, kk := getJSON(t, strings.TrimSuffix(urls.Kitkot, "/api")+KitkotRepliesPath+"?"+url.Values{"api_key": {"sim-kk"}, "comment_id": {simTestThreads[1].ID}}.Encode())
	if code != 200 || kk["total_replies"] != json.Number(strconv.Itoa(per["tiktok"])) {
		t.Errorf("kitkot listing: %d %v, want %d replies", code, kk, per["tiktok"])
	}
	resp, err := http.Post(urls.WeChat+WeChatStableTokenPath, "application/json",
		strings.NewReader(`{"grant_type":"client_credential","appid":"wxsim0001","secret":"sim-wx"}`))
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	resp, err = http.Post(urls.WeChat+WeChatCommentListPath+"?access_token="+tok.AccessToken, "application/json",
		strings.NewReader(`{"msg_data_id":2247483647,"index":1,"begin":0,"count":49,"type":0}`))
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Comment []any `json:"comment"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if len(list.Comment) != per["wechat"] {
		t.Errorf("WeChat lists %d comments, want %d", len(list.Comment), per["wechat"])
	}
	_, wb := getJSON(t, urls.Weibo+WeiboShowPath+"?"+url.Values{"access_token": {"sim-wb"}, "id": {"4023227965"}}.Encode())
	if wb["total_number"] != json.Number(strconv.Itoa(per["weibo"])) {
		t.Errorf("Weibo: %v, want %d comments", wb, per["weibo"])
	}
	// A base URL without the prefix reaches nothing.
	if resp, err := http.Get(strings.TrimSuffix(urls.Douyin, SimJustOneAPIPrefix) + JustOneAPIPath); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("unprefixed path: %v %v", resp, err)
	}
}

// Answers posted through kitkot show up in the thread they answer, on
// Douyin's imitation or TikTok's; answers to WeChat and Weibo are reported.
func TestSimAnswers(t *testing.T) {
	t.Parallel()
	s, urls, _, events := newTestSim(t)
	post := func(thread, aweme, text string) {
		q := url.Values{"api_key": {"sim-kk"}, "session_key": {"sim-kks"}, "aweme_id": {aweme}, "reply_id": {thread}, "text": {text}}
		resp, err := http.Get(urls.Kitkot + "/video/comments/publish/reply?" + q.Encode())
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("kitkot post: %v %v", resp, err)
		}
		resp.Body.Close()
	}
	post(simTestThreads[0].ID, simTestThreads[0].PostID, "抖音的回复🙏")
	post(simTestThreads[1].ID, simTestThreads[1].PostID, "TikTok reply 🙏")
	dy := s.JustOneAPI.Replies(simTestThreads[0].ID)
	if len(dy) != 1 || dy[0].Text != "抖音的回复🙏" || dy[0].UserUID != s.Kitkot.BotUID {
		t.Errorf("Douyin thread: %+v", dy)
	}
	tk := s.Kitkot.ThreadReplies(simTestThreads[1].ID)
	if len(tk) != 1 || tk[0].Text != "TikTok reply 🙏" || tk[0].UserUID != s.Kitkot.BotUID {
		t.Errorf("TikTok thread: %+v", tk)
	}
	id := s.Weibo.AddComment("4023227965", WeiboComment{UID: "123", ScreenName: "小新", Text: "多少钱"})
	resp, err := http.PostForm(urls.Weibo+WeiboReplyV2Path, url.Values{"access_token": {"sim-wb"}, "id": {"4023227965"}, "cid": {id}, "comment": {"请看橱窗"}})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("weibo reply: %v %v", resp, err)
	}
	resp.Body.Close()
	var answers []SimEvent
	for _, ev := range events() {
		if ev.Kind == SimEventAnswer {
			answers = append(answers, ev)
		}
	}
	if len(answers) != 3 || answers[0].Platform != "douyin" || answers[1].Platform != "tiktok" || answers[2].Platform != "weibo" ||
		answers[2].Text != "回复@小新:请看橱窗" || answers[0].Thread != simTestThreads[0].ID {
		t.Errorf("answers: %+v", answers)
	}
}

// Comments written by hand: POST to SimCommentsPath; bad ones are refused
// with the reason.
func TestSimCommentsByHand(t *testing.T) {
	t.Parallel()
	s, _, srv, events := newTestSim(t)
	add := func(form url.Values) (int, string) {
		resp, err := http.PostForm(srv.URL+SimCommentsPath, form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := add(url.Values{"text": {"多少钱？😍"}})
	if code != http.StatusCreated || !strings.Contains(body, `"platform":"douyin"`) || !strings.Contains(body, `"text":"多少钱？😍"`) {
		t.Fatalf("%d %s", code, body)
	}
	if r := s.JustOneAPI.Replies(simTestThreads[0].ID); len(r) != 1 || r[0].Text != "多少钱？😍" || r[0].Nickname == "" {
		t.Fatalf("Douyin thread: %+v", r)
	}
	code, body = add(url.Values{"platform": {"wechat"}, "thread": {"2247483647:1"}, "text": {"怎么买"}})
	if code != http.StatusCreated || !strings.Contains(body, `"thread":"2247483647:1"`) {
		t.Fatalf("%d %s", code, body)
	}
	code, body = add(url.Values{"platform": {"weibo"}, "text": {"好看"}, "nickname": {"小新"}})
	if code != http.StatusCreated {
		t.Fatalf("%d %s", code, body)
	}
	if c := s.Weibo.Comments("4023227965"); len(c) != 1 || c[0].ScreenName != "小新" {
		t.Fatalf("weibo: %+v", c)
	}
	// Two comments by hand come from two people (cooldowns would hold the
	// second back otherwise).
	add(url.Values{"text": {"还有吗"}})
	if r := s.JustOneAPI.Replies(simTestThreads[0].ID); len(r) != 2 || r[0].UserUID == r[1].UserUID {
		t.Fatalf("Douyin thread: %+v", r)
	}
	if n := len(events()); n != 4 {
		t.Errorf("%d events for 4 comments", n)
	}
	for _, tc := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"text": {"  "}}, "text: empty"},
		{url.Values{"platform": {"dy"}, "text": {"x"}}, `platform "dy": want one of douyin, tiktok, wechat, weibo`},
		{url.Values{"platform": {"weibo"}, "thread": {"1"}, "text": {"x"}}, `thread "1": not a watched weibo thread (watched: 4023227965)`},
		{url.Values{"text": {strings.Repeat("长", simMaxText+1)}}, "text: 2001 characters, at most 2000"},
	} {
		if code, body := add(tc.form); code != http.StatusBadRequest || !strings.Contains(body, tc.want) {
			t.Errorf("%v: %d %q, want 400 %q", tc.form, code, body, tc.want)
		}
	}
	if resp, err := http.Get(srv.URL + SimCommentsPath); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %v %v", resp, err)
	}
}

// A Sim started later hands out larger ids: a database kept from an
// earlier one never takes a new comment for one it knows.
func TestSimIDsGrowAcrossSims(t *testing.T) {
	t.Parallel()
	first, _, _, _ := newTestSim(t)
	a := first.traffic.Douyin(time.Now(), "1")
	wa := first.traffic.Weibo(first.Weibo, time.Now(), "4023227965")
	xa := first.traffic.WeChat(first.WeChat, time.Now(), "2247483647", 1)
	for range 50 {
		first.traffic.Douyin(time.Now(), "1")
		first.traffic.Weibo(first.Weibo, time.Now(), "4023227965")
	}
	// Ids grow with the clock's milliseconds: the next Sim starts in a
	// later one.
	for ms := time.Now().UnixMilli(); time.Now().UnixMilli() == ms; {
		runtime.Gosched()
	}
	second, _, _, _ := newTestSim(t)
	b := second.traffic.Douyin(time.Now(), "1")
	wb := second.traffic.Weibo(second.Weibo, time.Now(), "4023227965")
	xb := second.traffic.WeChat(second.WeChat, time.Now(), "2247483647", 1)
	ca, _ := strconv.ParseUint(a.CID, 10, 64)
	cb, _ := strconv.ParseUint(b.CID, 10, 64)
	if cb <= ca+50 || wb.ID <= wa.ID+50 || xb.UserCommentID <= xa.UserCommentID {
		t.Errorf("ids of a later Sim: douyin %d after %d, weibo %d after %d, wechat %d after %d", cb, ca, wb.ID, wa.ID, xb.UserCommentID, xa.UserCommentID)
	}
}

// A watched video: made-up traffic adds new top-level comments and replies
// under them, each event naming the thread it is in; an answer posted
// through kitkot to a top-level comment lands in that comment's thread, and
// the video listing counts it.
func TestSimVideo(t *testing.T) {
	t.Parallel()
	const video = "7262080445271772416"
	s := NewSim(simTestCreds, 3)
	if err := s.Watch(SimThread{Platform: "douyin", ID: video, Video: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.Watch(SimThread{Platform: "tiktok", ID: "7300000000000000001", Video: true}); err == nil {
		t.Error("a TikTok video was watched: kitkot lists no video's comments")
	}
	var mu sync.Mutex
	var evs []SimEvent
	s.OnEvent = func(ev SimEvent) {
		mu.Lock()
		defer mu.Unlock()
		evs = append(evs, ev)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	urls := BaseURLs(srv.URL)

	now := time.Now()
	for i := range 40 {
		if _, ok := s.Tick(now.Add(time.Duration(i) * time.Second)); !ok {
			t.Fatal("Tick: no thread")
		}
	}
	top := s.JustOneAPI.Comments(video)
	tops := map[string]bool{}
	for _, c := range top {
		tops[c.CID] = true
	}
	var replies int
	for _, ev := range evs {
		switch {
		case tops[ev.ID]:
			if ev.Thread != ev.ID {
				t.Errorf("top-level comment %s in thread %s, want its own", ev.ID, ev.Thread)
			}
		case tops[ev.Thread]:
			replies++
			found := false
			for _, r := range s.JustOneAPI.Replies(ev.Thread) {
				found = found || r.CID == ev.ID
			}
			if !found {
				t.Errorf("reply %s is not in thread %s", ev.ID, ev.Thread)
			}
		default:
			t.Errorf("event %+v: neither a top-level comment of the video nor a reply under one", ev)
		}
	}
	if len(top) < 10 || replies < 5 || len(top)+replies != 40 {
		t.Errorf("%d top-level comments and %d replies from 40 ticks", len(top), replies)
	}
	// The listing serves them, with their reply counts.
	q := url.Values{"token": {"sim-jo"}, "awemeId": {video}, "page": {"1"}}
	if code, m := getJSON(t, urls.Douyin+JustOneAPIVideoPath+"?"+q.Encode()); code != 200 || m["code"] != json.Number("0") {
		t.Fatalf("video listing: %d %v", code, m)
	}

	// An answer to a top-level comment, through kitkot, shows in its thread.
	first := top[0].CID
	before := len(s.JustOneAPI.Replies(first))
	mu.Lock()
	evs = nil
	mu.Unlock()
	q = url.Values{"api_key": {"sim-kk"}, "session_key": {"sim-kks"}, "aweme_id": {video}, "reply_id": {first}, "text": {"谢谢支持🙏"}}
	resp, err := http.Get(urls.Kitkot + "/video/comments/publish/reply?" + q.Encode())
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("kitkot post: %v %v", resp, err)
	}
	resp.Body.Close()
	after := s.JustOneAPI.Replies(first)
	if len(after) != before+1 || after[len(after)-1].Text != "谢谢支持🙏" || after[len(after)-1].UserUID != s.Kitkot.BotUID {
		t.Errorf("thread %s after the answer: %+v", first, after)
	}
	mu.Lock()
	if len(evs) != 1 || evs[0].Kind != SimEventAnswer || evs[0].Platform != "douyin" || evs[0].Thread != first {
		t.Errorf("answer events: %+v", evs)
	}
	mu.Unlock()

	// By hand: a new top-level comment, its thread its own id.
	ev, err := s.AddComment(now, "douyin", video, "多少钱？", "")
	if err != nil || ev.Thread != ev.ID || ev.Thread == "" {
		t.Fatalf("AddComment to the video: %+v %v", ev, err)
	}
	if ev2, err := s.AddComment(now, "douyin", "video:"+video, "怎么买", ""); err != nil || ev2.Thread != ev2.ID {
		t.Fatalf("AddComment to video:%s: %+v %v", video, ev2, err)
	}
	if n := len(s.JustOneAPI.Comments(video)); n != len(top)+2 {
		t.Errorf("%d top-level comments after two by hand, want %d", n, len(top)+2)
	}
}
