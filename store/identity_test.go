package store

import (
	"context"
	"errors"
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/model"
)

// TestCheckFileNoticesLoss: the database deleted with its -wal and -shm (the
// probe's rm), moved away, replaced, or only its -wal deleted: the store
// says so, refuses to record or start a send, and never creates a fresh
// database at the path.
func TestCheckFileNoticesLoss(t *testing.T) {
	sqliteOnly(t)
	t.Parallel()
	for _, tc := range []struct {
		name string
		lose func(t *testing.T, path string)
	}{
		{"rm with wal and shm", func(t *testing.T, path string) {
			for _, p := range []string{path, path + "-wal", path + "-shm"} {
				if err := os.Remove(p); err != nil {
					t.Fatal(err)
				}
			}
		}},
		{"moved away", func(t *testing.T, path string) {
			if err := os.Rename(path, path+".bak"); err != nil {
				t.Fatal(err)
			}
		}},
		{"replaced", func(t *testing.T, path string) {
			if err := os.Rename(path, path+".old"); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{"wal deleted", func(t *testing.T, path string) {
			if err := os.Remove(path + "-wal"); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, path := openTest(t)
			ctx := context.Background()
			won := mustRecord(t, s, comment("1"), t0, Claim{Rule: "a", Responder: "kitkot", Status: model.StatusPending, Queued: true, ReplyText: "hi"})
			if err := s.CheckFile(); err != nil {
				t.Fatalf("CheckFile of a healthy database: %v", err)
			}
			tc.lose(t, path)
			if err := s.CheckFile(); !errors.Is(err, ErrFileGone) {
				t.Fatalf("CheckFile = %v, want ErrFileGone", err)
			}
			if Describe(s.CheckFile()) == "" {
				t.Error("Describe has no words for a lost database")
			}
			err := s.Batch(ctx, func(b *Store) error {
				_, err := b.Record(ctx, comment("2"), model.DispositionEvaluated, nil, t0)
				return err
			})
			if !errors.Is(err, ErrFileGone) {
				t.Errorf("Batch = %v, want ErrFileGone", err)
			}
			if ok, err := s.StartSend(ctx, won[0].ID, t0); ok || !errors.Is(err, ErrFileGone) {
				t.Errorf("StartSend = %v, %v, want refused with ErrFileGone", ok, err)
			}
			if tc.name == "rm with wal and shm" {
				// A new connection (the old one dropped) must not create a
				// fresh database there.
				s.db.SetMaxIdleConns(0)
				_, _ = s.Known(ctx, model.PlatformDouyin, []string{"1"})
				if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("a database was created at the deleted path (stat: %v)", err)
				}
			}
		})
	}
}

func TestOpenCreatedReportsNewFile(t *testing.T) {
	t.Parallel()
	s, path := openTest(t)
	if !s.Created() {
		t.Fatal("a new database is not reported created")
	}
	testutil.Close(t, s)
	s2, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, s2)
	if s2.Created() {
		t.Fatal("an existing database is reported created")
	}
}

// countReadlinks makes s's identity count the descriptors it reads and
// stand still in time at t0 (so no full look is due by the clock until the
// test moves it); it returns the count and the clock's setter.
func countReadlinks(t *testing.T, s *Store) (count func() int, setNow func(time.Time)) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("descriptors are read only where /proc/self/fd is")
	}
	id := s.ident
	var mu sync.Mutex
	n, now := 0, t0
	id.readlink = func(name string) (string, error) {
		mu.Lock()
		n++
		mu.Unlock()
		return os.Readlink(name)
	}
	id.now = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	count = func() int {
		mu.Lock()
		defer mu.Unlock()
		c := n
		n = 0
		return c
	}
	setNow = func(at time.Time) {
		mu.Lock()
		defer mu.Unlock()
		now = at
	}
	return count, setNow
}

