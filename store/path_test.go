package store

import (
	"context"
	"strings"
	"testing"

	"github.com/autoreplyd/autoreplyd/internal/regfile/regfiletest"
	"github.com/autoreplyd/autoreplyd/internal/testutil"
)

// A FIFO or a device given as the database is refused at once, by the
// daemon and by the commands that read it: SQLite would wait on a FIFO for
// ever, and take /dev/zero for an empty database.
func TestOpenRefusesWhatIsNotARegularFile(t *testing.T) {
	t.Parallel()
	fifo := regfiletest.FIFO(t, t.TempDir(), "autoreplyd.db")
	type opener = func(context.Context, string) (*Store, error)
	for _, path := range []string{fifo, "/dev/zero"} {
		openers := map[string]opener{"Open": Open, "OpenReadOnly": OpenReadOnly}
		if path == "/dev/zero" {
			// Not for writing: were the check gone, SQLite would create
			// /dev/zero-wal.
			delete(openers, "Open")
		}
		for name, open := range openers {
			var err error
			regfiletest.Returns(t, name+"("+path+")", func() {
				var s *Store
				if s, err = open(t.Context(), path); err == nil {
					testutil.Close(t, s)
				}
			})
			if err == nil || !strings.Contains(err.Error(), "open database "+path+": not a regular file") {
				t.Errorf("%s(%s): %v, want not a regular file", name, path, err)
			}
		}
	}
}
