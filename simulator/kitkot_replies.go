package simulator

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// KitkotRepliesPath is kitkot's listing of a TikTok comment's replies,
// served by the same Kitkot imitation as the reply endpoint.
const KitkotRepliesPath = "/api/video/comments/replies"

// Defaults of the reply listing.
const (
	krDefaultCount = 20 // replies per page when count is absent
	krMaxCount     = 50 // the most replies one page holds
)

// KitkotComment is one reply of a TikTok comment thread, as the kitkot
// imitation lists it.
type KitkotComment struct {
	CID        string // assigned by AddReply when empty
	AwemeID    string
	Text       string
	CreateTime int64 // unix seconds; AddReply uses the current time when 0
	// CreateTimeJSON, when set, is sent as create_time instead of
	// CreateTime, as it is: JSON text for hostile answers ("1e300", 1e300,
	// -1, "abc", 1.7e12). CreateTime still orders the listing.
	CreateTimeJSON string
	UserUID        string
	UniqueID       string
	Nickname       string
	Region         string
	// ReplyToReplyID is the reply this one answers; "" or "0" for the root.
	ReplyToReplyID string
	Digg           int64
}

// krState is the listing's part of a Kitkot; guarded by Kitkot.mu.
type krState struct {
	threads map[string]*krThread
	order   ReplyOrder
	max     int // page size cap; 0 = krMaxCount
	calls   int
}

// krThread is one watched comment's replies, in insertion order.
type krThread struct {
	awemeID string
	replies []KitkotComment
	version uint64
}

// krThreadLocked returns the thread, making it; k.mu is held.
func (k *Kitkot) krThreadLocked(commentID string) *krThread {
	if k.kr.threads == nil {
		k.kr.threads = map[string]*krThread{}
	}
	th := k.kr.threads[commentID]
	if th == nil {
		th = &krThread{}
		k.kr.threads[commentID] = th
	}
	return th
}

// AddThread makes commentID a known comment (of video awemeID) with no
// replies yet; listing an unknown comment fails with HTTP 400.
func (k *Kitkot) AddThread(commentID, awemeID string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.krThreadLocked(commentID).awemeID = awemeID
}

// AddReply adds c to the replies of comment commentID and returns its cid.
// An empty CID is assigned; a zero CreateTime becomes now.
func (k *Kitkot) AddReply(commentID string, c KitkotComment) string {
	k.mu.Lock()
	defer k.mu.Unlock()
	if c.CID == "" {
		k.nextCID += 7
		c.CID = strconv.FormatUint(k.nextCID, 10)
	}
	if c.CreateTime == 0 {
		c.CreateTime = time.Now().Unix()
	}
	th := k.krThreadLocked(commentID)
	if c.AwemeID == "" {
		c.AwemeID = th.awemeID
	}
	th.replies = append(th.replies, c)
	th.version++
	return c.CID
}

// RemoveReply deletes reply cid of comment commentID, if it is there.
func (k *Kitkot) RemoveReply(commentID, cid string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if th := k.kr.threads[commentID]; th != nil {
		th.replies = slices.DeleteFunc(th.replies, func(c KitkotComment) bool { return c.CID == cid })
		th.version++
	}
}

// ThreadReplies returns a copy of a comment's replies, in insertion order.
func (k *Kitkot) ThreadReplies(commentID string) []KitkotComment {
	k.mu.Lock()
	defer k.mu.Unlock()
	if th := k.kr.threads[commentID]; th != nil {
		return slices.Clone(th.replies)
	}
	return nil
}

// SetReplyOrder sets the listing order (default OrderOldest).
func (k *Kitkot) SetReplyOrder(o ReplyOrder) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.kr.order = o
}

// SetReplyPageMax caps the replies of one page, whatever count asks for.
func (k *Kitkot) SetReplyPageMax(n int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.kr.max = n
}

// ListCalls is the number of listing requests that reached the handler.
func (k *Kitkot) ListCalls() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.kr.calls
}

