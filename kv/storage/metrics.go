package storage

import (
	"github.com/cockroachdb/pebble/v2"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// EstimateDiskUsage estimates the bytes [start, end) takes in sstables on
// disk (data still in memtables is not counted).
func (e *Engine) EstimateDiskUsage(start, end []byte) (uint64, error) {
	if err := e.enter(); err != nil {
		return 0, err
	}
	defer e.exit()
	return e.db.EstimateDiskUsage(start, end)
}

// Collector returns a Prometheus collector that reads a selection of the
// engine's Pebble metrics at each scrape. A closed engine exports nothing.
func (e *Engine) Collector() prometheus.Collector { return &collector{e: e} }

type collector struct{ e *Engine }

// pebbleMetric is one series read from pebble.Metrics.
type pebbleMetric struct {
	desc  *prometheus.Desc
	typ   prometheus.ValueType
	value func(m *pebble.Metrics) float64
}

func gauge(name, help string, v func(m *pebble.Metrics) float64) pebbleMetric {
	return pebbleMetric{prometheus.NewDesc(name, help, nil, nil), prometheus.GaugeValue, v}
}

func counter(name, help string, v func(m *pebble.Metrics) float64) pebbleMetric {
	return pebbleMetric{prometheus.NewDesc(name, help, nil, nil), prometheus.CounterValue, v}
}

var pebbleMetrics = []pebbleMetric{
	gauge("ordo_storage_read_amplification", "Pebble read amplification: L0 sublevels plus non-empty levels below L0.",
		func(m *pebble.Metrics) float64 { return float64(m.ReadAmp()) }),
	gauge("ordo_storage_l0_sublevels", "Sublevels in Pebble's L0 (write stalls follow when they pile up).",
		func(m *pebble.Metrics) float64 { return float64(m.Levels[0].Sublevels) }),
	counter("ordo_storage_compactions_total", "Pebble compactions completed.",
		func(m *pebble.Metrics) float64 { return float64(m.Compact.Count) }),
	gauge("ordo_storage_compaction_debt_bytes", "Estimated bytes Pebble must compact to reach a stable LSM shape.",
		func(m *pebble.Metrics) float64 { return float64(m.Compact.EstimatedDebt) }),
	gauge("ordo_storage_compactions_in_progress", "Pebble compactions running now.",
		func(m *pebble.Metrics) float64 { return float64(m.Compact.NumInProgress) }),
	counter("ordo_storage_flushes_total", "Pebble memtable flushes completed.",
		func(m *pebble.Metrics) float64 { return float64(m.Flush.Count) }),
	gauge("ordo_storage_memtable_bytes", "Bytes allocated by Pebble's memtables (mutable and queued for flush).",
		func(m *pebble.Metrics) float64 { return float64(m.MemTable.Size) }),
	gauge("ordo_storage_block_cache_bytes", "Bytes in use by Pebble's block cache.",
		func(m *pebble.Metrics) float64 { return float64(m.BlockCache.Size) }),
	counter("ordo_storage_block_cache_hits_total", "Pebble block cache hits.",
		func(m *pebble.Metrics) float64 { return float64(m.BlockCache.Hits) }),
	counter("ordo_storage_block_cache_misses_total", "Pebble block cache misses.",
		func(m *pebble.Metrics) float64 { return float64(m.BlockCache.Misses) }),
	gauge("ordo_storage_disk_usage_bytes", "Bytes of disk the store uses: sstables, WAL, manifest and obsolete files not yet deleted.",
		func(m *pebble.Metrics) float64 { return float64(m.DiskSpaceUsage()) }),
	gauge("ordo_storage_sstables", "Live sstables across all levels.",
		func(m *pebble.Metrics) float64 { return float64(m.Total().TablesCount) }),
	counter("ordo_storage_wal_bytes_written_total", "Bytes written to Pebble's write-ahead log.",
		func(m *pebble.Metrics) float64 { return float64(m.WAL.BytesWritten) }),
}

var walFsyncDesc = prometheus.NewDesc("ordo_storage_wal_fsync_duration_seconds",
	"Latency of Pebble's WAL fsyncs (every synced commit waits for one; concurrent commits share it).", nil, nil)

// walFsyncEvery keeps one in so many of Pebble's 100 fsync latency buckets.
const walFsyncEvery = 5

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, pm := range pebbleMetrics {
		ch <- pm.desc
	}
	ch <- walFsyncDesc
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	m, ok := c.e.metrics()
	if !ok {
		return
	}
	for _, pm := range pebbleMetrics {
		ch <- prometheus.MustNewConstMetric(pm.desc, pm.typ, pm.value(m))
	}
	if h := m.LogWriter.FsyncLatency; h != nil {
		if fs, err := fsyncHistogram(h); err == nil {
			ch <- fs
		}
	}
}

// metrics reads Pebble's metrics unless the engine is closed.
func (e *Engine) metrics() (*pebble.Metrics, bool) {
	if e.enter() != nil {
		return nil, false
	}
	defer e.exit()
	return e.db.Metrics(), true
}

// fsyncHistogram converts Pebble's WAL fsync histogram (nanoseconds, 100
// buckets) to seconds, keeping every walFsyncEvery-th bucket: cumulative
// counts at a subset of the bounds are still a valid histogram.
func fsyncHistogram(h prometheus.Histogram) (prometheus.Metric, error) {
	var pb dto.Metric
	if err := h.Write(&pb); err != nil {
		return nil, err
	}
	hist := pb.GetHistogram()
	buckets := map[float64]uint64{}
	for i, b := range hist.GetBucket() {
		if i%walFsyncEvery == walFsyncEvery-1 {
			buckets[b.GetUpperBound()/1e9] = b.GetCumulativeCount()
		}
	}
	return prometheus.NewConstHistogram(walFsyncDesc, hist.GetSampleCount(), hist.GetSampleSum()/1e9, buckets)
}
