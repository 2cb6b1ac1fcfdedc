package douyin

import (
	"context"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/platform"
	"github.com/autoreplyd/autoreplyd/simulator"
)

// pollVideo polls the watched video, records what it found as the poller
// would, and returns the result and the calls the listing received.
func (h *harness) pollVideo(v platform.Video) (platform.VideoResult, int) {
	h.t.Helper()
	before := h.api.VideoCallCount()
	res, err := h.src.PollVideo(context.Background(), v, h.state, h.known.known, h.known.listed)
	if err != nil {
		h.t.Fatalf("PollVideo: %v", err)
	}
	h.known.record(res.Comments)
	h.known.recordListed(res.Listed)
	h.state = res.State
	return res, h.api.VideoCallCount() - before
}

// The first poll lists the whole video (every comment already there is
// known: none is answered later as new, whatever order brings it up); an
// unchanged video costs one call; newest first, new comments cost their
// pages and one more, beyond video_max_pages; a listing of unknown order
// is scanned within video_max_pages.
func TestPollVideo(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		order simulator.ReplyOrder
		// calls of the poll after 25 new comments (pages of 10)
		wantCalls int
	}{
		{"newest", simulator.OrderNewest, 4}, // 3 pages with new ones, 1 without
		{"oldest", simulator.OrderOldest, 2}, // bounded: video_max_pages
		{"recommended", simulator.OrderRecommended, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, func(a *simulator.JustOneAPI, c *Config) {
				a.VideoOrder, a.VideoPageSize = tc.order, 10
				c.VideoMaxPages = 2
			})
			v := platform.Video{ID: videoID, Labels: map[string]string{"campaign": "春季"}, AnswerTopLevel: true}
			h.addComments(45)
			res, calls := h.pollVideo(v)
			if calls != 5 || len(res.Comments) != 45 || !res.State.Initialized || res.State.ThreadID != platform.VideoStateID(videoID) {
				t.Fatalf("first poll: %d calls, %d comments, state %+v", calls, len(res.Comments), res.State)
			}
			if res.Comments[0].Labels["campaign"] != "春季" || res.Comments[0].ThreadID != res.Comments[0].ID ||
				res.Comments[0].PostID != videoID || res.Comments[0].ReplyToID != "0" {
				t.Fatalf("comment: %+v", res.Comments[0])
			}
			if len(res.Listed) != 45 {
				t.Fatalf("listed %d comments, want 45", len(res.Listed))
			}
			if tc.order == simulator.OrderNewest && res.State.Order != model.OrderNewest {
				t.Fatalf("order: %q", res.State.Order)
			}
			if _, calls := h.pollVideo(v); calls != 1 {
				t.Fatalf("unchanged video: %d calls", calls)
			}
			added := h.addComments(25)
			before := len(h.api.VideoCalls())
			res, calls = h.pollVideo(v)
			if calls != tc.wantCalls {
				t.Fatalf("after 25 new comments: %d calls, want %d", calls, tc.wantCalls)
			}
			// Pages from 1 on, one after the other: no order, not even
			// oldest first, sends the poll to the end of a video whose
			// length it cannot know.
			for i, c := range h.api.VideoCalls()[before:] {
				if c.Page != i+1 {
					t.Fatalf("after 25 new comments, call %d asked for page %d", i+1, c.Page)
				}
			}
			if tc.order == simulator.OrderNewest && len(res.Comments) != 25 {
				t.Fatalf("newest first: found %d new comments, want 25", len(res.Comments))
			}
			// Whatever the order brings up, a comment there at first sight
			// is never reported new.
			isNew := map[string]bool{}
			for _, id := range added {
				isNew[id] = true
			}
			for _, c := range res.Comments {
				if !isNew[c.ID] {
					t.Fatalf("comment %s, there at first sight, reported new", c.ID)
				}
			}
		})
	}
}

// Newest first, a video changed only by replies: a reply under a comment
// on page 1 costs page 1; one under a comment further down moves the total
// and nothing on page 1, so the poll reads on until the rise is explained
// (within video_max_pages), and the comment is listed with its new count.
func TestPollVideoNewestRepliesFurtherDown(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(a *simulator.JustOneAPI, c *Config) {
		a.VideoOrder, a.VideoPageSize = simulator.OrderNewest, 10
		c.VideoMaxPages = 4
	})
	v := platform.Video{ID: videoID, AnswerTopLevel: true, DiscoverThreads: true}
	ids := h.addComments(45)
	if _, calls := h.pollVideo(v); calls != 5 {
		t.Fatalf("first sight: %d calls", calls)
	}
	reply := func(cid string) {
		h.api.AddReply(cid, simulator.Reply{AwemeID: videoID, Text: "同问", UserUID: "1", CreateTime: time.Now().Unix(), ReplyToReplyID: "0"})
	}
	// ids are in creation order: the newest is on page 1, the oldest on page 5.
	newest, third := ids[len(ids)-1], ids[len(ids)-25]
	reply(newest)
	res, calls := h.pollVideo(v)
	if calls != 1 {
		t.Fatalf("a reply on page 1: %d calls, want 1", calls)
	}
	if got := listedTotal(res, newest); got != 1 {
		t.Fatalf("page 1's comment listed with %d replies", got)
	}
	reply(third)
	res, calls = h.pollVideo(v)
	if calls != 3 {
		t.Fatalf("a reply on page 3: %d calls, want 3 (read until the rise is explained)", calls)
	}
	if got := listedTotal(res, third); got != 1 {
		t.Fatalf("page 3's comment listed with %d replies, want 1", got)
	}
	if _, calls := h.pollVideo(v); calls != 1 {
		t.Fatalf("unchanged after: %d calls", calls)
	}
}

func listedTotal(res platform.VideoResult, id string) int {
	n := -1
	for _, t := range res.Listed {
		if t.ThreadID == id {
			n = t.Total
		}
	}
	return n
}

// The section's videos reach the source with their modes and bounds.
func TestVideosModel(t *testing.T) {
	n := 7
	got := videosModel([]Video{{AwemeID: "1", Labels: map[string]string{"a": "b"}, TopLevel: TopLevelSkip, Threads: ThreadsOff, MaxThreads: &n},
		{AwemeID: "2"}})
	want := []platform.Video{{ID: "1", Labels: map[string]string{"a": "b"}, MaxThreads: 7},
		{ID: "2", AnswerTopLevel: true, DiscoverThreads: true, MaxThreads: DefaultMaxThreads}}
	if len(got) != 2 || got[0].ID != want[0].ID || got[0].Labels["a"] != "b" || got[0].AnswerTopLevel || got[0].DiscoverThreads ||
		got[0].MaxThreads != 7 || got[1].ID != "2" || !got[1].AnswerTopLevel || !got[1].DiscoverThreads || got[1].MaxThreads != DefaultMaxThreads {
		t.Fatalf("videosModel: %+v, want %+v", got, want)
	}
}
