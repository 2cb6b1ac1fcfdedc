package metrics

import "github.com/prometheus/client_golang/prometheus"

// LeaseKinds are the kinds of leases counted by autoreplyd_leases_held: a
// polled thread's (or video's), or a job's run by one daemon at a time.
var LeaseKinds = []string{"thread", "job"}

// leaseMetrics are the series of daemons sharing a database.
type leaseMetrics struct {
	held      *prometheus.GaugeVec
	takeovers prometheus.Counter
	alive     prometheus.Gauge
}

// newLeaseMetrics builds the lease series and registers them with
// register.
func newLeaseMetrics(register func(prometheus.Collector)) *leaseMetrics {
	l := &leaseMetrics{
		held: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Name: "leases_held",
			Help: "Leases this daemon holds, by kind: thread (a polled thread or video, polled by this daemon only) or job (retention, outbox: run by this daemon only)."},
			[]string{"kind"}),
		takeovers: prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: "lease_takeovers_total",
			Help: "Leases this daemon took over from another daemon that had let them expire."}),
		alive: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "instances_alive",
			Help: "Daemons sharing the database whose heartbeat is fresh, this one included, as of the last count."}),
	}
	for _, k := range LeaseKinds {
		l.held.WithLabelValues(k)
	}
	register(l.held)
	register(l.takeovers)
	register(l.alive)
	return l
}

// SetLeases sets the leases held of each kind.
func (m *Metrics) SetLeases(threads, jobs int) {
	if m == nil {
		return
	}
	m.leases.held.WithLabelValues("thread").Set(float64(threads))
	m.leases.held.WithLabelValues("job").Set(float64(jobs))
}

// Takeovers counts n leases taken over from dead or stalled daemons.
func (m *Metrics) Takeovers(n int) {
	if m == nil || n <= 0 {
		return
	}
	m.leases.takeovers.Add(float64(n))
}

// SetInstancesAlive sets the count of live daemons sharing the database.
func (m *Metrics) SetInstancesAlive(n int) {
	if m == nil {
		return
	}
	m.leases.alive.Set(float64(n))
}
