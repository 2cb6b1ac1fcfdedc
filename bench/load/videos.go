package main

// Whole videos (issue 19): the daemon watches videos, lists their top-level
// comments, answers the new ones and polls the threads under them whose
// reply counts moved. The harness gives each video a backlog of top-level
// comments (some with replies: the threads the daemon discovers at first
// sight), and each cycle new top-level comments on a fraction of the videos
// and new replies under some of their discovered threads.

import (
	"cmp"
	"slices"
	"strconv"
	"time"

	"github.com/autoreplyd/autoreplyd/simulator"
)

// Ids of videos and of their backlog comments, in ranges of their own
// (19 digits; new comments get the imitation's own cids, from 7.4e18).
const (
	videoIDBase      int64 = 7_260_000_000_000_000_000
	videoIDStep      int64 = 137
	videoCommentBase int64 = 7_350_000_000_000_000_000
	videoCommentStep int64 = 1013
)

// videoOrders are the -video-order names: "hot" is Douyin's default for
// top-level comments, the imitation's recommended order (a shuffle that
// moves with every new comment and every reply under one).
var videoOrders = map[string]simulator.ReplyOrder{
	"newest": simulator.OrderNewest,
	"oldest": simulator.OrderOldest,
	"hot":    simulator.OrderRecommended,
}

func videoID(i int) string { return strconv.FormatInt(videoIDBase+int64(i)*videoIDStep, 10) }

func videoCommentID(n int) string {
	return strconv.FormatInt(videoCommentBase+int64(n)*videoCommentStep, 10)
}

// threadShare is the share of backlog top-level comments that have
// replies, and maxBacklogReplies the most replies one has.
const (
	threadShare       = 0.3
	maxBacklogReplies = 5
)

// videoWorld is what the harness knows of the watched videos: the backlog
// comments of each that have replies (the threads the daemon discovers at
// first sight, and the ones the harness later replies in).
type videoWorld struct {
	threads [][]string
}

// setupVideos gives every video its share of the backlog comments, created
// over the month before now, a share of them with a few replies.
func setupVideos(im *imitation, g *generator, o options, now time.Time) *videoWorld {
	w := &videoWorld{threads: make([][]string, o.Videos)}
	n := 0
	for v := range o.Videos {
		aweme := videoID(v)
		count := o.VideoComments / o.Videos
		if v < o.VideoComments%o.Videos {
			count++
		}
		for range count {
			cid := videoCommentID(n)
			n++
			c, replies := g.videoBacklog(aweme, now)
			c.CID = cid
			im.cmu.Lock()
			im.videoOf[cid] = aweme
			im.cmu.Unlock()
			im.jo.AddComment(aweme, c)
			if len(replies) > 0 {
				im.jo.AddThread(cid, replies)
				w.threads[v] = append(w.threads[v], cid)
			}
		}
	}
	return w
}

// videoBacklog makes one backlog top-level comment of the video and its
// replies (none for most), all created before now.
func (g *generator) videoBacklog(aweme string, now time.Time) (simulator.Reply, []simulator.Reply) {
	g.mu.Lock()
	defer g.mu.Unlock()
	k := chatter
	if g.rnd.IntN(4) == 0 {
		k = question
	}
	t := now.Add(-30 * 24 * time.Hour).Unix()
	t += g.rnd.Int64N(29 * 24 * 3600)
	c := reply(g.users[g.rnd.IntN(len(g.users))], aweme, g.text(k), t, int64(g.rnd.IntN(50)))
	if g.rnd.Float64() >= threadShare {
		return c, nil
	}
	rs := make([]simulator.Reply, 1+g.rnd.IntN(maxBacklogReplies))
	for i := range rs {
		t += 1 + g.rnd.Int64N(6*3600)
		rs[i] = reply(g.users[g.rnd.IntN(len(g.users))], aweme, g.text(chatter), t, int64(g.rnd.IntN(5)))
	}
	return c, rs
}

// activeVideos is how many videos get new top-level comments each cycle.
func (o options) activeVideos() int {
	if o.Videos == 0 {
		return 0
	}
	return min(max(int(float64(o.Videos)*o.VideoActive+0.5), 1), o.Videos)
}

