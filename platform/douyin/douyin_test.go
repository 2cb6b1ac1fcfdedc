package douyin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/platform"
	"github.com/autoreplyd/autoreplyd/simulator"
)

// testToken is distinctive, and needs URL escaping, so that a leak in any
// form is caught.
const testToken = "SeCrEt-t0ken/ü+&=9f2c"

const threadID = "7251524159191958327"

// memKnown is an in-memory record of seen cids.
type memKnown struct {
	mu     sync.Mutex
	ids    map[string]bool
	totals map[string]int // reply counts last listed, as the store keeps them
}

// listed returns the reply counts last listed of those of ids listed before.
func (m *memKnown) listed(_ context.Context, ids []string) (map[string]int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]int{}
	for _, id := range ids {
		if n, ok := m.totals[id]; ok {
			out[id] = n
		}
	}
	return out, nil
}

// recordListed keeps the counts a poll listed.
func (m *memKnown) recordListed(ls []platform.ListedThread) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.totals == nil {
		m.totals = map[string]int{}
	}
	for _, t := range ls {
		m.totals[t.ThreadID] = t.Total
	}
}

func (m *memKnown) known(_ context.Context, ids []string) (map[string]bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]bool)
	for _, id := range ids {
		if m.ids[id] {
			out[id] = true
		}
	}
	return out, nil
}

func (m *memKnown) record(cs []model.Comment) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range cs {
		m.ids[c.ID] = true
	}
}

// harness is one watched thread on an imitation, polled the way the poller
// does: comments recorded always, state saved only on success.
type harness struct {
	t     *testing.T
	api   *simulator.JustOneAPI
	srv   *httptest.Server
	src   *Source
	known *memKnown
	th    model.Thread
	state model.ThreadState
	clock time.Time
}

func newHarness(t *testing.T, setup func(*simulator.JustOneAPI, *Config)) *harness {
	t.Helper()
	h := &harness{
		t:     t,
		api:   simulator.NewJustOneAPI(testToken),
		known: &memKnown{ids: map[string]bool{}},
		th:    model.Thread{ID: threadID, PostID: "7251517975340027197", Labels: map[string]string{"campaign": "spring"}},
		clock: time.Date(2026, 3, 9, 22, 0, 0, 0, time.UTC),
	}
	cfg := Config{Token: testToken, Threads: []model.Thread{h.th}, Now: func() time.Time { return h.clock }}
	if setup != nil {
		setup(h.api, &cfg)
	}
	h.srv = httptest.NewServer(h.api)
	t.Cleanup(h.srv.Close)
	if cfg.BaseURL == "" {
		cfg.BaseURL = h.srv.URL
	}
	src, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.src = src
	return h
}

// add adds n replies, created a second apart after the last one.
func (h *harness) add(n int) []string {
	var cids []string
	for range n {
		h.clock = h.clock.Add(time.Second)
		cids = append(cids, h.api.AddReply(threadID, simulator.Reply{
			AwemeID: "7251517975340027197", Text: "reply at " + h.clock.Format(time.TimeOnly),
			CreateTime: h.clock.Unix(), UserUID: strconv.FormatInt(h.clock.Unix(), 10), Nickname: "用户",
		}))
	}
	return cids
}

// poll polls the thread once, checking the result's call count against the
// imitation's and that no error shows the token.
func (h *harness) poll() (model.PollResult, error) {
	h.t.Helper()
	before := h.api.CallCount()
	res, err := h.src.PollThread(context.Background(), h.th, h.state, h.known.known)
	if got := h.api.CallCount() - before; got != res.Calls {
		h.t.Errorf("result says %d calls, the API saw %d", res.Calls, got)
	}
	checkNoToken(h.t, err)
	h.known.record(res.Comments)
	if err == nil {
		h.state = res.State
	}
	return res, err
}

// mustPoll polls and fails the test on error.
func (h *harness) mustPoll() model.PollResult {
	h.t.Helper()
	res, err := h.poll()
	if err != nil {
		h.t.Fatalf("poll: %v", err)
	}
	return res
}

