package simulator

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// JustOneAPIPath is the path of JustOneAPI's Douyin reply listing.
const JustOneAPIPath = "/api/douyin/get-video-sub-comment/v1"

// ReplyOrder is the order in which the imitation lists a thread's replies.
type ReplyOrder int

const (
	// OrderOldest lists replies oldest first (by create time, then by
	// insertion).
	OrderOldest ReplyOrder = iota
	// OrderNewest lists replies newest first.
	OrderNewest
	// OrderRecommended lists replies in a deterministic shuffle that changes
	// whenever a reply is added, so page boundaries are unstable, as with
	// Douyin's "recommended" order.
	OrderRecommended
)

func (o ReplyOrder) String() string {
	switch o {
	case OrderOldest:
		return "oldest"
	case OrderNewest:
		return "newest"
	case OrderRecommended:
		return "recommended"
	}
	return "ReplyOrder(" + strconv.Itoa(int(o)) + ")"
}

// Reply is one reply of a thread, as the imitation stores it.
type Reply struct {
	CID        string // assigned by AddReply when empty
	AwemeID    string
	Text       string
	CreateTime int64 // unix seconds; AddReply uses the current time when 0
	// CreateTimeJSON, when set, is sent as create_time instead of
	// CreateTime, as it is: JSON text for hostile answers ("1e300", 1e300,
	// -1, "abc", 1.7e12). CreateTime still orders the listing.
	CreateTimeJSON string
	UserUID        string
	Nickname       string
	UniqueID       string
	SecUID         string
	Region         string
	Verified       bool
	// ReplyToReplyID is the reply this one answers; "" or "0" when it
	// answers the root comment.
	ReplyToReplyID  string
	ReplyToUsername string
	Digg            int64
	AuthorDigged    bool
}

// Call is one request the imitation received. The token itself is never kept.
type Call struct {
	CommentID string // the reply listing's commentId
	AwemeID   string // the video listing's awemeId
	Page      int    // 0 when the page parameter was invalid
	TokenOK   bool
}

// JustOneAPI imitates JustOneAPI's `GET /api/douyin/get-video-sub-comment/v1`
// (a comment's replies) and `GET /api/douyin/get-video-comment/v1` (a
// video's top-level comments) on loopback. It is an http.Handler; serve it with httptest.NewServer and use
// the server's URL as the base URL. Safe for concurrent use; set the exported
// settings before serving, or through their setters afterwards.
type JustOneAPI struct {
	// PageSize is the number of replies per page (default 10).
	PageSize int
	// Order is the listing order (default OrderOldest).
	Order ReplyOrder
	// HasMoreAsBool answers has_more as true/false instead of 1/0.
	HasMoreAsBool bool
	// CodeAsString answers code as a string ("0") instead of a number.
	CodeAsString bool
	// TotalOffset is added to the reported total, which is only a display
	// count on the real API.
	TotalOffset int
	// VideoPageSize is the number of top-level comments per page of the
	// video listing (default DefaultVideoPageSize).
	VideoPageSize int
	// VideoOrder is the video listing's order (default OrderOldest).
	VideoOrder ReplyOrder
	// Faults are consumed one per request, of either listing.
	Faults Faults

	token string

	mu         sync.Mutex
	threads    map[string]*joThread
	videos     map[string]*joVideo // aweme id -> its top-level comments
	videoOf    map[string]string   // top-level cid -> its aweme id
	nextCID    uint64
	calls      []Call
	videoCalls []Call
	billed     map[string]int // path -> code-0 answers served
}

// joThread is one thread's replies, in insertion order.
type joThread struct {
	replies []Reply
	version uint64 // bumped by every added reply; seeds the recommended shuffle
}

// joFirstCID is the first auto-assigned cid: 19 digits, well above 2^53.
const joFirstCID uint64 = 7400000000000000001

