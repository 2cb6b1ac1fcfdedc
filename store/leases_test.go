package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/model"
)

const leaseTTL = 2 * time.Minute

// threadNames are n thread lease names of douyin.
func threadNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = ThreadLease("douyin", fmt.Sprint(7251524159191958000+i))
	}
	return out
}

func mustAcquire(t *testing.T, s *Store, holder string, names []string, now time.Time, limit int) Grant {
	t.Helper()
	g, err := s.AcquireLeases(t.Context(), holder, names, leaseTTL, now, limit)
	if err != nil {
		t.Fatalf("AcquireLeases(%s): %v", holder, err)
	}
	return g
}

// heldNames are the names of the leases whose holder is holder.
func heldNames(t *testing.T, s *Store, holder string) []string {
	t.Helper()
	ls, err := s.HeldLeases(t.Context(), holder)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range ls {
		if l.Holder != holder {
			t.Errorf("HeldLeases(%s) returned %+v", holder, l)
		}
		out = append(out, l.Name)
	}
	return out
}

// leaseRows are every row of leases, by name.
func leaseRows(t *testing.T, s *Store) []Lease {
	t.Helper()
	rows, err := s.db.QueryContext(t.Context(), `SELECT name, holder, expires_at, acquired_at FROM leases ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	ls, err := scanLeases(rows)
	if err != nil {
		t.Fatal(err)
	}
	return ls
}

func mustBeat(t *testing.T, s *Store, name string, at time.Time) {
	t.Helper()
	if err := s.Heartbeat(t.Context(), name, at); err != nil {
		t.Fatal(err)
	}
}

func TestLeaseNames(t *testing.T) {
	t.Parallel()
	if got := ThreadLease("douyin", "video:7251517975340027197"); got != "thread:douyin:video:7251517975340027197" {
		t.Errorf("ThreadLease = %q", got)
	}
	if !IsThreadLease(ThreadLease("weibo", "1")) || IsThreadLease(JobOutbox) || IsThreadLease(JobRetention) {
		t.Error("IsThreadLease mistakes a job's lease for a thread's or the other way round")
	}
}

// A lease is its holder's while the holder's heartbeat is fresh, whatever
// the expiry written at its take; asking for the leases already held
// writes nothing; a stale heartbeat frees them all, to be taken over.
func TestLeasesHeldWhileHeartbeatFresh(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := t.Context()
	names := threadNames(5)
	mustBeat(t, s, "a", t0)
	mustBeat(t, s, "b", t0)

	g := mustAcquire(t, s, "a", names, t0, 3)
	if !slices.Equal(g.Names, names[:3]) || len(g.From) != 0 {
		t.Fatalf("a got %+v, want the first 3 names from no one", g)
	}
	// Held by a, alive: b gets only the two free ones.
	g = mustAcquire(t, s, "b", names, t0.Add(time.Second), 0)
	if !slices.Equal(g.Names, names[3:]) || len(g.From) != 0 {
		t.Fatalf("b got %+v, want the 2 free names", g)
	}
	// a asking again gets its own 3 and none of b's, and writes nothing.
	before := leaseRows(t, s)
	g = mustAcquire(t, s, "a", names, t0.Add(time.Minute), 0)
	if !slices.Equal(g.Names, names[:3]) {
		t.Fatalf("a again got %v, want its own 3", g.Names)
	}
	if after := leaseRows(t, s); !slices.Equal(after, before) {
		t.Errorf("asking for leases held rewrote them:\n%+v\n%+v", before, after)
	}
	if l := before[0]; !l.ExpiresAt.Equal(t0.Add(leaseTTL)) || !l.AcquiredAt.Equal(t0) {
		t.Errorf("lease taken at t0: %+v; want acquired at t0, expiry written as t0+TTL", l)
	}

	// Past the expiry written at their take, the leases of a holder whose
	// heartbeat is fresh are still its own.
	beat := t0.Add(leaseTTL)
	mustBeat(t, s, "a", beat)
	mustBeat(t, s, "b", beat)
	if g := mustAcquire(t, s, "a", names, beat.Add(time.Minute), 0); !slices.Equal(g.Names, names[:3]) || len(g.From) != 0 {
		t.Fatalf("a took %+v from b, whose heartbeat is fresh", g)
	}
	// b's heartbeat stops: a millisecond short of a TTL its leases hold,
	// at the exact TTL they are free to take, and a is told whose they were.
	dead := beat.Add(leaseTTL)
	mustBeat(t, s, "a", dead.Add(-time.Second))
	if g := mustAcquire(t, s, "a", names, dead.Add(-time.Millisecond), 0); !slices.Equal(g.Names, names[:3]) {
		t.Fatalf("a got %v before b's heartbeat was a TTL old", g.Names)
	}
	g = mustAcquire(t, s, "a", names, dead, 0)
	if !slices.Equal(g.Names, names) || g.From["b"] != 2 || len(g.From) != 1 {
		t.Fatalf("takeover = %+v, want all 5, 2 of them from b", g)
	}
	if got := heldNames(t, s, "a"); !slices.Equal(got, names) {
		t.Errorf("a holds %v", got)
	}
	if got, err := s.HeldLeaseNames(ctx, "a"); err != nil || !slices.Equal(got, names) {
		t.Errorf("HeldLeaseNames(a) = %v, %v", got, err)
	}
	for _, l := range leaseRows(t, s) {
		if slices.Contains(names[3:], l.Name) && (!l.AcquiredAt.Equal(dead) || !l.ExpiresAt.Equal(dead.Add(leaseTTL))) {
			t.Errorf("taken over lease %+v: not written at the takeover", l)
		}
	}
	if got := heldNames(t, s, "b"); len(got) != 0 {
		t.Errorf("b still has %v", got)
	}

	// A release frees them for b at once.
	n, err := s.ReleaseLeases(ctx, "a", names[:2])
	if err != nil || n != 2 {
		t.Fatalf("ReleaseLeases = %d, %v", n, err)
	}
	if n, _ := s.ReleaseLeases(ctx, "b", names); n != 0 {
		t.Errorf("b released %d leases it does not hold", n)
	}
	g = mustAcquire(t, s, "b", names, dead, 0)
	if !slices.Equal(g.Names, names[:2]) || len(g.From) != 0 {
		t.Errorf("b after the release got %+v, want the 2 released, from no one", g)
	}
	if got := heldNames(t, s, "a"); !slices.Equal(got, names[2:]) {
		t.Errorf("a holds %v, want %v", got, names[2:])
	}
	// A holder without a row in instances (deleted by hand) holds nothing.
	if _, err := s.db.ExecContext(ctx, `DELETE FROM instances WHERE name = 'a'`); err != nil {
		t.Fatal(err)
	}
	if g := mustAcquire(t, s, "b", names, dead, 0); !slices.Equal(g.Names, names) || g.From["a"] != 3 {
		t.Errorf("b got %+v, want a's 3 too", g)
	}
}

func TestInstancesAliveByHeartbeat(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := t.Context()
	if _, ok, err := s.LookupInstance(ctx, "a"); ok || err != nil {
		t.Fatalf("LookupInstance of no row = %v, %v", ok, err)
	}
	in := Instance{Name: "a", Host: "web-1", PID: 4242, Version: "v1.2.3"}
	if err := s.RegisterInstance(ctx, in, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.RegisterInstance(ctx, Instance{Name: "b", Host: "web-2", PID: 7}, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.Heartbeat(ctx, "a", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.LookupInstance(ctx, "a")
	if err != nil || !ok || got.Host != "web-1" || got.PID != 4242 || got.Version != "v1.2.3" ||
		!got.StartedAt.Equal(t0) || !got.HeartbeatAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("LookupInstance = %+v, %v, %v", got, ok, err)
	}
	if !got.Alive(t0.Add(time.Minute+leaseTTL-time.Millisecond), leaseTTL) || got.Alive(t0.Add(time.Minute+leaseTTL), leaseTTL) {
		t.Error("Alive is not 'heartbeat younger than the TTL'")
	}
	for _, c := range []struct {
		at   time.Time
		want []string
	}{
		{t0.Add(time.Second), []string{"a", "b"}},
		{t0.Add(leaseTTL), []string{"a"}}, // b's heartbeat is exactly TTL old: dead
		{t0.Add(time.Minute + leaseTTL), nil},
	} {
		alive, err := s.AliveInstances(ctx, c.at, leaseTTL)
		if err != nil || !slices.Equal(alive, c.want) {
			t.Errorf("AliveInstances at %v = %v, %v; want %v", c.at, alive, err, c.want)
		}
	}
	// A heartbeat brings back a row deleted by hand.
	if _, err := s.db.ExecContext(ctx, `DELETE FROM instances WHERE name = 'b'`); err != nil {
		t.Fatal(err)
	}
	if err := s.Heartbeat(ctx, "b", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, ok, _ := s.LookupInstance(ctx, "b"); !ok || !got.HeartbeatAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("b after a heartbeat = %+v, %v", got, ok)
	}
}

// Two stores on one file (two daemons) race for the same names, each
// asking for a fair share: every name is granted once, and each got its
// share.
func TestLeasesRaceTwoHandles(t *testing.T) {
	t.Parallel()
	a, path := openTest(t)
	b, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { testutil.Close(t, b) })
	// Small enough that neither loop holds the write lock for long: a
	// writer in a tight loop can starve the other past its busy timeout,
	// which no daemon (one acquisition per cycle) does.
	names := threadNames(200)
	mustBeat(t, a, "a", t0)
	mustBeat(t, a, "b", t0)
	const rounds = 10
	var mu sync.Mutex
	granted := map[string][]string{} // name -> holders granted it
	var wg sync.WaitGroup
	for _, h := range []struct {
		st   *Store
		name string
	}{{a, "a"}, {b, "b"}} {
		wg.Go(func() {
			// Each asks for half in small bites, so that the two
			// interleave; names it already holds count.
			for i := range rounds {
				g, err := h.st.AcquireLeases(context.Background(), h.name, names, leaseTTL, t0, (i+1)*len(names)/2/rounds)
				if err != nil {
					t.Errorf("%s: %v", h.name, err)
					return
				}
				mu.Lock()
				for _, n := range g.Names {
					if !slices.Contains(granted[n], h.name) {
						granted[n] = append(granted[n], h.name)
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	count := map[string]int{}
	for n, hs := range granted {
		if len(hs) != 1 {
			t.Errorf("%s granted to %v", n, hs)
		}
		count[hs[0]]++
	}
	if len(granted) != len(names) || count["a"] != len(names)/2 || count["b"] != len(names)/2 {
		t.Errorf("granted %d names, a %d, b %d; want %d, half each", len(granted), count["a"], count["b"], len(names))
	}
	ha, hb := heldNames(t, a, "a"), heldNames(t, b, "b")
	if len(ha)+len(hb) != len(names) || slices.ContainsFunc(ha, func(n string) bool { return slices.Contains(hb, n) }) {
		t.Errorf("a holds %d, b %d, some of them both", len(ha), len(hb))
	}
}

// The take checks the holder's heartbeat again in the statement that
// takes: a heartbeat written after the taker read the lease stale (here,
// in the taker's own transaction, between its read and its take; the
// store's write lock keeps another daemon's out of that window) keeps the
// lease with its holder.
func TestTakeRefusedWhenHeartbeatRenewedMeanwhile(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	name := threadNames(1)
	mustBeat(t, s, "a", t0)
	mustAcquire(t, s, "a", name, t0, 0)
	stale := t0.Add(leaseTTL) // a's heartbeat is a TTL old: dead by the read
	s.leasesRead = func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE instances SET heartbeat_at = ? WHERE name = 'a'`, formatTime(stale))
		return err
	}
	g := mustAcquire(t, s, "b", name, stale, 0)
	s.leasesRead = nil
	if len(g.Names) != 0 || len(g.From) != 0 {
		t.Errorf("b took %+v from a, whose heartbeat was renewed before the take", g)
	}
	if held := heldNames(t, s, "a"); !slices.Equal(held, name) {
		t.Errorf("a holds %v after b's attempt", held)
	}
	// Without the heartbeat meanwhile, the same take succeeds.
	if g := mustAcquire(t, s, "b", name, stale.Add(leaseTTL), 0); !slices.Equal(g.Names, name) || g.From["a"] != 1 {
		t.Errorf("b got %+v once a's heartbeat was stale, want its lease", g)
	}
}

