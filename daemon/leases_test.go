package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/config"
	"github.com/autoreplyd/autoreplyd/internal/pgtest"
	"github.com/autoreplyd/autoreplyd/internal/syncbuf"
	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/metrics"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/notify/notifytest"
	"github.com/autoreplyd/autoreplyd/simulator"
	"github.com/autoreplyd/autoreplyd/store"
)

// testClock is a clock that moves only when a test moves it.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// leaseThreads are the ids of n watched threads.
func leaseThreads(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprint(7251524159191960000 + i)
	}
	return out
}

// writeLeaseConfig writes a config watching threads (douyin through
// kitkot, at base; @every 1m: leases live 2m) into dir; extra is appended.
func writeLeaseConfig(t *testing.T, dir, base, rules string, threads []string, extra string) string {
	t.Helper()
	testutil.WriteFile(t, filepath.Join(dir, "rules.yaml"), rules)
	var b strings.Builder
	for _, th := range threads {
		fmt.Fprintf(&b, "      - comment_id: %q\n        aweme_id: %q\n", th, aweme)
	}
	cfg := fmt.Sprintf(`database: autoreplyd.db
rules: rules.yaml
schedule: "@every 1m"
timezone: Asia/Shanghai
listen: ""
send_jitter: 0s
sources:
  douyin:
    base_url: %s
    token: %s
    responder: kitkot
    backlog: skip
    timeout: 5s
    rate: 1000/s
    threads:
%sresponders:
  kitkot:
    base_url: %s/api
    api_key: %s
    session_key: %s
    timeout: 3s
    rate: 1000/s
%s`, base, token, b.String(), base, apiKey, sessionKey, extra)
	path := filepath.Join(dir, "config.yaml")
	testutil.WriteFile(t, path, cfg)
	return path
}