// NewJustOneAPI returns an imitation that accepts token.
func NewJustOneAPI(token string) *JustOneAPI {
	return &JustOneAPI{
		PageSize: 10,
		token:    token,
		threads:  make(map[string]*joThread),
		videos:   make(map[string]*joVideo),
		videoOf:  make(map[string]string),
		billed:   make(map[string]int),
		nextCID:  joFirstCID,
		// VideoPageSize is left 0: DefaultVideoPageSize.
	}
}

// SetPageSize sets PageSize while the imitation serves.
func (a *JustOneAPI) SetPageSize(n int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.PageSize = n
}

// SetOrder sets Order while the imitation serves.
func (a *JustOneAPI) SetOrder(o ReplyOrder) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.Order = o
}

// SetHasMoreAsBool sets HasMoreAsBool while the imitation serves.
func (a *JustOneAPI) SetHasMoreAsBool(b bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.HasMoreAsBool = b
}

// SetCodeAsString sets CodeAsString while the imitation serves.
func (a *JustOneAPI) SetCodeAsString(b bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.CodeAsString = b
}

// SetTotalOffset sets TotalOffset while the imitation serves.
func (a *JustOneAPI) SetTotalOffset(n int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.TotalOffset = n
}

// AddReply adds r to the thread threadID and returns its cid. An empty CID is
// assigned (19 digits, increasing); a zero CreateTime becomes now.
func (a *JustOneAPI) AddReply(threadID string, r Reply) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if r.CID == "" {
		r.CID = a.newCID()
	}
	if r.CreateTime == 0 {
		r.CreateTime = time.Now().Unix()
	}
	if r.AwemeID == "" {
		r.AwemeID = a.videoOf[threadID]
	}
	th := a.threads[threadID]
	if th == nil {
		th = &joThread{}
		a.threads[threadID] = th
	}
	th.replies = append(th.replies, r)
	th.version++
	a.repliesChanged(threadID)
	return r.CID
}

// Remove deletes the reply cid from the thread threadID, if it is there.
func (a *JustOneAPI) Remove(threadID, cid string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	th := a.threads[threadID]
	if th == nil {
		return
	}
	th.replies = slices.DeleteFunc(th.replies, func(r Reply) bool { return r.CID == cid })
	a.repliesChanged(threadID)
}

// Replies returns a copy of the thread's replies, in the order they were added.
func (a *JustOneAPI) Replies(threadID string) []Reply {
	a.mu.Lock()
	defer a.mu.Unlock()
	th := a.threads[threadID]
	if th == nil {
		return nil
	}
	return slices.Clone(th.replies)
}

// Calls returns the requests the reply listing received so far, oldest
// first (the video listing's are VideoCalls).
func (a *JustOneAPI) Calls() []Call {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.calls)
}

// CallCount is the number of requests the reply listing received so far.
func (a *JustOneAPI) CallCount() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.calls)
}

// ResetCalls forgets the requests received so far, by both listings, and
// what they were billed.
func (a *JustOneAPI) ResetCalls() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls, a.videoCalls = nil, nil
	clear(a.billed)
}

// Billed is the number of billed calls path (JustOneAPIPath or
// JustOneAPIVideoPath) answered so far: JustOneAPI charges every code-0
// answer and nothing else. An answer counts once it is made, even when a
// fault then drops it or delays it past the client's patience: the caller
// pays for what it never received. A request whose client gave up before
// the answer was made (FaultSlow) is not billed.
func (a *JustOneAPI) Billed(path string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.billed[path]
}

// JustOneAPI business codes.
const (
	joCodeOK            = 0
	joCodeInvalidToken  = 100
	joCodeInvalidParams = 400
)

// joCodeMessages are the documented messages of the business codes.
var joCodeMessages = map[int]string{
	0:   "success",
	100: "Invalid or Inactive Token",
	300: "API Invalid",
	301: "Collection Failed. Please Retry.",
	302: "Rate Limit Exceeded",
	303: "Daily Quota Exceeded",
	400: "Invalid Parameters",
	500: "Internal Server Error",
	600: "Permission Denied",
	601: "Insufficient Balance",
	602: "Spend Cap Reached",
}