// addVideoNew gives each video at the indexes (a random pick) VideoNew new
// top-level comments and the first round(VideoThreadReplies × len(videos))
// of them one new reply under one of their discovered threads (with
// VideoRecent, one the newest-first listing shows on page 1 after this
// cycle's new comments); questions are registered as pending.
func (im *imitation) addVideoNew(g *generator, w *videoWorld, videos []int, o options) []newReply {
	withReply := int(o.VideoThreadReplies*float64(len(videos)) + 0.5)
	replyIn := make([]string, len(videos)) // per video: the thread given a reply, or ""
	for i, v := range videos[:withReply] {
		cands := w.threads[v]
		if o.VideoRecent {
			cands = im.onFirstPage(videoID(v), cands, o.VideoPageSize-o.VideoNew)
		}
		if len(cands) > 0 {
			g.mu.Lock()
			replyIn[i] = cands[g.rnd.IntN(len(cands))]
			g.mu.Unlock()
		}
	}
	total := len(videos) * o.VideoNew
	for _, th := range replyIn {
		if th != "" {
			total++
		}
	}
	ks := g.kinds(total, o.Match, o.Spam)
	out := make([]newReply, 0, total)
	now := time.Now()
	for i, v := range videos {
		aweme := videoID(v)
		for range o.VideoNew {
			k := ks[len(out)]
			c := g.fresh(0, k, now)
			c.AwemeID = aweme
			im.cmu.Lock()
			cid := im.jo.AddComment(aweme, c)
			im.videoOf[cid] = aweme
			u := im.unseenVideo[aweme]
			u.top++
			im.unseenVideo[aweme] = u
			im.cmu.Unlock()
			im.expect(cid, k, topLevel)
			out = append(out, newReply{CID: cid, Kind: k, Where: topLevel, ThreadID: cid, Video: v})
		}
		if th := replyIn[i]; th != "" {
			k := ks[len(out)]
			r := g.fresh(0, k, now)
			r.AwemeID = aweme
			im.expect(th, k, inVideoThread)
			im.cmu.Lock()
			cid := im.jo.AddReply(th, r)
			im.unseen[th]++
			u := im.unseenVideo[aweme]
			u.replies++
			im.unseenVideo[aweme] = u
			im.cmu.Unlock()
			out = append(out, newReply{CID: cid, Kind: k, Where: inVideoThread, ThreadID: th, Video: v})
		}
	}
	return out
}

// onFirstPage is those of threads that are among the n newest top-level
// comments of the video.
func (im *imitation) onFirstPage(aweme string, threads []string, n int) []string {
	cs := im.jo.Comments(aweme)
	// Newest first; equal times list the later comment first, as the
	// imitation does.
	slices.Reverse(cs)
	slices.SortStableFunc(cs, func(a, b simulator.Reply) int { return cmp.Compare(b.CreateTime, a.CreateTime) })
	first := map[string]bool{}
	for _, c := range cs[:min(max(n, 0), len(cs))] {
		first[c.CID] = true
	}
	var out []string
	for _, t := range threads {
		if first[t] {
			out = append(out, t)
		}
	}
	return out
}

// expect registers a question in thread as pending (anything else is not
// to be answered).
func (im *imitation) expect(thread string, k kind, w where) {
	if k != question {
		return
	}
	im.mu.Lock()
	im.pending[thread] = append(im.pending[thread], pend{at: time.Now(), where: w})
	im.mu.Unlock()
}

// videoCycle is what one cycle did with the watched videos. Counts of
// calls are the imitation's.
type videoCycle struct {
	// NewTopLevel and NewReplies were added before the cycle: top-level
	// comments, and replies under discovered threads.
	NewTopLevel int `json:"new_top_level"`
	NewReplies  int `json:"new_replies"`
	// ListingCalls are the video listing's calls, ThreadCalls the reply
	// listing's for threads under the videos.
	ListingCalls int `json:"listing_calls"`
	ThreadCalls  int `json:"thread_calls"`
	// TopVideos were listed with new top-level comments since their last
	// listing (TopSeen of them), in TopCalls calls.
	TopVideos int `json:"top_videos"`
	TopCalls  int `json:"top_calls"`
	TopSeen   int `json:"top_seen"`
	// ReplyVideos changed only by replies under their comments (the
	// harness's or our answers), listed in ReplyVideoCalls calls.
	ReplyVideos     int `json:"reply_videos"`
	ReplyVideoCalls int `json:"reply_video_calls"`
	// IdleVideos had nothing new: not listed (deferred) or listed in
	// IdleCalls calls; WaitingVideos changed but were not listed.
	IdleVideos    int `json:"idle_videos"`
	IdleCalls     int `json:"idle_calls"`
	WaitingVideos int `json:"waiting_videos"`
	// ActiveThreads are discovered threads whose polls listed ThreadSeen new
	// replies first (the harness's and our answers) in ActiveThreadCalls
	// calls; IdleThreadCalls polled discovered threads with nothing new;
	// WaitingThreads hold new replies the cycle did not list.
	ActiveThreads     int `json:"active_threads"`
	ActiveThreadCalls int `json:"active_thread_calls"`
	ThreadSeen        int `json:"thread_seen"`
	IdleThreadCalls   int `json:"idle_thread_calls"`
	WaitingThreads    int `json:"waiting_threads"`
}