// claimInstance reads the instance of claim id.
func claimInstance(t *testing.T, s *Store, id int64) string {
	t.Helper()
	var in string
	if err := s.db.QueryRowContext(t.Context(), `SELECT instance FROM replies WHERE id = ?`, id).Scan(&in); err != nil {
		t.Fatal(err)
	}
	return in
}

func TestClaimsRecordTheirInstance(t *testing.T) {
	t.Parallel()
	a, path := openTest(t)
	a.SetInstance("a")
	b, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { testutil.Close(t, b) })
	b.SetInstance("b")
	ctx := t.Context()
	if a.InstanceName() != "a" {
		t.Errorf("InstanceName = %q", a.InstanceName())
	}

	sent := mustRecord(t, a, comment("1"), t0, pending("r"))
	if got := claimInstance(t, a, sent[0].ID); got != "a" {
		t.Errorf("Record: instance %q, want a", got)
	}
	// A queued claim made by a, started by b: b's.
	queued := mustRecord(t, a, comment("2"), t0, Claim{Rule: "r", Responder: "kitkot", Status: model.StatusPending, Queued: true})
	if ok, err := b.StartSend(ctx, queued[0].ID, t0); err != nil || !ok {
		t.Fatalf("StartSend = %v, %v", ok, err)
	}
	if got := claimInstance(t, a, queued[0].ID); got != "b" {
		t.Errorf("StartSend: instance %q, want b", got)
	}
	// A retry taken up by b: b's.
	if err := a.Settle(ctx, sent[0].ID, Settlement{Status: model.StatusRetrying, NextAttempt: t0}, t0); err != nil {
		t.Fatal(err)
	}
	if ok, err := b.BeginRetry(ctx, sent[0].ID, t0); err != nil || !ok {
		t.Fatalf("BeginRetry = %v, %v", ok, err)
	}
	if got := claimInstance(t, a, sent[0].ID); got != "b" {
		t.Errorf("BeginRetry: instance %q, want b", got)
	}
	// A draft begun by b: b's; one b lost changes nothing.
	drafting := mustRecord(t, a, comment("3"), t0, Claim{Rule: "d", Responder: "kitkot", Status: model.StatusDrafting,
		Draft: &DraftRequest{LLM: "deepseek", Prompt: "answer 3"}})
	if got := claimInstance(t, a, drafting[0].ID); got != "a" {
		t.Errorf("drafting claim: instance %q, want a", got)
	}
	if ok, err := b.BeginDraft(ctx, drafting[0].ID, 0, t0); err != nil || !ok {
		t.Fatalf("BeginDraft = %v, %v", ok, err)
	}
	if ok, err := a.BeginDraft(ctx, drafting[0].ID, 0, t0); err != nil || ok {
		t.Fatalf("a's late BeginDraft = %v, %v; want false", ok, err)
	}
	if got := claimInstance(t, a, drafting[0].ID); got != "b" {
		t.Errorf("BeginDraft: instance %q, want b", got)
	}
}