// ServeHTTP answers the reply listing (JustOneAPIPath) and the video
// listing (JustOneAPIVideoPath), both the same way: the same envelope,
// parameter checks, business codes and faults.
func (a *JustOneAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	idParam := "commentId"
	switch r.URL.Path {
	case JustOneAPIPath:
	case JustOneAPIVideoPath:
		idParam = "awemeId"
	default:
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	tokenOK := a.token != "" && subtle.ConstantTimeCompare([]byte(q.Get("token")), []byte(a.token)) == 1
	id := q.Get(idParam)
	page, pageOK := 1, true
	if s := q.Get("page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			page, pageOK = 0, false
		} else {
			page = n
		}
	}

	a.mu.Lock()
	if r.URL.Path == JustOneAPIVideoPath {
		a.videoCalls = append(a.videoCalls, Call{AwemeID: id, Page: page, TokenOK: tokenOK})
	} else {
		a.calls = append(a.calls, Call{CommentID: id, Page: page, TokenOK: tokenOK})
	}
	a.mu.Unlock()

	fl, faulty := a.Faults.Next()
	if faulty {
		if fl.Kind == FaultCode {
			a.writeCode(w, fl.Code, fl.Msg)
			return
		}
		if before(w, r, fl) {
			return
		}
		if r.Context().Err() != nil {
			// The client gave up waiting for a slow answer: none is
			// made, and nothing is billed.
			return
		}
	}

	switch {
	case !tokenOK:
		a.writeCode(w, joCodeInvalidToken, "")
		return
	case id == "" || !pageOK:
		a.writeCode(w, joCodeInvalidParams, "")
		return
	}

	var body []byte
	if r.URL.Path == JustOneAPIVideoPath {
		body = a.renderVideoPage(id, page)
	} else {
		body = a.renderPage(id, page)
	}
	a.mu.Lock()
	a.billed[r.URL.Path]++
	a.mu.Unlock()
	if faulty && after(w, r, fl) {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body) //nolint:gosec // JSON served as application/json: the query's id reaches it only JSON-escaped
}

// writeCode answers a business error with HTTP 200, as JustOneAPI does.
func (a *JustOneAPI) writeCode(w http.ResponseWriter, code int, msg string) {
	if msg == "" {
		msg = joCodeMessages[code]
	}
	a.mu.Lock()
	asString := a.CodeAsString
	a.mu.Unlock()
	var b bytes.Buffer
	b.WriteString(`{"code":`)
	joWriteCode(&b, code, asString)
	b.WriteString(`,"message":`)
	joWriteJSON(&b, msg)
	b.WriteString(`,"data":null}`)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b.Bytes())
}

func joWriteCode(b *bytes.Buffer, code int, asString bool) {
	if asString {
		b.WriteByte('"')
		b.WriteString(strconv.Itoa(code))
		b.WriteByte('"')
		return
	}
	b.WriteString(strconv.Itoa(code))
}

// renderPage lists one page of a thread in the configured order.
func (a *JustOneAPI) renderPage(threadID string, page int) []byte {
	a.mu.Lock()
	size := a.PageSize
	if size < 1 {
		size = 10
	}
	order, offset := a.Order, a.TotalOffset
	var listing []Reply
	var version uint64
	if th := a.threads[threadID]; th != nil {
		listing = slices.Clone(th.replies)
		version = th.version
	}
	a.mu.Unlock()

	joSort(listing, order, threadID, version)
	byCID := make(map[string]*Reply, len(listing))
	for i := range listing {
		byCID[listing[i].CID] = &listing[i]
	}
	total := max(len(listing)+offset, 0)
	vals := joVals{threadID: threadID, total: total, byCID: byCID}
	return a.renderListing(threadID, page, size, len(listing), total, func(b *bytes.Buffer, i int) {
		joRenderItem(b, joReplyTemplate(), &listing[i], vals)
	})
}

