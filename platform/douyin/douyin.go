// Package douyin is autoreplyd's Douyin source through JustOneAPI (answers on
// Douyin go through package kitkot): it lists the replies of
// watched Douyin comment threads through JustOneAPI's
// `GET /api/douyin/get-video-sub-comment/v1` and tells new replies from known
// ones by cid, whatever order the API lists them in, with as few (paid) calls
// as it can. ListVideoPage lists a video's top-level comments through
// `GET /api/douyin/get-video-comment/v1`: the groundwork for watching whole
// videos, which PollVideo (videos_poll.go) builds on.
package douyin

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/autoreplyd/autoreplyd/internal/httpx"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/platform"
)

// Defaults of Config.
const (
	// DefaultTimeout is JustOneAPI's own advice: collection can be slow.
	DefaultTimeout = 60 * time.Second
	// DefaultMaxPages bounds one poll's calls (and cost): 500 pages of 10
	// to 20 replies is a very large thread.
	DefaultMaxPages = 500
	// DefaultFullRescanEvery is how many polls pass between full scans,
	// which repair what incremental polls cannot see (replies released from
	// moderation with an old create time, a mis-detected order).
	DefaultFullRescanEvery = 60
)

// Config configures a Source.
type Config struct {
	BaseURL string // e.g. https://api.justoneapi.com
	Token   string
	// Timeout bounds each call (default DefaultTimeout).
	Timeout time.Duration
	// MaxPages bounds the calls of one poll (default DefaultMaxPages). A
	// full scan that reaches it counts as complete.
	MaxPages int
	// FullRescanEvery makes every n-th poll of a thread a full scan
	// (default DefaultFullRescanEvery; negative: never after the first).
	FullRescanEvery int
	Threads         []model.Thread
	// Videos are the watched whole videos (PollVideo).
	Videos []platform.Video
	// VideoMaxPages bounds the pages of one video listed in one poll when
	// its listing is not known to be newest first (default
	// DefaultVideoMaxPages).
	VideoMaxPages int
	// Rate is the most calls per second, waited for before each call; 0
	// means no limit (the config's sources.douyin.rate defaults to 5/s).
	// Burst is the token bucket's size (default platform.DefaultCallBurst).
	Rate  rate.Limit
	Burst int
	// Location is where "the next day" starts when the daily quota is
	// exhausted (default time.Local).
	Location *time.Location
	// HTTPClient is optional; its own Timeout, if any, also applies.
	HTTPClient *http.Client
	// Now is optional, for tests.
	Now func() time.Time
}

// Source lists new replies of watched Douyin threads. It implements
// platform.Source and is safe for concurrent use.
type Source struct {
	cfg     Config
	replies listingClient // listPath
	videos  listingClient // videoPath
	limit   *platform.CallLimit
}

var _ platform.VideoSource = (*Source)(nil)

