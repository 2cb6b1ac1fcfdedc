package douyin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/httpx"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/platform"
)

// listPath is JustOneAPI's Douyin reply listing.
const listPath = "/api/douyin/get-video-sub-comment/v1"

// maxBody bounds one answer: a page of 20 replies is about 120 KB.
const maxBody = 16 << 20

// listing is one decoded page of a JustOneAPI listing of items T: replies
// or a video's top-level comments, which share the envelope.
type listing[T any] struct {
	Comments []T
	HasMore  bool
	Total    int64
	Cursor   int64
}

// page is one decoded page of replies.
type page = listing[reply]

// answer is JustOneAPI's envelope, holding only the fields used.
type answer[T any] struct {
	Code    *flexCode `json:"code"`
	Message string    `json:"message"`
	Msg     string    `json:"msg"`
	Data    *struct {
		Comments []T      `json:"comments"`
		Cursor   flexInt  `json:"cursor"`
		HasMore  flexBool `json:"has_more"`
		Total    flexInt  `json:"total"`
	} `json:"data"`
}

// reply is one Douyin reply, holding only the fields used (of about 220).
type reply struct {
	CID             flexID           `json:"cid"`
	AwemeID         flexID           `json:"aweme_id"`
	ReplyID         flexID           `json:"reply_id"`
	ReplyToReplyID  flexID           `json:"reply_to_reply_id"`
	ReplyToUsername string           `json:"reply_to_username"`
	Text            string           `json:"text"`
	CreateTime      platform.RawTime `json:"create_time"` // checked by platform.CommentTimes
	DiggCount       flexInt          `json:"digg_count"`
	IsAuthorDigged  flexBool         `json:"is_author_digged"`
	Level           flexInt          `json:"level"`
	User            struct {
		UID        flexID   `json:"uid"`
		SecUID     string   `json:"sec_uid"`
		UniqueID   string   `json:"unique_id"`
		Nickname   string   `json:"nickname"`
		Region     string   `json:"region"`
		IsVerified flexBool `json:"is_verified"`
	} `json:"user"`
}

// flexID is an id that arrives as a string or as a JSON number; a number's
// digits are kept exactly (ids exceed 2^53).
type flexID string

func (f *flexID) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = ""
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		s, err := unquote(b)
		*f = flexID(s)
		return err
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("id: %w", err)
	}
	*f = flexID(n.String())
	return nil
}

// flexInt is an integer that arrives as a number or a numeric string.
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		*f = 0
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var err error
		if s, err = unquote(b); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
		if s == "" {
			*f = 0
			return nil
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		// A float such as 1.0 or 1e3 is still a count.
		x, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil {
			return fmt.Errorf("integer: %q", s)
		}
		n = platform.FloatToInt(x)
	}
	*f = flexInt(n)
	return nil
}

// flexBool is a flag that arrives as a bool, a number (0 = false) or a string.
type flexBool bool

func (f *flexBool) UnmarshalJSON(b []byte) error {
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		var err error
		if s, err = unquote(b); err != nil {
			return err
		}
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true":
		*f = true
		return nil
	case "false", "null", "":
		*f = false
		return nil
	}
	x, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("flag: %q", s)
	}
	*f = x != 0
	return nil
}

// unquote decodes the JSON string b, quickly when it has no escapes (ids
// and numbers never do).
func unquote(b []byte) (string, error) {
	if len(b) >= 2 && b[len(b)-1] == '"' && bytes.IndexByte(b[1:len(b)-1], '\\') < 0 {
		return string(b[1 : len(b)-1]), nil
	}
	var s string
	err := json.Unmarshal(b, &s)
	return s, err
}

// flexCode is the business code, a number or a string ("0").
type flexCode string

func (f *flexCode) UnmarshalJSON(b []byte) error {
	var id flexID
	if err := id.UnmarshalJSON(b); err != nil {
		return err
	}
	*f = flexCode(strings.TrimSpace(string(id)))
	return nil
}

// decodePage decodes one answer of the reply listing: the page on code 0,
// else a *model.SourceError.
func decodePage(body []byte, now time.Time, loc *time.Location) (page, error) {
	return decodeListing[reply](body, now, loc)
}

