package simulator

import (
	"crypto/subtle"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Paths the Weibo imitation serves (the base URL is the server's URL).
const (
	WeiboShowPath    = "/2/comments/show.json"
	WeiboReplyV2Path = "/2/comments/reply.json"
	WeiboReplyV1Path = "/statuses/reply.json"
)

// WeiboTimeLayout is Weibo's created_at format: "Wed Jun 01 00:50:25 +0800 2011".
const WeiboTimeLayout = "Mon Jan 02 15:04:05 -0700 2006"

// WeiboFirstID is the first comment id the imitation hands out: above 2^53,
// so a client reading ids through float64 gets them wrong.
const WeiboFirstID uint64 = 1<<53 + 1

// WeiboMaxWeighted is Weibo's length limit in weighted characters.
const WeiboMaxWeighted = 140

// WeiboComment is one comment of an imitated weibo.
type WeiboComment struct {
	ID         uint64 // 0 = the next one
	UID        string // the author's uid
	ScreenName string
	Text       string
	CreatedAt  time.Time // zero = now
	// CreatedAtJSON, when set, is sent as created_at instead of CreatedAt,
	// as it is: JSON text for hostile answers ("Wed Jun 01 00:50:25 +0800
	// 12011", 1e300, "abc"). CreatedAt still orders the listing.
	CreatedAtJSON string
	ReplyTo       uint64 // the comment answered (reply_comment); 0 = none
}

// WeiboPost is one comment the imitation accepted through a reply endpoint.
type WeiboPost struct {
	API            string // "v1" or "v2"
	ID             uint64 // the new comment's id
	WeiboID        string
	CID            string // as sent; "" when absent
	Comment        string // the `comment` field as sent
	Text           string // as stored: "回复@name:" + Comment unless without_mention
	TopLevel       bool   // the cid trap: posted as a top-level comment, not a reply
	WithoutMention bool
	CommentOri     string
	RIP            string
	At             time.Time
}

// WeiboCall is one request the imitation received. It never holds the
// access token or the password.
type WeiboCall struct {
	Method    string
	Path      string
	ErrorCode int  // 0 success; -2 for transport faults
	AuthOK    bool // the token or basic auth credentials were valid
	WeiboID   string
	SinceID   string
	Page      int
	Count     int
}

// Weibo imitates the Weibo APIs autoreplyd uses, from
// seeds/weibo-statuses-reply.txt and PLATFORMS.md: `GET
// 2/comments/show.json` (id, since_id, max_id, count <= 200, page; newest
// first), `POST 2/comments/reply.json` (OAuth2 access_token in the form)
// and the v1 `POST statuses/reply.json` (HTTP basic auth, `source` app
// key). Both reply endpoints reject content over 140 weighted characters
// counting the "回复@name:" prefix (20012), the account's last content
// again (20019), an unknown weibo (20101) or comment (20201), and posts
// beyond RateLimit an hour (10024); a cid that is absent or not a number
// falls into the real API's trap: a top-level comment is posted. Errors
// are {"request", "error_code", "error"}. It is an http.Handler, safe for
// concurrent use; set the exported fields before serving.
type Weibo struct {
	// BotUID and BotName are the replying account: its replies appear in
	// the listing as its comments.
	BotUID, BotName string
	// RateLimit is the most replies accepted per rolling hour; 0 = no limit.
	RateLimit int
	// Faults are consumed one per request. FaultCode answers the error
	// JSON with Code and Msg.
	Faults Faults
	// ReplyFaults are consumed one per reply request (v1 or v2), before
	// Faults: a fault for a send whatever polls run meanwhile.
	ReplyFaults Faults
	// Now is the imitation's clock (default time.Now).
	Now func() time.Time
	// OnPost, when set, is called after a reply is accepted (before the
	// answer is written), e.g. to show it to someone watching.
	OnPost func(WeiboPost)

	token, appKey, user, pass string

	mu       sync.Mutex
	expired  bool
	weibos   map[string][]*WeiboComment
	nextID   uint64
	posts    []WeiboPost
	lastText string
	calls    []WeiboCall
}

// NewWeibo returns an imitation accepting the OAuth2 token accessToken.
func NewWeibo(accessToken string) *Weibo {
	return &Weibo{token: accessToken, BotUID: "5000000001", BotName: "autoreplyd_bot",
		weibos: map[string][]*WeiboComment{}, nextID: WeiboFirstID}
}

// SetV1Account sets the v1 API's app key and basic auth credentials.
func (x *Weibo) SetV1Account(appKey, username, password string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.appKey, x.user, x.pass = appKey, username, password
}

// ExpireToken makes the access token expired (21327).
func (x *Weibo) ExpireToken() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.expired = true
}

func (x *Weibo) now() time.Time {
	if x.Now != nil {
		return x.Now()
	}
	return time.Now()
}

// AddWeibo makes a weibo exist (with no comments yet).
func (x *Weibo) AddWeibo(id string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if _, ok := x.weibos[id]; !ok {
		x.weibos[id] = nil
	}
}

// AddComment adds c under the weibo (created if need be) and returns its
// id as a string (idstr).
func (x *Weibo) AddComment(weiboID string, c WeiboComment) string {
	x.mu.Lock()
	defer x.mu.Unlock()
	return strconv.FormatUint(x.addLocked(weiboID, c), 10)
}

func (x *Weibo) addLocked(weiboID string, c WeiboComment) uint64 {
	if c.ID == 0 {
		c.ID = x.nextID
	}
	x.nextID = max(x.nextID, c.ID+1)
	if c.CreatedAt.IsZero() {
		c.CreatedAt = x.now()
	}
	x.weibos[weiboID] = append(x.weibos[weiboID], &c)
	return c.ID
}

// Comments returns copies of a weibo's comments, oldest first.
func (x *Weibo) Comments(weiboID string) []WeiboComment {
	x.mu.Lock()
	defer x.mu.Unlock()
	out := make([]WeiboComment, 0, len(x.weibos[weiboID]))
	for _, c := range x.weibos[weiboID] {
		out = append(out, *c)
	}
	return out
}

// Posts returns the accepted replies, oldest first.
func (x *Weibo) Posts() []WeiboPost {
	x.mu.Lock()
	defer x.mu.Unlock()
	return slices.Clone(x.posts)
}

// Calls returns the request log, oldest first.
func (x *Weibo) Calls() []WeiboCall {
	x.mu.Lock()
	defer x.mu.Unlock()
	return slices.Clone(x.calls)
}

// ResetCalls empties the request log.
func (x *Weibo) ResetCalls() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.calls = nil
}

