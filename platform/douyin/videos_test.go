package douyin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/platform"
	"github.com/autoreplyd/autoreplyd/simulator"
)

const videoID = "7251517975340027197"

// addComments adds n top-level comments to the video, created a second
// apart after the harness clock, and returns their cids.
func (h *harness) addComments(n int) []string {
	var cids []string
	for range n {
		h.clock = h.clock.Add(time.Second)
		cids = append(cids, h.api.AddComment(videoID, simulator.Reply{
			Text: "多少钱？怎么买[呲牙]😂 " + h.clock.Format(time.TimeOnly), CreateTime: h.clock.Unix(),
			UserUID: strconv.FormatInt(h.clock.Unix(), 10), Nickname: "观众🐼", UniqueID: "fan_1", Region: "CN",
		}))
	}
	return cids
}

// listVideo lists page n of the video, checking the page's call count
// against the imitation's and that no error shows the token.
func (h *harness) listVideo(n int) (VideoPage, error) {
	h.t.Helper()
	before := h.api.VideoCallCount()
	p, err := h.src.ListVideoPage(context.Background(), videoID, n)
	if got := h.api.VideoCallCount() - before; got != p.Calls {
		h.t.Errorf("page says %d calls, the API saw %d", p.Calls, got)
	}
	checkNoToken(h.t, err)
	return p, err
}

// listWholeVideo pages through the video until the listing ends.
func (h *harness) listWholeVideo() []VideoComment {
	h.t.Helper()
	var all []VideoComment
	for n := 1; ; n++ {
		p, err := h.listVideo(n)
		if err != nil {
			h.t.Fatalf("page %d: %v", n, err)
		}
		all = append(all, p.Comments...)
		if !p.HasMore || p.Items == 0 {
			return all
		}
		if n > 100 {
			h.t.Fatal("the listing does not end")
		}
	}
}

func videoIDs(cs []VideoComment) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

func TestListVideoPageOrders(t *testing.T) {
	t.Parallel()
	for _, order := range []simulator.ReplyOrder{simulator.OrderOldest, simulator.OrderNewest, simulator.OrderRecommended} {
		for _, asBool := range []bool{false, true} {
			t.Run(fmt.Sprintf("%v has_more bool=%v", order, asBool), func(t *testing.T) {
				t.Parallel()
				h := newHarness(t, func(a *simulator.JustOneAPI, _ *Config) {
					a.VideoOrder = order
					a.HasMoreAsBool = asBool
				})
				cids := h.addComments(45)
				got := h.listWholeVideo()

				want := slices.Clone(cids)
				switch order {
				case simulator.OrderNewest:
					slices.Reverse(want)
				case simulator.OrderRecommended:
					if slices.Equal(videoIDs(got), cids) {
						t.Errorf("recommended listed oldest first")
					}
					want = slices.Sorted(slices.Values(cids))
				}
				gotIDs := videoIDs(got)
				if order == simulator.OrderRecommended {
					slices.Sort(gotIDs)
				}
				if !slices.Equal(gotIDs, want) {
					t.Errorf("listed %v\nwant %v", gotIDs, want)
				}
				// 45 comments, 20 a page: 3 calls, each billed.
				if n, billed := h.api.VideoCallCount(), h.api.Billed(simulator.JustOneAPIVideoPath); n != 3 || billed != 3 {
					t.Errorf("%d calls, %d billed", n, billed)
				}
				if h.api.CallCount() != 0 {
					t.Errorf("the reply listing was called")
				}
				stored := map[string]simulator.Reply{}
				for _, r := range h.api.Comments(videoID) {
					stored[r.CID] = r
				}
				for _, c := range got {
					r := stored[c.ID]
					if c.Platform != model.PlatformDouyin || c.ThreadID != c.ID || c.PostID != videoID || c.RootID != "0" ||
						c.ReplyToID != "0" || c.ReplyToUser != "" || c.Level != 1 || c.Labels != nil || c.ReplyTotal != 0 {
						t.Errorf("comment %+v", c)
					}
					if c.Text != r.Text || !c.CreatedAt.Equal(time.Unix(r.CreateTime, 0)) || c.User.UID != r.UserUID ||
						c.User.Nickname != "观众🐼" || c.User.UniqueID != "fan_1" || c.User.Region != "CN" {
						t.Errorf("comment %s: %+v, stored %+v", c.ID, c.Comment, r)
					}
				}
			})
		}
	}
}

func TestListVideoPageFields(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	cid := h.api.AddComment(videoID, simulator.Reply{Text: "在哪买", CreateTime: 1688379962, UserUID: "74470874573",
		SecUID: "MS4wLjABAAAA6K", Verified: true, Digg: 7, AuthorDigged: true})
	p, err := h.listVideo(1)
	if err != nil {
		t.Fatal(err)
	}
	if p.Items != 1 || len(p.Comments) != 1 || p.HasMore || p.Total != 1 || p.Cursor != 1 || p.Calls != 1 || p.BadTimes.Count != 0 {
		t.Fatalf("page %+v", p)
	}
	c := p.Comments[0]
	if c.ID != cid || c.Likes != 7 || !c.AuthorLiked || !c.User.Verified || c.User.SecUID != "MS4wLjABAAAA6K" ||
		c.CreatedAt != time.Unix(1688379962, 0).UTC() {
		t.Errorf("comment %+v", c)
	}
	if c := h.api.VideoCalls(); len(c) != 1 || c[0] != (simulator.Call{AwemeID: videoID, Page: 1, TokenOK: true}) {
		t.Errorf("calls %+v", c)
	}
}

