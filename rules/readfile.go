package rules

import (
	"errors"
	"fmt"

	"github.com/autoreplyd/autoreplyd/internal/regfile"
)

// ReadFile reads one rule file, bounded: it must be a regular file (a FIFO
// is refused without waiting for a writer, a device such as /dev/zero
// without reading it) of at most maxRuleFile bytes; a bigger one is a
// *LoadError at the file's first line, as a refused rule is. Other errors
// are a *ReadError.
func ReadFile(name string) ([]byte, error) {
	data, err := regfile.Read(name, maxRuleFile)
	switch {
	case errors.Is(err, regfile.ErrTooLarge):
		return nil, &LoadError{Errors: []PosError{{File: name, Line: 1, Col: 1,
			Msg: fmt.Sprintf("file is larger than the %d MiB a rule file may have", maxRuleFile>>20)}}}
	case err != nil:
		return nil, readError(name, err)
	}
	return data, nil
}