// instanceNamed loads the config at path as instance name.
func instanceNamed(t *testing.T, path, name string) *config.Config {
	t.Helper()
	cfg, err := config.Load(path, []string{"AUTOREPLYD_INSTANCE=" + name})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// newInstance starts a daemon on cfg with clock clk, logging into logs.
func newInstance(t *testing.T, cfg *config.Config, clk *testClock, logs *syncbuf.Buffer) *Daemon {
	t.Helper()
	log := quietLogger()
	if logs != nil {
		log = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	d, err := New(t.Context(), cfg, Options{Logger: log, Now: clk.Now})
	if err != nil {
		t.Fatalf("New %s: %v", cfg.Instance, err)
	}
	t.Cleanup(func() { testutil.Close(t, d) })
	return d
}

// polledBy runs d's cycle and returns the threads it asked the imitation
// for.
func polledBy(t *testing.T, jo *simulator.JustOneAPI, d *Daemon) []string {
	t.Helper()
	jo.ResetCalls()
	if st := d.Cycle(t.Context()); st.Errors != 0 {
		t.Fatalf("%s: cycle %+v", d.cfg.Instance, st)
	}
	var out []string
	for _, c := range jo.Calls() {
		if !slices.Contains(out, c.CommentID) {
			out = append(out, c.CommentID)
		}
	}
	slices.Sort(out)
	return out
}

// Two daemons on one database, polling one config: each thread is polled
// by one of them per cycle, half each; a comment is answered once. One
// dies with its leases held and a send under way: after the leases' time
// to live the other takes its threads over, settles the dead one's claims
// (and only those), and polls everything.
func TestTwoInstancesShareAndTakeOver(t *testing.T) {
	t.Parallel()
	jo, kk, url := imitations(t)
	threads := leaseThreads(10)
	for _, th := range threads {
		jo.AddReply(th, simulator.Reply{AwemeID: aweme, Text: "第一", UserUID: "1001", Nickname: "路人", CreateTime: time.Now().Unix(), ReplyToReplyID: "0"})
	}
	path := writeLeaseConfig(t, t.TempDir(), url, rulesV1, threads, "")
	clk := &testClock{t: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)}
	var logsA syncbuf.Buffer
	a := newInstance(t, instanceNamed(t, path, "node-a"), clk, &logsA)
	b := newInstance(t, instanceNamed(t, path, "node-b"), clk, nil)

	for round := range 3 {
		pa, pb := polledBy(t, jo, a), polledBy(t, jo, b)
		both := slices.Sorted(slices.Values(slices.Concat(pa, pb)))
		if !slices.Equal(both, threads) {
			t.Fatalf("round %d: node-a polled %v, node-b %v: want every thread once", round, pa, pb)
		}
		if len(pa) != 5 || len(pb) != 5 {
			t.Errorf("round %d: node-a polled %d threads, node-b %d: want 5 each", round, len(pa), len(pb))
		}
		if round == 1 {
			// A comment under one of b's threads: answered once.
			jo.AddReply(pb[0], simulator.Reply{AwemeID: aweme, Text: "多少钱", UserUID: "1002", Nickname: "小明", CreateTime: time.Now().Unix(), ReplyToReplyID: "0"})
		}
		clk.Advance(time.Minute)
	}
	if posts := kk.Posts(); len(posts) != 1 {
		t.Fatalf("%d answers posted, want 1: %+v", len(posts), posts)
	}
	defer func() {
		// The queued answer node-b left, sent once by node-a.
		if posts := kk.Posts(); len(posts) != 2 || posts[1].ReplyID != "7300000000000000002" {
			t.Errorf("answers posted: %+v; want the first and node-b's queued one", posts)
		}
	}()
	pb := polledBy(t, jo, b)
	polledBy(t, jo, a)

	// b dies in the middle of a send (an attempted claim), with an answer
	// queued too; a has a send under way of its own.
	claim := func(d *Daemon, th, id string, queued bool) int64 {
		c := model.Comment{Platform: model.PlatformDouyin, ID: id, ThreadID: th, PostID: aweme, Text: "多少钱", User: model.User{UID: "1003"}}
		got, err := d.Store().Record(t.Context(), c, model.DispositionEvaluated,
			[]store.Claim{{Rule: "price", Responder: "kitkot", Status: model.StatusPending, ReplyText: "价格请看橱窗", Queued: queued}}, clk.Now())
		if err != nil || len(got) != 1 {
			t.Fatalf("Record: %v, %v", got, err)
		}
		return got[0].ID
	}
	bSending := claim(b, pb[1], "7300000000000000001", false)
	bQueued := claim(b, pb[2], "7300000000000000002", true)
	aSending := claim(a, threads[0], "7300000000000000003", false)

	// One period on, b's leases still hold: a keeps to its half.
	clk.Advance(time.Minute)
	if pa := polledBy(t, jo, a); len(pa) != 5 || slices.ContainsFunc(pa, func(th string) bool { return slices.Contains(pb, th) }) {
		t.Fatalf("node-a polled %v while node-b's leases %v held", pa, pb)
	}
	// Two periods on they have expired: a takes everything over.
	clk.Advance(time.Minute)
	if pa := polledBy(t, jo, a); !slices.Equal(pa, threads) {
		t.Fatalf("node-a polled %v after node-b's leases expired, want all", pa)
	}
	statusOf := func(id int64) (string, string) {
		rows, err := a.Store().History(t.Context(), store.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if r.ID == id {
				return r.Status, r.Reason
			}
		}
		t.Fatalf("claim %d not in the history", id)
		return "", ""
	}
	if st, reason := statusOf(bSending); st != model.StatusUnknown || reason != model.ReasonCrashed {
		t.Errorf("node-b's attempted claim: %s (%s), want unknown (crashed)", st, reason)
	}
	// Requeued, then sent by node-a's retries in the same cycle.
	if st, _ := statusOf(bQueued); st != model.StatusSent {
		t.Errorf("node-b's queued claim: %s, want requeued and sent by node-a", st)
	}
	if st, _ := statusOf(aSending); st != model.StatusPending {
		t.Errorf("node-a's own claim under way: %s, want untouched (pending)", st)
	}
	if n := strings.Count(logsA.String(), "took over threads of a dead instance"); n != 1 ||
		!strings.Contains(logsA.String(), `msg="took over threads of a dead instance" component=leases instance=node-b threads=5 settled_unknown=1 requeued=1`) {
		t.Errorf("takeover logged %d times; logs:\n%s", n, logsA.String())
	}
	clk.Advance(time.Minute)
	if pa := polledBy(t, jo, a); !slices.Equal(pa, threads) {
		t.Fatalf("node-a polled %v, want all", pa)
	}
	if n := strings.Count(logsA.String(), "took over threads of a dead instance"); n != 1 {
		t.Errorf("takeover logged %d times, want once", n)
	}
	_, exposed := get(t, a.HealthHandler(), "/metrics")
	for _, want := range []string{`autoreplyd_leases_held{kind="thread"} 10`, `autoreplyd_leases_held{kind="job"} 2`,
		`autoreplyd_lease_takeovers_total 5`, `autoreplyd_instances_alive 1`} {
		if !strings.Contains(exposed, want) {
			t.Errorf("node-a's metrics lack %s", want)
		}
	}

	// A third daemon starting now settles no claim of the live node-a.
	c := newInstance(t, instanceNamed(t, path, "node-c"), clk, nil)
	if st, _ := statusOf(aSending); st != model.StatusPending {
		t.Errorf("node-a's claim under way after node-c started: %s, want pending", st)
	}
	// The two share the threads out again within two cycles.
	var pa, pc []string
	for range 2 {
		clk.Advance(time.Minute)
		pa, pc = polledBy(t, jo, a), polledBy(t, jo, c)
	}
	if len(pa)+len(pc) != len(threads) || len(pa) > 6 || len(pc) < 4 {
		t.Errorf("after node-c joined: node-a polled %d threads, node-c %d; want about half each", len(pa), len(pc))
	}
}

// A daemon refuses to start beside a live daemon of the same name on
// another host, or on this host under another live process; a dead one's
// row (a stale heartbeat, or its process gone) is no obstacle.
func TestDuplicateInstanceRefused(t *testing.T) {
	t.Parallel()
	_, _, url := imitations(t)
	path := writeLeaseConfig(t, t.TempDir(), url, rulesV1, leaseThreads(2), "")
	clk := &testClock{t: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)}
	cfg := instanceNamed(t, path, "node-a")
	st, err := store.Open(t.Context(), cfg.Database)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { testutil.Close(t, st) })
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Skipf("no process to outlive: %v", err)
	}
	for _, c := range []struct {
		name    string
		row     store.Instance
		beat    time.Duration // the row's heartbeat, before now
		refused bool
	}{
		{"another host", store.Instance{Host: "web-2", PID: 4242}, time.Second, true},
		{"another live process here", store.Instance{Host: host, PID: 1}, time.Second, true},
		{"a process gone", store.Instance{Host: host, PID: gone.Process.Pid}, time.Second, false},
		{"this process", store.Instance{Host: host, PID: os.Getpid()}, time.Second, false},
		{"a stale heartbeat", store.Instance{Host: "web-2", PID: 4242}, 2 * time.Minute, false},
	} {
		row := c.row
		row.Name = "node-a"
		if err := st.RegisterInstance(t.Context(), row, clk.Now().Add(-c.beat)); err != nil {
			t.Fatal(err)
		}
		d, err := New(t.Context(), cfg, Options{Logger: quietLogger(), Now: clk.Now})
		if d != nil {
			testutil.Close(t, d)
		}
		want := fmt.Sprintf("instance: another daemon named node-a is running (host %s, pid %d): give each daemon sharing the database its own `instance`", row.Host, row.PID)
		switch {
		case c.refused && (err == nil || err.Error() != want):
			t.Errorf("%s: New = %v, want %q", c.name, err, want)
		case !c.refused && err != nil:
			t.Errorf("%s: New refused: %v", c.name, err)
		}
	}
}