// RecoverPending settles the claims of its own instance, of no instance
// and of dead ones, never a live other's; RecoverInstance only the named
// instance's.
func TestRecoverPendingSparesLiveInstances(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := t.Context()
	start := t0.Add(time.Hour)
	for name, beat := range map[string]time.Time{
		"live": start.Add(-time.Minute), // alive at start
		"dead": start.Add(-leaseTTL),    // exactly TTL old: dead
		"self": start.Add(-time.Second), // ourselves, alive or not
		"gone": start.Add(-time.Second).Add(-24 * time.Hour),
	} {
		if err := s.Heartbeat(ctx, name, beat); err != nil {
			t.Fatal(err)
		}
	}
	claims := map[string]int64{}
	i := 0
	for _, in := range []string{"", "self", "live", "dead", "norow"} {
		for _, queued := range []bool{false, true} {
			i++
			s.SetInstance(in)
			got := mustRecord(t, s, comment(fmt.Sprint(i)), t0,
				Claim{Rule: "r", Responder: "kitkot", Status: model.StatusPending, Queued: queued})
			claims[fmt.Sprintf("%s/%v", in, queued)] = got[0].ID
		}
	}
	s.SetInstance("self")
	u, q, err := s.RecoverPending(ctx, start, leaseTTL)
	if err != nil || u != 4 || q != 4 {
		t.Fatalf("RecoverPending = %d unknown, %d requeued, %v; want 4, 4", u, q, err)
	}
	status := func(id int64) string {
		var st string
		if err := s.db.QueryRowContext(ctx, `SELECT status FROM replies WHERE id = ?`, id).Scan(&st); err != nil {
			t.Fatal(err)
		}
		return st
	}
	for key, id := range claims {
		want := model.StatusUnknown
		switch {
		case key == "live/false" || key == "live/true":
			want = model.StatusPending
		case key[len(key)-4:] == "true":
			want = model.StatusRetrying
		}
		if got := status(id); got != want {
			t.Errorf("claim of %s: %s, want %s", key, got, want)
		}
	}

	// The live instance died and another took its threads over: only its
	// claims are settled.
	u, q, err = s.RecoverInstance(ctx, "live", start.Add(time.Hour))
	if err != nil || u != 1 || q != 1 {
		t.Fatalf("RecoverInstance = %d, %d, %v; want 1, 1", u, q, err)
	}
	if status(claims["live/false"]) != model.StatusUnknown || status(claims["live/true"]) != model.StatusRetrying {
		t.Error("RecoverInstance did not settle the instance's claims")
	}
	if _, _, err := s.RecoverInstance(ctx, "", start); err == nil {
		t.Error("RecoverInstance of no name: no error")
	}
}