// renderListing writes page (of size items) of a listing of n items in the
// envelope both listings share; item writes the listing's i-th item. key
// (the thread or video) and page seed the log id.
func (a *JustOneAPI) renderListing(key string, page, size, n, total int, item func(b *bytes.Buffer, i int)) []byte {
	a.mu.Lock()
	hasMoreBool, codeString := a.HasMoreAsBool, a.CodeAsString
	a.mu.Unlock()
	start := min((page-1)*size, n)
	end := min(start+size, n)
	hasMore := end < n

	var b bytes.Buffer
	b.Grow((end-start)*6200 + 512)
	b.WriteString(`{"code":`)
	joWriteCode(&b, joCodeOK, codeString)
	b.WriteString(`,"data":{"status_code":0,"comments":[`)
	for i := start; i < end; i++ {
		if i > start {
			b.WriteByte(',')
		}
		item(&b, i)
	}
	b.WriteString(`],"cursor":`)
	b.WriteString(strconv.Itoa(end))
	b.WriteString(`,"has_more":`)
	switch {
	case hasMoreBool:
		b.WriteString(strconv.FormatBool(hasMore))
	case hasMore:
		b.WriteString("1")
	default:
		b.WriteString("0")
	}
	b.WriteString(`,"total":`)
	b.WriteString(strconv.Itoa(total))
	now := time.Now()
	fmt.Fprintf(&b, `,"extra":{"now":%d,"fatal_item_ids":null,"scenes":null},"log_pb":{"impr_id":"%s%06X"},"merge_cursor":""}}`,
		now.UnixMilli(), now.UTC().Format("20060102150405"), joHash(key, strconv.Itoa(page))&0xFFFFFF)
	return b.Bytes()
}

// joSort puts listing (in insertion order) into the listing order.
func joSort(listing []Reply, order ReplyOrder, threadID string, version uint64) {
	switch order {
	case OrderNewest:
		// Stable on the reversed insertion order: equal times list the
		// later reply first.
		slices.Reverse(listing)
		slices.SortStableFunc(listing, func(x, y Reply) int {
			switch {
			case x.CreateTime > y.CreateTime:
				return -1
			case x.CreateTime < y.CreateTime:
				return 1
			}
			return 0
		})
	case OrderRecommended:
		v := strconv.FormatUint(version, 10)
		keys := make(map[string]uint64, len(listing))
		for _, r := range listing {
			keys[r.CID] = joHash(threadID, v, r.CID)
		}
		slices.SortStableFunc(listing, func(x, y Reply) int {
			kx, ky := keys[x.CID], keys[y.CID]
			switch {
			case kx < ky:
				return -1
			case kx > ky:
				return 1
			}
			return strings.Compare(x.CID, y.CID)
		})
	default:
		slices.SortStableFunc(listing, func(x, y Reply) int {
			switch {
			case x.CreateTime < y.CreateTime:
				return -1
			case x.CreateTime > y.CreateTime:
				return 1
			}
			return 0
		})
	}
}

// joHash is a stable 64-bit hash of parts.
func joHash(parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		_, _ = h.Write([]byte(p))
		_, _ = h.Write([]byte{0})
	}
	// FNV's last multiplications leave inputs that differ only in their
	// last digits (consecutive cids) in a structured order: a
	// "recommended" listing sorted by it was newest first for seven
	// replies one time in twelve. The splitmix64 finalizer makes the order
	// as good as random.
	x := h.Sum64()
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// joWriteJSON writes v as JSON without HTML escaping and without a newline.
// Plain strings, integers and bools, which are nearly every value of a reply,
// are written directly (the same bytes the encoder writes), so that a load
// test's imitation costs little next to the client it serves.
func joWriteJSON(b *bytes.Buffer, v any) {
	switch x := v.(type) {
	case string:
		if joPlain(x) {
			b.WriteByte('"')
			b.WriteString(x)
			b.WriteByte('"')
			return
		}
	case int:
		b.WriteString(strconv.Itoa(x))
		return
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
		return
	case bool:
		b.WriteString(strconv.FormatBool(x))
		return
	}
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err) // only strings, numbers and bools are written
	}
	b.Truncate(b.Len() - 1) // Encode's newline
}