// The jobs run on one daemon: the outbox's deliveries only on the holder
// of its lease, the retention likewise.
func TestSingletonJobsOnOneInstance(t *testing.T) {
	t.Parallel()
	jo, _, url := imitations(t)
	threads := leaseThreads(2)
	for _, th := range threads {
		jo.AddReply(th, simulator.Reply{AwemeID: aweme, Text: "第一", UserUID: "1001", Nickname: "路人", CreateTime: time.Now().Unix(), ReplyToReplyID: "0"})
	}
	hook := notifytest.NewWebhook(t, "lease-hook-secret-5b2e")
	path := writeLeaseConfig(t, t.TempDir(), url, rulesNotifyOne, threads, `retention: 30d
notify:
  crm:
    type: webhook
    url: `+hook.URL()+`
    secret: `+hook.Secret()+`
`)
	clk := &testClock{t: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)}
	var logsA, logsB syncbuf.Buffer
	a := newInstance(t, instanceNamed(t, path, "node-a"), clk, &logsA)
	b := newInstance(t, instanceNamed(t, path, "node-b"), clk, &logsB)
	a.Cycle(t.Context()) // first sight; node-a takes the jobs' leases
	b.Cycle(t.Context())
	for _, th := range threads {
		jo.AddReply(th, simulator.Reply{AwemeID: aweme, Text: "我要投诉", UserUID: "1002", Nickname: "王五", CreateTime: time.Now().Unix(), ReplyToReplyID: "0"})
	}
	clk.Advance(time.Minute)
	if sa, sb := a.Cycle(t.Context()), b.Cycle(t.Context()); sa.Flagged+sb.Flagged != 2 {
		t.Fatalf("flagged %d + %d, want 2", sa.Flagged, sb.Flagged)
	}
	if !a.leases.holds(store.JobOutbox) || b.leases.holds(store.JobOutbox) ||
		!a.leases.holds(store.JobRetention) || b.leases.holds(store.JobRetention) {
		t.Fatal("the jobs' leases are not node-a's alone")
	}
	// node-b finds nothing due; node-a delivers both, b's claim's too.
	if err := b.FlushNotifications(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := len(hook.Messages()); n != 0 {
		t.Fatalf("node-b, without the outbox's lease, delivered %d messages", n)
	}
	if err := a.FlushNotifications(t.Context()); err != nil {
		t.Fatal(err)
	}
	// One message each, or one digest of both.
	events := 0
	for _, m := range hook.Messages() {
		switch {
		case m.Digest != nil:
			events += len(m.Digest.Events)
		case m.Webhook != nil:
			events++
		}
	}
	if events != 2 {
		t.Fatalf("node-a delivered %d events, want 2", events)
	}

	// The retention: node-a prunes, node-b leaves it.
	ctx, cancel := context.WithCancel(t.Context())
	first := make(chan struct{})
	close(first)
	var wg sync.WaitGroup
	for _, d := range []*Daemon{a, b} {
		wg.Go(func() { d.pruneLoop(ctx, first) })
	}
	testutil.WaitFor(t, "node-a's pruning and node-b's pass", func() bool {
		return strings.Contains(logsA.String(), "history pruned") &&
			strings.Contains(logsB.String(), "retention left to the instance holding its lease")
	})
	cancel()
	wg.Wait()
	if strings.Contains(logsB.String(), "history pruned") || strings.Contains(logsA.String(), "retention left to the instance holding its lease") {
		t.Errorf("the retention ran on node-b, or not on node-a:\nnode-a:\n%s\nnode-b:\n%s", logsA.String(), logsB.String())
	}

	// node-a stops cleanly (Close), letting go of its leases: node-b
	// takes the jobs and all threads at its next cycle, without waiting
	// for them to expire.
	testutil.Close(t, a)
	clk.Advance(time.Minute)
	if st := b.Cycle(t.Context()); st.Polled != len(threads) {
		t.Errorf("node-b polled %d threads after node-a stopped, want %d", st.Polled, len(threads))
	}
	if !b.leases.holds(store.JobOutbox) || !b.leases.holds(store.JobRetention) {
		t.Error("node-b did not take the jobs released by node-a")
	}
}

