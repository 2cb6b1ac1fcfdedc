// The source lists the comments of
// watched weibos through `GET 2/comments/show.json` (OAuth2), newest first,
// asking only for comments above since_id, the largest comment id seen
// (kept in ThreadState.Cursor), and paging until a page comes back short.
//
// Comment ids are global on Weibo and near 2^53: they are read from
// `idstr` and compared as decimal strings, never through float64. A
// comment's ThreadID and PostID are the weibo's id.

package weibo

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/autoreplyd/autoreplyd/internal/httpx"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/platform"
)

const (
	// ShowPath lists one weibo's comments.
	ShowPath = "/2/comments/show.json"
	// PageSize is show.json's count: its maximum.
	PageSize = 200
	// DefaultMaxPages bounds one poll: 50 pages of 200 comments.
	DefaultMaxPages = 50
	// DefaultSourceTimeout bounds one call.
	DefaultSourceTimeout = 30 * time.Second
	// RateLimitBackoff is how long a rate limit answer (10022-10024) stops
	// polling.
	RateLimitBackoff = time.Hour
	// TimeLayout is Weibo's created_at: "Wed Jun 01 00:50:25 +0800 2011".
	TimeLayout = "Mon Jan 02 15:04:05 -0700 2006"
)

// Weibo is one watched weibo.
type Weibo struct {
	ID     string // digits
	Labels map[string]string
}

// SourceConfig configures a Source.
type SourceConfig struct {
	BaseURL     string // e.g. https://api.weibo.com
	AccessToken string
	Weibos      []Weibo
	Timeout     time.Duration // per call; default DefaultSourceTimeout
	MaxPages    int           // default DefaultMaxPages
	// Rate is the most calls per second, shared by every weibo and waited
	// for before each call; 0 means no limit. Burst is the token bucket's
	// size (default platform.DefaultCallBurst).
	Rate       rate.Limit
	Burst      int
	HTTPClient *http.Client // optional
	Now        func() time.Time
}

// Source lists new comments of watched weibos. It implements
// platform.Source and is safe for concurrent use.
type Source struct {
	cfg     SourceConfig
	base    string
	client  *httpx.Client
	threads []model.Thread
	byID    map[string]Weibo
	limit   *platform.CallLimit
}

var _ platform.Source = (*Source)(nil)

