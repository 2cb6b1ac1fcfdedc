package cli

import "io"

// output is the commands' stdout: it keeps the first write error, so that
// Main reports a lost output (a full disk, a closed pipe) and exits 1
// instead of each command checking each line it prints. Writes after an
// error are not attempted: the output is already incomplete.
type output struct {
	w   io.Writer
	err error
}

func (o *output) Write(p []byte) (int, error) {
	if o.err != nil {
		return 0, o.err
	}
	n, err := o.w.Write(p)
	if err != nil {
		o.err = err
	}
	return n, err
}