// TestSendCheckSeesWALDeletedAtOnce: with the descriptors just looked at
// (a send a moment ago), the -wal deleted is still seen by the very next
// send, from the remembered descriptors alone, not a second later.
func TestSendCheckSeesWALDeletedAtOnce(t *testing.T) {
	sqliteOnly(t)
	t.Parallel()
	s, path := openTest(t)
	ctx := context.Background()
	queued := Claim{Rule: "a", Responder: "kitkot", Status: model.StatusPending, Queued: true, ReplyText: "你好 🙏"}
	first := mustRecord(t, s, comment("1"), t0, queued)
	second := mustRecord(t, s, comment("2"), t0, queued)
	count, _ := countReadlinks(t, s)
	if ok, err := s.StartSend(ctx, first[0].ID, t0); err != nil || !ok {
		t.Fatalf("StartSend of a healthy database = %v, %v", ok, err)
	}
	if n := count(); n < 3 {
		t.Fatalf("the first send read %d descriptors: no full look at them", n)
	}
	if err := os.Remove(path + "-wal"); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.StartSend(ctx, second[0].ID, t0); ok || !errors.Is(err, ErrFileGone) {
		t.Fatalf("StartSend right after the -wal was deleted = %v, %v; want refused with ErrFileGone", ok, err)
	}
	if n := count(); n > 3 {
		t.Errorf("the refusal read %d descriptors, want at most the database's 3 remembered", n)
	}
	for range 2 { // and it stays refused
		if ok, err := s.StartSend(ctx, second[0].ID, t0); ok || !errors.Is(err, ErrFileGone) {
			t.Fatalf("StartSend again = %v, %v; want refused with ErrFileGone", ok, err)
		}
	}
}

// TestSendCheckReadsOnlyTheDatabaseFDs: with 500 more descriptors open,
// a send reads again only the database's own (the database, -wal, -shm),
// and all of them only on its first check and once a checkReuse.
func TestSendCheckReadsOnlyTheDatabaseFDs(t *testing.T) {
	sqliteOnly(t)
	t.Parallel()
	const extra = 500
	for range extra {
		f, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = f.Close() })
	}
	s, _ := openTest(t)
	ctx := context.Background()
	queued := Claim{Rule: "a", Responder: "kitkot", Status: model.StatusPending, Queued: true, ReplyText: "hi"}
	var ids []int64
	for i := range 6 {
		ids = append(ids, mustRecord(t, s, comment(strconv.Itoa(i+1)), t0, queued)[0].ID)
	}
	count, setNow := countReadlinks(t, s)
	send := func(id int64) int {
		t.Helper()
		if ok, err := s.StartSend(ctx, id, t0); err != nil || !ok {
			t.Fatalf("StartSend = %v, %v", ok, err)
		}
		return count()
	}
	if n := send(ids[0]); n < extra {
		t.Fatalf("the first send read %d descriptors, want all of them (over %d)", n, extra)
	}
	for _, id := range ids[1:4] {
		if n := send(id); n != 3 {
			t.Errorf("a send read %d descriptors, want the database's 3", n)
		}
	}
	setNow(t0.Add(checkReuse))
	if n := send(ids[4]); n < extra {
		t.Errorf("a send a checkReuse later read %d descriptors, want a full look (over %d)", n, extra)
	}
	if n := send(ids[5]); n != 3 {
		t.Errorf("the send after it read %d descriptors, want the database's 3", n)
	}
}

// BenchmarkCheckFile: the cost of the full check, made by the daemon every
// cycle and before a batch at most once a checkReuse (a stat and a read of
// every descriptor this process has open).
func BenchmarkCheckFile(b *testing.B) {
	s, _ := openTest(b)
	for b.Loop() {
		if err := s.CheckFile(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFileChecks: CheckFile (every descriptor read) against sendCheck
// (the database's own read again, a full look once a checkReuse) with more
// descriptors open in the process.
func BenchmarkFileChecks(b *testing.B) {
	for _, extra := range []int{0, 200, 1000} {
		var files []*os.File
		for range extra {
			f, err := os.Open(os.DevNull)
			if err != nil {
				b.Fatal(err)
			}
			files = append(files, f)
		}
		for _, c := range []struct {
			name  string
			check func(*Store) error
		}{{"CheckFile", (*Store).CheckFile}, {"sendCheck", (*Store).sendCheck}} {
			b.Run(c.name+"/fds+"+strconv.Itoa(extra), func(b *testing.B) {
				s, _ := openTest(b)
				b.ReportAllocs()
				for b.Loop() {
					if err := c.check(s); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		for _, f := range files {
			_ = f.Close()
		}
	}
}
