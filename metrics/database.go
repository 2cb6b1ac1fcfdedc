package metrics

import "github.com/prometheus/client_golang/prometheus"

// dbMetrics are the database's availability series: PostgreSQL restarting
// or failing over, or an SQLite file locked for longer than the busy
// timeout, stops claims (so sends) until it is back.
type dbMetrics struct {
	up          prometheus.Gauge
	unavailable prometheus.Counter
}

func newDBMetrics(register func(prometheus.Collector)) *dbMetrics {
	d := &dbMetrics{
		up: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "database_up",
			Help: "1 when the last cycle could reach the database, 0 while it is unavailable (nothing is claimed or sent then)."}),
		unavailable: prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: "database_unavailable_total",
			Help: "Cycles skipped or cut short because the database was unavailable (PostgreSQL down, restarting or failing over)."}),
	}
	d.up.Set(1)
	register(d.up)
	register(d.unavailable)
	return d
}

// DatabaseUnavailable counts a cycle skipped or cut short for want of the
// database and sets database_up to 0.
func (m *Metrics) DatabaseUnavailable() {
	if m == nil {
		return
	}
	m.db.unavailable.Inc()
	m.db.up.Set(0)
}

// DatabaseUp sets database_up to 1: the database answered.
func (m *Metrics) DatabaseUp() {
	if m == nil {
		return
	}
	m.db.up.Set(1)
}