func (x *Weibo) log(c WeiboCall) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.calls = append(x.calls, c)
}

// wbError is a Weibo error answer.
type wbError struct {
	status int
	code   int
	msg    string
}

// wbStatus is the HTTP status Weibo answers an error code with.
func wbStatus(code int) int {
	switch {
	case code >= 21300 && code < 21400:
		return http.StatusUnauthorized
	case code >= 10022 && code <= 10024, code == 20016:
		return http.StatusForbidden
	}
	return http.StatusBadRequest
}

func wbErr(code int, msg string) *wbError {
	return &wbError{status: wbStatus(code), code: code, msg: msg}
}

func wbJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func wbEqual(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// ServeHTTP implements http.Handler.
func (x *Weibo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	call := WeiboCall{Method: r.Method, Path: r.URL.Path, ErrorCode: -2}
	defer func() { x.log(call) }()
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return
	}
	fl, faulty := Fault{}, false
	if r.URL.Path == WeiboReplyV2Path || r.URL.Path == WeiboReplyV1Path {
		fl, faulty = x.ReplyFaults.Next()
	}
	if !faulty {
		fl, faulty = x.Faults.Next()
	}
	if faulty {
		if before(w, r, fl) {
			return
		}
		if fl.Kind == FaultSlow && r.Context().Err() != nil {
			return
		}
		if fl.Kind == FaultCode {
			call.ErrorCode = fl.Code
			wbJSON(w, wbStatus(fl.Code), map[string]any{"request": r.URL.Path, "error_code": fl.Code, "error": fl.Msg})
			return
		}
	}
	var (
		answer any
		e      *wbError
	)
	switch r.URL.Path {
	case WeiboShowPath:
		answer, e = x.show(r, &call)
	case WeiboReplyV2Path, WeiboReplyV1Path:
		var post *WeiboPost
		answer, post, e = x.reply(r, body, &call)
		if post != nil && x.OnPost != nil {
			x.OnPost(*post)
		}
	default:
		call.ErrorCode = 404
		http.NotFound(w, r)
		return
	}
	if e != nil {
		call.ErrorCode = e.code
		wbJSON(w, e.status, map[string]any{"request": r.URL.Path, "error_code": e.code, "error": e.msg})
		return
	}
	call.ErrorCode = 0
	if faulty && after(w, r, fl) {
		return
	}
	wbJSON(w, http.StatusOK, answer)
}