func checkNoToken(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error() + fmt.Sprintf(" %#v", err)
	for _, form := range []string{testToken, url.QueryEscape(testToken), url.PathEscape(testToken), "SeCrEt"} {
		if strings.Contains(msg, form) {
			t.Errorf("error shows the token: %s", msg)
		}
	}
}

func ids(cs []model.Comment) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

// ceilDiv is ceil(a/b).
func ceilDiv(a, b int) int { return (a + b - 1) / b }

func TestFirstSightScansEverything(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		setup func(*simulator.JustOneAPI, *Config)
	}{
		{"has_more int", nil},
		{"has_more bool, code string", func(a *simulator.JustOneAPI, _ *Config) { a.HasMoreAsBool, a.CodeAsString = true, true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.setup)
			cids := h.add(25)
			res := h.mustPoll()
			if res.Calls != 3 {
				t.Errorf("calls %d, want 3", res.Calls)
			}
			if !slices.Equal(ids(res.Comments), cids) {
				t.Errorf("comments %v, want %v", ids(res.Comments), cids)
			}
			st := res.State
			if !st.Initialized || st.Known != 25 || st.Total != 25 || st.Order != model.OrderOldest ||
				st.PageSize != 10 || st.Polls != 1 || !st.LastFullScan.Equal(h.clock) || !st.LastPolled.Equal(h.clock) ||
				st.Platform != "douyin" || st.ThreadID != threadID {
				t.Errorf("state %+v", st)
			}
			pages := []int{}
			for _, c := range h.api.Calls() {
				if c.CommentID != threadID || !c.TokenOK {
					t.Errorf("call %+v", c)
				}
				pages = append(pages, c.Page)
			}
			if !slices.Equal(pages, []int{1, 2, 3}) {
				t.Errorf("pages %v", pages)
			}
		})
	}
}

func TestEmptyThread(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	res := h.mustPoll()
	if res.Calls != 1 || len(res.Comments) != 0 || !res.State.Initialized || res.State.Known != 0 {
		t.Errorf("%+v", res)
	}
}

func TestEmptyPageStopsPaging(t *testing.T) {
	t.Parallel()
	api := simulator.NewJustOneAPI(testToken)
	calls := 0
	var mu sync.Mutex
	// A listing that claims more forever but runs dry on page 3.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		mu.Unlock()
		if r.URL.Query().Get("page") == "3" {
			_, _ = w.Write([]byte(`{"code":0,"data":{"comments":[],"cursor":20,"has_more":1,"total":20}}`))
			return
		}
		api.ServeHTTP(w, r)
	}))
	defer srv.Close()
	for range 30 {
		api.AddReply(threadID, simulator.Reply{CreateTime: 1_700_000_000})
	}
	src, err := New(Config{BaseURL: srv.URL, Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	res, err := src.PollThread(context.Background(), model.Thread{ID: threadID}, model.ThreadState{}, (&memKnown{}).known)
	if err != nil || calls != 3 || len(res.Comments) != 20 || res.Calls != 3 {
		t.Errorf("err %v, calls %d, %d comments", err, calls, len(res.Comments))
	}
}

func TestCommentFields(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	root := h.api.AddReply(threadID, simulator.Reply{
		CID: "7251535176281932602", AwemeID: "7251517975340027197", Text: "小虎的回复",
		CreateTime: 1688379900, UserUID: "63868108170", Nickname: "小虎",
	})
	h.api.AddReply(threadID, simulator.Reply{
		CID: "9007199254740993123", Text: "兄弟那你得多补补[呲牙][捂脸] 多少钱？😂😂", CreateTime: 1688379962,
		UserUID: "74470874573", Nickname: "史密斯夫妇💑", UniqueID: "GMJ_1116", SecUID: "MS4wLjABAAAA6KxayaNDf8hvL5Nti",
		Region: "CN", Verified: true, ReplyToReplyID: root, ReplyToUsername: "小虎", Digg: 23, AuthorDigged: true,
	})
	res := h.mustPoll()
	if len(res.Comments) != 2 {
		t.Fatalf("%d comments", len(res.Comments))
	}
	got := res.Comments[1]
	want := model.Comment{
		Platform: "douyin", ID: "9007199254740993123", ThreadID: threadID, PostID: "7251517975340027197",
		RootID: threadID, ReplyToID: "7251535176281932602", ReplyToUser: "小虎",
		Text: "兄弟那你得多补补[呲牙][捂脸] 多少钱？😂😂", CreatedAt: time.Unix(1688379962, 0).UTC(),
		Likes: 23, Level: 2, AuthorLiked: true,
		User: model.User{UID: "74470874573", SecUID: "MS4wLjABAAAA6KxayaNDf8hvL5Nti", UniqueID: "GMJ_1116",
			Nickname: "史密斯夫妇💑", Region: "CN", Verified: true},
		Labels: map[string]string{"campaign": "spring"},
	}
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Errorf("comment\n got %+v\nwant %+v", got, want)
	}
	if first := res.Comments[0]; first.ID != root || first.ReplyToID != "0" {
		t.Errorf("first comment %+v", first)
	}
}

