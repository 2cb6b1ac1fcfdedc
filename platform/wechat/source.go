// The source lists
// the comments of watched articles through `POST /cgi-bin/comment/list`,
// paging by begin until a page comes back short (the listing's total is
// unreliable and its order unknown), and tells new comments from known ones
// by id wherever they appear.
//
// A comment's user_comment_id is unique within its article only, so the
// comment's model id is "<msg_data_id>:<index>:<user_comment_id>"; the
// thread's id (and post id) is "<msg_data_id>:<index>".

package wechat

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/platform"
)

const (
	// PageSize is comment/list's count: at most 49 to be safe.
	PageSize = 49
	// DefaultMaxPages bounds one poll: 500 pages of 49 comments.
	DefaultMaxPages = 500
	// DefaultSourceTimeout bounds one call.
	DefaultSourceTimeout = 30 * time.Second
)

// Article is one watched article: a msg_data_id and the index of the
// article within that mass message.
type Article struct {
	MsgDataID string // digits
	Index     int
	Labels    map[string]string
}

// ThreadID is the thread (and post) id of an article: "<msg_data_id>:<index>".
func ThreadID(msgDataID string, index int) string {
	return msgDataID + ":" + strconv.Itoa(index)
}

// CommentID is a comment's model id: "<msg_data_id>:<index>:<user_comment_id>".
func CommentID(msgDataID string, index int, userCommentID string) string {
	return ThreadID(msgDataID, index) + ":" + userCommentID
}

// ParseCommentID splits a CommentID into its parts, each all digits.
func ParseCommentID(id string) (msgDataID, index, userCommentID string, err error) {
	parts := strings.Split(id, ":")
	if len(parts) != 3 {
		return "", "", "", fmt.Errorf("comment id %q: want <msg_data_id>:<index>:<user_comment_id>", id)
	}
	for _, p := range parts {
		if !digits(p) {
			return "", "", "", fmt.Errorf("comment id %q: parts must be digits", id)
		}
	}
	return parts[0], parts[1], parts[2], nil
}

