package kitkot

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

	"github.com/autoreplyd/autoreplyd/internal/httpx"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/platform"
)

// listPath is kitkot's listing of a TikTok comment's replies.
const listPath = "/video/comments/replies"

// maxBody bounds one answer.
const maxBody = 16 << 20

// page is one decoded page of replies.
type page struct {
	Replies []reply
	HasMore bool
	Total   int64
	Next    string // the cursor of the next page
}

// listedAnswer is kitkot's listing listedAnswer, holding only the fields used.
type listedAnswer struct {
	Code         *flexID   `json:"code"`
	Msg          string    `json:"msg"`
	Message      string    `json:"message"`
	Replies      []reply   `json:"replies"`
	NextCursor   flexID    `json:"nextCursor"`
	Cursor       flexID    `json:"cursor"`
	HasMore      *flexBool `json:"has_more"`
	TotalReplies flexID    `json:"total_replies"`
}

// reply is one TikTok comment object, holding only the fields used.
type reply struct {
	CID            flexID           `json:"cid"`
	AwemeID        flexID           `json:"aweme_id"`
	ReplyID        flexID           `json:"reply_id"`
	ReplyToReplyID flexID           `json:"reply_to_reply_id"`
	Text           string           `json:"text"`
	CreateTime     platform.RawTime `json:"create_time"` // checked by platform.CommentTimes
	DiggCount      flexID           `json:"digg_count"`
	User           struct {
		UID      flexID `json:"uid"`
		SecUID   string `json:"sec_uid"`
		UniqueID string `json:"unique_id"`
		Nickname string `json:"nickname"`
		Region   string `json:"region"`
	} `json:"user"`
}

// flexID is a string, a JSON number (digits kept exactly) or null.
type flexID string

func (f *flexID) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = ""
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		err := json.Unmarshal(b, &s)
		*f = flexID(strings.TrimSpace(s))
		return err
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("id: %w", err)
	}
	*f = flexID(n.String())
	return nil
}

// int is the value as an integer, 0 when it is not one.
func (f flexID) int() int64 {
	n, err := strconv.ParseInt(string(f), 10, 64)
	if err != nil {
		x, ferr := strconv.ParseFloat(string(f), 64)
		if ferr != nil {
			return 0
		}
		n = platform.FloatToInt(x)
	}
	return n
}

// flexBool is a bool, a number (0 = false) or a string of either.
type flexBool bool

func (f *flexBool) UnmarshalJSON(b []byte) error {
	s := strings.Trim(strings.ToLower(strings.TrimSpace(string(b))), `"`)
	switch s {
	case "true":
		*f = true
	case "false", "null", "":
		*f = false
	default:
		x, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("flag: %q", s)
		}
		*f = x != 0
	}
	return nil
}

// decodePage decodes a listing answer of HTTP status status.
func decodePage(status int, body []byte) (page, error) {
	var a listedAnswer
	err := json.Unmarshal(body, &a)
	if status >= 400 {
		msg := ""
		if err == nil {
			msg = a.Msg
			if msg == "" {
				msg = a.Message
			}
		}
		return page{}, statusError(status, msg)
	}
	if err != nil {
		return page{}, &model.SourceError{Action: model.SourceRetry, Msg: "broken JSON answer: " + err.Error()}
	}
	if a.Code == nil {
		return page{}, &model.SourceError{Action: model.SourceRetry, Msg: "answer without a code"}
	}
	if code := string(*a.Code); code != "200" && code != "0" {
		n, _ := strconv.Atoi(code)
		msg := a.Msg
		if msg == "" {
			msg = a.Message
		}
		return page{}, statusError(n, msg)
	}
	next := a.NextCursor
	if next == "" {
		next = a.Cursor
	}
	p := page{Replies: a.Replies, Total: a.TotalReplies.int(), Next: string(next)}
	if a.HasMore != nil {
		p.HasMore = bool(*a.HasMore)
	}
	return p, nil
}

// statusError maps a refusal (an HTTP status, or the body's code) to what
// the poller must do.
func statusError(status int, msg string) *model.SourceError {
	e := &model.SourceError{Code: strconv.Itoa(status), Msg: msg}
	if e.Msg == "" {
		e.Msg = "HTTP " + strconv.Itoa(status) + " " + http.StatusText(status)
	}
	low := strings.ToLower(msg)
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden || status == http.StatusPaymentRequired,
		strings.Contains(low, "api_key") || strings.Contains(low, "api key"):
		// A missing, wrong or expired key, or no credit: the operator acts.
		e.Action = model.SourceStop
	case status == http.StatusTooManyRequests:
		e.Action = model.SourceBackoff
	case status == http.StatusBadRequest && strings.Contains(low, "comment"):
		// The watched comment is wrong (unknown, deleted): skip the thread.
		e.Action = model.SourceSkipThread
	default:
		e.Action = model.SourceRetry
	}
	return e
}

// fetch asks for one page of thread commentID from cursor. Every error is a
// *model.SourceError whose message holds no api_key.
func (s *Source) fetch(ctx context.Context, commentID, cursor string) (page, error) {
	q := url.Values{}
	q.Set("api_key", s.cfg.APIKey)
	q.Set("comment_id", commentID)
	q.Set("count", strconv.Itoa(s.cfg.PageSize))
	if cursor == "" {
		cursor = "0"
	}
	q.Set("cursor", cursor)
	a, herr := s.client.Do(ctx, httpx.Request{Method: http.MethodGet, URL: s.endpoint + "?" + q.Encode(),
		Header: http.Header{"Accept": {"application/json"}}, Timeout: s.cfg.Timeout, Limit: maxBody})
	defer a.Release()
	if herr != nil {
		return page{}, &model.SourceError{Action: model.SourceRetry, Msg: herr.Msg}
	}
	if a.Truncated {
		return page{}, &model.SourceError{Action: model.SourceRetry, Msg: "answer larger than 16 MiB"}
	}
	if a.Status >= 500 {
		return page{}, &model.SourceError{Action: model.SourceRetry, Msg: httpx.StatusText(a.Status)}
	}
	p, err := decodePage(a.Status, bytes.TrimSpace(a.Body))
	if se := (*model.SourceError)(nil); errors.As(err, &se) {
		se.Msg = s.client.Redact(se.Msg)
	}
	return p, err
}
