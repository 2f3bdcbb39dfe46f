package pgwire

import "github.com/prometheus/client_golang/prometheus"

// Metrics are a Server's connection metrics.
type Metrics struct {
	// OpenConnections is the connections open now, including ones still
	// starting up or authenticating (NumConns).
	OpenConnections prometheus.Gauge
	// Connections counts every connection accepted.
	Connections prometheus.Counter
}

// NewMetrics returns an unregistered set of pgwire metrics.
func NewMetrics() *Metrics {
	return &Metrics{
		OpenConnections: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ordo_pgwire_connections",
			Help: "Open PostgreSQL protocol connections, including ones still authenticating.",
		}),
		Connections: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ordo_pgwire_connections_total",
			Help: "PostgreSQL protocol connections accepted.",
		}),
	}
}

// Collectors returns the metrics, to register.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.OpenConnections, m.Connections}
}