func TestAwemeIDFallsBackToThread(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.api.AddReply(threadID, simulator.Reply{Text: "x", CreateTime: 1})
	res := h.mustPoll()
	if len(res.Comments) != 1 || res.Comments[0].PostID != h.th.PostID {
		t.Errorf("%+v", res.Comments)
	}
}

// codeActions is what each JustOneAPI business code makes the source do,
// for a thread's poll and a video's listing alike (777: a code nobody
// documents).
var codeActions = []struct {
	code   int
	action model.SourceAction
}{
	{100, model.SourceStop}, {300, model.SourceStop}, {301, model.SourceRetry}, {302, model.SourceBackoff},
	{303, model.SourcePause}, {400, model.SourceSkipThread}, {500, model.SourceRetry},
	{600, model.SourceStop}, {601, model.SourceStop}, {602, model.SourceStop}, {777, model.SourceRetry},
}

// TestBusinessCodes checks every code on a thread's poll and on a video's
// listing.
func TestBusinessCodes(t *testing.T) {
	t.Parallel()
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	// 23:30 on 9 March in Shanghai: the quota resets at 00:00 on 10 March there.
	now := time.Date(2026, 3, 9, 15, 30, 0, 0, time.UTC)
	midnight := time.Date(2026, 3, 10, 0, 0, 0, 0, shanghai)
	for _, tc := range codeActions {
		for _, asString := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d string=%v", tc.code, asString), func(t *testing.T) {
				h := newHarness(t, func(a *simulator.JustOneAPI, c *Config) {
					a.CodeAsString = asString
					c.Location = shanghai
					c.Now = func() time.Time { return now }
				})
				h.add(3)
				h.api.Faults.Push(simulator.Fault{Kind: simulator.FaultCode, Code: tc.code, Msg: "refused for " + testToken})
				res, err := h.poll()
				var se *model.SourceError
				if !errors.As(err, &se) {
					t.Fatalf("error %v (%T)", err, err)
				}
				if se.Action != tc.action || se.Code != strconv.Itoa(tc.code) || res.Calls != 1 || len(res.Comments) != 0 {
					t.Errorf("got %+v, %d calls", se, res.Calls)
				}
				if tc.code == 303 && !se.Until.Equal(midnight) {
					t.Errorf("until %v, want %v", se.Until, midnight)
				}
				if !strings.Contains(se.Msg, "refused for REDACTED") {
					t.Errorf("message %q", se.Msg)
				}

				// A video's listing reads the same code the same way, and
				// neither answer is billed.
				h.addComments(3)
				h.api.Faults.Push(simulator.Fault{Kind: simulator.FaultCode, Code: tc.code, Msg: "refused for " + testToken})
				p, err := h.listVideo(1)
				var vse *model.SourceError
				if !errors.As(err, &vse) || vse.Action != se.Action || vse.Code != se.Code || !vse.Until.Equal(se.Until) || vse.Msg != se.Msg {
					t.Errorf("video listing %+v, thread poll %+v", vse, se)
				}
				if p.Calls != 1 || len(p.Comments) != 0 || h.api.Billed(simulator.JustOneAPIVideoPath) != 0 || h.api.Billed(simulator.JustOneAPIPath) != 0 {
					t.Errorf("page %+v, billed %d and %d", p, h.api.Billed(simulator.JustOneAPIVideoPath), h.api.Billed(simulator.JustOneAPIPath))
				}
			})
		}
	}
}