// decodeListing decodes one answer of a listing of items T: the page on
// code 0, else a *model.SourceError saying what the poller must do.
func decodeListing[T any](body []byte, now time.Time, loc *time.Location) (listing[T], error) {
	var a answer[T]
	if err := json.Unmarshal(body, &a); err != nil {
		return listing[T]{}, &model.SourceError{Action: model.SourceRetry, Msg: "broken JSON answer: " + err.Error()}
	}
	if a.Code == nil {
		return listing[T]{}, &model.SourceError{Action: model.SourceRetry, Msg: "answer without a code"}
	}
	if code := string(*a.Code); code != "0" {
		msg := a.Message
		if msg == "" {
			msg = a.Msg
		}
		return listing[T]{}, codeError(code, msg, now, loc)
	}
	var p listing[T]
	if a.Data != nil {
		p = listing[T]{Comments: a.Data.Comments, HasMore: bool(a.Data.HasMore), Total: int64(a.Data.Total), Cursor: int64(a.Data.Cursor)}
	}
	return p, nil
}

// codeError maps a JustOneAPI business code to what the poller must do.
func codeError(code, msg string, now time.Time, loc *time.Location) *model.SourceError {
	e := &model.SourceError{Code: code, Msg: msg}
	if e.Msg == "" {
		e.Msg = "JustOneAPI error"
	}
	switch code {
	case "302":
		e.Action = model.SourceBackoff
	case "303":
		e.Action = model.SourcePause
		e.Until = nextLocalDay(now, loc)
	case "100", "300", "600", "601", "602":
		e.Action = model.SourceStop
	case "400":
		e.Action = model.SourceSkipThread
	default:
		// 301 and 500 (passing failures), and any code we do not know.
		e.Action = model.SourceRetry
	}
	return e
}

// nextLocalDay is the next midnight in loc after now: when the daily quota resets.
func nextLocalDay(now time.Time, loc *time.Location) time.Time {
	t := now.In(loc)
	y, m, d := t.Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, loc)
}

// fetch asks for one page of thread commentID. Every error is a
// *model.SourceError whose message holds no token.
func (s *Source) fetch(ctx context.Context, commentID string, pageNo int) (page, error) {
	return getListing[reply](ctx, s, s.replies, "commentId", commentID, pageNo)
}

// getListing asks listing l for page pageNo of the thread or video id
// (query parameter idParam) and decodes the answer. Both listings are
// plain GETs without side effects, sent on kept-alive connections: a
// transport that replays one costs at most one more billed call. Every
// error is a *model.SourceError whose message holds no token.
func getListing[T any](ctx context.Context, s *Source, l listingClient, idParam, id string, pageNo int) (listing[T], error) {
	q := url.Values{}
	q.Set("token", s.cfg.Token)
	q.Set(idParam, id)
	q.Set("page", strconv.Itoa(pageNo))
	a, herr := l.client.Do(ctx, httpx.Request{Method: http.MethodGet, URL: l.endpoint + "?" + q.Encode(),
		Header: http.Header{"Accept": {"application/json"}}, Timeout: s.cfg.Timeout, Limit: maxBody})
	defer a.Release()
	if herr != nil {
		return listing[T]{}, &model.SourceError{Action: model.SourceRetry, Msg: herr.Msg}
	}
	if a.Status >= 400 {
		return listing[T]{}, &model.SourceError{Action: model.SourceRetry, Msg: httpx.StatusText(a.Status)}
	}
	if a.Truncated {
		return listing[T]{}, &model.SourceError{Action: model.SourceRetry, Msg: "answer larger than 16 MiB"}
	}
	p, err := decodeListing[T](a.Body, s.now(), s.cfg.Location)
	if se := (*model.SourceError)(nil); errors.As(err, &se) {
		se.Msg = l.client.Redact(se.Msg)
	}
	return p, err
}

// listingClient is one JustOneAPI listing: its URL, and the client that
// names it in errors.
type listingClient struct {
	client   *httpx.Client
	endpoint string // BaseURL + the listing's path
}

// comment converts r, a reply of thread th created at at (its create time
// as checked by platform.CommentTimes), to the shared model.
func comment(th model.Thread, r *reply, at time.Time) model.Comment {
	post := string(r.AwemeID)
	if post == "" || post == "0" {
		post = th.PostID
	}
	root := string(r.ReplyID)
	if root == "" {
		root = th.ID
	}
	return model.Comment{
		Platform:    model.PlatformDouyin,
		ID:          string(r.CID),
		ThreadID:    th.ID,
		PostID:      post,
		RootID:      root,
		ReplyToID:   string(r.ReplyToReplyID),
		ReplyToUser: r.ReplyToUsername,
		Text:        r.Text,
		CreatedAt:   at,
		Likes:       int64(r.DiggCount),
		Level:       int64(r.Level),
		AuthorLiked: bool(r.IsAuthorDigged),
		User: model.User{
			UID:      string(r.User.UID),
			SecUID:   r.User.SecUID,
			UniqueID: r.User.UniqueID,
			Nickname: r.User.Nickname,
			Region:   r.User.Region,
			Verified: bool(r.User.IsVerified),
		},
		Labels: th.Labels,
	}
}