// joPlain reports whether s is valid UTF-8 that encoding/json (without HTML
// escaping) writes unchanged between quotes: no control character, quote,
// backslash, U+2028 or U+2029.
func joPlain(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == '"' || c == '\\' {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			return false
		}
		i += size
	}
	return true
}

// joVals are the values of an item that are not the item's own.
type joVals struct {
	threadID   string            // a reply's root comment
	total      int               // the listing's total
	byCID      map[string]*Reply // the listing's items, for whom a reply answers
	replyTotal int               // a top-level comment's replies
}

// joRenderItem writes one full item (about 6 KB, every field of the
// documented example) of template segs with r's values.
func joRenderItem(b *bytes.Buffer, segs []joSegment, r *Reply, vals joVals) {
	replyTo := r.ReplyToReplyID
	if replyTo == "" {
		replyTo = "0"
	}
	replyToUID, replyToSecUID := "0", ""
	if t := vals.byCID[replyTo]; t != nil {
		replyToUID, replyToSecUID = t.UserUID, t.SecUID
	}
	avatar := fmt.Sprintf("aweme-avatar/tos-cn-avt-0015_%016x", joHash("avatar", r.UserUID))
	verification := 0
	if r.Verified {
		verification = 1
	}
	for _, s := range segs {
		b.WriteString(s.lit)
		var v any
		switch s.key {
		case "":
			continue
		case "cid":
			v = r.CID
		case "text":
			v = r.Text
		case "aweme_id":
			v = r.AwemeID
		case "create_time", "unique_id_modify_time":
			if s.key == "create_time" && r.CreateTimeJSON != "" {
				b.WriteString(r.CreateTimeJSON)
				continue
			}
			v = r.CreateTime
		case "digg_count":
			v = r.Digg
		case "uid", "entity_id":
			v = r.UserUID
		case "short_id":
			v = strconv.FormatUint(joHash("short", r.UserUID)%1_000_000_000, 10)
		case "nickname":
			v = r.Nickname
		case "avatar_uri":
			v = avatar
		case "avatar_thumb_uri":
			v = "100x100/" + avatar
		case "avatar_medium_uri":
			v = "720x720/" + avatar
		case "avatar_url":
			v = "https://p26.douyinpic.com/" + avatar + "~tplv-dy-shrink:100:100.jpeg"
		case "is_verified":
			v = r.Verified
		case "verification_type":
			v = verification
		case "unique_id":
			v = r.UniqueID
		case "region":
			v = r.Region
		case "sec_uid":
			v = r.SecUID
		case "reply_id":
			v = vals.threadID
		case "reply_to_reply_id":
			v = replyTo
		case "reply_to_username":
			v = r.ReplyToUsername
		case "reply_to_userid":
			v = replyToUID
		case "reply_to_user_sec_id":
			v = replyToSecUID
		case "is_author_digged":
			v = r.AuthorDigged
		case "label_list":
			if r.AuthorDigged {
				b.WriteString(`[{"type":20,"text":"作者赞过"}]`)
			} else {
				b.WriteString("null")
			}
			continue
		case "level":
			v = 2 // every item of this listing is a sub-comment
		case "comment_reply_total", "item_comment_total":
			v = vals.total
		case "reply_comment_total":
			v = vals.replyTotal
		default:
			panic("simulator: unknown reply template key " + s.key)
		}
		joWriteJSON(b, v)
	}
}

// joSegment is a literal part of the reply template followed by the value of
// key ("" at the end).
type joSegment struct {
	lit string
	key string
}

// joReplyTemplate is joReplyJSON compacted and cut at its "{{key}}" markers.
var joReplyTemplate = sync.OnceValue(func() []joSegment { return joCompile(joReplyJSON) })

// joCompile compacts the item template src and cuts it at its "{{key}}"
// markers.
func joCompile(src string) []joSegment {
	var c bytes.Buffer
	if err := json.Compact(&c, []byte(src)); err != nil {
		panic("simulator: item template: " + err.Error())
	}
	s := c.String()
	var segs []joSegment
	for {
		i := strings.Index(s, `"{{`)
		if i < 0 {
			return append(segs, joSegment{lit: s})
		}
		j := strings.Index(s[i:], `}}"`)
		segs = append(segs, joSegment{lit: s[:i], key: s[i+3 : i+j]})
		s = s[i+j+3:]
	}
}