func TestWrongTokenStops(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(_ *simulator.JustOneAPI, c *Config) { c.Token = "another-" + testToken })
	_, err := h.poll()
	var se *model.SourceError
	if !errors.As(err, &se) || se.Action != model.SourceStop || se.Code != "100" || se.Msg != "Invalid or Inactive Token" {
		t.Errorf("%v", err)
	}
	if c := h.api.Calls(); len(c) != 1 || c[0].TokenOK {
		t.Errorf("calls %+v", c)
	}
	// A video's listing stops the same way.
	_, verr := h.listVideo(1)
	var vse *model.SourceError
	if !errors.As(verr, &vse) || *vse != *se {
		t.Errorf("video listing: %v", verr)
	}
	if c := h.api.VideoCalls(); len(c) != 1 || c[0].TokenOK {
		t.Errorf("video calls %+v", c)
	}
}

// TestTransportFailuresRetry checks each failure below the business codes
// on a thread's poll and on a video's listing: retried, nothing billed, no
// token shown even when the answer echoes it.
func TestTransportFailuresRetry(t *testing.T) {
	t.Parallel()
	huge := `{"code":0,"data":{"comments":[` + strings.Repeat(`{"cid":"1"},`, (17<<20)/12) + `{}]}}`
	for _, tc := range []struct {
		name   string
		faults []simulator.Fault
		msg    string
	}{
		{"HTTP 500", []simulator.Fault{{Kind: simulator.FaultHTTPStatus, Status: 500}}, "500"},
		{"HTTP 503", []simulator.Fault{{Kind: simulator.FaultHTTPStatus, Status: 503}}, "503"},
		{"HTTP 404 echoing the token", []simulator.Fault{{Kind: simulator.FaultHTTPStatus, Status: 404, Body: "no " + testToken}}, "404"},
		{"broken JSON", []simulator.Fault{{Kind: simulator.FaultBrokenJSON}}, "broken JSON"},
		{"broken JSON echoing the token", []simulator.Fault{{Kind: simulator.FaultBrokenJSON, Body: `{"code":"` + testToken}}, "broken JSON"},
		{"answer above 16 MiB", []simulator.Fault{{Kind: simulator.FaultBrokenJSON, Body: huge}}, "larger than 16 MiB"},
		// Go resends a GET once when a reused connection drops: drop twice.
		{"dropped connection", []simulator.Fault{{Kind: simulator.FaultDrop}, {Kind: simulator.FaultDrop}}, ""},
		{"slow answer", []simulator.Fault{{Kind: simulator.FaultSlow, Delay: time.Minute}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, func(_ *simulator.JustOneAPI, c *Config) {
				// Short for the slow answer only: 17 MiB take a while
				// under -race on a busy machine.
				if tc.name == "slow answer" {
					c.Timeout = time.Second
				}
			})
			h.add(3)
			h.addComments(3)
			retried := func(err error) {
				t.Helper()
				var se *model.SourceError
				if !errors.As(err, &se) || se.Action != model.SourceRetry || se.Code != "" || !strings.Contains(se.Msg, tc.msg) {
					t.Fatalf("error %#v", err)
				}
			}
			h.api.Faults.Push(tc.faults...)
			res, err := h.poll()
			retried(err)
			if res.State != (model.ThreadState{}) || len(res.Comments) != 0 {
				t.Errorf("result %+v", res)
			}
			t.Logf("%v", err)
			h.api.Faults.Clear()
			if res := h.mustPoll(); len(res.Comments) != 3 {
				t.Errorf("after the fault: %d comments", len(res.Comments))
			}

			// Not h.listVideo: on the connection the poll left open, Go's
			// transport resends the dropped GET, a call the page cannot
			// count (a listing has no side effect worth a fresh connection).
			h.api.Faults.Push(tc.faults...)
			p, err := h.src.ListVideoPage(context.Background(), videoID, 1)
			checkNoToken(t, err)
			retried(err)
			if len(p.Comments) != 0 || p.Calls != 1 {
				t.Errorf("page %+v", p)
			}
			h.api.Faults.Clear()
			if p, err := h.listVideo(1); err != nil || len(p.Comments) != 3 {
				t.Errorf("video after the fault: %v, %d comments", err, len(p.Comments))
			}
			// Close waits for every handler, a slow one's included: only
			// the answers after the faults are billed.
			h.srv.Close()
			if r, v := h.api.Billed(simulator.JustOneAPIPath), h.api.Billed(simulator.JustOneAPIVideoPath); r != 1 || v != 1 {
				t.Errorf("billed %d thread and %d video calls, want 1 and 1", r, v)
			}
		})
	}
}