// checkToken validates an OAuth2 token (query/form access_token or an
// "Authorization: OAuth2 <token>" header).
func (x *Weibo) checkToken(r *http.Request, form url.Values, call *WeiboCall) *wbError {
	tok := form.Get("access_token")
	if h := r.Header.Get("Authorization"); tok == "" && strings.HasPrefix(h, "OAuth2 ") {
		tok = strings.TrimPrefix(h, "OAuth2 ")
	}
	x.mu.Lock()
	expired := x.expired
	x.mu.Unlock()
	switch {
	case tok == "":
		return wbErr(21301, "auth faild!")
	case !wbEqual(tok, x.token):
		return wbErr(21332, "invalid_access_token")
	case expired:
		return wbErr(21327, "expired_token")
	}
	call.AuthOK = true
	return nil
}

// checkV1 validates basic auth and the `source` app key.
func (x *Weibo) checkV1(r *http.Request, form url.Values, call *WeiboCall) *wbError {
	x.mu.Lock()
	appKey, user, pass := x.appKey, x.user, x.pass
	x.mu.Unlock()
	src := form.Get("source")
	if src == "" {
		src = r.URL.Query().Get("source")
	}
	u, p, ok := r.BasicAuth()
	switch {
	case !ok || user == "" || !wbEqual(u, user) || !wbEqual(p, pass):
		return wbErr(21301, "auth faild!")
	case src == "":
		return wbErr(10006, "source paramter(appkey) is missing") //nolint:misspell // Weibo's own error text, typo included
	case !wbEqual(src, appKey):
		return wbErr(21321, "Applications over the unaudited use restrictions!")
	}
	call.AuthOK = true
	return nil
}

// wbComment is a comment as the API writes it.
func (x *Weibo) wbComment(weiboID string, c *WeiboComment, withReply bool) map[string]any {
	m := map[string]any{
		"id":         json.Number(strconv.FormatUint(c.ID, 10)),
		"idstr":      strconv.FormatUint(c.ID, 10),
		"mid":        strconv.FormatUint(c.ID, 10),
		"text":       c.Text,
		"created_at": c.CreatedAt.In(wbZone).Format(WeiboTimeLayout),
		"source":     `<a href="https://weibo.com/" rel="nofollow">微博 weibo.com</a>`,
		"user":       wbUser(c.UID, c.ScreenName),
		"status":     map[string]any{"id": json.Number(weiboID), "idstr": weiboID, "mid": weiboID},
	}
	if c.CreatedAtJSON != "" {
		m["created_at"] = json.RawMessage(c.CreatedAtJSON)
	}
	if withReply && c.ReplyTo != 0 {
		for _, o := range x.weibos[weiboID] {
			if o.ID == c.ReplyTo {
				m["reply_comment"] = x.wbComment(weiboID, o, false)
				break
			}
		}
	}
	return m
}

var wbZone = time.FixedZone("CST", 8*3600)

func wbUser(uid, name string) map[string]any {
	return map[string]any{"id": json.Number(uid), "idstr": uid, "screen_name": name, "name": name,
		"location": "北京 朝阳区", "verified": false}
}

