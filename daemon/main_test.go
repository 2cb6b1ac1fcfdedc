package daemon

import (
	"os"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/pgtest"
)

// TestMain shortens the wait between attempts to open an unavailable
// database (5 s in the daemon) for every test at once, before any runs: the
// storage tests that wait for a database can then run in parallel without
// each setting the variable.
func TestMain(m *testing.M) {
	storeRetryInitial = 50 * time.Millisecond
	os.Exit(pgtest.Main(m))
}
