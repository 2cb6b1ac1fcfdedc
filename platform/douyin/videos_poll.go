package douyin

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/platform"
)

// Videos are the watched videos, as configured.
func (s *Source) Videos() []platform.Video { return slices.Clone(s.cfg.Videos) }

// PollVideo lists what is new among the top-level comments of video v since
// prev, and the reply counts of every comment it listed.
//
// Page 1 is always fetched; its total counts the comments and their
// replies, so an unchanged total with nothing unknown on page 1 ends the
// poll after one call, and a reply anywhere under the video shows as a
// change. A video seen for the first time, and a due full rescan, are
// listed whole (at most MaxPages pages, as a thread's first sight): every
// comment already there must be known, or one the "hot" order brings up
// later would be answered as new (the backlog promise). A change in a
// listing whose order is not known newest first is listed from page 1 on,
// at most VideoMaxPages pages: the order is not documented (Douyin's
// default is "hot"), and a video can hold thousands of comments. A listing
// known newest first is paged while pages bring unknown comments, at most
// MaxPages pages, and, while the total moved by more than the pages read
// explain (a new comment counts itself and its replies, a listed comment
// the rise of its reply count over the last listing's, from listed),
// within VideoMaxPages pages: a reply under a comment further down moves
// the total and nothing on page 1. An oldest-first listing is scanned like an unknown one:
// its new comments are at the end, which a bounded scan of a large video
// does not reach, but Douyin has not been seen listing videos that way.
func (s *Source) PollVideo(ctx context.Context, v platform.Video, prev model.ThreadState, known platform.KnownFunc, listed platform.ListedFunc) (platform.VideoResult, error) {
	vs := &videoScan{src: s, v: v, known: known, listed: listed, status: map[string]bool{}}
	p1, fresh, err := vs.get(ctx, 1)
	if err != nil {
		return vs.failed(prev, err)
	}
	order := vs.obs.Judge(prev.Order)
	changed := p1.Total != prev.Total || fresh > 0
	whole := !prev.Initialized || platform.RescanDue(platform.VideoStateID(v.ID), prev.Polls, s.cfg.FullRescanEvery)
	full := whole || (order != model.OrderNewest && changed)
	pages := s.cfg.VideoMaxPages
	if whole {
		pages = s.cfg.MaxPages
	}
	last, n := p1, 1
	switch {
	case full:
		for last.HasMore && last.Items > 0 && n < pages {
			n++
			if last, _, err = vs.get(ctx, n); err != nil {
				return vs.failed(prev, err)
			}
		}
	case !changed:
	default: // newest first: new comments come first
		moved := int(p1.Total - prev.Total)
		explained, err := vs.explained(ctx, 0)
		if err != nil {
			return vs.failed(prev, err)
		}
		more := func() bool {
			return fresh > 0 || (explained < moved && n < s.cfg.VideoMaxPages)
		}
		for more() && last.HasMore && last.Items > 0 && n < s.cfg.MaxPages {
			n++
			from := len(vs.res.Listed)
			if last, fresh, err = vs.get(ctx, n); err != nil {
				return vs.failed(prev, err)
			}
			e, err := vs.explained(ctx, from)
			if err != nil {
				return vs.failed(prev, err)
			}
			explained += e
		}
	}
	now := s.now()
	st := prev
	st.Platform = model.PlatformDouyin
	st.ThreadID = platform.VideoStateID(v.ID)
	st.Total = p1.Total
	st.Order = vs.obs.Judge(order)
	if full && st.Order == model.OrderUnknown {
		st.Order = vs.obs.Judge(prev.Order)
	}
	if p1.HasMore && p1.Items > 0 {
		st.PageSize = p1.Items
	}
	st.Polls = prev.Polls + 1
	st.LastPolled = now
	st.Known = prev.Known + int64(len(vs.res.Comments))
	if full {
		st.Initialized = true
		st.LastFullScan = now
	}
	vs.res.State = st
	vs.sortComments()
	return vs.res, nil
}

