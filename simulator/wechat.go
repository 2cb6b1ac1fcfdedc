package simulator

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"hash/fnv"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// Paths the WeChat imitation serves (the base URL is the server's URL).
const (
	WeChatStableTokenPath = "/cgi-bin/stable_token" //nolint:gosec // G101: a URL path, not a token
	WeChatTokenPath       = "/cgi-bin/token"        //nolint:gosec // G101: a URL path, not a token
	WeChatCommentListPath = "/cgi-bin/comment/list"
	WeChatReplyPath       = "/cgi-bin/comment/reply/add"
)

// WeChatReply is the answer a comment carries (comment/list's `reply`).
type WeChatReply struct {
	Content    string
	CreateTime int64
}

// WeChatComment is one comment of an imitated article.
type WeChatComment struct {
	// UserCommentID is unique within its article only; 0 = the next one.
	UserCommentID uint64
	OpenID        string // "" = absent from the listing (as for some commenters)
	Content       string
	CreateTime    int64 // unix seconds; 0 = now
	// CreateTimeJSON, when set, is sent as create_time instead of
	// CreateTime, as it is: JSON text for hostile answers ("1e300", 1e300,
	// -1, "abc", 1.7e12).
	CreateTimeJSON string
	CommentType    int // 0 normal, 1 featured
	// CommentTypeJSON, when set, is sent as comment_type, as it is.
	CommentTypeJSON string
	Reply           *WeChatReply
	Deleted         bool // reply/add answers 88004
}

// WeChatPost is one reply the imitation accepted through reply/add.
type WeChatPost struct {
	MsgDataID     string
	Index         int
	UserCommentID uint64
	Content       string
	At            time.Time
}

// WeChatCall is one request the imitation received. It never holds the app
// secret or a token.
type WeChatCall struct {
	Method  string
	Path    string
	ErrCode int  // the errcode answered (0 success; -2 for transport faults)
	TokenOK bool // for API calls: the access token was valid
	Force   bool // stable_token: force_refresh was set
	Begin   int  // comment/list
	Count   int  // comment/list
}

// WeChat imitates the WeChat Official Account APIs autoreplyd uses, from
// seeds/wechat-oa-comment-reply.txt and PLATFORMS.md: `POST
// /cgi-bin/stable_token` (the same token until ReissueWindow before its
// expiry, unless force_refresh), `GET /cgi-bin/token` (a new token on every
// call, invalidating the previous one), `POST /cgi-bin/comment/list`
// (paging by begin/count, count <= 49, an unreliable total, a stable but
// unknown order) and `POST /cgi-bin/comment/reply/add` (one reply per
// comment: 88005 on a second; 40033 for a body holding `\u003c`-style
// escapes; 88007 for empty or too long content). It is an http.Handler,
// safe for concurrent use; set the exported fields before serving.
type WeChat struct {
	// TokenLifetime is a token's life (default 7200 s).
	TokenLifetime time.Duration
	// ExpiresInJSON, when set, is sent as every token answer's expires_in
	// instead of the remaining lifetime, as it is: JSON text for hostile
	// answers (1e300, "abc", 3000000000, 1). Tokens still live
	// TokenLifetime.
	ExpiresInJSON string
	// TotalJSON, when set, is sent as every listing's total, as it is.
	TotalJSON string
	// ReissueWindow: stable_token hands out a new token once the current one
	// has less than this left (default min(5 min, TokenLifetime/2)).
	ReissueWindow time.Duration
	// MaxLength is the longest reply content in runes; 0 = no limit.
	MaxLength int
	// TokenFaults are consumed one per token request, Faults one per API
	// call (comment/list, reply/add). FaultCode answers
	// {"errcode": Code, "errmsg": Msg}.
	TokenFaults Faults
	Faults      Faults
	// ReplyFaults are consumed one per reply/add request, before Faults: a
	// fault for a send whatever polls run meanwhile.
	ReplyFaults Faults
	// Now is the imitation's clock (default time.Now).
	Now func() time.Time
	// OnPost, when set, is called after a reply is accepted (before the
	// answer is written), e.g. to show it to someone watching.
	OnPost func(WeChatPost)

	appID, secret string

	mu       sync.Mutex
	tokens   map[string]time.Time // valid token -> expiry
	current  string               // the token stable_token hands out
	articles map[string][]*WeChatComment
	nextID   uint64
	posts    []WeChatPost
	calls    []WeChatCall
}

// NewWeChat returns an imitation of the app appID whose secret is secret.
func NewWeChat(appID, secret string) *WeChat {
	return &WeChat{appID: appID, secret: secret, tokens: map[string]time.Time{},
		articles: map[string][]*WeChatComment{}, nextID: 1}
}