// joReplyJSON is one reply as JustOneAPI documents it; each "{{key}}" string
// is replaced by the reply's value (of any JSON type).
const joReplyJSON = `{
  "cid": "{{cid}}",
  "text": "{{text}}",
  "aweme_id": "{{aweme_id}}",
  "create_time": "{{create_time}}",
  "digg_count": "{{digg_count}}",
  "status": 1,
  "user": {
    "uid": "{{uid}}",
    "short_id": "{{short_id}}",
    "nickname": "{{nickname}}",
    "signature": "",
    "avatar_larger": {"uri": "", "url_list": [], "width": 720, "height": 720},
    "avatar_thumb": {"uri": "{{avatar_thumb_uri}}", "url_list": ["{{avatar_url}}"], "width": 720, "height": 720},
    "avatar_medium": {"uri": "{{avatar_medium_uri}}", "url_list": ["{{avatar_url}}"], "width": 720, "height": 720},
    "is_verified": "{{is_verified}}",
    "follow_status": 0,
    "aweme_count": 0,
    "following_count": 0,
    "follower_count": 0,
    "favoriting_count": 0,
    "total_favorited": 0,
    "is_block": false,
    "hide_search": false,
    "constellation": 4,
    "location": "",
    "hide_location": false,
    "weibo_verify": "",
    "custom_verify": "",
    "unique_id": "{{unique_id}}",
    "bind_phone": "",
    "special_lock": 0,
    "need_recommend": 0,
    "is_binded_weibo": false,
    "weibo_name": "",
    "weibo_schema": "",
    "weibo_url": "",
    "story_open": false,
    "story_count": 0,
    "has_facebook_token": false,
    "has_twitter_token": false,
    "fb_expire_time": 0,
    "tw_expire_time": 0,
    "has_youtube_token": false,
    "youtube_expire_time": 0,
    "room_id": 0,
    "live_verify": 0,
    "authority_status": 0,
    "verify_info": "",
    "shield_follow_notice": 0,
    "shield_digg_notice": 0,
    "shield_comment_notice": 0,
    "school_name": "",
    "school_poi_id": "",
    "school_type": 0,
    "with_commerce_entry": false,
    "verification_type": "{{verification_type}}",
    "enterprise_verify_reason": "",
    "is_ad_fake": false,
    "followers_detail": null,
    "region": "{{region}}",
    "account_region": "",
    "sync_to_toutiao": 0,
    "live_agreement": 0,
    "platform_sync_info": null,
    "with_shop_entry": false,
    "secret": 0,
    "has_orders": false,
    "prevent_download": false,
    "show_image_bubble": false,
    "geofencing": [],
    "unique_id_modify_time": "{{unique_id_modify_time}}",
    "video_icon": {"uri": "", "url_list": [], "width": 720, "height": 720},
    "ins_id": "",
    "google_account": "",
    "youtube_channel_id": "",
    "youtube_channel_title": "",
    "apple_account": 0,
    "with_dou_entry": false,
    "with_fusion_shop_entry": false,
    "is_phone_binded": false,
    "accept_private_policy": false,
    "twitter_id": "",
    "twitter_name": "",
    "user_canceled": false,
    "has_email": false,
    "is_gov_media_vip": false,
    "live_agreement_time": 0,
    "status": 1,
    "avatar_uri": "{{avatar_uri}}",
    "follower_status": 0,
    "neiguang_shield": 0,
    "comment_setting": 0,
    "duet_setting": 0,
    "reflow_page_gid": 0,
    "reflow_page_uid": 0,
    "user_rate": 1,
    "download_setting": -1,
    "download_prompt_ts": 0,
    "react_setting": 0,
    "live_commerce": false,
    "cover_url": [],
    "show_gender_strategy": 1,
    "language": "zh-Hans",
    "has_insights": false,
    "item_list": null,
    "user_mode": 0,
    "user_period": 0,
    "has_unread_story": false,
    "new_story_cover": null,
    "is_star": false,
    "cv_level": "",
    "type_label": null,
    "ad_cover_url": null,
    "comment_filter_status": 0,
    "avatar_168x168": {"uri": "", "url_list": [], "width": 720, "height": 720},
    "avatar_300x300": {"uri": "", "url_list": [], "width": 720, "height": 720},
    "relative_users": null,
    "cha_list": null,
    "sec_uid": "{{sec_uid}}",
    "urge_detail": {"user_urged": 0},
    "need_points": null,
    "homepage_bottom_toast": null,
    "can_set_geofencing": null,
    "room_id_str": "0",
    "white_cover_url": null,
    "user_tags": null,
    "stitch_setting": 0,
    "is_mix_user": false,
    "enable_nearby_visible": false,
    "ban_user_functions": [],
    "aweme_control": {"can_forward": true, "can_share": true, "can_comment": true, "can_show_comment": true},
    "user_not_show": 1,
    "ky_only_predict": 0,
    "user_not_see": 0,
    "card_entries": null,
    "signature_display_lines": 5,
    "display_info": null,
    "follower_request_status": 0,
    "live_status": 0,
    "is_not_show": false,
    "card_entries_not_display": null,
    "card_sort_priority": null,
    "show_nearby_active": false,
    "interest_tags": null,
    "school_category": 1,
    "search_impr": {"entity_id": "{{entity_id}}"},
    "link_item_list": null,
    "user_permissions": null,
    "offline_info_list": null,
    "is_cf": 0,
    "is_blocking_v2": false,
    "is_blocked_v2": false,
    "close_friend_type": 0,
    "signature_extra": null,
    "max_follower_count": 0,
    "personal_tag_list": null,
    "cf_list": null,
    "im_role_ids": null,
    "not_seen_item_id_list": null,
    "user_age": -1,
    "contacts_status": 2,
    "risk_notice_text": "",
    "follower_list_secondary_information_struct": null,
    "endorsement_info_list": null,
    "text_extra": null,
    "contrail_list": null,
    "data_label_list": null,
    "not_seen_item_id_list_v2": null,
    "is_ban": false,
    "special_people_labels": null,
    "special_follow_status": 0,
    "familiar_visitor_user": null,
    "live_high_value": 0,
    "avatar_schema_list": null,
    "profile_mob_params": null,
    "disable_image_comment_saved": 0,
    "verification_permission_ids": null,
    "batch_unfollow_relation_desc": null,
    "batch_unfollow_contain_tabs": null,
    "creator_tag_list": null,
    "private_relation_list": null,
    "mate_relation": {"mate_status": 0, "mate_apply_forward": 0, "mate_apply_reverse": 0},
    "mate_add_permission": 1,
    "familiar_confidence": 0,
    "mate_count": 0,
    "follower_count_str": "",
    "social_real_relation_type": 0,
    "identity_labels": null,
    "profile_component_disabled": null,
    "story_ttl": 0,
    "story_interactive": 0,
    "house_talent_info": 0,
    "allow_story_normal_like": false,
    "story25_comment": 0
  },
  "reply_id": "{{reply_id}}",
  "user_digged": 0,
  "reply_comment": null,
  "text_extra": [],
  "label_text": "",
  "label_type": -1,
  "reply_to_reply_id": "{{reply_to_reply_id}}",
  "reply_to_username": "{{reply_to_username}}",
  "reply_to_userid": "{{reply_to_userid}}",
  "is_author_digged": "{{is_author_digged}}",
  "user_buried": false,
  "label_list": "{{label_list}}",
  "reply_to_user_sec_id": "{{reply_to_user_sec_id}}",
  "is_hot": false,
  "text_music_info": null,
  "image_list": null,
  "is_note_comment": 0,
  "level": "{{level}}",
  "comment_reply_total": "{{comment_reply_total}}",
  "video_list": null,
  "content_type": 1,
  "is_folded": false,
  "decorated_emoji_info": null
}`