func TestUnreachableHostHidesToken(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close()
	src, err := New(Config{BaseURL: base, Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	_, err = src.PollThread(context.Background(), model.Thread{ID: threadID}, model.ThreadState{}, nil)
	var se *model.SourceError
	if !errors.As(err, &se) || se.Action != model.SourceRetry {
		t.Fatalf("%v", err)
	}
	checkNoToken(t, err)
	if !strings.Contains(err.Error(), base+"/api/douyin/get-video-sub-comment/v1") {
		t.Errorf("error does not say where: %v", err)
	}
	// A video's listing says which listing failed.
	p, err := src.ListVideoPage(context.Background(), videoID, 1)
	if !errors.As(err, &se) || se.Action != model.SourceRetry || p.Calls != 1 {
		t.Fatalf("%v, %d calls", err, p.Calls)
	}
	checkNoToken(t, err)
	if !strings.Contains(err.Error(), base+"/api/douyin/get-video-comment/v1") {
		t.Errorf("error does not say where: %v", err)
	}
}

func TestCanceledContext(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := h.src.PollThread(ctx, h.th, model.ThreadState{}, h.known.known)
	var se *model.SourceError
	if !errors.As(err, &se) || se.Action != model.SourceRetry {
		t.Fatalf("%v", err)
	}
	checkNoToken(t, err)
}

func TestKnownFailureRetries(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.add(2)
	_, err := h.src.PollThread(context.Background(), h.th, model.ThreadState{}, func(context.Context, []string) (map[string]bool, error) {
		return nil, errors.New("database is locked")
	})
	var se *model.SourceError
	if !errors.As(err, &se) || se.Action != model.SourceRetry || !strings.Contains(se.Msg, "database is locked") {
		t.Errorf("%v", err)
	}
}

func TestErrorMidScanKeepsWhatWasFound(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	cids := h.add(25)
	pass := simulator.Fault{Kind: simulator.FaultSlow} // no delay: answers normally
	h.api.Faults.Push(pass, pass, simulator.Fault{Kind: simulator.FaultHTTPStatus, Status: 502})
	res, err := h.poll()
	if err == nil {
		t.Fatal("no error")
	}
	if !slices.Equal(ids(res.Comments), cids[:20]) || res.Calls != 3 || res.State != (model.ThreadState{}) {
		t.Errorf("%d comments, %d calls, state %+v", len(res.Comments), res.Calls, res.State)
	}
	// The next poll is again a first sight: it finds the rest.
	res = h.mustPoll()
	if !slices.Equal(ids(res.Comments), cids[20:]) || !res.State.Initialized || res.State.Known != 25 {
		t.Errorf("%v %+v", ids(res.Comments), res.State)
	}
}

func TestUnchangedThreadCostsOneCall(t *testing.T) {
	t.Parallel()
	for _, order := range []simulator.ReplyOrder{simulator.OrderOldest, simulator.OrderNewest, simulator.OrderRecommended} {
		t.Run(order.String(), func(t *testing.T) {
			h := newHarness(t, func(a *simulator.JustOneAPI, _ *Config) { a.Order = order })
			h.add(47)
			if res := h.mustPoll(); res.Calls != 5 || len(res.Comments) != 47 {
				t.Fatalf("first poll: %d calls, %d comments", res.Calls, len(res.Comments))
			}
			for range 5 {
				if res := h.mustPoll(); res.Calls != 1 || len(res.Comments) != 0 {
					t.Errorf("unchanged: %d calls, %d comments", res.Calls, len(res.Comments))
				}
			}
			if h.state.Polls != 6 {
				t.Errorf("polls %d", h.state.Polls)
			}
		})
	}
}

// TestNewRepliesFound adds N replies to a thread of 47 and checks that a poll
// finds exactly them, within the call budget of the thread's order.
func TestNewRepliesFound(t *testing.T) {
	t.Parallel()
	const existing, ps = 47, 10
	for _, tc := range []struct {
		order     simulator.ReplyOrder
		wantOrder string
		budget    func(n, total int) int
	}{
		{simulator.OrderNewest, model.OrderNewest, func(n, _ int) int { return ceilDiv(n, ps) + 1 }},
		{simulator.OrderOldest, model.OrderOldest, func(n, _ int) int { return ceilDiv(n, ps) + 2 }},
		// Any change in an unordered listing needs a full scan.
		{simulator.OrderRecommended, model.OrderMixed, func(_, total int) int { return ceilDiv(total, ps) }},
	} {
		for _, n := range []int{1, 3, 10, 11, 25} {
			t.Run(fmt.Sprintf("%s/%d", tc.order, n), func(t *testing.T) {
				h := newHarness(t, func(a *simulator.JustOneAPI, _ *Config) { a.Order = tc.order })
				h.add(existing)
				h.mustPoll()
				if h.state.Order != tc.wantOrder {
					t.Fatalf("order %q, want %q", h.state.Order, tc.wantOrder)
				}
				fresh := h.add(n)
				res := h.mustPoll()
				if !slices.Equal(ids(res.Comments), fresh) {
					t.Errorf("found %v, want %v", ids(res.Comments), fresh)
				}
				if budget := tc.budget(n, existing+n); res.Calls > budget {
					t.Errorf("%d calls, budget %d", res.Calls, budget)
				}
				t.Logf("%s: %d new -> %d calls", tc.order, n, res.Calls)
				if res.State.Known != int64(existing+n) || res.State.Total != int64(existing+n) || res.State.Polls != 2 {
					t.Errorf("state %+v", res.State)
				}
				if res := h.mustPoll(); res.Calls != 1 || len(res.Comments) != 0 {
					t.Errorf("next poll: %d calls, %d comments", res.Calls, len(res.Comments))
				}
			})
		}
	}
}

func TestDeletedAndAddedNewest(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(a *simulator.JustOneAPI, _ *Config) { a.Order = simulator.OrderNewest })
	old := h.add(30)
	h.mustPoll()
	h.api.Remove(threadID, old[12])
	fresh := h.add(1)
	res := h.mustPoll()
	if !slices.Equal(ids(res.Comments), fresh) || res.Calls != 2 {
		t.Errorf("found %v in %d calls", ids(res.Comments), res.Calls)
	}
}

func TestDeletedAndAddedOldest(t *testing.T) {
	t.Parallel()
	for _, deleted := range []int{1, 5, 12, 30} {
		t.Run(strconv.Itoa(deleted), func(t *testing.T) {
			h := newHarness(t, nil)
			old := h.add(35)
			h.mustPoll()
			for _, cid := range old[:deleted] {
				h.api.Remove(threadID, cid)
			}
			fresh := h.add(3)
			res := h.mustPoll()
			if !slices.Equal(ids(res.Comments), fresh) {
				t.Errorf("found %v, want %v", ids(res.Comments), fresh)
			}
			t.Logf("%d deleted, 3 new: %d calls", deleted, res.Calls)
		})
	}
}

func TestFullRescanEvery(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(_ *simulator.JustOneAPI, c *Config) { c.FullRescanEvery = 3 })
	h.add(25)
	var calls []int
	for range 7 {
		calls = append(calls, h.mustPoll().Calls)
	}
	if want := []int{3, 1, 1, 3, 1, 1, 3}; !slices.Equal(calls, want) {
		t.Errorf("calls per poll %v, want %v", calls, want)
	}
	// A rescan finds a reply that incremental polls cannot see (added at the
	// end of an oldest-first thread while another was deleted).
	h.api.Remove(threadID, h.api.Replies(threadID)[0].CID)
	fresh := h.add(1)
	var found []string
	for range 3 {
		found = append(found, ids(h.mustPoll().Comments)...)
	}
	if !slices.Equal(found, fresh) {
		t.Errorf("rescans found %v, want %v", found, fresh)
	}
}

