package ruletest

import (
	"errors"
	"fmt"

	"github.com/autoreplyd/autoreplyd/internal/regfile"
)

// maxTestFile bounds a rule test file: a test case is a few hundred bytes,
// so this holds tens of thousands of them, and the YAML decoder keeps the
// whole file's node tree (several times its size) in memory.
const maxTestFile = 8 << 20

// ReadFile reads one test file for Parse, bounded: it must be a regular
// file (a FIFO is refused without waiting for a writer, a device such as
// /dev/zero without reading it) of at most 8 MiB. Errors name the file.
func ReadFile(name string) ([]byte, error) {
	data, err := regfile.Read(name, maxTestFile)
	if errors.Is(err, regfile.ErrTooLarge) {
		return nil, fmt.Errorf("%s: larger than the %d MiB a test file may have", name, maxTestFile>>20)
	}
	return data, err
}