// NewSource checks cfg and returns the source.
func NewSource(cfg SourceConfig) (*Source, error) {
	if cfg.AccessToken == "" {
		return nil, errors.New("weibo: no access token")
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("weibo: base_url %q: want http(s)://host", cfg.BaseURL)
	}
	s := &Source{byID: map[string]Weibo{}, base: strings.TrimRight(cfg.BaseURL, "/"),
		limit: platform.NewCallLimit(cfg.Rate, cfg.Burst)}
	for i, w := range cfg.Weibos {
		if !digits(w.ID) {
			return nil, fmt.Errorf("weibo: weibo %d: id %q: want digits", i, w.ID)
		}
		if _, dup := s.byID[w.ID]; dup {
			return nil, fmt.Errorf("weibo: weibo %s is listed twice", w.ID)
		}
		s.byID[w.ID] = w
		s.threads = append(s.threads, model.Thread{ID: w.ID, PostID: w.ID, Labels: w.Labels})
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultSourceTimeout
	}
	if cfg.MaxPages <= 0 {
		cfg.MaxPages = DefaultMaxPages
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s.client = httpx.New(cfg.HTTPClient, s.base+ShowPath, cfg.AccessToken)
	cfg.Weibos = slices.Clone(cfg.Weibos)
	s.cfg = cfg
	return s, nil
}

// Platform is "weibo".
func (s *Source) Platform() string { return model.PlatformWeibo }

// Threads are the watched weibos, as threads.
func (s *Source) Threads() []model.Thread { return slices.Clone(s.threads) }

// apiUser is a comment's author, the fields used.
type apiUser struct {
	ID         json.Number `json:"id"`
	IDStr      string      `json:"idstr"`
	ScreenName string      `json:"screen_name"`
	Name       string      `json:"name"`
	Location   string      `json:"location"`
	Verified   bool        `json:"verified"`
}

func (u *apiUser) uid() string {
	if u == nil {
		return ""
	}
	if u.IDStr != "" {
		return u.IDStr
	}
	return u.ID.String()
}

// apiComment is one comment of show.json, the fields used.
type apiComment struct {
	ID           json.Number      `json:"id"`
	IDStr        string           `json:"idstr"`
	Text         string           `json:"text"`
	CreatedAt    platform.RawTime `json:"created_at"` // see commentTime
	User         *apiUser         `json:"user"`
	RootIDStr    string           `json:"rootidstr"`
	ReplyComment *struct {
		ID    json.Number `json:"id"`
		IDStr string      `json:"idstr"`
		User  *apiUser    `json:"user"`
	} `json:"reply_comment"`
}

func (c *apiComment) id() string {
	if c.IDStr != "" {
		return c.IDStr
	}
	return c.ID.String()
}

// showAnswer is show.json's answer (or its error).
type showAnswer struct {
	Comments    []apiComment `json:"comments"`
	TotalNumber int64        `json:"total_number"`
	ErrorCode   json.Number  `json:"error_code"`
	Error       string       `json:"error"`
}

// idLess orders decimal ids without converting them.
func idLess(a, b string) bool {
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// ParseTime reads Weibo's created_at.
func ParseTime(s string) (time.Time, error) { return time.Parse(TimeLayout, s) }

// commentTime is the create time of comment id from its created_at, raw:
// Weibo's date ("Wed Jun 01 00:50:25 +0800 2011"), or unix seconds as some
// variants of the API give, when plausible; else the poll's time.
func commentTime(times *platform.CommentTimes, id string, raw platform.RawTime) time.Time {
	t, err := ParseTime(strings.TrimSpace(string(raw)))
	if err != nil {
		return times.Unix(id, raw)
	}
	return times.Take(id, t, true, string(raw))
}

// PollThread lists the weibo's comments above prev.Cursor (all of them on
// first sight: the poller treats those as the backlog) and returns the
// ones not known before, oldest first.
func (s *Source) PollThread(ctx context.Context, th model.Thread, prev model.ThreadState, known platform.KnownFunc) (model.PollResult, error) {
	w, ok := s.byID[th.ID]
	if !ok {
		return model.PollResult{State: prev}, &model.SourceError{Action: model.SourceSkipThread, Msg: "not a configured weibo: " + th.ID}
	}
	since := prev.Cursor
	if since != "" && !digits(since) {
		since = ""
	}
	var (
		found  []model.Comment
		seen   = map[string]bool{}
		calls  int
		total  int64
		maxID  = since
		full   bool // the last page was full: more may follow
		now    = s.cfg.Now()
		labels = w.Labels
	)
	// times gives new comments their create times, the poll's time for an
	// unusable one.
	times := platform.NewCommentTimes(now)
	fail := func(err error) (model.PollResult, error) {
		return model.PollResult{Comments: sortComments(found), State: prev, Calls: calls, BadTimes: times.Bad()}, err
	}
	for page := 1; page <= s.cfg.MaxPages; page++ {
		// The source's rate limit, shared by every weibo; a cancelled wait
		// makes no call.
		if err := s.limit.Wait(ctx); err != nil {
			return fail(err)
		}
		ans, err := s.show(ctx, w.ID, since, page)
		calls++
		if err != nil {
			return fail(err)
		}
		if page == 1 {
			total = ans.TotalNumber
		}
		var ids []string
		batch := make([]model.Comment, 0, len(ans.Comments))
		raw := make([]platform.RawTime, 0, len(ans.Comments)) // batch[i]'s created_at
		for _, c := range ans.Comments {
			id := c.id()
			if !digits(id) || seen[id] {
				continue
			}
			if since != "" && !idLess(since, id) {
				continue // not above since_id: already seen
			}
			seen[id] = true
			if idLess(maxID, id) {
				maxID = id
			}
			mc := model.Comment{
				Platform:  model.PlatformWeibo,
				ID:        id,
				ThreadID:  th.ID,
				PostID:    w.ID,
				RootID:    "0",
				ReplyToID: "0",
				Text:      c.Text,
				Level:     1,
				Labels:    labels,
			}
			if c.User != nil {
				mc.User = model.User{UID: c.User.uid(), UniqueID: c.User.ScreenName, Nickname: c.User.ScreenName,
					Region: c.User.Location, Verified: c.User.Verified}
				if mc.User.Nickname == "" {
					mc.User.Nickname = c.User.Name
				}
			}
			if digits(c.RootIDStr) && c.RootIDStr != id {
				mc.RootID = c.RootIDStr
				mc.Level = 2
			}
			if rc := c.ReplyComment; rc != nil {
				rid := rc.IDStr
				if rid == "" {
					rid = rc.ID.String()
				}
				if digits(rid) {
					mc.ReplyToID = rid
					mc.Level = 2
				}
				if rc.User != nil {
					mc.ReplyToUser = rc.User.ScreenName
				}
			}
			ids = append(ids, id)
			batch = append(batch, mc)
			raw = append(raw, c.CreatedAt)
		}
		recorded := map[string]bool{}
		if len(ids) > 0 && known != nil {
			if recorded, err = known(ctx, ids); err != nil {
				return fail(&model.SourceError{Action: model.SourceRetry, Msg: "look up known comments: " + s.client.Redact(err.Error())})
			}
		}
		for i, c := range batch {
			if !recorded[c.ID] {
				// Only new comments' times are checked (and warned about):
				// a known one's time was settled when it was recorded.
				c.CreatedAt = commentTime(times, c.ID, raw[i])
				found = append(found, c)
			}
		}
		full = len(ans.Comments) >= PageSize
		if !full {
			break
		}
	}
	st := prev
	st.Platform = model.PlatformWeibo
	st.ThreadID = th.ID
	st.Initialized = true
	st.Total = total
	st.Known = prev.Known + int64(len(seen))
	st.PageSize = PageSize
	st.Order = model.OrderNewest
	st.Polls = prev.Polls + 1
	st.LastPolled = now
	if !full {
		// The listing was read to its end: since_id may move on.
		st.Cursor = maxID
		if since == "" {
			st.LastFullScan = now
		}
	}
	// With the page budget spent, the cursor stays: the next poll reads the
	// same range again and the known ids keep anything from being answered
	// twice.
	return model.PollResult{Comments: sortComments(found), State: st, Calls: calls, BadTimes: times.Bad()}, nil
}

// maxShowAnswer bounds one show.json answer: a page of 200 comments is
// about 1 MB.
const maxShowAnswer = 8 << 20

// show makes one show.json call.
func (s *Source) show(ctx context.Context, weiboID, since string, page int) (*showAnswer, error) {
	q := url.Values{}
	q.Set("access_token", s.cfg.AccessToken)
	q.Set("id", weiboID)
	if since != "" {
		q.Set("since_id", since)
	}
	q.Set("count", strconv.Itoa(PageSize))
	q.Set("page", strconv.Itoa(page))
	a, herr := s.client.Do(ctx, httpx.Request{Method: http.MethodGet, URL: s.base + ShowPath + "?" + q.Encode(),
		Timeout: s.cfg.Timeout, Limit: maxShowAnswer})
	defer a.Release()
	switch {
	case herr != nil && herr.Stage == httpx.Build:
		return nil, &model.SourceError{Action: model.SourceStop, Msg: herr.Msg}
	case herr != nil:
		return nil, &model.SourceError{Action: model.SourceRetry, Msg: herr.Msg}
	}
	var ans showAnswer
	jerr := json.Unmarshal(a.Body, &ans)
	if jerr == nil && ans.ErrorCode != "" && ans.ErrorCode != "0" {
		return nil, s.codeError(ans.ErrorCode.String(), s.client.Redact(ans.Error))
	}
	if a.Status/100 != 2 {
		return nil, &model.SourceError{Action: model.SourceRetry, Msg: "comments/show: " + httpx.StatusText(a.Status)}
	}
	if jerr != nil {
		return nil, &model.SourceError{Action: model.SourceRetry, Msg: "comments/show: unreadable answer"}
	}
	return &ans, nil
}

// codeError maps a Weibo error code to what the poller must do.
func (s *Source) codeError(code, msg string) *model.SourceError {
	e := &model.SourceError{Code: code, Msg: msg}
	n, _ := strconv.Atoi(code)
	switch {
	case n >= 21300 && n < 21400:
		// 21327 expired, 21314-21317 used/expired/revoked/rejected,
		// 21301/21332 invalid: the operator must renew the token.
		e.Action = model.SourceStop
		e.Msg = msg + " (renew sources.weibo.access_token)"
	case n >= 10022 && n <= 10024, n == 20016:
		e.Action = model.SourceBackoff
		e.RetryAfter = RateLimitBackoff
	case n == 20101, n == 10008:
		// The weibo is gone, or its id refused.
		e.Action = model.SourceSkipThread
	default:
		e.Action = model.SourceRetry
	}
	return e
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