func TestMaxPages(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(_ *simulator.JustOneAPI, c *Config) { c.MaxPages = 4 })
	h.add(100)
	res := h.mustPoll()
	if res.Calls != 4 || len(res.Comments) != 40 || !res.State.Initialized {
		t.Errorf("%d calls, %d comments, state %+v", res.Calls, len(res.Comments), res.State)
	}
}

func TestRecommendedOrderUnstablePages(t *testing.T) {
	t.Parallel()
	// Small pages and many changes: every added reply reshuffles the listing.
	h := newHarness(t, func(a *simulator.JustOneAPI, _ *Config) { a.Order = simulator.OrderRecommended; a.PageSize = 7 })
	all := h.add(40)
	h.mustPoll()
	for round := range 5 {
		fresh := h.add(round + 1)
		all = append(all, fresh...)
		res := h.mustPoll()
		if !slices.Equal(ids(res.Comments), fresh) {
			t.Errorf("round %d: found %v, want %v", round, ids(res.Comments), fresh)
		}
	}
	if h.state.Known != int64(len(all)) || h.state.Order != model.OrderMixed || h.state.PageSize != 7 {
		t.Errorf("state %+v", h.state)
	}
}

func TestNewestCallCounts(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(a *simulator.JustOneAPI, _ *Config) { a.Order = simulator.OrderNewest; a.PageSize = 20 })
	h.add(100)
	h.mustPoll()
	for _, n := range []int{1, 19, 20, 21, 60} {
		h.add(n)
		res := h.mustPoll()
		if len(res.Comments) != n || res.Calls != ceilDiv(n, 20)+1 {
			t.Errorf("%d new: %d found, %d calls", n, len(res.Comments), res.Calls)
		}
	}
}