// videoFigures sorts a cycle's video calls; videos is the number watched.
func videoFigures(cc cycleCalls, videos int) videoCycle {
	var vc videoCycle
	for _, c := range cc.videos {
		vc.ListingCalls += c.calls
		switch {
		case c.fresh.top > 0:
			vc.TopVideos++
			vc.TopCalls += c.calls
			vc.TopSeen += c.fresh.top
		case c.fresh.replies > 0:
			vc.ReplyVideos++
			vc.ReplyVideoCalls += c.calls
		default:
			vc.IdleCalls += c.calls
		}
	}
	for v := range cc.unseenVideos {
		if cc.videos[v].calls == 0 {
			vc.WaitingVideos++
		}
	}
	vc.IdleVideos = videos - vc.TopVideos - vc.ReplyVideos - vc.WaitingVideos
	for _, c := range cc.discovered {
		vc.ThreadCalls += c.calls
		if c.fresh > 0 {
			vc.ActiveThreads++
			vc.ActiveThreadCalls += c.calls
			vc.ThreadSeen += c.fresh
		} else {
			vc.IdleThreadCalls += c.calls
		}
	}
	for t := range cc.unseenDiscovered {
		if cc.discovered[t].calls == 0 {
			vc.WaitingThreads++
		}
	}
	return vc
}

// videoSummary is the measured cycles' video figures.
type videoSummary struct {
	ListingCalls int `json:"listing_calls"`
	ThreadCalls  int `json:"thread_calls"`
	NewTopLevel  int `json:"new_top_level"`
	NewReplies   int `json:"new_replies"`
	// CallsPerIdleVideo: listing calls of videos with nothing new ÷
	// (such videos × cycles), deferred ones included (the target:
	// at most 1, at most 0.2 with adaptive polling).
	CallsPerIdleVideo float64 `json:"calls_per_idle_video_cycle"`
	// CallsPerNewTopLevel: listing calls of videos with new top-level
	// comments ÷ those comments.
	CallsPerNewTopLevel float64 `json:"calls_per_new_top_level"`
	// CallsPerReplyVideo: listing calls of a video changed only by replies
	// under its comments.
	CallsPerReplyVideo float64 `json:"calls_per_reply_only_video"`
	// CallsPerThreadReply: calls of discovered threads with new replies ÷
	// those replies (the harness's and our answers).
	CallsPerThreadReply float64 `json:"calls_per_new_thread_reply"`
	// IdleThreadCalls polled discovered threads that had nothing new.
	IdleThreadCalls int          `json:"idle_thread_calls"`
	TopLatency      latencyStats `json:"top_level_latency"`
	ThreadLatency   latencyStats `json:"thread_reply_latency"`
}

// latencyStats are reaction times in seconds.
type latencyStats struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50_seconds"`
	P99   float64 `json:"p99_seconds"`
	Max   float64 `json:"max_seconds"`
}

func latencyOf(ds []time.Duration) latencyStats {
	ls := make([]float64, len(ds))
	for i, d := range ds {
		ls[i] = d.Seconds()
	}
	ls = sortedCopy(ls)
	s := latencyStats{Count: len(ls), P50: percentile(ls, 50), P99: percentile(ls, 99)}
	if len(ls) > 0 {
		s.Max = ls[len(ls)-1]
	}
	return s
}

// summarizeVideos fills the video summary from the measured cycles.
func (r *report) summarizeVideos() {
	if r.Options.Videos == 0 {
		return
	}
	s := &videoSummary{TopLatency: latencyOf(r.topLatency), ThreadLatency: latencyOf(r.videoThreadLatency)}
	var idle, idleCalls, top, topCalls, rv, rvCalls, thCalls, seen int
	for _, c := range r.Cycles {
		if c.Warmup || c.Video == nil {
			continue
		}
		v := c.Video
		s.ListingCalls += v.ListingCalls
		s.ThreadCalls += v.ThreadCalls
		s.NewTopLevel += v.NewTopLevel
		s.NewReplies += v.NewReplies
		s.IdleThreadCalls += v.IdleThreadCalls
		idle += v.IdleVideos
		idleCalls += v.IdleCalls
		top += v.TopSeen
		topCalls += v.TopCalls
		rv += v.ReplyVideos
		rvCalls += v.ReplyVideoCalls
		thCalls += v.ActiveThreadCalls
		seen += v.ThreadSeen
	}
	div := func(a, b int) float64 {
		if b == 0 {
			return 0
		}
		return float64(a) / float64(b)
	}
	s.CallsPerIdleVideo = div(idleCalls, idle)
	s.CallsPerNewTopLevel = div(topCalls, top)
	s.CallsPerReplyVideo = div(rvCalls, rv)
	s.CallsPerThreadReply = div(thCalls, seen)
	r.Videos = s
}