func wxKey(msgDataID string, index int) string { return msgDataID + ":" + strconv.Itoa(index) }

func (x *WeChat) now() time.Time {
	if x.Now != nil {
		return x.Now()
	}
	return time.Now()
}

func (x *WeChat) lifetime() time.Duration {
	if x.TokenLifetime > 0 {
		return x.TokenLifetime
	}
	return 7200 * time.Second
}

// expiresIn is a token answer's expires_in for a token with left to live.
func (x *WeChat) expiresIn(left time.Duration) any {
	if x.ExpiresInJSON != "" {
		return json.RawMessage(x.ExpiresInJSON)
	}
	return int64(left / time.Second)
}

func (x *WeChat) window() time.Duration {
	if x.ReissueWindow > 0 {
		return x.ReissueWindow
	}
	return min(5*time.Minute, x.lifetime()/2)
}

// AddArticle makes an article exist (with no comments yet).
func (x *WeChat) AddArticle(msgDataID string, index int) {
	x.mu.Lock()
	defer x.mu.Unlock()
	k := wxKey(msgDataID, index)
	if _, ok := x.articles[k]; !ok {
		x.articles[k] = nil
	}
}

// AddComment adds c to an article (created if need be) and returns its
// user_comment_id.
func (x *WeChat) AddComment(msgDataID string, index int, c WeChatComment) uint64 {
	x.mu.Lock()
	defer x.mu.Unlock()
	if c.UserCommentID == 0 {
		c.UserCommentID = x.nextID
	}
	x.nextID = max(x.nextID, c.UserCommentID+1)
	if c.CreateTime == 0 {
		c.CreateTime = x.now().Unix()
	}
	k := wxKey(msgDataID, index)
	x.articles[k] = append(x.articles[k], &c)
	return c.UserCommentID
}

// Comment returns a copy of one comment.
func (x *WeChat) Comment(msgDataID string, index int, id uint64) (WeChatComment, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, c := range x.articles[wxKey(msgDataID, index)] {
		if c.UserCommentID == id {
			cc := *c
			if c.Reply != nil {
				r := *c.Reply
				cc.Reply = &r
			}
			return cc, true
		}
	}
	return WeChatComment{}, false
}

// Posts returns the accepted replies, oldest first.
func (x *WeChat) Posts() []WeChatPost {
	x.mu.Lock()
	defer x.mu.Unlock()
	return slices.Clone(x.posts)
}

// Calls returns the request log, oldest first.
func (x *WeChat) Calls() []WeChatCall {
	x.mu.Lock()
	defer x.mu.Unlock()
	return slices.Clone(x.calls)
}

// ResetCalls empties the request log.
func (x *WeChat) ResetCalls() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.calls = nil
}

// ExpireTokens makes every token handed out so far invalid (42001 "access
// token expired"), as when its lifetime ends.
func (x *WeChat) ExpireTokens() {
	x.mu.Lock()
	defer x.mu.Unlock()
	past := x.now().Add(-time.Second)
	for t := range x.tokens {
		x.tokens[t] = past
	}
	x.current = ""
}

func (x *WeChat) log(c WeChatCall) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.calls = append(x.calls, c)
}

// ServeHTTP implements http.Handler.
func (x *WeChat) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	call := WeChatCall{Method: r.Method, Path: r.URL.Path, ErrCode: -2}
	defer func() { x.log(call) }()
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return
	}
	isToken := r.URL.Path == WeChatStableTokenPath || r.URL.Path == WeChatTokenPath
	faults := &x.Faults
	if isToken {
		faults = &x.TokenFaults
	}
	fl, faulty := Fault{}, false
	if r.URL.Path == WeChatReplyPath {
		fl, faulty = x.ReplyFaults.Next()
	}
	if !faulty {
		fl, faulty = faults.Next()
	}
	if faulty {
		if before(w, r, fl) {
			return
		}
		if fl.Kind == FaultSlow && r.Context().Err() != nil {
			return
		}
		if fl.Kind == FaultCode {
			call.ErrCode = fl.Code
			wxJSON(w, map[string]any{"errcode": fl.Code, "errmsg": fl.Msg})
			return
		}
	}
	var answer map[string]any
	switch r.URL.Path {
	case WeChatStableTokenPath:
		answer = x.stableToken(r, body, &call)
	case WeChatTokenPath:
		answer = x.legacyToken(r, &call)
	case WeChatCommentListPath:
		answer = x.list(r, body, &call)
	case WeChatReplyPath:
		var post *WeChatPost
		answer, post = x.reply(r, body, &call)
		if post != nil && x.OnPost != nil {
			x.OnPost(*post)
		}
	default:
		call.ErrCode = 404
		http.NotFound(w, r)
		return
	}
	if c, ok := answer["errcode"].(int); ok {
		call.ErrCode = c
	} else {
		call.ErrCode = 0
	}
	if faulty && after(w, r, fl) {
		return
	}
	wxJSON(w, answer)
}