// krServe answers `GET /api/video/comments/replies`: {code: 200, replies,
// nextCursor, has_more, total_replies}; the cursor is an offset into the
// listing. Failures are HTTP 400 {code: 400, msg}, as on the reply endpoint.
func (k *Kitkot) krServe(w http.ResponseWriter, r *http.Request, fl Fault, faulty bool) {
	k.mu.Lock()
	k.kr.calls++
	k.mu.Unlock()
	if r.Method != http.MethodGet {
		k.fail(w, http.StatusMethodNotAllowed, "Method not allowed")
		return
	}
	q := r.URL.Query()
	for _, name := range []string{"api_key", "comment_id"} {
		if vs := q[name]; len(vs) == 0 || vs[0] == "" {
			k.fail(w, http.StatusBadRequest, "Missing required parameter: "+name)
			return
		}
	}
	if !kkEqual(q.Get("api_key"), k.apiKey) {
		k.fail(w, http.StatusBadRequest, "Invalid api_key")
		return
	}
	count := krDefaultCount
	if s := q.Get("count"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			k.fail(w, http.StatusBadRequest, "Invalid count")
			return
		}
		count = min(n, krMaxCount)
	}
	cursor := 0
	if s := q.Get("cursor"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			k.fail(w, http.StatusBadRequest, "Invalid cursor")
			return
		}
		cursor = n
	}
	commentID := q.Get("comment_id")

	k.mu.Lock()
	th := k.kr.threads[commentID]
	if th == nil {
		k.mu.Unlock()
		k.fail(w, http.StatusBadRequest, "Comment not found: comment_id "+commentID)
		return
	}
	if k.kr.max > 0 {
		count = min(count, k.kr.max)
	}
	listing := slices.Clone(th.replies)
	sortKitkot(listing, k.kr.order, commentID, th.version)
	k.mu.Unlock()

	total := len(listing)
	start := min(cursor, total)
	end := min(start+count, total)
	items := make([]any, 0, end-start)
	for i := start; i < end; i++ {
		items = append(items, k.krComment(commentID, &listing[i]))
	}
	if faulty && after(w, r, fl) {
		return
	}
	k.writeJSON(w, http.StatusOK, map[string]any{
		"code":          200,
		"replies":       items,
		"nextCursor":    end,
		"has_more":      end < total,
		"total_replies": total,
	})
}

// sortKitkot puts a listing (in insertion order) into the listing order.
func sortKitkot(listing []KitkotComment, order ReplyOrder, commentID string, version uint64) {
	byTime := func(x, y KitkotComment) int {
		switch {
		case x.CreateTime < y.CreateTime:
			return -1
		case x.CreateTime > y.CreateTime:
			return 1
		}
		return 0
	}
	switch order {
	case OrderNewest:
		slices.Reverse(listing)
		slices.SortStableFunc(listing, func(x, y KitkotComment) int { return -byTime(x, y) })
	case OrderRecommended:
		v := strconv.FormatUint(version, 10)
		slices.SortStableFunc(listing, func(x, y KitkotComment) int {
			kx, ky := joHash(commentID, v, x.CID), joHash(commentID, v, y.CID)
			switch {
			case kx < ky:
				return -1
			case kx > ky:
				return 1
			}
			return strings.Compare(x.CID, y.CID)
		})
	default:
		slices.SortStableFunc(listing, byTime)
	}
}

// krComment is one reply as a TikTok (aweme) comment object.
func (k *Kitkot) krComment(commentID string, c *KitkotComment) map[string]any {
	rtr := c.ReplyToReplyID
	if rtr == "" {
		rtr = "0"
	}
	var created any = c.CreateTime
	if c.CreateTimeJSON != "" {
		created = json.RawMessage(c.CreateTimeJSON)
	}
	return map[string]any{
		"cid":               c.CID,
		"text":              c.Text,
		"aweme_id":          c.AwemeID,
		"create_time":       created,
		"reply_id":          commentID,
		"reply_to_reply_id": rtr,
		"digg_count":        c.Digg,
		"user_digged":       0,
		"status":            1,
		"text_extra":        []any{},
		"label_list":        nil,
		"user": map[string]any{
			"uid":          c.UserUID,
			"unique_id":    c.UniqueID,
			"nickname":     c.Nickname,
			"sec_uid":      "MS4wLjABAAAA" + c.UserUID,
			"region":       c.Region,
			"avatar_thumb": kkImage("avatar_thumb"),
		},
	}
}
