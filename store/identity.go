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

	// What sendCheck remembers of the last full look at /proc/self/fd:
	// the descriptors open on the database, its -wal and its -shm, each
	// with its target then, and when that look was.
	fdMu    sync.Mutex
	fds     []openFile
	scanned time.Time

	// readlink and now are os.Readlink and time.Now, replaced by tests to
	// count the descriptors read and to hold the clock.
	readlink func(string) (string, error)
	now      func() time.Time
}

// openFile is a descriptor of this process open on one of the database's
// files, as /proc/self/fd shows it.
type openFile struct {
	fd     string // /proc/self/fd/N
	target string // what it pointed at, without " (deleted)"
}

// checkReuse is how long a batch relies on the last CheckFile, and how long
// sendCheck relies on the last full look at the open descriptors to know
// which of them are the database's (SQLite may open a -wal or -shm later).
// A full look reads every descriptor of the process, so it costs with their
// number (BenchmarkFileChecks: 0.1 ms with the test's own, 1.2-1.5 ms with
// 200 more, 5 ms with 1,000 more): once a second it is nothing, before
// every send it would be most of the send's store time. sendCheck's own
// look costs the same whatever their number (14-20 µs: a stat and three
// readlinks).
const checkReuse = time.Second

// deletedSuffix is what Linux appends to the target of a descriptor whose
// file was deleted (or replaced by a rename) since it was opened.
const deletedSuffix = " (deleted)"

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
	return &identity{path: path, real: resolved, info: info, readlink: os.Readlink, now: time.Now}, nil
}

// CheckFile reports whether the database file this store has open is still
// the one at its path, and (on Linux) whether this process holds one of the
// database's files (the database, its -wal and -shm) open although it was
// deleted; a failure wraps ErrFileGone. It reads every
// descriptor of the process: the daemon calls it once a cycle and for
// /-/ready, the store before a batch of records at most once a checkReuse.
// Sends use sendCheck. A read-only store checks nothing.
func (s *Store) CheckFile() error {
	id := s.ident
	if id == nil {
		return nil
	}
	if err := id.statPath(); err != nil {
		return err
	}
	if _, deleted := id.scanFDs(); deleted != "" {
		return id.deletedErr(deleted)
	}
	return nil
}

// sendCheck is CheckFile for the calls made right before something leaves
// or goes for good (a send, a retry, a draft request, a prune), at a cost
// that does not grow with the process's open descriptors: the path is
// stat'ed every time, and only the descriptors the last full look found on
// the database's files are read again. Their deletion is seen at once; a
// full look is made again when one of them is closed or points elsewhere,
// while they do not cover the database, -wal and -shm, and once a
// checkReuse to find new ones.
func (s *Store) sendCheck() error {
	id := s.ident
	if id == nil {
		return nil
	}
	if err := id.statPath(); err != nil {
		return err
	}
	if runtime.GOOS != "linux" {
		return nil
	}
	id.fdMu.Lock()
	defer id.fdMu.Unlock()
	now := id.now()
	if now.Sub(id.scanned) < checkReuse && !now.Before(id.scanned) && id.coversAll() {
		still := true
		for _, f := range id.fds {
			target, err := id.readlink(f.fd)
			if err != nil {
				still = false // closed: the connection was replaced
				break
			}
			if name, deleted := strings.CutSuffix(target, deletedSuffix); deleted && name == f.target {
				return id.deletedErr(filepath.Base(name))
			}
			if target != f.target {
				still = false // the number was reused for another file
				break
			}
		}
		if still {
			return nil
		}
	}
	fds, deleted := id.scanFDs()
	if deleted != "" {
		id.fds = nil
		return id.deletedErr(deleted)
	}
	id.fds, id.scanned = fds, now
	return nil
}

// coversAll reports whether the remembered descriptors include the
// database, its -wal and its -shm: the writer's connection holds all three
// (WAL mode), so while one is missing, a full look is made every time.
func (id *identity) coversAll() bool {
	var seen [3]bool
	for _, f := range id.fds {
		switch f.target {
		case id.real:
			seen[0] = true
		case id.real + "-wal":
			seen[1] = true
		case id.real + "-shm":
			seen[2] = true
		}
	}
	return seen[0] && seen[1] && seen[2]
}

// statPath reports (wrapping ErrFileGone) that no file, or another file,
// is at the database's path.
func (id *identity) statPath() error {
	info, err := os.Stat(id.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("database %s: no file at that path any more: %w", id.path, ErrFileGone)
	case err != nil:
		return nil // a stat that fails otherwise (permissions) says nothing of the file
	case !os.SameFile(info, id.info):
		return fmt.Errorf("database %s: another file is at that path now: %w", id.path, ErrFileGone)
	}
	return nil
}

// deletedErr is the error for name (the database, -wal or -shm) deleted.
func (id *identity) deletedErr(name string) error {
	return fmt.Errorf("database %s: %s was deleted while open: %w", id.path, name, ErrFileGone)
}

// scanFDs reads every descriptor of this process and returns those open on
// the database's files (the database, its -wal and -shm), and the name of
// the first such file held open although it was deleted, or "". Linux shows
// such a descriptor's target as the old path followed by " (deleted)".
// Where /proc/self/fd is not available it finds nothing.
func (id *identity) scanFDs() (fds []openFile, deleted string) {
	if runtime.GOOS != "linux" {
		return nil, ""
	}
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return nil, ""
	}
	fds = []openFile{}
	for _, e := range entries {
		fd := "/proc/self/fd/" + e.Name()
		target, err := id.readlink(fd)
		if err != nil {
			continue
		}
		name, gone := strings.CutSuffix(target, deletedSuffix)
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if name != id.real+suffix {
				continue
			}
			if gone {
				if deleted == "" {
					deleted = filepath.Base(name)
				}
			} else {
				fds = append(fds, openFile{fd: fd, target: target})
			}
		}
	}
	return fds, deleted
}