func wxErr(code int, msg string) map[string]any {
	return map[string]any{"errcode": code, "errmsg": msg + " rid: " + strconv.Itoa(int(time.Now().UnixNano()%1e6))}
}

func wxJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; encoding=utf-8")
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func wxEqual(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// credentials checks an app id and secret.
func (x *WeChat) credentials(grant, appID, secret string) map[string]any {
	switch {
	case grant != "client_credential":
		return wxErr(40002, "invalid grant_type")
	case !wxEqual(appID, x.appID):
		return wxErr(40013, "invalid appid")
	case !wxEqual(secret, x.secret):
		return wxErr(40125, "invalid appsecret")
	}
	return nil
}

func (x *WeChat) stableToken(r *http.Request, body []byte, call *WeChatCall) map[string]any {
	if r.Method != http.MethodPost {
		return wxErr(43002, "require POST method")
	}
	var req struct {
		GrantType    string `json:"grant_type"`
		AppID        string `json:"appid"`
		Secret       string `json:"secret"`
		ForceRefresh bool   `json:"force_refresh"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return wxErr(47001, "data format error")
	}
	call.Force = req.ForceRefresh
	if e := x.credentials(req.GrantType, req.AppID, req.Secret); e != nil {
		return e
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	now := x.now()
	if exp, ok := x.tokens[x.current]; ok && !req.ForceRefresh && exp.Sub(now) > x.window() {
		return map[string]any{"access_token": x.current, "expires_in": x.expiresIn(exp.Sub(now))}
	}
	if req.ForceRefresh {
		// A forced refresh invalidates the previous token.
		delete(x.tokens, x.current)
	}
	tok := wxNewToken()
	x.tokens[tok] = now.Add(x.lifetime())
	x.current = tok
	return map[string]any{"access_token": tok, "expires_in": x.expiresIn(x.lifetime())}
}

func (x *WeChat) legacyToken(r *http.Request, _ *WeChatCall) map[string]any {
	if r.Method != http.MethodGet {
		return wxErr(43001, "require GET method")
	}
	q := r.URL.Query()
	if e := x.credentials(q.Get("grant_type"), q.Get("appid"), q.Get("secret")); e != nil {
		return e
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	// Every call invalidates every earlier token.
	clear(x.tokens)
	tok := wxNewToken()
	x.tokens[tok] = x.now().Add(x.lifetime())
	x.current = tok
	return map[string]any{"access_token": tok, "expires_in": x.expiresIn(x.lifetime())}
}

func wxNewToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return "WXTOK_" + hex.EncodeToString(b)
}

// checkToken validates the access_token query parameter.
func (x *WeChat) checkToken(r *http.Request, call *WeChatCall) map[string]any {
	if r.Method != http.MethodPost {
		return wxErr(43002, "require POST method")
	}
	tok := r.URL.Query().Get("access_token")
	if tok == "" {
		return wxErr(41001, "access_token missing")
	}
	x.mu.Lock()
	exp, ok := x.tokens[tok]
	now := x.now()
	x.mu.Unlock()
	switch {
	case !ok:
		return wxErr(40001, "invalid credential, access_token is invalid or not latest")
	case !now.Before(exp):
		return wxErr(42001, "access_token expired")
	}
	call.TokenOK = true
	return nil
}

// wxNumber reads a JSON number field exactly; ok is false when it is absent
// or not a number (a string is refused, as WeChat's types are numbers).
func wxNumber(m map[string]json.RawMessage, key string) (uint64, bool) {
	raw, ok := m[key]
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(string(bytes.TrimSpace(raw)), 10, 64)
	return n, err == nil
}

// wxInt reads m[key] as a non-negative int (index, begin, count, type):
// past the int range it is a format error, never a wrapped negative index.
func wxInt(m map[string]json.RawMessage, key string) (int, bool) {
	raw, ok := m[key]
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(string(bytes.TrimSpace(raw)))
	return n, err == nil && n >= 0
}

func (x *WeChat) list(r *http.Request, body []byte, call *WeChatCall) map[string]any {
	if e := x.checkToken(r, call); e != nil {
		return e
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return wxErr(47001, "data format error")
	}
	msg, ok1 := wxNumber(m, "msg_data_id")
	index, _ := wxInt(m, "index")
	begin, ok2 := wxInt(m, "begin")
	count, ok3 := wxInt(m, "count")
	typ, _ := wxInt(m, "type")
	if !ok1 || !ok2 || !ok3 {
		return wxErr(47001, "data format error")
	}
	call.Begin, call.Count = begin, count
	if count == 0 || count > 49 || typ > 2 {
		return wxErr(40097, "invalid args")
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	cs, ok := x.articles[wxKey(strconv.FormatUint(msg, 10), index)]
	if !ok {
		return wxErr(88001, "msg_data is not exists")
	}
	var sel []*WeChatComment
	for _, c := range cs {
		if typ == 0 || (typ == 1 && c.CommentType == 0) || (typ == 2 && c.CommentType == 1) {
			sel = append(sel, c)
		}
	}
	// A stable order that is neither by time nor by id: new comments land
	// anywhere in the listing.
	slices.SortFunc(sel, func(a, b *WeChatComment) int {
		if c := cmp.Compare(wxHash(a.UserCommentID), wxHash(b.UserCommentID)); c != 0 {
			return c
		}
		return cmp.Compare(a.UserCommentID, b.UserCommentID)
	})
	out := []map[string]any{}
	for i := begin; i < len(sel) && len(out) < count; i++ {
		c := sel[i]
		item := map[string]any{
			"user_comment_id": c.UserCommentID,
			"create_time":     c.CreateTime,
			"content":         c.Content,
			"comment_type":    c.CommentType,
		}
		if c.CreateTimeJSON != "" {
			item["create_time"] = json.RawMessage(c.CreateTimeJSON)
		}
		if c.CommentTypeJSON != "" {
			item["comment_type"] = json.RawMessage(c.CommentTypeJSON)
		}
		if c.OpenID != "" {
			item["openid"] = c.OpenID
		}
		if c.Reply != nil {
			item["reply"] = map[string]any{"content": c.Reply.Content, "create_time": c.Reply.CreateTime}
		}
		out = append(out, item)
	}
	// total is unreliable: it leaves out the answered comments.
	total := 0
	for _, c := range sel {
		if c.Reply == nil {
			total++
		}
	}
	if x.TotalJSON != "" {
		return map[string]any{"errcode": 0, "errmsg": "ok", "total": json.RawMessage(x.TotalJSON), "comment": out}
	}
	return map[string]any{"errcode": 0, "errmsg": "ok", "total": total, "comment": out}
}

func wxHash(id uint64) uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(strconv.FormatUint(id, 10)))
	return h.Sum32()
}

// reply answers reply/add; the post is nil unless the reply was accepted.
func (x *WeChat) reply(r *http.Request, body []byte, call *WeChatCall) (map[string]any, *WeChatPost) {
	if e := x.checkToken(r, call); e != nil {
		return e, nil
	}
	// Go's default JSON encoding of <, > and & is refused.
	for _, esc := range []string{`\u003c`, `\u003e`, `\u0026`} {
		if bytes.Contains(bytes.ToLower(body), []byte(esc)) {
			return wxErr(40033, "invalid charset. please check your request, if include \\uxxxx will create fail!"), nil
		}
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return wxErr(47001, "data format error"), nil
	}
	msg, ok1 := wxNumber(m, "msg_data_id")
	index, _ := wxInt(m, "index")
	id, ok2 := wxNumber(m, "user_comment_id")
	var content string
	if raw, ok := m["content"]; ok && json.Unmarshal(raw, &content) != nil {
		return wxErr(47001, "data format error"), nil
	}
	if !ok1 || !ok2 {
		return wxErr(47001, "data format error"), nil
	}
	n := utf8.RuneCountInString(content)
	if n == 0 || (x.MaxLength > 0 && n > x.MaxLength) {
		return wxErr(88007, "reply content beyond max len or content len is zero"), nil
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	msgID := strconv.FormatUint(msg, 10)
	cs, ok := x.articles[wxKey(msgID, index)]
	if !ok {
		return wxErr(88001, "msg_data is not exists"), nil
	}
	for _, c := range cs {
		if c.UserCommentID != id {
			continue
		}
		switch {
		case c.Deleted:
			return wxErr(88004, "comment was deleted by user"), nil
		case c.Reply != nil:
			return wxErr(88005, "already reply"), nil
		}
		now := x.now()
		c.Reply = &WeChatReply{Content: content, CreateTime: now.Unix()}
		post := WeChatPost{MsgDataID: msgID, Index: index, UserCommentID: id, Content: content, At: now}
		x.posts = append(x.posts, post)
		return map[string]any{"errcode": 0, "errmsg": "ok"}, &post
	}
	return wxErr(88008, "comment is not exists"), nil
}