// rulesNotifyOne flags complaints to the crm channel.
const rulesNotifyOne = `rules:
  - name: complaint
    when: 'text contains "投诉"'
    action: flag
    notify: [crm]
`

// leaseBackends are the databases a lease test runs on: an SQLite file,
// and a PostgreSQL database (skipped with a reason when no server can be
// started, never in CI).
// leaseBackend is a store backend the lease tests run on.
type leaseBackend struct {
	name string
	dsn  func(t *testing.T) string
}

var leaseBackends = []leaseBackend{
	{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "autoreplyd.db") }},
	{"postgres", func(t *testing.T) string { return pgtest.NewDatabase(t) }},
}

// open opens an empty store on the backend, closed at the test's end.
func (b leaseBackend) open(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(t.Context(), b.dsn(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { testutil.Close(t, st) })
	return st
}

// leaseRows are the lease rows of holders.
func leaseRows(t *testing.T, st *store.Store, holders ...string) []store.Lease {
	t.Helper()
	var out []store.Lease
	for _, h := range holders {
		ls, err := st.HeldLeases(t.Context(), h)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ls...)
	}
	return out
}

// newTestLeases is the leases of daemon name on st, watching threads.
func newTestLeases(t *testing.T, st *store.Store, name string, clk *testClock, threads []string) *leases {
	t.Helper()
	if err := st.RegisterInstance(t.Context(), store.Instance{Name: name}, clk.Now()); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, th := range threads {
		names = append(names, store.ThreadLease("douyin", th))
	}
	return newLeases(st, name, 2*time.Minute, clk.Now, quietLogger(), metrics.New("test"), names)
}

