package simulator

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// JustOneAPIVideoPath is the path of JustOneAPI's listing of a Douyin
// video's top-level comments.
const JustOneAPIVideoPath = "/api/douyin/get-video-comment/v1"

// DefaultVideoPageSize is the video listing's page size. JustOneAPI takes no
// count and does not document its page size; Douyin's own web client and
// the public crawlers of the endpoint underneath ask for top-level comments
// 20 at a time. A client must learn the size from the pages it gets.
const DefaultVideoPageSize = 20

// joVideo is one video's top-level comments, in insertion order.
type joVideo struct {
	comments []Reply
	// version is bumped by every comment added and by every reply added
	// under one of them: it seeds the recommended shuffle, which on Douyin
	// ranks comments by their activity.
	version uint64
}

// SetVideoPageSize sets VideoPageSize while the imitation serves.
func (a *JustOneAPI) SetVideoPageSize(n int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.VideoPageSize = n
}

// SetVideoOrder sets VideoOrder while the imitation serves.
func (a *JustOneAPI) SetVideoOrder(o ReplyOrder) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.VideoOrder = o
}

// AddComment adds c as a top-level comment of the video awemeID and returns
// its cid. An empty CID is assigned (from the same sequence as replies'); a
// zero CreateTime becomes now; AwemeID is awemeID, and the ReplyTo fields
// are ignored. Its replies are those AddReply adds to the thread with its
// cid as id: the video listing's reply_comment_total counts them, so it
// always matches the reply listing of that thread.
func (a *JustOneAPI) AddComment(awemeID string, c Reply) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c.CID == "" {
		c.CID = a.newCID()
	}
	if c.CreateTime == 0 {
		c.CreateTime = time.Now().Unix()
	}
	c.AwemeID = awemeID
	c.ReplyToReplyID, c.ReplyToUsername = "", ""
	v := a.videos[awemeID]
	if v == nil {
		v = &joVideo{}
		a.videos[awemeID] = v
	}
	v.comments = append(v.comments, c)
	v.version++
	a.videoOf[c.CID] = awemeID
	return c.CID
}

// RemoveComment deletes the top-level comment cid from the video awemeID, if
// it is there. Its replies stay in the reply listing, as on Douyin, where a
// deleted comment's thread can still be asked for.
func (a *JustOneAPI) RemoveComment(awemeID, cid string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	v := a.videos[awemeID]
	if v == nil {
		return
	}
	v.comments = slices.DeleteFunc(v.comments, func(c Reply) bool { return c.CID == cid })
	v.version++
	delete(a.videoOf, cid)
}

// Comments returns a copy of the video's top-level comments, in the order
// they were added.
func (a *JustOneAPI) Comments(awemeID string) []Reply {
	a.mu.Lock()
	defer a.mu.Unlock()
	v := a.videos[awemeID]
	if v == nil {
		return nil
	}
	return slices.Clone(v.comments)
}

// VideoOf returns the video whose top-level comment cid is, if it is one.
func (a *JustOneAPI) VideoOf(cid string) (awemeID string, ok bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	awemeID, ok = a.videoOf[cid]
	return awemeID, ok
}

// VideoCalls returns the requests the video listing received so far, oldest
// first.
func (a *JustOneAPI) VideoCalls() []Call {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.videoCalls)
}

// VideoCallCount is the number of requests the video listing received so far.
func (a *JustOneAPI) VideoCallCount() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.videoCalls)
}

// newCID assigns the next cid. a.mu is held.
func (a *JustOneAPI) newCID() string {
	id := a.nextCID
	a.nextCID++
	return strconv.FormatUint(id, 10)
}

// repliesChanged notes that the replies of thread threadID changed: when
// the thread is a top-level comment of a video, the video's recommended
// order moves. a.mu is held.
func (a *JustOneAPI) repliesChanged(threadID string) {
	if v := a.videos[a.videoOf[threadID]]; v != nil {
		v.version++
	}
}

// renderVideoPage lists one page of a video's top-level comments in the
// configured order. Its total counts the comments and their replies, as the
// count Douyin shows under a video does; the real listing's total is only a
// display count, whose exact meaning nobody documents.
func (a *JustOneAPI) renderVideoPage(awemeID string, page int) []byte {
	a.mu.Lock()
	size := a.VideoPageSize
	if size < 1 {
		size = DefaultVideoPageSize
	}
	order, offset := a.VideoOrder, a.TotalOffset
	var listing []Reply
	var version uint64
	if v := a.videos[awemeID]; v != nil {
		listing = slices.Clone(v.comments)
		version = v.version
	}
	replies := make(map[string]int, len(listing))
	total := len(listing)
	for _, c := range listing {
		if th := a.threads[c.CID]; th != nil {
			replies[c.CID] = len(th.replies)
			total += len(th.replies)
		}
	}
	a.mu.Unlock()

	joSort(listing, order, awemeID, version)
	total = max(total+offset, 0)
	return a.renderListing(awemeID, page, size, len(listing), total, func(b *bytes.Buffer, i int) {
		c := &listing[i]
		joRenderItem(b, joVideoCommentTemplate(), c, joVals{total: total, replyTotal: replies[c.CID]})
	})
}

// joVideoCommentTemplate is a top-level comment: a reply's fields up to its
// user (the same user object), then those of a top-level comment.
var joVideoCommentTemplate = sync.OnceValue(func() []joSegment {
	cut := strings.Index(joReplyJSON, `"reply_id":`)
	if cut < 0 {
		panic("simulator: the reply template has no reply_id")
	}
	return joCompile(joReplyJSON[:cut] + joVideoCommentTail)
})

// joVideoCommentTail is what follows the user object in a top-level comment
// of Douyin's comment listing: reply_id and reply_to_reply_id are "0", level
// is 1, and reply_comment_total counts its replies. reply_comment, which
// Douyin sometimes fills with a preview of one reply, is always null here.
const joVideoCommentTail = `"reply_id": "0",
  "user_digged": 0,
  "reply_comment": null,
  "text_extra": [],
  "label_text": "",
  "label_type": -1,
  "reply_comment_total": "{{reply_comment_total}}",
  "reply_to_reply_id": "0",
  "is_author_digged": "{{is_author_digged}}",
  "stick_position": 0,
  "user_buried": false,
  "label_list": "{{label_list}}",
  "is_hot": false,
  "text_music_info": null,
  "image_list": null,
  "is_note_comment": 0,
  "ip_label": "",
  "can_share": true,
  "item_comment_total": "{{item_comment_total}}",
  "level": 1,
  "video_list": null,
  "sort_tags": "{\"top_list\":1}",
  "is_user_tend_to_reply": false,
  "content_type": 1,
  "is_folded": false,
  "enter_from": "",
  "decorated_emoji_info": null
}`
