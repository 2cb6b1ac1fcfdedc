package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
)

// ErrFileGone is returned (wrapped) when the database file the store has
// open is no longer the file at its path: deleted (rm of the database and
// its -wal/-shm), moved away or replaced. Writes would go on into the
// orphaned file and be lost with it, and the next start would find an empty
// database and take every comment for new: the store refuses to record a
// claim or start a send until the file is back.
var ErrFileGone = errors.New("the database file was deleted or replaced while autoreplyd had it open")

// identity is what the store knows of its file, to notice its loss.
type identity struct {
	path string      // the path as configured
	real string      // the path with symlinks resolved, as /proc shows it
	info os.FileInfo // the file opened

	mu      sync.Mutex
	checked time.Time // when recentCheck last looked
	last    error     // what it found
}

// checkReuse is how long a batch relies on the last check: a check
// (BenchmarkCheckFile: a few system calls, under a tenth of a millisecond)
// is nothing per send, but a cycle of 10,000 busy threads records as many
// batches.
const checkReuse = time.Second

// recentCheck is CheckFile, or its outcome of less than checkReuse ago.
func (s *Store) recentCheck() error {
	id := s.ident
	if id == nil {
		return nil
	}
	id.mu.Lock()
	defer id.mu.Unlock()
	if now := time.Now(); id.checked.IsZero() || now.Sub(id.checked) >= checkReuse || now.Before(id.checked) {
		id.last, id.checked = s.CheckFile(), now
	}
	return id.last
}

// newIdentity records the file at path (which exists: Open created it).
func newIdentity(path string) (*identity, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	resolved, err := filepath.EvalSymlinks(path)
	if err != nil {
		return nil, err
	}
	if resolved, err = filepath.Abs(resolved); err != nil {
		return nil, err
	}
	return &identity{path: path, real: resolved, info: info}, nil
}

// CheckFile reports whether the database file this store has open is still
// the one at its path, and (on Linux) whether the -wal and -shm files SQLite
// has open were deleted; a failure wraps ErrFileGone. Cheap (a stat and a
// look at this process's open files): the daemon calls it every cycle and
// the store before every batch of records and every send. A read-only store
// checks nothing.
func (s *Store) CheckFile() error {
	id := s.ident
	if id == nil {
		return nil
	}
	info, err := os.Stat(id.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("database %s: no file at that path any more: %w", id.path, ErrFileGone)
	case err != nil:
		return nil // a stat that fails otherwise (permissions) says nothing of the file
	case !os.SameFile(info, id.info):
		return fmt.Errorf("database %s: another file is at that path now: %w", id.path, ErrFileGone)
	}
	if deleted := openDeleted(id.real); deleted != "" {
		return fmt.Errorf("database %s: %s was deleted while open: %w", id.path, deleted, ErrFileGone)
	}
	return nil
}

// openDeleted returns the first of the database's files (the database, its
// -wal and -shm) that this process holds open although it was deleted, or
// "" (always "" where /proc/self/fd is not available). Linux shows such a
// descriptor's target as the old path followed by " (deleted)".
func openDeleted(resolved string) string {
	if runtime.GOOS != "linux" {
		return ""
	}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return ""
	}
	for _, fd := range fds {
		target, err := os.Readlink("/proc/self/fd/" + fd.Name())
		if err != nil {
			continue
		}
		name, ok := strings.CutSuffix(target, " (deleted)")
		if !ok {
			continue
		}
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if name == resolved+suffix {
				return filepath.Base(name)
			}
		}
	}
	return ""
}