// With 1,000 thread leases held, renewing them is the heartbeat alone:
// over three times to live of heartbeats and cycles, no lease row is
// written (taken, expiry, holder: byte for byte as taken), the instance's
// heartbeat moves, and every lease stays held.
func TestLeaseRenewalWritesOneRow(t *testing.T) {
	t.Parallel()
	for _, b := range leaseBackends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			st := b.open(t)
			clk := &testClock{t: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)}
			threads := leaseThreads(1000)
			l := newTestLeases(t, st, "node-a", clk, threads)
			l.Step(t.Context())
			taken := leaseRows(t, st, "node-a")
			if len(taken) != len(threads)+len(jobs) {
				t.Fatalf("node-a took %d leases, want %d", len(taken), len(threads)+len(jobs))
			}
			for i := range 24 { // 6 minutes: 3 TTLs
				clk.Advance(15 * time.Second)
				if i%4 == 3 {
					l.Step(t.Context()) // a cycle a minute
				} else {
					l.beat(t.Context())
				}
				if !l.holds(store.ThreadLease("douyin", threads[i])) || !l.holds(store.JobOutbox) {
					t.Fatalf("%v in: node-a no longer holds its leases", clk.Now())
				}
			}
			if got := leaseRows(t, st, "node-a"); !slices.Equal(got, taken) {
				t.Errorf("lease rows written by renewals:\nbefore %+v\nafter  %+v", taken[:2], got[:2])
			}
			in, ok, err := st.LookupInstance(t.Context(), "node-a")
			if err != nil || !ok || !in.HeartbeatAt.Equal(clk.Now()) {
				t.Errorf("node-a's heartbeat = %+v, %v, %v; want %v", in, ok, err, clk.Now())
			}
		})
	}
}

