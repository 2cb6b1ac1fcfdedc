package store

import (
	"fmt"
	"os"

	"github.com/autoreplyd/autoreplyd/internal/regfile"
)

// checkRegular refuses a database path that exists and is not a regular
// file: SQLite blocks forever opening a FIFO, and reads a device such as
// /dev/zero as a database of schema 0. A missing path is for the caller.
func checkRegular(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return nil
	}
	if err := regfile.Check(fi); err != nil {
		return fmt.Errorf("open database %s: %w", path, err)
	}
	return nil
}
