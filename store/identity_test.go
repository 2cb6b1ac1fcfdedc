package store

import (
	"context"
	"errors"
	"os"
	"testing"

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

// BenchmarkCheckFile: the cost of the check made before every batch and
// send (a stat and a read of this process's open files).
func BenchmarkCheckFile(b *testing.B) {
	s, _ := openTest(b)
	for b.Loop() {
		if err := s.CheckFile(); err != nil {
			b.Fatal(err)
		}
	}
}