// The races of a heartbeat against a take. A daemon whose heartbeat
// lapsed stops holding its leases at the end of its validity, by its own
// clock, and once another took them over, its next heartbeat finds them
// gone; one that wrote its heartbeat in time keeps every lease, past the
// expiry written at their take.
func TestLeaseHeartbeatRaces(t *testing.T) {
	t.Parallel()
	for _, b := range leaseBackends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			st := b.open(t)
			ctx := t.Context()
			start := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
			clk := &testClock{t: start}
			threads := leaseThreads(4)
			first := store.ThreadLease("douyin", threads[0])
			a := newTestLeases(t, st, "node-a", clk, threads)
			a.Step(ctx)
			bl := newTestLeases(t, st, "node-b", clk, threads)

			// node-a's heartbeat in time, a millisecond before its
			// validity ends: node-b takes none of its leases.
			clk.Advance(a.ttl - time.Millisecond)
			a.beat(ctx)
			clk.Advance(time.Millisecond)
			bl.Step(ctx)
			if n := len(leaseRows(t, st, "node-b")); n != 0 || !a.holds(first) {
				t.Fatalf("node-b took %d leases of node-a, whose heartbeat was fresh", n)
			}

			// node-a's heartbeat lapses (a pause, a partition): at the end
			// of its validity it stops holding, by its own clock, before
			// anyone took anything.
			clk.Advance(a.ttl - 2*time.Millisecond)
			if !a.holds(first) {
				t.Fatal("node-a let go before its heartbeat's validity ended")
			}
			clk.Advance(time.Millisecond)
			if a.holds(first) || a.Holds("douyin", threads[1]) {
				t.Fatal("node-a still polls at the end of its heartbeat's validity")
			}
			// node-b takes them over at once and polls them; node-a's late
			// heartbeat finds them gone and polls none.
			bl.Step(ctx)
			if got := leaseRows(t, st, "node-b"); len(got) != len(threads)+len(jobs) || !bl.holds(first) {
				t.Fatalf("node-b took %d leases from the lapsed node-a, want all", len(got))
			}
			clk.Advance(time.Second)
			a.beat(ctx)
			for _, th := range threads {
				if a.Holds("douyin", th) {
					t.Errorf("node-a holds %s after node-b took it over", th)
				}
			}
			if a.holds(store.JobOutbox) || !bl.holds(store.JobOutbox) {
				t.Error("the outbox's lease is not node-b's alone")
			}
			_, exposed := get(t, bl.metrics.Handler(), "/metrics")
			if !strings.Contains(exposed, "autoreplyd_lease_takeovers_total 6") {
				t.Errorf("node-b's metrics lack 6 takeovers:\n%s", exposed)
			}
		})
	}
}

// A clean stop with 20,000 leases held: the heartbeat is dated back to 1970
// (which frees every lease at once: another daemon takes them all at its
// next step, with no wait for a time to live) and the lease rows are gone,
// within the stop's time for it.
func TestReleaseFreesEveryLease(t *testing.T) {
	t.Parallel()
	for _, b := range leaseBackends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			st := b.open(t)
			clk := &testClock{t: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)}
			threads := leaseThreads(20000)
			a := newTestLeases(t, st, "node-a", clk, threads)
			a.Step(t.Context())
			if n := len(leaseRows(t, st, "node-a")); n != len(threads)+len(jobs) {
				t.Fatalf("node-a took %d leases, want %d", n, len(threads)+len(jobs))
			}
			ctx, cancel := context.WithTimeout(t.Context(), leaseReleaseTimeout)
			a.Release(ctx)
			cancel()
			if a.holds(store.ThreadLease("douyin", threads[0])) {
				t.Error("node-a still holds a lease after Release")
			}
			in, ok, err := st.LookupInstance(t.Context(), "node-a")
			if err != nil || !ok || !in.HeartbeatAt.Equal(time.Unix(0, 0)) {
				t.Errorf("node-a's heartbeat after Release: %+v, %v, %v; want 1970", in, ok, err)
			}
			if n := len(leaseRows(t, st, "node-a")); n != 0 {
				t.Errorf("%d lease rows of node-a left after Release", n)
			}
			// node-b, started just after, takes every thread at its first
			// step (node-a counts as gone, not alive for a time to live).
			bl := newTestLeases(t, st, "node-b", clk, threads)
			bl.Step(t.Context())
			if n := len(leaseRows(t, st, "node-b")); n != len(threads)+len(jobs) {
				t.Errorf("node-b took %d leases at once, want %d", n, len(threads)+len(jobs))
			}
		})
	}
}
