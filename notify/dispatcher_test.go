package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/autoreplyd/autoreplyd/internal/syncbuf"
	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/notify"
	"github.com/autoreplyd/autoreplyd/notify/notifytest"
)

// clock is a test's clock, moved by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: created.Add(time.Minute)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// counts records Options.Count calls.
type counts struct {
	mu sync.Mutex
	m  map[string]int
}

func (c *counts) Count(channel, status string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]int{}
	}
	c.m[channel+"/"+status]++
}

func (c *counts) Get(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[key]
}

// rig is a dispatcher over an in-memory outbox, a hand-moved clock and a
// log buffer, with channels on imitations.
type rig struct {
	ob     *notifytest.Outbox
	clock  *clock
	counts *counts
	log    *syncbuf.Buffer
	d      *notify.Dispatcher
}

var testBackoff = notify.Options{
	RetryBackoff:  notify.Backoff{Initial: time.Minute, Max: 8 * time.Minute},
	ConfigBackoff: notify.Backoff{Initial: time.Hour, Max: 4 * time.Hour},
}

func newRig(t *testing.T, chs ...notify.Channel) *rig {
	t.Helper()
	r := &rig{ob: notifytest.NewOutbox(), clock: newClock(), counts: &counts{}, log: &syncbuf.Buffer{}}
	opts := testBackoff
	opts.Now, opts.Count = r.clock.Now, r.counts.Count
	opts.Logger = slog.New(slog.NewTextHandler(r.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r.d = notify.NewDispatcher(chs, r.ob, opts)
	return r
}

func (r *rig) flush(t *testing.T) {
	t.Helper()
	if err := r.d.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (r *rig) add(channel string, e notify.Event) int64 {
	return r.ob.Add(channel, e, r.clock.Now())
}

func (r *rig) state(t *testing.T, name string) notify.ChannelState {
	t.Helper()
	for _, s := range r.d.State() {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no state of %s", name)
	return notify.ChannelState{}
}

func TestDispatcherDeliversOnce(t *testing.T) {
	t.Parallel()
	srv := notifytest.NewWeCom(t)
	r := newRig(t, newChannel(t, srv, "ops"))
	id := r.add("ops", flaggedEvent(1))
	for range 3 {
		r.flush(t)
		r.clock.Advance(time.Minute)
	}
	if n := len(srv.Messages()); n != 1 {
		t.Errorf("%d messages, want 1", n)
	}
	row := r.ob.Row(id)
	if row.Status != notifytest.StatusDelivered || row.Marked != 1 {
		t.Errorf("row %+v", row)
	}
	if r.counts.Get("ops/sent") != 1 {
		t.Errorf("counts %v", r.counts.m)
	}
	if s := r.state(t, "ops"); !s.Healthy || s.Queued != 0 || !s.LastSuccess.Equal(created.Add(time.Minute)) || s.Type != "wecom" {
		t.Errorf("state %+v", s)
	}
}

func TestDispatcherDigestsAboveTheRate(t *testing.T) {
	t.Parallel()
	srv := notifytest.NewDingTalk(t, "")
	r := newRig(t, newChannel(t, srv, "boss"))
	var ids []int64
	for i := range 12 {
		ids = append(ids, r.add("boss", flaggedEvent(int64(10+i))))
	}
	r.flush(t)
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want one digest", len(msgs))
	}
	if !strings.Contains(msgs[0].Text, "【autoreplyd】12-01 10:30 有 12 条评论需要处理（需人工处理 12 条）") {
		t.Errorf("digest:\n%s", msgs[0].Text)
	}
	for i := range 10 {
		if !strings.Contains(msgs[0].Text, fmt.Sprintf("autoreplyd done %d", 10+i)) {
			t.Errorf("digest lacks event %d", 10+i)
		}
	}
	if !strings.Contains(msgs[0].Text, "另有 2 条未列出") {
		t.Errorf("digest does not count the rest:\n%s", msgs[0].Text)
	}
	for _, id := range ids {
		if row := r.ob.Row(id); row.Status != notifytest.StatusDelivered {
			t.Errorf("row %d: %s", id, row.Status)
		}
	}
	if r.counts.Get("boss/sent") != 12 {
		t.Errorf("counts %v", r.counts.m)
	}

	// The token is spent: the next event waits for the next one, three
	// seconds later at 20 a minute.
	next := r.add("boss", flaggedEvent(30))
	r.flush(t)
	if len(srv.Messages()) != 1 || r.ob.Row(next).Status != notifytest.StatusPending {
		t.Errorf("sent above the rate")
	}
	r.clock.Advance(3 * time.Second)
	r.flush(t)
	if msgs := srv.Messages(); len(msgs) != 2 || !strings.Contains(msgs[1].Text, "评论需要人工处理 #30") {
		t.Errorf("the next event: %d messages", len(msgs))
	}
}

func TestDispatcherCapsDigests(t *testing.T) {
	t.Parallel()
	srv := notifytest.NewWebhook(t, "")
	r := newRig(t, newChannel(t, srv, "crm"))
	for i := range 120 {
		r.add("crm", flaggedEvent(int64(i)))
	}
	for range 3 {
		r.flush(t)
		r.clock.Advance(3 * time.Second)
	}
	var counts []int
	for _, m := range srv.Messages() {
		counts = append(counts, m.Digest.Count)
	}
	if fmt.Sprint(counts) != "[50 50 20]" {
		t.Errorf("digests of %v, want [50 50 20]", counts)
	}
}

func TestDispatcherSendsAloneWithinTheBurst(t *testing.T) {
	t.Parallel()
	srv := notifytest.NewFeishu(t, "")
	r := newRig(t, newChannel(t, srv, "team", func(s *notify.Spec) { s.Rate, s.Burst = rate.Every(time.Second), 5 }))
	for i := range 3 {
		r.add("team", flaggedEvent(int64(i)))
	}
	r.flush(t)
	msgs := srv.Messages()
	if len(msgs) != 3 {
		t.Fatalf("%d messages, want 3 single ones", len(msgs))
	}
	for i, m := range msgs {
		if !strings.Contains(m.Text, fmt.Sprintf("评论需要人工处理 #%d", i)) {
			t.Errorf("message %d:\n%s", i, m.Text)
		}
	}
}

func TestDispatcherBacksOff(t *testing.T) {
	t.Parallel()
	srv := notifytest.NewWeCom(t)
	r := newRig(t, newChannel(t, srv, "ops"))
	id := r.add("ops", heldEvent())
	srv.Fail(2, notifytest.Fault5xx)

	r.flush(t) // fails: retried in a minute
	row := r.ob.Row(id)
	if row.Status != notifytest.StatusPending || row.Attempts != 1 || !row.Next.Equal(r.clock.Now().Add(time.Minute)) ||
		!strings.Contains(row.LastError, "502") {
		t.Errorf("row after a failure %+v", row)
	}
	s := r.state(t, "ops")
	if s.Healthy || s.FixConfig || !s.RetryAt.Equal(row.Next) || !strings.Contains(s.LastError, "502") {
		t.Errorf("state %+v", s)
	}
	r.flush(t) // backing off: nothing sent
	if n := srv.Requests(); n != 1 {
		t.Errorf("%d requests while backing off, want 1", n)
	}
	r.clock.Advance(time.Minute)
	r.flush(t) // fails again: two minutes now
	if row := r.ob.Row(id); row.Attempts != 2 || !row.Next.Equal(r.clock.Now().Add(2*time.Minute)) {
		t.Errorf("row after a second failure %+v", row)
	}
	r.clock.Advance(2 * time.Minute)
	r.flush(t)
	if row := r.ob.Row(id); row.Status != notifytest.StatusDelivered || len(srv.Messages()) != 1 {
		t.Errorf("row after recovery %+v", row)
	}
	if s := r.state(t, "ops"); !s.Healthy || !s.RetryAt.IsZero() || !s.LastSuccess.After(s.LastFailure) {
		t.Errorf("state after recovery %+v", s)
	}
	if r.counts.Get("ops/retrying") != 2 || r.counts.Get("ops/sent") != 1 {
		t.Errorf("counts %v", r.counts.m)
	}
	// One line when it started failing (not one per attempt), one when it
	// recovered.
	log := r.log.String()
	if n := strings.Count(log, "notification channel failing"); n != 1 {
		t.Errorf("%d failing lines, want 1:\n%s", n, log)
	}
	if n := strings.Count(log, "notification channel recovered"); n != 1 {
		t.Errorf("%d recovered lines, want 1:\n%s", n, log)
	}
}

func TestDispatcherConfigErrors(t *testing.T) {
	t.Parallel()
	srv := notifytest.NewDingTalk(t, secretTypes[1].secret)
	r := newRig(t, newChannel(t, srv, "boss"))
	id := r.add("boss", heldEvent())
	srv.Fail(1, notifytest.FaultTooFast)
	srv.Fail(1, notifytest.FaultBadWebhook)

	r.flush(t) // too fast: DingTalk's ten minutes, longer than the backoff
	if row := r.ob.Row(id); !row.Next.Equal(r.clock.Now().Add(10 * time.Minute)) {
		t.Errorf("too fast: next %v", row.Next.Sub(r.clock.Now()))
	}
	r.clock.Advance(10 * time.Minute)
	r.flush(t) // bad token: fix your config, an hour
	s := r.state(t, "boss")
	if s.Healthy || !s.FixConfig || !s.RetryAt.Equal(r.clock.Now().Add(time.Hour)) || !strings.Contains(s.LastError, "300001") {
		t.Errorf("state %+v", s)
	}
	log := r.log.String()
	if !strings.Contains(log, `action="fix your config"`) || strings.Count(log, "notification channel failing") != 2 {
		t.Errorf("log:\n%s", log)
	}
	state, err := json.Marshal(r.d.State())
	if err != nil {
		t.Fatal(err)
	}
	rows, err := json.Marshal(r.ob.Rows())
	if err != nil {
		t.Fatal(err)
	}
	for what, s := range map[string]string{"log": log, "state": string(state), "outbox": string(rows)} {
		noSecret(t, srv, what, s)
	}
	r.clock.Advance(time.Hour)
	r.flush(t)
	if row := r.ob.Row(id); row.Status != notifytest.StatusDelivered {
		t.Errorf("after the fix: %+v", row)
	}
}

func TestDispatcherAbandonsOldNotifications(t *testing.T) {
	t.Parallel()
	srv := notifytest.NewWeCom(t)
	r := newRig(t, newChannel(t, srv, "ops"))
	old := r.ob.Add("ops", flaggedEvent(1), r.clock.Now().Add(-notify.DefaultMaxAge-time.Second))
	fresh := r.add("ops", flaggedEvent(2))
	r.flush(t)
	if row := r.ob.Row(old); row.Status != notifytest.StatusFailed || !strings.Contains(row.LastError, "not delivered within 168h0m0s") {
		t.Errorf("old row %+v", row)
	}
	msgs := srv.Messages()
	if r.ob.Row(fresh).Status != notifytest.StatusDelivered || len(msgs) != 1 || !strings.Contains(msgs[0].Text, "#2") {
		t.Errorf("fresh row not delivered alone: %d messages", len(msgs))
	}
	if r.counts.Get("ops/failed") != 1 || !strings.Contains(r.log.String(), "older than max age") {
		t.Errorf("counts %v, log:\n%s", r.counts.m, r.log)
	}
}

func TestDispatcherResendsWhatWasNotMarked(t *testing.T) {
	t.Parallel()
	srv := notifytest.NewWeCom(t)
	r := newRig(t, newChannel(t, srv, "ops"))
	id := r.add("ops", flaggedEvent(1))
	r.ob.FailDelivered(1)
	if err := r.d.Flush(context.Background()); err == nil {
		t.Error("Flush hid the outbox's failure")
	}
	if row := r.ob.Row(id); row.Status != notifytest.StatusPending {
		t.Errorf("row %+v", row)
	}
	r.clock.Advance(3 * time.Second)
	r.flush(t) // at least once: sent again
	r.clock.Advance(3 * time.Second)
	r.flush(t) // and never after it was marked
	if n := len(srv.Messages()); n != 2 {
		t.Errorf("%d messages, want 2", n)
	}
	if row := r.ob.Row(id); row.Status != notifytest.StatusDelivered || row.Marked != 1 {
		t.Errorf("row %+v", row)
	}
}

func TestDispatcherRefusedMessages(t *testing.T) {
	t.Parallel()
	srv := notifytest.NewDingTalk(t, "")
	r := newRig(t, newChannel(t, srv, "boss", func(s *notify.Spec) { s.Rate, s.Burst = rate.Every(time.Second), 2 }))
	a, b, c := r.add("boss", flaggedEvent(1)), r.add("boss", flaggedEvent(2)), r.add("boss", flaggedEvent(3))
	// The digest of three is refused (one of them is what the platform
	// will not carry): each goes alone, and only the refused one is lost.
	srv.Fail(1, notifytest.FaultRefuse)
	srv.FailCode(1, 430101, "unsafe link")
	r.flush(t)
	for range 4 {
		r.clock.Advance(time.Second)
		r.flush(t)
	}
	if row := r.ob.Row(a); row.Status != notifytest.StatusFailed || !strings.Contains(row.LastError, "430101") {
		t.Errorf("refused row %+v", row)
	}
	for _, id := range []int64{b, c} {
		if row := r.ob.Row(id); row.Status != notifytest.StatusDelivered {
			t.Errorf("row %d %+v", id, row)
		}
	}
	msgs := srv.Messages()
	if len(msgs) != 2 || !strings.Contains(msgs[0].Text, "#2") || !strings.Contains(msgs[1].Text, "#3") {
		t.Errorf("%d messages", len(msgs))
	}
	if s := r.state(t, "boss"); !s.Healthy {
		t.Errorf("a refused message made the channel unhealthy: %+v", s)
	}
	if r.counts.Get("boss/failed") != 1 || r.counts.Get("boss/sent") != 2 || r.counts.Get("boss/retrying") != 3 {
		t.Errorf("counts %v", r.counts.m)
	}
}

func TestDispatcherChannelsAreIndependent(t *testing.T) {
	t.Parallel()
	broken := notifytest.NewWeCom(t)
	good := notifytest.NewFeishu(t, "")
	r := newRig(t, newChannel(t, broken, "ops"), newChannel(t, good, "team"))
	// ops has a backlog and a bad key: it must not crowd out or hold up team.
	for i := range 60 {
		r.add("ops", flaggedEvent(int64(i)))
	}
	broken.Fail(1, notifytest.FaultBadWebhook)
	r.add("team", heldEvent())
	r.add("gone", heldEvent()) // a channel no longer configured
	r.flush(t)
	if n := len(good.Messages()); n != 1 {
		t.Errorf("team got %d messages", n)
	}
	if s := r.state(t, "ops"); !s.FixConfig || s.Queued != 60 {
		t.Errorf("ops %+v", s)
	}
	if !strings.Contains(r.log.String(), "not configured") || !strings.Contains(r.log.String(), "channel=gone") {
		t.Errorf("log:\n%s", r.log)
	}
}

func TestDispatcherHangingChannelDelaysNoOther(t *testing.T) {
	t.Parallel()
	hung := notifytest.NewWebhook(t, "")
	good := notifytest.NewWeCom(t)
	// A minute's timeout: the test ends it by cancelling, not by waiting.
	slow := newChannel(t, hung, "crm", func(s *notify.Spec) { s.Timeout = time.Minute })
	fast := newChannel(t, good, "ops", func(s *notify.Spec) { s.Rate, s.Burst = 100, 10 })
	ob := notifytest.NewOutbox()
	d := notify.NewDispatcher([]notify.Channel{slow, fast}, ob, testBackoff)
	hung.Fail(1, notifytest.FaultHang)
	crmRow := ob.Add("crm", flaggedEvent(1), time.Now())
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() {
		d.Run(ctx)
		close(ran)
	}()
	testutil.WaitFor(t, "crm's request to hang", func() bool { return hung.Hanging() == 1 })
	opsRow := ob.Add("ops", flaggedEvent(2), time.Now())
	d.Kick()
	testutil.WaitFor(t, "ops's notification", func() bool { return ob.Row(opsRow).Status == notifytest.StatusDelivered })
	if hung.Hanging() != 1 || ob.Row(crmRow).Status != notifytest.StatusPending {
		t.Errorf("crm's request no longer hangs: ops waited for it")
	}
	// A second Kick while crm still hangs starts nothing new for it.
	d.Kick()
	opsRow2 := ob.Add("ops", flaggedEvent(3), time.Now())
	d.Kick()
	testutil.WaitFor(t, "ops's second notification", func() bool { return ob.Row(opsRow2).Status == notifytest.StatusDelivered })
	if hung.Requests() != 1 {
		t.Errorf("crm got %d requests, want 1", hung.Requests())
	}
	cancel()
	<-ran
	testutil.WaitFor(t, "crm's request to end", func() bool { return hung.Hanging() == 0 })
	// Shutting down mid-send leaves the notification due: sent after the
	// restart.
	if row := ob.Row(crmRow); row.Status != notifytest.StatusPending || row.Attempts != 0 {
		t.Errorf("crm row %+v", row)
	}
}

func TestDispatcherRunRetriesWhenDue(t *testing.T) {
	t.Parallel()
	srv := notifytest.NewWeCom(t)
	ob := notifytest.NewOutbox()
	opts := notify.Options{RetryBackoff: notify.Backoff{Initial: 10 * time.Millisecond, Max: 10 * time.Millisecond}}
	// A failed attempt spent a token too: a rate that does not make the
	// retry wait three seconds.
	ch := newChannel(t, srv, "ops", func(s *notify.Spec) { s.Rate = 100 })
	d := notify.NewDispatcher([]notify.Channel{ch}, ob, opts)
	srv.Fail(1, notifytest.Fault5xx)
	id := ob.Add("ops", flaggedEvent(1), time.Now())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go d.Run(ctx)
	// No Kick: Run's own timer brings the retry.
	testutil.WaitFor(t, "the retried notification", func() bool { return ob.Row(id).Status == notifytest.StatusDelivered })
	if row := ob.Row(id); row.Attempts != 1 || len(srv.Messages()) != 1 {
		t.Errorf("row %+v, %d messages", row, len(srv.Messages()))
	}
}

func TestDispatcherLeavesOutDuplicateNames(t *testing.T) {
	t.Parallel()
	a, b := notifytest.NewWeCom(t), notifytest.NewWeCom(t)
	r := newRig(t, newChannel(t, a, "ops"), newChannel(t, b, "ops"))
	r.add("ops", flaggedEvent(1))
	r.flush(t)
	if len(a.Messages()) != 1 || len(b.Messages()) != 0 || len(r.d.State()) != 1 {
		t.Errorf("%d and %d messages", len(a.Messages()), len(b.Messages()))
	}
}

func TestKickNeverBlocks(t *testing.T) {
	t.Parallel()
	d := notify.NewDispatcher(nil, notifytest.NewOutbox(), notify.Options{})
	for range 1000 {
		d.Kick()
	}
}

// BenchmarkFlush delivers queued notifications through a loopback WeCom
// robot, each alone (a rate that never digests): the HTTP exchange on a
// fresh connection dominates.
func BenchmarkFlush(b *testing.B) {
	srv := notifytest.NewWeCom(b)
	srv.SetRate(0)
	spec := srv.Spec("ops")
	spec.Rate, spec.Burst = 1e9, 1e9
	ch, err := notify.New(spec, nil)
	if err != nil {
		b.Fatal(err)
	}
	ob := notifytest.NewOutbox()
	d := notify.NewDispatcher([]notify.Channel{ch}, ob, notify.Options{})
	for b.Loop() {
		ob.Add("ops", flaggedEvent(1), time.Now())
		if err := d.Flush(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}
