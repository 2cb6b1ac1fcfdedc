package metrics_test

import (
	"strings"
	"testing"

	"github.com/autoreplyd/autoreplyd/metrics"
)

func TestLeaseSeries(t *testing.T) {
	t.Parallel()
	m := metrics.New("v1")
	body := scrape(t, m)
	for _, w := range []string{
		`autoreplyd_leases_held{kind="thread"} 0`,
		`autoreplyd_leases_held{kind="job"} 0`,
		`autoreplyd_lease_takeovers_total 0`,
		`autoreplyd_instances_alive 0`,
	} {
		if !strings.Contains(body, w) {
			t.Errorf("/metrics lacks %q at start", w)
		}
	}
	m.SetLeases(5000, 2)
	m.Takeovers(3)
	m.Takeovers(0)
	m.Takeovers(2)
	m.SetInstancesAlive(2)
	body = scrape(t, m)
	for _, w := range []string{
		`autoreplyd_leases_held{kind="thread"} 5000`,
		`autoreplyd_leases_held{kind="job"} 2`,
		`autoreplyd_lease_takeovers_total 5`,
		`autoreplyd_instances_alive 2`,
	} {
		if !strings.Contains(body, w) {
			t.Errorf("/metrics lacks %q", w)
		}
	}
	// A nil *Metrics ignores the calls.
	var none *metrics.Metrics
	none.SetLeases(1, 1)
	none.Takeovers(1)
	none.SetInstancesAlive(1)
}