// sortComments puts the new comments in creation order, ties by id, as the
// poller answers them.
func (vs *videoScan) sortComments() {
	slices.SortStableFunc(vs.res.Comments, func(a, b model.Comment) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		if c := cmp.Compare(len(a.ID), len(b.ID)); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// explained is how much of the video's total the comments listed from
// vs.res.Listed[from:] on account for: a new comment itself and its
// replies, a known one the rise of its reply count since the last listing.
func (vs *videoScan) explained(ctx context.Context, from int) (int, error) {
	listed := vs.res.Listed[from:]
	before := map[string]int{}
	if vs.listed != nil && len(listed) > 0 {
		ids := make([]string, len(listed))
		for i, t := range listed {
			ids[i] = t.ThreadID
		}
		var err error
		if before, err = vs.listed(ctx, ids); err != nil {
			return 0, &model.SourceError{Action: model.SourceRetry, Msg: "look up listed reply counts: " + vs.src.videos.client.Redact(err.Error())}
		}
	}
	n := 0
	for _, t := range listed {
		switch {
		case vs.status[t.ThreadID]:
			n += 1 + t.Total
		case vs.listed == nil:
		default:
			n += max(t.Total-before[t.ThreadID], 0)
		}
	}
	return n, nil
}

// videoScan is the work of one poll of one video.
type videoScan struct {
	src    *Source
	v      platform.Video
	known  platform.KnownFunc
	listed platform.ListedFunc
	status map[string]bool // cid listed in this poll -> not known before it
	obs    platform.OrderObserver
	last   int // the page listed last, for order detection
	res    platform.VideoResult
}

// get lists page n, records its comments and their counts, and returns it
// with the number of comments on it not known before this poll.
func (vs *videoScan) get(ctx context.Context, n int) (VideoPage, int, error) {
	p, err := vs.src.ListVideoPage(ctx, vs.v.ID, n)
	vs.res.Calls += p.Calls
	if err != nil {
		return p, 0, err
	}
	if p.BadTimes.Count > 0 {
		// An unusable time was replaced by the poll's: the page tells
		// nothing about the order, and the first one is reported.
		vs.obs.Break()
		if vs.res.BadTimes.Count == 0 {
			vs.res.BadTimes.FirstID, vs.res.BadTimes.FirstRaw = p.BadTimes.FirstID, p.BadTimes.FirstRaw
		}
		vs.res.BadTimes.Count += p.BadTimes.Count
	} else {
		if n != vs.last+1 {
			vs.obs.Break()
		}
		for i := range p.Comments {
			vs.obs.Observe(p.Comments[i].CreatedAt)
		}
	}
	vs.last = n
	var ids []string
	for i := range p.Comments {
		if id := p.Comments[i].ID; !slices.Contains(ids, id) {
			if _, seen := vs.status[id]; !seen {
				ids = append(ids, id)
			}
		}
	}
	recorded := map[string]bool{}
	if len(ids) > 0 && vs.known != nil {
		if recorded, err = vs.known(ctx, ids); err != nil {
			return p, 0, &model.SourceError{Action: model.SourceRetry, Msg: "look up known comments: " + vs.src.videos.client.Redact(err.Error())}
		}
	}
	fresh := 0
	for i := range p.Comments {
		c := p.Comments[i]
		vs.res.Listed = append(vs.res.Listed, platform.ListedThread{ThreadID: c.ID, Total: c.ReplyTotal})
		if _, seen := vs.status[c.ID]; seen {
			continue
		}
		isNew := !recorded[c.ID]
		vs.status[c.ID] = isNew
		if isNew {
			fresh++
			c.Labels = vs.v.Labels
			vs.res.Comments = append(vs.res.Comments, c.Comment)
		}
	}
	return p, fresh, nil
}

// failed is the result of a poll that failed: what was found so far, and
// the state unchanged.
func (vs *videoScan) failed(prev model.ThreadState, err error) (platform.VideoResult, error) {
	vs.res.State = prev
	vs.sortComments()
	return vs.res, err
}
