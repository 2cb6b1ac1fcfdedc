package store

import (
	"context"
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

func heldNames(t *testing.T, s *Store, holder string, now time.Time) []string {
	t.Helper()
	ls, err := s.HeldLeases(t.Context(), holder, now)
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

func TestLeaseNames(t *testing.T) {
	t.Parallel()
	if got := ThreadLease("douyin", "video:7251517975340027197"); got != "thread:douyin:video:7251517975340027197" {
		t.Errorf("ThreadLease = %q", got)
	}
	if !IsThreadLease(ThreadLease("weibo", "1")) || IsThreadLease(JobOutbox) || IsThreadLease(JobRetention) {
		t.Error("IsThreadLease mistakes a job's lease for a thread's or the other way round")
	}
}

func TestLeasesExpireAndAreTakenOver(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := t.Context()
	names := threadNames(5)

	g := mustAcquire(t, s, "a", names, t0, 3)
	if !slices.Equal(g.Names, names[:3]) || len(g.From) != 0 {
		t.Fatalf("a got %+v, want the first 3 names from no one", g)
	}
	// Held by a and unexpired: b gets only the two free ones.
	g = mustAcquire(t, s, "b", names, t0.Add(time.Second), 0)
	if !slices.Equal(g.Names, names[3:]) || len(g.From) != 0 {
		t.Fatalf("b got %+v, want the 2 free names", g)
	}
	// a asking again renews its own and gets none of b's.
	g = mustAcquire(t, s, "a", names, t0.Add(time.Minute), 0)
	if !slices.Equal(g.Names, names[:3]) {
		t.Fatalf("a again got %v, want its own 3", g.Names)
	}
	ls, err := s.HeldLeases(ctx, "a", t0.Add(time.Minute))
	if err != nil || len(ls) != 3 || !ls[0].ExpiresAt.Equal(t0.Add(time.Minute+leaseTTL)) || !ls[0].AcquiredAt.Equal(t0) {
		t.Fatalf("a's leases = %+v, %v; want renewed to +1m+TTL, acquired at t0", ls, err)
	}

	// b stops renewing: at the exact expiry its leases are free to take,
	// and a is told whose they were.
	exp := t0.Add(time.Second + leaseTTL)
	if got := heldNames(t, s, "b", exp); len(got) != 0 {
		t.Errorf("b still holds %v at its expiry", got)
	}
	g = mustAcquire(t, s, "a", names, exp, 0)
	if !slices.Equal(g.Names, names) || g.From["b"] != 2 || len(g.From) != 1 {
		t.Fatalf("takeover = %+v, want all 5, 2 of them from b", g)
	}
	if got := heldNames(t, s, "a", exp); !slices.Equal(got, names) {
		t.Errorf("a holds %v", got)
	}
	ls, _ = s.HeldLeases(ctx, "a", exp)
	for _, l := range ls {
		if slices.Contains(names[3:], l.Name) && !l.AcquiredAt.Equal(exp) {
			t.Errorf("taken over lease %+v: acquired_at is not the takeover's time", l)
		}
	}

	// Renewal keeps them; a release frees them for b at once.
	renewed, err := s.RenewLeases(ctx, "a", leaseTTL, exp.Add(time.Minute))
	if err != nil || !slices.Equal(renewed, names) {
		t.Fatalf("RenewLeases = %v, %v", renewed, err)
	}
	n, err := s.ReleaseLeases(ctx, "a", names[:2])
	if err != nil || n != 2 {
		t.Fatalf("ReleaseLeases = %d, %v", n, err)
	}
	if n, _ := s.ReleaseLeases(ctx, "b", names); n != 0 {
		t.Errorf("b released %d leases it does not hold", n)
	}
	g = mustAcquire(t, s, "b", names, exp.Add(time.Minute), 0)
	if !slices.Equal(g.Names, names[:2]) || len(g.From) != 0 {
		t.Errorf("b after the release got %+v, want the 2 released, from no one", g)
	}
	// A renewal says which leases are still the holder's.
	renewed, _ = s.RenewLeases(ctx, "a", leaseTTL, exp.Add(2*time.Minute))
	if !slices.Equal(renewed, names[2:]) {
		t.Errorf("a renewed %v, want %v", renewed, names[2:])
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
	ha, hb := heldNames(t, a, "a", t0), heldNames(t, b, "b", t0)
	if len(ha)+len(hb) != len(names) || slices.ContainsFunc(ha, func(n string) bool { return slices.Contains(hb, n) }) {
		t.Errorf("a holds %d, b %d, some of them both", len(ha), len(hb))
	}
}

// The conditional upsert alone keeps a lease with its unexpired holder,
// even when the read before it saw the lease free: two handles that both
// read "free" cannot both take it.
func TestAcquireUpsertIsConditional(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := t.Context()
	name := threadNames(1)
	mustAcquire(t, s, "a", name, t0, 0)
	// b's upsert, as if its read had found the name free.
	rows, err := s.db.QueryContext(ctx,
		`INSERT INTO leases (name, holder, expires_at, acquired_at) VALUES (?5, ?1, ?2, ?3)
		 ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		 WHERE leases.holder = excluded.holder OR leases.expires_at <= ?4 RETURNING name`,
		"b", formatTime(t0.Add(leaseTTL)), formatTime(t0), formatTime(t0), name[0])
	if err != nil {
		t.Fatal(err)
	}
	got, err := scanLeaseNames(rows)
	if err != nil || len(got) != 0 {
		t.Errorf("b's upsert returned %v, %v; want nothing", got, err)
	}
	if held := heldNames(t, s, "a", t0); !slices.Equal(held, name) {
		t.Errorf("a holds %v after b's upsert", held)
	}
}

func scanLeaseNames(rows interface {
	Next() bool
	Scan(...any) error
	Close() error
	Err() error
}) ([]string, error) {
	defer func() { _ = rows.Close() }()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
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
	_, e2 := r.RenewLeases(ctx, "a", leaseTTL, t0)
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
// cycle's renewal and the acquisition finding nothing more to take.
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
	if _, err := s.AcquireLeases(ctx, "a", names, leaseTTL, now, 5000); err != nil {
		b.Fatal(err)
	}
	b.Run("renew-5000", func(b *testing.B) {
		for range b.N {
			if _, err := s.RenewLeases(ctx, "a", leaseTTL, now); err != nil {
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