func TestLeaseWritesRefusedReadOnly(t *testing.T) {
	t.Parallel()
	_, path := openTest(t)
	r, err := OpenReadOnly(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { testutil.Close(t, r) })
	ctx := t.Context()
	_, e1 := r.AcquireLeases(ctx, "a", threadNames(1), leaseTTL, t0, 0)
	_, e2 := r.AcquireLeases(ctx, "a", threadNames(1), leaseTTL, t0, 1)
	_, e3 := r.ReleaseLeases(ctx, "a", threadNames(1))
	e4 := r.Heartbeat(ctx, "a", t0)
	e5 := r.RegisterInstance(ctx, Instance{Name: "a"}, t0)
	_, _, e6 := r.RecoverInstance(ctx, "a", t0)
	for i, err := range []error{e1, e2, e3, e4, e5, e6} {
		if !errors.Is(err, ErrReadOnly) {
			t.Errorf("write %d on a read-only store: %v", i+1, err)
		}
	}
}

// BenchmarkLeaseStep10k is one instance's lease work at a cycle's start
// with 10,000 threads: the first acquisition of half of them, then each
// cycle's heartbeat and read of the leases held, and the acquisition
// finding nothing more to take.
func BenchmarkLeaseStep10k(b *testing.B) {
	s, _ := openTest(b)
	ctx := context.Background()
	names := threadNames(10000)
	b.Run("acquire-5000", func(b *testing.B) {
		for i := range b.N {
			holder := fmt.Sprint("h", i)
			if _, err := s.AcquireLeases(ctx, holder, names, leaseTTL, t0.Add(time.Duration(i)*leaseTTL), 5000); err != nil {
				b.Fatal(err)
			}
		}
	})
	now := t0.Add(time.Duration(b.N+1) * leaseTTL * 1000)
	for _, h := range []string{"a", "b"} {
		if err := s.Heartbeat(ctx, h, now); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := s.AcquireLeases(ctx, "a", names, leaseTTL, now, 5000); err != nil {
		b.Fatal(err)
	}
	b.Run("heartbeat-and-read-5000", func(b *testing.B) {
		for range b.N {
			if err := s.Heartbeat(ctx, "a", now); err != nil {
				b.Fatal(err)
			}
			if _, err := s.HeldLeaseNames(ctx, "a"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("acquire-none-free", func(b *testing.B) {
		if _, err := s.AcquireLeases(ctx, "b", names, leaseTTL, now, 5000); err != nil {
			b.Fatal(err)
		}
		for range b.N {
			// One short of its share, b reads a's 5,000 and finds none free.
			if _, err := s.AcquireLeases(ctx, "b", names[:5000], leaseTTL, now, 1); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkLeaseRenewal100k is the database work of one daemon holding
// 100,000 thread leases and both jobs' in steady state: renew, the
// heartbeat written between cycles (it renews every lease held); step,
// what a cycle's start writes and reads (the heartbeat, then the leases
// held, read back). BENCHMARKS.md has the figures, and those of the
// renewal that rewrote every lease row, before.
func BenchmarkLeaseRenewal100k(b *testing.B) {
	s, _ := openTest(b)
	ctx := context.Background()
	names := threadNames(100000)
	now := t0
	if err := s.Heartbeat(ctx, "a", now); err != nil {
		b.Fatal(err)
	}
	all := append(slices.Clone(names), JobRetention, JobOutbox)
	if g, err := s.AcquireLeases(ctx, "a", all, leaseTTL, now, 0); err != nil || len(g.Names) != len(all) {
		b.Fatal(len(g.Names), err)
	}
	b.Run("renew", func(b *testing.B) {
		for range b.N {
			now = now.Add(time.Second)
			if err := s.Heartbeat(ctx, "a", now); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("step", func(b *testing.B) {
		for range b.N {
			now = now.Add(time.Second)
			if err := s.Heartbeat(ctx, "a", now); err != nil {
				b.Fatal(err)
			}
			if ns, err := s.HeldLeaseNames(ctx, "a"); err != nil || len(ns) != len(all) {
				b.Fatal(len(ns), err)
			}
		}
	})
}

// BenchmarkReleaseLeases100k is a clean stop's release of 100,000 leases:
// by name, 500 a statement (what a stop did before), or every row of the
// holder in one statement (ReleaseAllLeases, after the heartbeat dated
// back). Each op takes the leases again first, untimed.
func BenchmarkReleaseLeases100k(b *testing.B) {
	s, _ := openTest(b)
	ctx := context.Background()
	names := threadNames(100000)
	if err := s.Heartbeat(ctx, "a", t0); err != nil {
		b.Fatal(err)
	}
	take := func(b *testing.B) {
		b.StopTimer()
		if g, err := s.AcquireLeases(ctx, "a", names, leaseTTL, t0, 0); err != nil || len(g.Names) != len(names) {
			b.Fatal(len(g.Names), err)
		}
		b.StartTimer()
	}
	b.Run("by-name", func(b *testing.B) {
		for range b.N {
			take(b)
			if n, err := s.ReleaseLeases(ctx, "a", names); err != nil || n != len(names) {
				b.Fatal(n, err)
			}
		}
	})
	b.Run("all", func(b *testing.B) {
		for range b.N {
			take(b)
			if n, err := s.ReleaseAllLeases(ctx, "a"); err != nil || n != len(names) {
				b.Fatal(n, err)
			}
		}
	})
}
