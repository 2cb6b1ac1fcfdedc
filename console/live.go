package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/termesc"
	"github.com/autoreplyd/autoreplyd/poller"
	"github.com/autoreplyd/autoreplyd/store"
)

// Bounds of the live feed.
const (
	// liveKeep is how many decisions the live page starts with.
	liveKeep = 200
	// liveBuffer is how many events wait for one browser; beyond it the
	// newest are dropped for that browser alone, so a slow or stalled one
	// never holds up the poller (Publish is called from its cycle).
	liveBuffer = 64
	// maxLiveClients bounds the open streams: each holds a connection of
	// the listener's few (healthLimits.maxConns).
	maxLiveClients = 8
	// liveHeartbeat keeps an idle stream's connection open through
	// proxies and shows a dead one to the server.
	liveHeartbeat = 25 * time.Second
)

// liveRow is one decision as the live page shows it (and the stream sends
// it, as JSON the page's script adds as text, never as markup).
type liveRow struct {
	Time     string `json:"time"`
	Platform string `json:"platform"`
	Rule     string `json:"rule"`
	Status   string `json:"status"`
	Reason   string `json:"reason"`
	User     string `json:"user"`
	Comment  string `json:"comment"`
	Reply    string `json:"reply"`
	// Verdict opens the comment in the playground: each rule's verdict on
	// it under the live rules.
	Verdict string `json:"verdict"`
}

// liveRow makes a row of ev: secrets scrubbed, control characters and
// direction overrides visible.
func (c *Console) liveRow(ev poller.Event) liveRow {
	line := func(s string) string { return termesc.String(c.show(s)) }
	status, reason := ev.Status, ev.Reason
	if ev.Err != nil && status == "" {
		status, reason = "error", ev.Err.Error()
	}
	q := url.Values{"text": {c.show(ev.Comment.Text)}, "nickname": {c.show(ev.Comment.User.Nickname)}, "platform": {ev.Comment.Platform}}
	return liveRow{Time: c.timeText(c.now()), Platform: ev.Comment.Platform, Rule: line(ev.Rule), Status: status,
		Reason: line(reason), User: line(ev.Comment.User.Nickname), Comment: line(ev.Comment.Text), Reply: line(ev.Reply),
		Verdict: "/ui/playground?" + q.Encode()}
}

// broker fans decisions out to the live streams.
type broker struct {
	mu      sync.Mutex
	recent  []liveRow // oldest first, at most keep
	keep    int
	clients map[chan liveRow]struct{}
	dropped int
}

func newBroker(keep int) *broker {
	return &broker{keep: keep, clients: map[chan liveRow]struct{}{}}
}

// publish keeps row and offers it to every stream without waiting.
func (b *broker) publish(row liveRow) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.recent = append(b.recent, row)
	if len(b.recent) > b.keep {
		b.recent = slices.Delete(b.recent, 0, len(b.recent)-b.keep)
	}
	for ch := range b.clients {
		select {
		case ch <- row:
		default:
			b.dropped++
		}
	}
}

// subscribe opens a stream; nil when too many are open.
func (b *broker) subscribe() chan liveRow {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.clients) >= maxLiveClients {
		return nil
	}
	ch := make(chan liveRow, liveBuffer)
	b.clients[ch] = struct{}{}
	return ch
}

func (b *broker) unsubscribe(ch chan liveRow) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.clients, ch)
}

// newest are the kept rows, newest first.
func (b *broker) newest() []liveRow {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := slices.Clone(b.recent)
	slices.Reverse(out)
	return out
}

// getLive shows the latest decisions, filtered; the script adds new ones.
func (c *Console) getLive(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	data := struct {
		Rows                       []liveRow
		Platforms, Rules, Statuses []string
		Platform, Rule, Status     string
	}{Platform: q.Get("platform"), Rule: q.Get("rule"), Status: q.Get("status"), Statuses: store.Statuses}
	for _, row := range c.live.newest() {
		if (data.Platform == "" || row.Platform == data.Platform) && (data.Rule == "" || row.Rule == data.Rule) &&
			(data.Status == "" || row.Status == data.Status) {
			data.Rows = append(data.Rows, row)
		}
	}
	for _, ri := range c.opts.Rules().Rules() {
		data.Rules = append(data.Rules, ri.Name)
	}
	data.Platforms = c.platforms()
	c.render(w, r, http.StatusOK, "live", c.signedPage(r, s, "live"), data)
}

// liveEvents streams decisions as server-sent events, one JSON row each.
func (c *Console) liveEvents(w http.ResponseWriter, r *http.Request, _ *session) {
	ch := c.live.subscribe()
	if ch == nil {
		http.Error(w, "too many live streams open", http.StatusServiceUnavailable)
		return
	}
	defer c.live.unsubscribe(ch)
	rc := http.NewResponseController(w)
	// The listener's write timeout bounds ordinary answers; a stream lasts
	// as long as the page is open.
	_ = rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ": live decisions\n\n")
	if rc.Flush() != nil {
		return
	}
	tick := time.NewTicker(liveHeartbeat)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-c.closed:
			return
		case <-tick.C:
			fmt.Fprint(w, ": heartbeat\n\n")
		case row := <-ch:
			js, err := json.Marshal(row)
			if err != nil {
				continue
			}
			fmt.Fprintf(w, "event: decision\ndata: %s\n\n", js)
		}
		if rc.Flush() != nil {
			return
		}
	}
}
