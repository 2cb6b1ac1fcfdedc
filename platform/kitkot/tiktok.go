// The TikTok source lists the replies of
// watched TikTok comment threads through kitkot's
// `GET /api/video/comments/replies` (a cursor-paged listing) and tells new
// replies from known ones by cid, whatever order kitkot lists them in.
//
// A poll scans the thread to the end, except when the listing is known to be
// newest first: then it stops at the first page whose replies are all known.
// A cursor cannot jump to the end of an oldest-first listing, so such a
// listing is scanned whole, and so is every FullRescanEvery-th poll.

package kitkot

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/autoreplyd/autoreplyd/internal/httpx"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/platform"
)

// Defaults of Config.
const (
	DefaultSourceTimeout   = 60 * time.Second
	DefaultMaxPages        = 500
	DefaultFullRescanEvery = 60
	DefaultPageSize        = 20 // the count asked for
)

// SourceConfig configures a Source.
type SourceConfig struct {
	BaseURL string // e.g. https://kitkot.xyz/api
	APIKey  string
	// Timeout bounds each call (default DefaultSourceTimeout).
	Timeout time.Duration
	// MaxPages bounds the calls of one poll (default DefaultMaxPages); a
	// scan that reaches it counts as complete.
	MaxPages int
	// FullRescanEvery makes every n-th poll of a newest-first thread a full
	// scan (default DefaultFullRescanEvery; negative: never after the first).
	FullRescanEvery int
	// PageSize is the count asked for per page (default DefaultPageSize).
	PageSize int
	Threads  []model.Thread
	// Rate is the most calls per second, shared by every thread and waited
	// for before each call; 0 means no limit. Burst is the token bucket's
	// size (default platform.DefaultCallBurst).
	Rate  rate.Limit
	Burst int
	// HTTPClient is optional.
	HTTPClient *http.Client
	// Now is optional, for tests.
	Now func() time.Time
}

// Source lists new replies of watched TikTok threads. It implements
// platform.Source and is safe for concurrent use.
type Source struct {
	cfg      SourceConfig
	client   *httpx.Client
	endpoint string
	limit    *platform.CallLimit
}

var _ platform.Source = (*Source)(nil)