func wbDigits(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func (x *Weibo) show(r *http.Request, call *WeiboCall) (any, *wbError) {
	if r.Method != http.MethodGet {
		return nil, wbErr(10021, "HTTP method is not suported for this request!")
	}
	q := r.URL.Query()
	if e := x.checkToken(r, q, call); e != nil {
		return nil, e
	}
	id := q.Get("id")
	call.WeiboID = id
	call.SinceID = q.Get("since_id")
	if !wbDigits(id) {
		return nil, wbErr(10008, "param error, see doc for more info.")
	}
	num := func(key string, def uint64) (uint64, bool) {
		v := q.Get(key)
		if v == "" {
			return def, true
		}
		n, err := strconv.ParseUint(v, 10, 64)
		return n, err == nil
	}
	since, ok1 := num("since_id", 0)
	maxID, ok2 := num("max_id", 0)
	count, ok3 := num("count", 50)
	page, ok4 := num("page", 1)
	if !ok1 || !ok2 || !ok3 || !ok4 || count == 0 || page == 0 {
		return nil, wbErr(10008, "param error, see doc for more info.")
	}
	count = min(count, 200)
	call.Count, call.Page = int(count), int(min(page, math.MaxInt32))
	x.mu.Lock()
	defer x.mu.Unlock()
	cs, ok := x.weibos[id]
	if !ok {
		return nil, wbErr(20101, "target weibo does not exist!")
	}
	var sel []*WeiboComment
	for _, c := range cs {
		if c.ID > since && (maxID == 0 || c.ID <= maxID) {
			sel = append(sel, c)
		}
	}
	// Newest first.
	slices.SortFunc(sel, func(a, b *WeiboComment) int {
		switch {
		case a.ID > b.ID:
			return -1
		case a.ID < b.ID:
			return 1
		}
		return 0
	})
	out := []any{}
	start := (page - 1) * count
	for i := start; i < uint64(len(sel)) && i < start+count; i++ {
		out = append(out, x.wbComment(id, sel[i], true))
	}
	return map[string]any{"comments": out, "hasvisible": false, "previous_cursor": 0, "next_cursor": 0,
		"total_number": len(sel)}, nil
}

// reply answers both reply endpoints; the post is nil unless the reply was
// accepted.
func (x *Weibo) reply(r *http.Request, body []byte, call *WeiboCall) (any, *WeiboPost, *wbError) {
	if r.Method != http.MethodPost {
		return nil, nil, wbErr(10021, "HTTP method is not suported for this request!")
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, nil, wbErr(10008, "param error, see doc for more info.")
	}
	v1 := r.URL.Path == WeiboReplyV1Path
	if v1 {
		if e := x.checkV1(r, form, call); e != nil {
			return nil, nil, e
		}
	} else if e := x.checkToken(r, form, call); e != nil {
		return nil, nil, e
	}
	id, cid, text := form.Get("id"), form.Get("cid"), form.Get("comment")
	call.WeiboID = id
	if !wbDigits(id) || strings.TrimSpace(text) == "" {
		return nil, nil, wbErr(10008, "param error, see doc for more info.")
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	cs, ok := x.weibos[id]
	if !ok {
		return nil, nil, wbErr(20101, "target weibo does not exist!")
	}
	post := WeiboPost{API: "v2", WeiboID: id, CID: cid, Comment: text, WithoutMention: form.Get("without_mention") == "1",
		CommentOri: form.Get("comment_ori"), RIP: form.Get("rip"), At: x.now()}
	if v1 {
		post.API = "v1"
	}
	var target *WeiboComment
	if wbDigits(cid) {
		for _, c := range cs {
			if strconv.FormatUint(c.ID, 10) == cid {
				target = c
			}
		}
		if target == nil {
			return nil, nil, wbErr(20201, "target weibo comment does not exist!")
		}
	} else {
		// The trap: no usable cid, a valid id: a top-level comment.
		post.TopLevel = true
	}
	post.Text = text
	if target != nil && !post.WithoutMention {
		post.Text = "回复@" + target.ScreenName + ":" + text
	}
	if WeiboWeightedLen(post.Text) > WeiboMaxWeighted {
		return nil, nil, wbErr(20012, "Text too long, please input text less than 140 characters!")
	}
	if post.Text == x.lastText {
		return nil, nil, wbErr(20019, "repeat content!")
	}
	if x.RateLimit > 0 {
		n := 0
		for _, p := range x.posts {
			if post.At.Sub(p.At) < time.Hour {
				n++
			}
		}
		if n >= x.RateLimit {
			return nil, nil, wbErr(10024, "User requests out of rate limit!")
		}
	}
	nc := WeiboComment{UID: x.BotUID, ScreenName: x.BotName, Text: post.Text, CreatedAt: post.At}
	if target != nil {
		nc.ReplyTo = target.ID
	}
	post.ID = x.addLocked(id, nc)
	x.lastText = post.Text
	x.posts = append(x.posts, post)
	added := x.weibos[id][len(x.weibos[id])-1]
	return x.wbComment(id, added, true), &post, nil
}

// wbURL matches a link, which Weibo shortens and counts as 10 characters.
var wbURL = regexp.MustCompile(`https?://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+`)

// WeiboWeightedLen is s's length as Weibo counts it (the imitation's own
// implementation): a non-ASCII character 1, an ASCII character 1/2, a URL
// 10, rounded up.
func WeiboWeightedLen(s string) int {
	half := 0
	for _, seg := range wbSplitURLs(s) {
		if seg.url {
			half += 20
			continue
		}
		for _, r := range seg.text {
			if r < utf8.RuneSelf {
				half++
			} else {
				half += 2
			}
		}
	}
	return (half + 1) / 2
}

type wbSegment struct {
	text string
	url  bool
}

func wbSplitURLs(s string) []wbSegment {
	var out []wbSegment
	last := 0
	for _, loc := range wbURL.FindAllStringIndex(s, -1) {
		if loc[0] > last {
			out = append(out, wbSegment{text: s[last:loc[0]]})
		}
		out = append(out, wbSegment{text: s[loc[0]:loc[1]], url: true})
		last = loc[1]
	}
	if last < len(s) {
		out = append(out, wbSegment{text: s[last:]})
	}
	return out
}
