package store

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	"modernc.org/sqlite"
)

// SQLite primary result codes the store classifies (an extended code carries
// its primary code in the low byte).
const (
	codeBusy     = 5
	codeLocked   = 6
	codeReadOnly = 8
	codeIOErr    = 10
	codeCorrupt  = 11
	codeFull     = 13
	codeCantOpen = 14
	codeNotADB   = 26

	codeReadOnlyDirectory = codeReadOnly | 6<<8 // SQLITE_READONLY_DIRECTORY
)

// sqliteCode returns the SQLite result code in err's chain.
func sqliteCode(err error) (int, bool) {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code(), true
	}
	return 0, false
}

// IsTransient reports whether err is a storage condition that can clear
// without a restart, so the operation should be retried later rather than
// the daemon exiting: PostgreSQL unreachable, restarting, failing over or
// read-only (see pgTransient), the database locked by another process (busy), the
// disk or database full, the file or its directory read-only or not
// accessible (permissions the operator fixes in place), or an I/O error.
// A corrupt file, a file that is not a database, a schema newer than this
// autoreplyd and every non-storage error are not transient.
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	if transient, ok := pgTransient(err); ok {
		return transient
	}
	if code, ok := sqliteCode(err); ok {
		switch code & 0xff {
		case codeBusy, codeLocked, codeReadOnly, codeIOErr, codeFull, codeCantOpen:
			return true
		}
		return false
	}
	// Creating the database's directory (before SQLite is involved).
	for _, e := range []error{syscall.EACCES, syscall.EPERM, syscall.EROFS, syscall.ENOSPC, syscall.EDQUOT, syscall.EIO} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// Describe says in words an operator can act on what storage condition err
// is, e.g. "database is locked by another process (busy for 5s)", or returns
// "" when err is not a storage condition it knows.
func Describe(err error) string {
	if err == nil {
		return ""
	}
	if why := pgDescribe(err); why != "" {
		return why
	}
	if code, ok := sqliteCode(err); ok {
		if code == codeReadOnlyDirectory {
			return "database directory is read-only (check directory permissions)"
		}
		switch code & 0xff {
		case codeBusy:
			return fmt.Sprintf("database is locked by another process (busy for %s)", time.Duration(busyTimeoutMS)*time.Millisecond)
		case codeLocked:
			return "database table is locked by another statement"
		case codeReadOnly:
			// SQLite creates the -wal and -shm files with the database
			// file's mode: a read-only -shm left behind keeps the
			// database read-only after the file itself is fixed.
			return "database is read-only (check file permissions, the -wal and -shm files' included)"
		case codeFull:
			return "database or disk is full"
		case codeIOErr:
			return "disk I/O error on the database file"
		case codeCantOpen:
			return "cannot open the database file (check that its directory exists and that the file and directory are readable and writable)"
		case codeCorrupt:
			return "database file is corrupt"
		case codeNotADB:
			return "file is not an SQLite database"
		}
		return ""
	}
	switch {
	case errors.Is(err, ErrFileGone):
		return "the database file was deleted or replaced while open: nothing is recorded or sent; restore it and restart autoreplyd"
	case errors.Is(err, syscall.EROFS):
		return "database directory is on a read-only file system"
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return "permission denied on the database directory (check directory permissions)"
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return "disk is full"
	case errors.Is(err, syscall.EIO):
		return "disk I/O error"
	}
	return ""
}

// Explain wraps err with Describe's words in front, when it has any, so an
// error printed once says what to do about it.
func Explain(err error) error {
	if why := Describe(err); why != "" {
		return fmt.Errorf("%s: %w", why, err)
	}
	return err
}

// LimitPages caps the database at max(pages, its current size) pages on the
// store's connection (PRAGMA max_page_count) and returns the cap in force:
// a write that needs more pages fails with SQLITE_FULL, as on a full disk.
// It does not persist. Tests use it to emulate a full disk; pages <= 0
// lifts the cap.
func (s *Store) LimitPages(ctx context.Context, pages int) (int, error) {
	if pages <= 0 {
		pages = 1 << 30 // SQLite's default maximum
	}
	var n int
	// PRAGMA takes no bound parameters; pages is an int.
	if err := s.db.QueryRowContext(ctx, fmt.Sprintf("PRAGMA max_page_count = %d", pages)).Scan(&n); err != nil {
		return 0, fmt.Errorf("limit database %s to %d pages: %w", s.path, pages, err)
	}
	return n, nil
}

// SetBusyTimeout changes how long the store's connection waits for another
// process's lock before failing with "database is locked" (PRAGMA
// busy_timeout; Open sets 5s). Tests shorten it.
func (s *Store) SetBusyTimeout(ctx context.Context, d time.Duration) error {
	if _, err := s.db.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", d.Milliseconds())); err != nil {
		return fmt.Errorf("set busy timeout of database %s: %w", s.path, err)
	}
	return nil
}
