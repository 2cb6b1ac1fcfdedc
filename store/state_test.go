package store

import (
	"strconv"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
)

func TestThreadStateRoundTrip(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := t.Context()
	if st, ok, err := s.ThreadState(ctx, model.PlatformDouyin, "7251524159191958327"); err != nil || ok || st != (model.ThreadState{}) {
		t.Fatalf("ThreadState of a new thread = %+v, %v, %v", st, ok, err)
	}
	want := model.ThreadState{
		Platform:     model.PlatformDouyin,
		ThreadID:     "7251524159191958327",
		Initialized:  true,
		Total:        1234,
		Known:        1200,
		Order:        model.OrderNewest,
		PageSize:     20,
		Cursor:       "cursor-💑",
		Polls:        7,
		LastFullScan: t0,
		LastPolled:   t0.Add(90 * time.Second),
	}
	if err := s.SaveThreadState(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.ThreadState(ctx, want.Platform, want.ThreadID)
	if err != nil || !ok || got != want {
		t.Fatalf("ThreadState = %+v, %v, %v; want %+v", got, ok, err, want)
	}

	// Upsert replaces, and zero times read back as zero.
	want.Polls, want.Initialized, want.LastFullScan, want.Order = 8, false, time.Time{}, model.OrderMixed
	if err := s.SaveThreadState(ctx, want); err != nil {
		t.Fatal(err)
	}
	if got, _, _ = s.ThreadState(ctx, want.Platform, want.ThreadID); got != want {
		t.Fatalf("after upsert = %+v, want %+v", got, want)
	}
	if _, ok, _ := s.ThreadState(ctx, model.PlatformTikTok, want.ThreadID); ok {
		t.Error("state leaked to another platform")
	}
	if err := s.SaveThreadState(ctx, model.ThreadState{Platform: "douyin"}); err == nil {
		t.Error("SaveThreadState without a thread id accepted")
	}
}

func TestPauses(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := t.Context()
	if ps, err := s.Pauses(ctx); err != nil || len(ps) != 0 {
		t.Fatalf("Pauses = %+v, %v", ps, err)
	}
	until := t0.Add(16 * time.Hour)
	if err := s.SetPause(ctx, "source:douyin", until, "daily quota (303)", t0); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPause(ctx, "responder:kitkot", time.Time{}, "no balance", t0); err != nil {
		t.Fatal(err)
	}
	ps, err := s.Pauses(ctx)
	if err != nil || len(ps) != 2 {
		t.Fatalf("Pauses = %+v, %v", ps, err)
	}
	want := []Pause{
		{Scope: "responder:kitkot", Reason: "no balance", CreatedAt: t0},
		{Scope: "source:douyin", Reason: "daily quota (303)", Until: until, CreatedAt: t0},
	}
	for i := range want {
		if ps[i] != want[i] {
			t.Errorf("pause %d = %+v, want %+v", i, ps[i], want[i])
		}
	}

	// Setting again replaces.
	later := t0.Add(time.Hour)
	if err := s.SetPause(ctx, "source:douyin", time.Time{}, "bad token (100)", later); err != nil {
		t.Fatal(err)
	}
	ps, _ = s.Pauses(ctx)
	if len(ps) != 2 || ps[1] != (Pause{Scope: "source:douyin", Reason: "bad token (100)", CreatedAt: later}) {
		t.Errorf("after replace = %+v", ps)
	}

	if err := s.ClearPause(ctx, "source:douyin"); err != nil {
		t.Fatal(err)
	}
	if err := s.ClearPause(ctx, "source:absent"); err != nil {
		t.Errorf("ClearPause of an absent scope = %v", err)
	}
	ps, _ = s.Pauses(ctx)
	if len(ps) != 1 || ps[0].Scope != "responder:kitkot" {
		t.Errorf("after clear = %+v", ps)
	}
	if err := s.SetPause(ctx, "", time.Time{}, "", t0); err == nil {
		t.Error("SetPause with an empty scope accepted")
	}
}

// SaveThreadStates saves what SaveThreadState saves, one row a thread:
// more threads than one statement carries, a thread twice (the later
// state wins), threads with labels set (multi-row) and without (one at a
// time, keeping the labels their rows hold), new rows and existing ones.
func TestSaveThreadStates(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := t.Context()
	const n = statesPerInsert + 37
	var labelled []ThreadLabels
	var states []model.ThreadState
	for i := range n {
		id := "72515241591919" + strconv.Itoa(10000+i)
		if i%5 != 0 {
			labelled = append(labelled, ThreadLabels{Platform: model.PlatformDouyin, ThreadID: id, Labels: map[string]string{"campaign": "春季🌸", "n": strconv.Itoa(i)}})
		}
		states = append(states, model.ThreadState{Platform: model.PlatformDouyin, ThreadID: id, Initialized: true,
			Total: int64(i), Known: int64(i), Order: model.OrderNewest, PageSize: 10, Cursor: "c-" + strconv.Itoa(i), Polls: 1,
			LastPolled: t0.Add(time.Duration(i) * time.Second), IdlePolls: int64(i % 3), NextPoll: t0.Add(time.Hour)})
	}
	// A label-less thread's row exists with labels of its own (a discovered
	// thread's): they stay.
	own := states[0]
	if err := s.SaveThreadState(ctx, own); err != nil {
		t.Fatal(err)
	}
	if _, err := s.q.ExecContext(ctx, `UPDATE threads SET labels = '{"video":"x"}' WHERE thread_id = ?`, own.ThreadID); err != nil {
		t.Fatal(err)
	}
	if err := s.SetThreadLabels(ctx, labelled); err != nil {
		t.Fatal(err)
	}
	later := states[3]
	later.Polls, later.IdlePolls, later.Cursor = 9, 2, "later"
	in := append(append([]model.ThreadState(nil), states...), later)
	err := s.Batch(ctx, func(db *Store) error { return db.SaveThreadStates(ctx, in) })
	if err != nil {
		t.Fatal(err)
	}
	states[3] = later
	for i, want := range states {
		got, ok, err := s.ThreadState(ctx, want.Platform, want.ThreadID)
		if err != nil || !ok || got != want {
			t.Fatalf("thread %d: %+v, %v, %v; want %+v", i, got, ok, err, want)
		}
	}
	var labels string
	if err := s.q.QueryRowContext(ctx, `SELECT labels FROM threads WHERE thread_id = ?`, own.ThreadID).Scan(&labels); err != nil || labels != `{"video":"x"}` {
		t.Fatalf("labels of a thread never labelled: %q, %v", labels, err)
	}
	if err := s.q.QueryRowContext(ctx, `SELECT labels FROM threads WHERE thread_id = ?`, states[1].ThreadID).Scan(&labels); err != nil || labels != `{"campaign":"春季🌸","n":"1"}` {
		t.Fatalf("labels of a labelled thread: %q, %v", labels, err)
	}
	var rows int
	if err := s.q.QueryRowContext(ctx, `SELECT count(*) FROM threads`).Scan(&rows); err != nil || rows != n {
		t.Fatalf("%d thread rows, %v; want %d", rows, err, n)
	}
	if err := s.SaveThreadStates(ctx, []model.ThreadState{{Platform: model.PlatformDouyin}}); err == nil {
		t.Error("a state without a thread id accepted")
	}
}