func digits(s string) bool {
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

// SourceConfig configures a Source.
type SourceConfig struct {
	Client   *Client // shared with the responder of the same app
	Articles []Article
	Timeout  time.Duration // per call; default DefaultSourceTimeout
	MaxPages int           // default DefaultMaxPages
	// Rate is the most comment/list calls per second, shared by every
	// article and waited for before each call (the token calls, shared with
	// the responder, are not counted); 0 means no limit. Burst is the token
	// bucket's size (default platform.DefaultCallBurst).
	Rate  rate.Limit
	Burst int
	// Location is where "the next day" starts when the daily quota (45009)
	// is exhausted (default time.Local).
	Location *time.Location
	Now      func() time.Time // optional, for tests
}

// Source lists new comments of watched WeChat articles. It implements
// platform.Source and is safe for concurrent use.
type Source struct {
	cfg     SourceConfig
	threads []model.Thread
	byID    map[string]Article
	limit   *platform.CallLimit
}

var _ platform.Source = (*Source)(nil)

// NewSource checks cfg and returns the source.
func NewSource(cfg SourceConfig) (*Source, error) {
	if cfg.Client == nil {
		return nil, errors.New("wechat: no API client")
	}
	s := &Source{byID: map[string]Article{}, limit: platform.NewCallLimit(cfg.Rate, cfg.Burst)}
	for i, a := range cfg.Articles {
		if !digits(a.MsgDataID) {
			return nil, fmt.Errorf("wechat: article %d: msg_data_id %q: want digits", i, a.MsgDataID)
		}
		if a.Index < 0 {
			return nil, fmt.Errorf("wechat: article %d: index must not be negative", i)
		}
		id := ThreadID(a.MsgDataID, a.Index)
		if _, dup := s.byID[id]; dup {
			return nil, fmt.Errorf("wechat: article %s is listed twice", id)
		}
		s.byID[id] = a
		s.threads = append(s.threads, model.Thread{ID: id, PostID: id, Labels: a.Labels})
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultSourceTimeout
	}
	if cfg.MaxPages <= 0 {
		cfg.MaxPages = DefaultMaxPages
	}
	if cfg.Location == nil {
		cfg.Location = time.Local
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.Articles = slices.Clone(cfg.Articles)
	s.cfg = cfg
	return s, nil
}

// Platform is "wechat".
func (s *Source) Platform() string { return model.PlatformWeChat }

// Threads are the watched articles, as threads.
func (s *Source) Threads() []model.Thread { return slices.Clone(s.threads) }

// listRequest is comment/list's body; ids are JSON numbers.
type listRequest struct {
	MsgDataID json.Number `json:"msg_data_id"`
	Index     int         `json:"index"`
	Begin     int         `json:"begin"`
	Count     int         `json:"count"`
	Type      int         `json:"type"`
}

// listAnswer is comment/list's answer, the fields used.
type listAnswer struct {
	// Total is a hint; lenient, like comment_type: a hostile value in a
	// field only glanced at must not fail the page.
	Total   platform.LenientInt `json:"total"`
	Comment []struct {
		UserCommentID json.Number `json:"user_comment_id"`
		OpenID        string      `json:"openid"`
		// CreateTime is checked by platform.CommentTimes: a hostile value
		// costs the comment its time, never the page.
		CreateTime  platform.RawTime    `json:"create_time"`
		Content     string              `json:"content"`
		CommentType platform.LenientInt `json:"comment_type"`
		// Reply is our answer, when there is one; only its presence is
		// used (its create_time is not read, so it cannot fail the page).
		Reply *struct {
			Content string `json:"content"`
		} `json:"reply"`
	} `json:"comment"`
}

// PollThread scans an article's whole comment list (pages of PageSize until
// a short one) and returns the comments not known before. Comments already
// answered on the platform come back with AlreadyAnswered set.
func (s *Source) PollThread(ctx context.Context, th model.Thread, prev model.ThreadState, known platform.KnownFunc) (model.PollResult, error) {
	a, ok := s.byID[th.ID]
	if !ok {
		return model.PollResult{State: prev}, &model.SourceError{Action: model.SourceSkipThread, Msg: "not a configured article: " + th.ID}
	}
	var (
		found []model.Comment
		seen  = map[string]bool{}
		calls int
		total int64
	)
	// times gives new comments their create times, the poll's time for an
	// unusable one.
	times := platform.NewCommentTimes(s.cfg.Now())
	fail := func(err error) (model.PollResult, error) {
		return model.PollResult{Comments: sortComments(found), State: prev, Calls: calls, BadTimes: times.Bad()}, err
	}
	for begin := 0; calls < s.cfg.MaxPages; begin += PageSize {
		if err := s.limit.Wait(ctx); err != nil {
			return fail(err)
		}
		var ans listAnswer
		err := s.cfg.Client.Call(ctx, Request{
			Path:    CommentListPath,
			Body:    listRequest{MsgDataID: json.Number(a.MsgDataID), Index: a.Index, Begin: begin, Count: PageSize, Type: 0},
			Timeout: s.cfg.Timeout,
		}, &ans)
		calls++
		if err != nil {
			return fail(s.sourceError(err))
		}
		if begin == 0 {
			total = int64(ans.Total)
		}
		var ids []string
		page := make([]model.Comment, 0, len(ans.Comment))
		raw := make([]platform.RawTime, 0, len(ans.Comment)) // page[i]'s create time
		for _, c := range ans.Comment {
			ucid := c.UserCommentID.String()
			if !digits(ucid) {
				continue
			}
			id := CommentID(a.MsgDataID, a.Index, ucid)
			if seen[id] {
				continue // paging shifted under us: already taken
			}
			seen[id] = true
			ids = append(ids, id)
			page = append(page, model.Comment{
				Platform:        model.PlatformWeChat,
				ID:              id,
				ThreadID:        th.ID,
				PostID:          th.ID,
				RootID:          "0",
				ReplyToID:       "0",
				Text:            c.Content,
				Level:           1,
				User:            model.User{UID: c.OpenID},
				Labels:          th.Labels,
				AlreadyAnswered: c.Reply != nil,
			})
			raw = append(raw, c.CreateTime)
		}
		recorded := map[string]bool{}
		if len(ids) > 0 && known != nil {
			if recorded, err = known(ctx, ids); err != nil {
				return fail(&model.SourceError{Action: model.SourceRetry, Msg: "look up known comments: " + s.cfg.Client.Redact(err.Error())})
			}
		}
		for i, c := range page {
			if !recorded[c.ID] {
				// Only new comments' times are checked (and warned about):
				// a known one's time was settled when it was recorded.
				c.CreatedAt = times.Unix(c.ID, raw[i])
				found = append(found, c)
			}
		}
		if len(ans.Comment) < PageSize {
			break
		}
	}
	now := s.cfg.Now()
	st := prev
	st.Platform = model.PlatformWeChat
	st.ThreadID = th.ID
	st.Initialized = true
	st.Total = total
	st.Known = int64(len(seen))
	st.PageSize = PageSize
	st.Polls = prev.Polls + 1
	st.LastFullScan = now
	st.LastPolled = now
	return model.PollResult{Comments: sortComments(found), State: st, Calls: calls, BadTimes: times.Bad()}, nil
}

// sourceError maps a client failure to what the poller must do.
func (s *Source) sourceError(err error) *model.SourceError {
	var we *Error
	if !errors.As(err, &we) {
		return &model.SourceError{Action: model.SourceRetry, Msg: s.cfg.Client.Redact(err.Error())}
	}
	e := &model.SourceError{Msg: we.Error()}
	if we.Code != 0 {
		e.Code = strconv.Itoa(we.Code)
	}
	switch {
	case we.Code == 0:
		e.Action = model.SourceRetry
	case IsFatalCode(we.Code), we.Code == CodeNoCommentPriv:
		e.Action = model.SourceStop
	case we.Code == CodeDailyQuota:
		e.Action = model.SourcePause
		e.Until = nextLocalDay(s.cfg.Now(), s.cfg.Location)
	case we.Code == CodeTooFrequent:
		e.Action = model.SourceBackoff
	case we.Code == CodeArticleNotFound, we.Code == CodeArticleLimited, we.Code == CodeArticleLimited2:
		e.Action = model.SourceSkipThread
	default:
		// -1 busy, a token still refused after one refresh, others.
		e.Action = model.SourceRetry
	}
	return e
}

// nextLocalDay is the next midnight in loc after now.
func nextLocalDay(now time.Time, loc *time.Location) time.Time {
	t := now.In(loc)
	y, m, d := t.Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, loc)
}

// sortComments orders comments by creation time, ties by numeric id.
func sortComments(cs []model.Comment) []model.Comment {
	out := slices.Clone(cs)
	slices.SortStableFunc(out, func(a, b model.Comment) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		if c := cmp.Compare(len(a.ID), len(b.ID)); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}
