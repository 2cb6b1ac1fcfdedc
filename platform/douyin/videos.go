package douyin

import (
	"context"
	"math"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/platform"
)

// videoPath is JustOneAPI's listing of a Douyin video's top-level comments.
const videoPath = "/api/douyin/get-video-comment/v1"

// videoItem is one top-level comment of the video listing: a reply's
// fields, and its count of replies.
type videoItem struct {
	reply
	ReplyTotal flexInt `json:"reply_comment_total"`
}

// VideoComment is one top-level comment of a video.
type VideoComment struct {
	// Comment is the comment as the rules see it: ThreadID is its own cid,
	// RootID and ReplyToID are "0", PostID is the video; Labels are left
	// to the caller (the video's).
	model.Comment
	// ReplyTotal is Douyin's reply_comment_total, never negative: the
	// replies it counts under the comment. One listing of a video thus
	// tells which threads moved since the last one without polling them;
	// it is a display count (deletions and moderation move it too), so a
	// thread whose count moved is worth a poll, not a promise of how many
	// replies the poll finds.
	ReplyTotal int
}

// VideoPage is one page of a video's top-level comments.
type VideoPage struct {
	// Comments are the page's comments with a cid, in the listing's order,
	// each once.
	Comments []VideoComment
	// Items is the number of items the page listed, those without a cid
	// or listed twice included: the page size, when HasMore.
	Items int
	// HasMore is has_more (an int or a bool on the wire); the listing ends
	// when it is false or a page is empty.
	HasMore bool
	// Total and Cursor are the answer's, display hints only.
	Total  int64
	Cursor int64
	// BadTimes are the create times that were unusable and replaced by the
	// time of the call.
	BadTimes model.BadTimes
	// Calls is the number of calls made: 1, or 0 when the source's rate
	// limit wait was cut short. Only a call answered with code 0 is billed.
	Calls int
}

// ListVideoPage lists page pageNo (from 1) of the top-level comments of the
// video awemeID through JustOneAPI's `get-video-comment/v1`, after waiting
// for the source's rate limit, which it shares with the thread polls.
//
// Its errors are those of a thread's poll, classified the same way (a
// *model.SourceError whose message holds no token; a business code's
// action is codeError's), and a cut-short rate limit wait's. The order of
// the listing is not documented: the caller must find new comments
// wherever they are listed.
func (s *Source) ListVideoPage(ctx context.Context, awemeID string, pageNo int) (VideoPage, error) {
	if awemeID == "" || pageNo < 1 {
		// JustOneAPI would answer 400 for nothing; do not ask.
		return VideoPage{}, &model.SourceError{Action: model.SourceSkipThread, Msg: "video listing needs an aweme id and a page from 1"}
	}
	if err := s.limit.Wait(ctx); err != nil {
		return VideoPage{}, err
	}
	l, err := getListing[videoItem](ctx, s, s.videos, "awemeId", awemeID, pageNo)
	if err != nil {
		return VideoPage{Calls: 1}, err
	}
	p := videoPage(awemeID, l, platform.NewCommentTimes(s.now()))
	p.Calls = 1
	return p, nil
}

// videoPage converts a decoded page of video awemeID, checking create
// times with times.
func videoPage(awemeID string, l listing[videoItem], times *platform.CommentTimes) VideoPage {
	p := VideoPage{Items: len(l.Comments), HasMore: l.HasMore, Total: l.Total, Cursor: l.Cursor}
	seen := make(map[string]bool, len(l.Comments))
	for i := range l.Comments {
		it := &l.Comments[i]
		id := string(it.CID)
		if id == "" || seen[id] {
			continue
		}
		seen[id] = true
		p.Comments = append(p.Comments, videoComment(awemeID, it, times.Unix(id, it.CreateTime)))
	}
	p.BadTimes = times.Bad()
	return p
}

// videoComment converts it, a top-level comment of video awemeID created at
// at, to the shared model: a thread of its own, answered by its cid.
func videoComment(awemeID string, it *videoItem, at time.Time) VideoComment {
	c := comment(model.Thread{ID: string(it.CID), PostID: awemeID}, &it.reply, at)
	// Listed as top-level: whatever the item says, it answers the video.
	c.RootID, c.ReplyToID, c.ReplyToUser = "0", "0", ""
	if c.Level == 0 {
		c.Level = 1
	}
	return VideoComment{Comment: c, ReplyTotal: int(min(max(int64(it.ReplyTotal), 0), math.MaxInt))}
}
