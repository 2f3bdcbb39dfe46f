package server

import (
	"net/http"
	"time"

	"github.com/ordodb/ordo/pgwire"
	"github.com/ordodb/ordo/range/replica"
	"github.com/ordodb/ordo/rpc/rpcpb"
	"github.com/ordodb/ordo/sql"
	"github.com/ordodb/ordo/txn"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// nodeMetrics is the node's registry and the metric sets it hands down to
// the layers through their Config structs. Every node owns its own, so
// in-process nodes never share a series. docs/monitoring.md lists every
// metric (TestMetricsDocumented holds it to the registry).
type nodeMetrics struct {
	reg     *prometheus.Registry
	replica *replica.Metrics
	txn     *txn.Metrics
	sql     *sql.Metrics
	pgwire  *pgwire.Metrics
	// all is every collector registered (the docs test describes them).
	all []prometheus.Collector
}

func newNodeMetrics(s *Server) *nodeMetrics {
	m := &nodeMetrics{
		reg:     prometheus.NewRegistry(),
		replica: replica.NewMetrics(),
		txn:     txn.NewMetrics(),
		sql:     sql.NewMetrics(),
		pgwire:  pgwire.NewMetrics(),
	}
	m.all = append(m.all, m.replica.Collectors()...)
	m.all = append(m.all, m.txn.Collectors()...)
	m.all = append(m.all, m.sql.Collectors()...)
	m.all = append(m.all, m.pgwire.Collectors()...)
	m.all = append(m.all, s.eng.Collector(), &rangeCollector{s: s},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.reg.MustRegister(m.all...)
	return m
}

// Registry is the node's metrics registry, served on /metrics.
func (s *Server) Registry() *prometheus.Registry { return s.metrics.reg }

// metricsHandler serves the registry in the Prometheus text format (404
// on a Server not made by New).
func (s *Server) metricsHandler() http.Handler {
	if s.metrics == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{ErrorLog: slogPrinter{s}})
}

type slogPrinter struct{ s *Server }

func (p slogPrinter) Println(v ...any) { p.s.cfg.Logger.Warn("metrics", "err", v) }

// rangeCollector reports the state of the node's replicas at each scrape.
// The ranges_* gauges count each range at one node only (see reportsRange),
// so their sums over the cluster's nodes are the cluster's totals.
type rangeCollector struct{ s *Server }

var (
	replicasDesc = prometheus.NewDesc("ordo_replicas",
		"Replicas on this node (initialised ones).", nil, nil)
	leaseholdersDesc = prometheus.NewDesc("ordo_replicas_leaseholders",
		"Replicas on this node that hold their range's lease (are Raft leader).", nil, nil)
	replicaBytesDesc = prometheus.NewDesc("ordo_replicas_size_bytes",
		"Estimated on-disk bytes of the key spans of this node's replicas (sstables; memtables not counted).", nil, nil)
	raftLogDesc = prometheus.NewDesc("ordo_raft_log_entries",
		"Raft log entries kept (not yet truncated) across this node's replicas.", nil, nil)
	rangesDesc = prometheus.NewDesc("ordo_ranges",
		"Ranges this node reports for: those it leads, and leaderless ones where it is the lowest live replica.", nil, nil)
	underReplicatedDesc = prometheus.NewDesc("ordo_ranges_underreplicated",
		"Ranges reported by this node with fewer live replicas than the replication factor.", nil, nil)
	unavailableDesc = prometheus.NewDesc("ordo_ranges_unavailable",
		"Ranges reported by this node whose live replicas are not a majority.", nil, nil)
	inDoubtDesc = prometheus.NewDesc("ordo_txn_in_doubt",
		"Prepared transaction records at ranges this node leads whose outcome is not yet known here.", nil, nil)
)

func (c *rangeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{replicasDesc, leaseholdersDesc, replicaBytesDesc, raftLogDesc,
		rangesDesc, underReplicatedDesc, unavailableDesc, inDoubtDesc} {
		ch <- d
	}
}

// rangeGauges are the values of one scrape.
type rangeGauges struct {
	replicas, leaseholders, bytes, logEntries float64
	ranges, underReplicated, unavailable      float64
	inDoubt                                   float64
}

func (c *rangeCollector) Collect(ch chan<- prometheus.Metric) {
	g := c.s.rangeGauges(time.Now())
	for _, v := range []struct {
		d *prometheus.Desc
		v float64
	}{
		{replicasDesc, g.replicas}, {leaseholdersDesc, g.leaseholders}, {replicaBytesDesc, g.bytes},
		{raftLogDesc, g.logEntries}, {rangesDesc, g.ranges}, {underReplicatedDesc, g.underReplicated},
		{unavailableDesc, g.unavailable}, {inDoubtDesc, g.inDoubt},
	} {
		ch <- prometheus.MustNewConstMetric(v.d, prometheus.GaugeValue, v.v)
	}
}

// rangeGauges reads the node's replicas (all zero before the node joined).
func (s *Server) rangeGauges(now time.Time) rangeGauges {
	var g rangeGauges
	st := s.Store()
	if st == nil {
		return g
	}
	for _, r := range st.Replicas() {
		info := r.Info()
		if !info.Initialized || info.Desc == nil {
			continue
		}
		g.replicas++
		g.logEntries += float64(r.LogEntries())
		if n, err := s.eng.EstimateDiskUsage(info.Desc.StartKey, info.Desc.EndKey); err == nil {
			g.bytes += float64(n)
		}
		if info.IsLeaseholder {
			g.leaseholders++
			g.inDoubt += float64(r.PreparedCount())
		}
		if !s.reportsRange(info, now) {
			continue
		}
		g.ranges++
		under, unavailable := s.rangeHealth(info.Desc, now)
		g.underReplicated += b2f(under)
		g.unavailable += b2f(unavailable)
	}
	return g
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// rangeHealth is a range's health as `ordo range list` shows it, judged by
// this node's view of liveness: under-replicated with fewer live replicas
// than the replication factor, unavailable without a live majority.
func (s *Server) rangeHealth(d *rpcpb.RangeDescriptor, now time.Time) (underReplicated, unavailable bool) {
	live := 0
	for _, rd := range d.Replicas {
		if s.isLive(rd.NodeId, now) {
			live++
		}
	}
	return live < s.replicationFactor(), live < len(d.Replicas)/2+1
}

func (s *Server) isLive(node uint64, now time.Time) bool {
	st, _ := s.live.status(node, now)
	return st == Live
}

// reportsRange says whether this node counts the range of info in the
// ranges_* gauges: its leaseholder does; a range whose leader is unknown or
// on a node not live is counted by its live replica with the lowest node
// id, so an unavailable range is still counted once.
func (s *Server) reportsRange(info *rpcpb.RangeInfo, now time.Time) bool {
	if info.IsLeaseholder {
		return true
	}
	var lowest uint64
	for _, rd := range info.Desc.Replicas {
		if !s.isLive(rd.NodeId, now) {
			continue
		}
		if rd.ReplicaId == info.LeaderReplicaId {
			return false // a live leader counts it
		}
		if lowest == 0 || rd.NodeId < lowest {
			lowest = rd.NodeId
		}
	}
	return lowest == info.NodeId
}