// One listing tells which threads moved: reply_comment_total is the count
// of the thread's replies that a poll of the thread finds.
func TestListVideoPageReplyTotals(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	cids := h.addComments(3)
	h.api.AddReply(cids[1], simulator.Reply{Text: "回复一", CreateTime: h.clock.Unix()})
	h.api.AddReply(cids[1], simulator.Reply{Text: "回复二", CreateTime: h.clock.Unix()})

	totals := func() map[string]int {
		t.Helper()
		p, err := h.listVideo(1)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int{}
		for _, c := range p.Comments {
			out[c.ID] = c.ReplyTotal
		}
		return out
	}
	// pollThread polls the thread of top-level comment cid from scratch and
	// returns how many replies it found.
	pollThread := func(cid string) int {
		t.Helper()
		res, err := h.src.PollThread(context.Background(), model.Thread{ID: cid, PostID: videoID}, model.ThreadState{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res.Comments {
			if r.RootID != cid || r.PostID != videoID {
				t.Errorf("reply %+v", r)
			}
		}
		return len(res.Comments)
	}
	check := func(when string, want map[string]int) {
		t.Helper()
		got := totals()
		for _, cid := range cids {
			if got[cid] != want[cid] || pollThread(cid) != want[cid] {
				t.Errorf("%s: %s has reply_comment_total %d, want %d", when, cid, got[cid], want[cid])
			}
		}
	}
	check("start", map[string]int{cids[1]: 2})
	h.api.AddReply(cids[0], simulator.Reply{Text: "新回复", CreateTime: h.clock.Unix()})
	h.api.AddReply(cids[1], simulator.Reply{Text: "又一个", CreateTime: h.clock.Unix()})
	check("after replies", map[string]int{cids[0]: 1, cids[1]: 3})
}

func TestIdleVideoCostsOneCall(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.addComments(15)
	h.listWholeVideo()
	h.api.ResetCalls()
	// Page 1 of an idle video tells all a cycle needs: nothing new in it,
	// and no thread whose count moved.
	before, err := h.listVideo(1)
	if err != nil {
		t.Fatal(err)
	}
	if h.api.VideoCallCount() != 1 || h.api.Billed(simulator.JustOneAPIVideoPath) != 1 || h.api.Billed(simulator.JustOneAPIPath) != 0 {
		t.Errorf("%d calls, %d billed", h.api.VideoCallCount(), h.api.Billed(simulator.JustOneAPIVideoPath))
	}
	if len(before.Comments) != 15 || before.HasMore {
		t.Errorf("page 1: %d comments, has_more %v", len(before.Comments), before.HasMore)
	}
}

func TestListVideoPageBadRequests(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	for _, tc := range []struct {
		aweme string
		page  int
	}{{"", 1}, {videoID, 0}, {videoID, -1}} {
		p, err := h.src.ListVideoPage(context.Background(), tc.aweme, tc.page)
		var se *model.SourceError
		if !errors.As(err, &se) || se.Action != model.SourceSkipThread || p.Calls != 0 {
			t.Errorf("%q page %d: %v, %d calls", tc.aweme, tc.page, err, p.Calls)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := h.src.ListVideoPage(ctx, videoID, 1)
	var se *model.SourceError
	if !errors.As(err, &se) || se.Action != model.SourceRetry {
		t.Errorf("cancelled: %v", err)
	}
	if h.api.VideoCallCount() != 0 {
		t.Errorf("%d calls", h.api.VideoCallCount())
	}
}

// Hostile items: ids as numbers beyond 2^53, a missing user, no cid, a cid
// listed twice, odd counts and create times (an unusable one and a missing
// one).
func TestDecodeVideoPageOddItems(t *testing.T) {
	t.Parallel()
	body := `{"code":"0","data":{"comments":[
		{"cid":9007199254740993123,"aweme_id":7251517975340027197,"text":"[捂脸]","create_time":"1688379962","reply_comment_total":"12","level":1},
		{"cid":"7251536675678782265","reply_id":"7251524159191958327","reply_to_reply_id":"42","reply_to_username":"x","reply_comment_total":-3,"user":null,"create_time":1e300},
		{"text":"no cid","reply_comment_total":1},
		{"cid":"7251536675678782265","text":"again"},
		{"cid":"1","reply_comment_total":2.0e1,"aweme_id":""}
	],"cursor":"20","has_more":"1","total":117}}`
	l, err := decodeListing[videoItem]([]byte(body), fuzzNow, fuzzLoc)
	if err != nil {
		t.Fatal(err)
	}
	p := videoPage(videoID, l, platform.NewCommentTimes(fuzzNow))
	if p.Items != 5 || !p.HasMore || p.Total != 117 || p.Cursor != 20 || len(p.Comments) != 3 || p.BadTimes.Count != 2 {
		t.Fatalf("page %+v", p)
	}
	a, b, c := p.Comments[0], p.Comments[1], p.Comments[2]
	if a.ID != "9007199254740993123" || a.ThreadID != a.ID || a.PostID != videoID || a.ReplyTotal != 12 || a.Text != "[捂脸]" {
		t.Errorf("first %+v", a)
	}
	if b.RootID != "0" || b.ReplyToID != "0" || b.ReplyToUser != "" || b.ReplyTotal != 0 || b.User != (model.User{}) ||
		b.Level != 1 || !b.CreatedAt.Equal(fuzzNow) {
		t.Errorf("second %+v", b)
	}
	if c.ID != "1" || c.ReplyTotal != 20 || c.PostID != videoID {
		t.Errorf("third %+v", c)
	}
}