// New checks cfg, fills its defaults and returns the source.
func New(cfg Config) (*Source, error) {
	u, err := platform.ParseBaseURL("douyin", cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	if cfg.Token == "" {
		return nil, errors.New("douyin: token is empty")
	}
	if err := platform.CheckThreads("douyin", cfg.Threads); err != nil {
		return nil, err
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxPages <= 0 {
		cfg.MaxPages = DefaultMaxPages
	}
	if cfg.FullRescanEvery == 0 {
		cfg.FullRescanEvery = DefaultFullRescanEvery
	}
	if cfg.VideoMaxPages <= 0 {
		cfg.VideoMaxPages = DefaultVideoMaxPages
	}
	if cfg.Location == nil {
		cfg.Location = time.Local
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.Threads = slices.Clone(cfg.Threads)
	cfg.Videos = slices.Clone(cfg.Videos)
	base := strings.TrimRight(u.Path, "/")
	listing := func(path string) listingClient {
		u.Path = base + path
		return listingClient{client: httpx.New(cfg.HTTPClient, u.String(), cfg.Token), endpoint: u.String()}
	}
	return &Source{cfg: cfg, replies: listing(listPath), videos: listing(videoPath),
		limit: platform.NewCallLimit(cfg.Rate, cfg.Burst)}, nil
}

// Platform is "douyin".
func (s *Source) Platform() string { return model.PlatformDouyin }

// Threads are the watched threads, as configured.
func (s *Source) Threads() []model.Thread { return slices.Clone(s.cfg.Threads) }

func (s *Source) now() time.Time { return s.cfg.Now() }

// PollThread lists what is new in thread th since prev.
//
// Page 1 is always fetched. A thread seen for the first time, a due full
// rescan, or a change in a thread whose order is unknown or mixed is scanned
// to the end. Otherwise an unchanged total with nothing unknown on page 1
// ends the poll after one call; newest-first threads are paged while pages
// hold unknown replies; oldest-first threads jump to where the new replies
// start (the end) and page from there.
func (s *Source) PollThread(ctx context.Context, th model.Thread, prev model.ThreadState, known platform.KnownFunc) (model.PollResult, error) {
	sc := &scan{
		src:      s,
		th:       th,
		known:    known,
		status:   make(map[string]bool),
		maxCalls: s.cfg.MaxPages,
		times:    platform.NewCommentTimes(s.now()),
	}
	p1, err := sc.get(ctx, 1)
	if err != nil {
		return sc.failed(prev, err)
	}
	pageSize := prev.PageSize
	if sc.pageSize > 0 {
		pageSize = sc.pageSize
	}
	order := sc.obs.Judge(prev.Order)
	changed := p1.Total != prev.Total || p1.fresh > 0
	full := !prev.Initialized || s.rescanDue(th.ID, prev) ||
		((order == model.OrderUnknown || order == model.OrderMixed) && changed)

	switch {
	case full:
		// The order is judged afresh from the whole listing.
		order = model.OrderUnknown
		err = sc.forward(ctx, p1, 1, func(*fetched) bool { return true })
	case !changed:
	case order == model.OrderNewest:
		// New replies come first: page while a page brings unknown ones.
		err = sc.forward(ctx, p1, 1, func(p *fetched) bool { return p.fresh > 0 })
	case order == model.OrderOldest:
		err = sc.oldest(ctx, p1, prev.Known, pageSize)
	}
	if err != nil {
		return sc.failed(prev, err)
	}

	now := s.now()
	st := prev
	st.Platform = model.PlatformDouyin
	st.ThreadID = th.ID
	st.Total = p1.Total
	st.Order = sc.obs.Judge(order)
	if full && st.Order == model.OrderUnknown {
		// Not enough to judge by: what was known stands unless this
		// listing went against it.
		st.Order = sc.obs.Judge(prev.Order)
	}
	if sc.pageSize > 0 {
		st.PageSize = sc.pageSize
	}
	st.Polls = prev.Polls + 1
	st.LastPolled = now
	if full {
		st.Initialized = true
		st.Known = int64(len(sc.status))
		st.LastFullScan = now
	} else {
		st.Known = prev.Known + int64(len(sc.found))
	}
	return model.PollResult{Comments: sc.sorted(), State: st, Calls: sc.calls, BadTimes: sc.times.Bad()}, nil
}

// rescanDue reports whether this poll of a thread is a periodic full scan.
func (s *Source) rescanDue(id string, prev model.ThreadState) bool {
	return platform.RescanDue(id, prev.Polls, s.cfg.FullRescanEvery)
}

// scan is the work of one poll of one thread.
type scan struct {
	src      *Source
	th       model.Thread
	known    platform.KnownFunc
	maxCalls int

	calls    int
	lastPage int             // the page fetched last, for order detection
	status   map[string]bool // cid seen in this poll -> not known before it
	found    []model.Comment // the replies not known before, in fetch order
	obs      platform.OrderObserver
	pageSize int // learned in this poll, 0 if not
	// times gives new replies their create times, the poll's time for an
	// unusable one.
	times *platform.CommentTimes
}

// fetched is one page as the scan saw it.
type fetched struct {
	page
	no       int
	fresh    int  // replies first seen in this poll and not known before
	firstNew bool // the page's first reply is not known before this poll
}

// get fetches page n, records its replies and judges its order.
func (sc *scan) get(ctx context.Context, n int) (*fetched, error) {
	// The source's rate limit, shared by every thread; a cancelled wait
	// makes no call.
	if err := sc.src.limit.Wait(ctx); err != nil {
		return nil, err
	}
	p, err := sc.src.fetch(ctx, sc.th.ID, n)
	sc.calls++
	if err != nil {
		return nil, err
	}
	f := &fetched{page: p, no: n}
	if p.HasMore && len(p.Comments) > 0 && sc.pageSize == 0 {
		sc.pageSize = len(p.Comments)
	}
	observePage(&sc.obs, p.Comments, n == sc.lastPage+1, sc.times.Now())
	sc.lastPage = n

	var ids []string
	for i := range p.Comments {
		if id := string(p.Comments[i].CID); id != "" {
			if _, dup := sc.status[id]; !dup && !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	recorded := map[string]bool{}
	if len(ids) > 0 && sc.known != nil {
		recorded, err = sc.known(ctx, ids)
		if err != nil {
			return nil, &model.SourceError{Action: model.SourceRetry, Msg: "look up known replies: " + sc.src.replies.client.Redact(err.Error())}
		}
	}
	first := true
	for i := range p.Comments {
		r := &p.Comments[i]
		id := string(r.CID)
		if id == "" {
			continue
		}
		isNew, dup := sc.status[id]
		if !dup {
			isNew = !recorded[id]
			sc.status[id] = isNew
			if isNew {
				f.fresh++
				sc.found = append(sc.found, comment(sc.th, r, sc.times.Unix(id, r.CreateTime)))
			}
		}
		if first {
			f.firstNew, first = isNew, false
		}
	}
	return f, nil
}

// forward pages on after last (page n) while the listing goes on, more calls
// are allowed and more(last) holds.
func (sc *scan) forward(ctx context.Context, last *fetched, n int, more func(*fetched) bool) error {
	for last.HasMore && len(last.Comments) > 0 && sc.calls < sc.maxCalls && more(last) {
		n++
		var err error
		if last, err = sc.get(ctx, n); err != nil {
			return err
		}
	}
	return nil
}

// oldest finds the replies added at the end of an oldest-first listing of
// which `known` replies were seen: it jumps to the page holding the last
// known reply, steps back while that page starts with a new reply (deletions
// moved the new ones earlier), and pages on to the end.
func (sc *scan) oldest(ctx context.Context, p1 *fetched, known int64, pageSize int) error {
	if !p1.HasMore || len(p1.Comments) == 0 {
		return nil // page 1 is the whole thread
	}
	if pageSize <= 0 {
		pageSize = len(p1.Comments)
	}
	jump := max(2, int((known+int64(pageSize)-1)/int64(pageSize)))
	if sc.calls >= sc.maxCalls {
		return nil
	}
	pj, err := sc.get(ctx, jump)
	if err != nil {
		return err
	}
	back := pj
	for (len(back.Comments) == 0 || back.firstNew) && back.no > 2 && sc.calls < sc.maxCalls {
		if back, err = sc.get(ctx, back.no-1); err != nil {
			return err
		}
	}
	return sc.forward(ctx, pj, jump, func(*fetched) bool { return true })
}

// failed is the result of a poll that failed: the replies found so far, and
// the state unchanged.
func (sc *scan) failed(prev model.ThreadState, err error) (model.PollResult, error) {
	return model.PollResult{Comments: sc.sorted(), State: prev, Calls: sc.calls, BadTimes: sc.times.Bad()}, err
}

// sorted returns the new replies by creation time, ties by id.
func (sc *scan) sorted() []model.Comment {
	out := slices.Clone(sc.found)
	slices.SortStableFunc(out, func(a, b model.Comment) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		// Numeric ids: a shorter one is smaller.
		if c := cmp.Compare(len(a.ID), len(b.ID)); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// observePage observes one page's comments, polled when the clock read
// now; contiguous says it directly follows the page observed last, so that
// the boundary between them counts too.
func observePage(o *platform.OrderObserver, rs []reply, contiguous bool, now time.Time) {
	if !contiguous {
		o.Break()
	}
	for i := range rs {
		if t, ok := platform.UnixCommentTime(string(rs[i].CreateTime), now); ok {
			o.Observe(t)
		}
	}
}