// NewSource checks cfg, fills its defaults and returns the source.
func NewSource(cfg SourceConfig) (*Source, error) {
	u, err := platform.ParseBaseURL("tiktok", cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	if cfg.APIKey == "" {
		return nil, errors.New("tiktok: api_key is empty")
	}
	if err := platform.CheckThreads("tiktok", cfg.Threads); err != nil {
		return nil, err
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultSourceTimeout
	}
	if cfg.MaxPages <= 0 {
		cfg.MaxPages = DefaultMaxPages
	}
	if cfg.FullRescanEvery == 0 {
		cfg.FullRescanEvery = DefaultFullRescanEvery
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = DefaultPageSize
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.Threads = slices.Clone(cfg.Threads)
	u.Path = strings.TrimRight(u.Path, "/") + listPath
	return &Source{cfg: cfg, client: httpx.New(cfg.HTTPClient, u.String(), cfg.APIKey), endpoint: u.String(),
		limit: platform.NewCallLimit(cfg.Rate, cfg.Burst)}, nil
}

// Platform is "tiktok".
func (s *Source) Platform() string { return model.PlatformTikTok }

// Threads are the watched threads, as configured.
func (s *Source) Threads() []model.Thread { return slices.Clone(s.cfg.Threads) }

// PollThread lists what is new in thread th since prev.
func (s *Source) PollThread(ctx context.Context, th model.Thread, prev model.ThreadState, known platform.KnownFunc) (model.PollResult, error) {
	full := !prev.Initialized || prev.Order != model.OrderNewest ||
		platform.RescanDue(th.ID, prev.Polls, s.cfg.FullRescanEvery)

	status := map[string]bool{} // cid seen in this poll -> not known before it
	var found []model.Comment
	var obs platform.OrderObserver
	// times gives new replies their create times, the poll's time for an
	// unusable one.
	times := platform.NewCommentTimes(s.cfg.Now())
	calls := 0
	var total int64
	cursor := ""
	failed := func(err error) (model.PollResult, error) {
		return model.PollResult{Comments: sorted(found), State: prev, Calls: calls, BadTimes: times.Bad()}, err
	}
	for {
		// The source's rate limit, shared by every thread; a cancelled
		// wait makes no call.
		if err := s.limit.Wait(ctx); err != nil {
			return failed(err)
		}
		p, err := s.fetch(ctx, th.ID, cursor)
		calls++
		if err != nil {
			return failed(err)
		}
		if calls == 1 {
			total = p.Total
		}
		for i := range p.Replies {
			if t, ok := platform.UnixCommentTime(string(p.Replies[i].CreateTime), times.Now()); ok {
				obs.Observe(t)
			}
		}
		var ids []string
		for i := range p.Replies {
			if id := string(p.Replies[i].CID); id != "" && !slices.Contains(ids, id) {
				if _, seen := status[id]; !seen {
					ids = append(ids, id)
				}
			}
		}
		recorded := map[string]bool{}
		if len(ids) > 0 && known != nil {
			if recorded, err = known(ctx, ids); err != nil {
				return failed(&model.SourceError{Action: model.SourceRetry, Msg: "look up known replies: " + s.client.Redact(err.Error())})
			}
		}
		fresh := 0
		for i := range p.Replies {
			r := &p.Replies[i]
			id := string(r.CID)
			if _, seen := status[id]; id == "" || seen {
				continue
			}
			status[id] = !recorded[id]
			if !recorded[id] {
				fresh++
				found = append(found, comment(th, r, times.Unix(id, r.CreateTime)))
			}
		}
		switch {
		case !p.HasMore || len(p.Replies) == 0 || calls >= s.cfg.MaxPages:
		case p.Next == "" || p.Next == cursor:
			// A cursor that does not move would loop: the listing ends here.
		case !full && fresh == 0:
			// Newest first: a page with nothing new ends the new replies.
		default:
			cursor = p.Next
			continue
		}
		break
	}

	now := s.cfg.Now()
	st := prev
	st.Platform = model.PlatformTikTok
	st.ThreadID = th.ID
	st.Total = total
	st.Polls = prev.Polls + 1
	st.LastPolled = now
	if full {
		// The order is judged afresh from the whole listing; with too
		// little to judge by, what was known stands unless the listing
		// went against it.
		if st.Order = obs.Judge(model.OrderUnknown); st.Order == model.OrderUnknown {
			st.Order = obs.Judge(prev.Order)
		}
		st.Initialized = true
		st.Known = int64(len(status))
		st.LastFullScan = now
	} else {
		// A step against newest first: scan whole next time.
		st.Order = obs.Judge(prev.Order)
		st.Known = prev.Known + int64(len(found))
	}
	return model.PollResult{Comments: sorted(found), State: st, Calls: calls, BadTimes: times.Bad()}, nil
}

// sorted returns the new replies by creation time, ties by id.
func sorted(found []model.Comment) []model.Comment {
	out := slices.Clone(found)
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

// comment converts r, a reply of thread th created at at (its create time
// as checked by platform.CommentTimes), to the shared model.
func comment(th model.Thread, r *reply, at time.Time) model.Comment {
	post := string(r.AwemeID)
	if post == "" || post == "0" {
		post = th.PostID
	}
	root := string(r.ReplyID)
	if root == "" || root == "0" {
		root = th.ID
	}
	return model.Comment{
		Platform:  model.PlatformTikTok,
		ID:        string(r.CID),
		ThreadID:  th.ID,
		PostID:    post,
		RootID:    root,
		ReplyToID: string(r.ReplyToReplyID),
		Text:      r.Text,
		CreatedAt: at,
		Likes:     r.DiggCount.int(),
		Level:     2,
		User: model.User{
			UID:      string(r.User.UID),
			SecUID:   r.User.SecUID,
			UniqueID: r.User.UniqueID,
			Nickname: r.User.Nickname,
			Region:   r.User.Region,
		},
		Labels: th.Labels,
	}
}
