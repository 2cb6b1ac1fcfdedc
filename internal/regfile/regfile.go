// Package regfile reads the files a configuration names (the config file,
// secret files, rule files, rule test files) so that a wrong path cannot
// hang or exhaust the process: a file is opened without blocking (opening a
// FIFO for reading otherwise waits for a writer, forever), anything but a
// regular file is refused (a FIFO, a device such as /dev/zero, a socket, a
// directory), and at most a given number of bytes is read (files under /proc
// report a size of 0, so the bound is enforced by reading, not by stat).
package regfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// ErrNotRegular is returned (wrapped in an *fs.PathError) for a path that
// is not a regular file.
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is returned (wrapped in an *fs.PathError) for a file that
// holds more than the limit.
var ErrTooLarge = errors.New("file too large")

// openFlags open for reading without blocking on a FIFO; a regular file
// ignores O_NONBLOCK.
const openFlags = os.O_RDONLY | syscall.O_NONBLOCK

// Open opens name for reading and refuses anything but a regular file
// (following symlinks). The caller closes the file.
func Open(name string) (*os.File, error) {
	f, err := os.OpenFile(name, openFlags, 0)
	if err != nil {
		return nil, err
	}
	return checkRegular(f, name)
}

// OpenIn opens name inside root as Open does: a name that leaves root, by
// ".." or through a symlink, is refused (see os.Root).
func OpenIn(root *os.Root, name string) (*os.File, error) {
	f, err := root.OpenFile(name, openFlags, 0)
	if err != nil {
		return nil, err
	}
	return checkRegular(f, name)
}

// checkRegular returns f if it is a regular file, else closes it. The check
// is on the open file (fstat), so a path swapped after a stat cannot slip a
// FIFO through.
func checkRegular(f *os.File, name string) (*os.File, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, errors.Join(err, f.Close())
	}
	if err := Check(fi); err != nil {
		return nil, errors.Join(&fs.PathError{Op: "open", Path: name, Err: err}, f.Close())
	}
	return f, nil
}

// Check says, for a path someone else opens (SQLite opens the database),
// whether fi is a regular file: nil, or ErrNotRegular naming what it is.
func Check(fi fs.FileInfo) error {
	if fi.Mode().IsRegular() {
		return nil
	}
	return fmt.Errorf("%w (%s)", ErrNotRegular, kind(fi.Mode()))
}

// kind names a file type for people.
func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	}
	return "mode " + m.Type().String()
}

// ReadAll reads f to its end, but no more than limit bytes: a longer file is
// ErrTooLarge.
func ReadAll(f *os.File, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, &fs.PathError{Op: "read", Path: f.Name(), Err: fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limit)}
	}
	return b, nil
}

// Read opens name with Open and reads it with ReadAll.
func Read(name string, limit int64) ([]byte, error) {
	f, err := Open(name)
	if err != nil {
		return nil, err
	}
	b, err := ReadAll(f, limit)
	return b, errors.Join(err, f.Close())
}