func TestConfig(t *testing.T) {
	t.Parallel()
	for _, cfg := range []Config{
		{BaseURL: "", Token: "t"},
		{BaseURL: "ftp://x", Token: "t"},
		{BaseURL: "http://x", Token: ""},
		{BaseURL: "http://x?token=t", Token: "t"},
		{BaseURL: "http://x", Token: "t", Threads: []model.Thread{{ID: ""}}},
		{BaseURL: "http://x", Token: "t", Threads: []model.Thread{{ID: "1"}, {ID: "1"}}},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v): no error", cfg)
		} else {
			checkNoToken(t, err)
		}
	}
	s, err := New(Config{BaseURL: "https://api.justoneapi.com/", Token: "t", Threads: []model.Thread{{ID: "1"}}})
	if err != nil {
		t.Fatal(err)
	}
	if s.Platform() != "douyin" || len(s.Threads()) != 1 || s.cfg.Timeout != 60*time.Second || s.cfg.MaxPages != 500 ||
		s.cfg.FullRescanEvery != 60 || s.replies.endpoint != "https://api.justoneapi.com/api/douyin/get-video-sub-comment/v1" ||
		s.videos.endpoint != "https://api.justoneapi.com/api/douyin/get-video-comment/v1" {
		t.Errorf("%+v %s %s", s.cfg, s.replies.endpoint, s.videos.endpoint)
	}
}
