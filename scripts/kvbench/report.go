package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"
)

type diskStats struct {
	ok              bool
	writes, flushes uint64
}

// wholeDisk matches devices, not partitions (vda, sda, nvme0n1, xvda).
var wholeDisk = regexp.MustCompile(`^(?:[shv]d[a-z]+|xvd[a-z]+|nvme\d+n\d+)$`)

// readDiskStats sums completed writes and flushes over the machine's disks.
func readDiskStats() diskStats {
	b, err := os.ReadFile("/proc/diskstats")
	if err != nil {
		return diskStats{}
	}
	var s diskStats
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		// major minor name + 17 counters on kernels ≥ 5.5 (field 18 is flushes).
		if len(f) < 20 || !wholeDisk.MatchString(f[2]) {
			continue
		}
		w, err1 := strconv.ParseUint(f[7], 10, 64)
		fl, err2 := strconv.ParseUint(f[18], 10, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		s.ok, s.writes, s.flushes = true, s.writes+w, s.flushes+fl
	}
	return s
}

// row is one workload: both targets side by side.
type row struct {
	Workload string  `json:"workload"`
	Op       string  `json:"op"`
	Clients  int     `json:"clients"`
	Ordo     *result `json:"ordo"`
	Etcd     *result `json:"etcd"`
	Ratio    float64 `json:"ratio_ordo_over_etcd"`
}

type reportDoc struct {
	Date    string `json:"date"`
	Machine string `json:"machine"`
	Rows    []row  `json:"rows"`
}

// report reads the JSON lines kvbench --json printed (one per run) and prints
// the side-by-side table; --json FILE writes the same figures.
func report(args []string) {
	fs := flag.NewFlagSet("report", flag.ExitOnError)
	jsonFile := fs.String("json", "", "also write the figures to this file")
	_ = fs.Parse(args)
	var rows []row
	index := map[string]int{}
	for _, path := range fs.Args() {
		b, err := os.ReadFile(path)
		if err != nil {
			fatalf("report: %v", err)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "" {
				continue
			}
			var r result
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				fatalf("report: %s: %v", path, err)
			}
			w := fmt.Sprintf("%s c=%d", r.Op, r.Clients)
			i, ok := index[w]
			if !ok {
				i = len(rows)
				index[w] = i
				rows = append(rows, row{Workload: w, Op: r.Op, Clients: r.Clients})
			}
			rr := r
			switch r.Target {
			case "ordo":
				rows[i].Ordo = &rr
			case "etcd":
				rows[i].Etcd = &rr
			}
		}
	}
	for i := range rows {
		if o, e := rows[i].Ordo, rows[i].Etcd; o != nil && e != nil && e.OpsPerSec > 0 {
			rows[i].Ratio = o.OpsPerSec / e.OpsPerSec
		}
	}
	doc := reportDoc{
		Date:    time.Now().UTC().Format(time.RFC3339),
		Machine: fmt.Sprintf("%s/%s, %d cores", runtime.GOOS, runtime.GOARCH, runtime.NumCPU()),
		Rows:    rows,
	}
	printTable(doc)
	if *jsonFile != "" {
		b, _ := json.MarshalIndent(doc, "", "  ")
		if err := os.WriteFile(*jsonFile, append(b, '\n'), 0o644); err != nil {
			fatalf("report: %v", err)
		}
	}
}

func printTable(doc reportDoc) {
	fmt.Printf("%-10s %10s %10s %10s %16s %16s %8s %8s %10s %10s\n",
		"workload", "ordo op/s", "etcd op/s", "ordo/etcd", "ordo p50/p99 ms", "etcd p50/p99 ms", "ordo err", "etcd err", "ordo fl/s", "etcd fl/s")
	for _, r := range doc.Rows {
		fmt.Printf("%-10s %10s %10s %10s %16s %16s %8s %8s %10s %10s\n", r.Workload,
			ops(r.Ordo), ops(r.Etcd), ratio(r.Ratio), lat(r.Ordo), lat(r.Etcd),
			errs(r.Ordo), errs(r.Etcd), flushes(r.Ordo), flushes(r.Etcd))
	}
}

func ops(r *result) string {
	if r == nil {
		return "-"
	}
	return fmt.Sprintf("%.0f", r.OpsPerSec)
}

func lat(r *result) string {
	if r == nil {
		return "-"
	}
	return fmt.Sprintf("%.2f/%.2f", r.P50Ms, r.P99Ms)
}

func errs(r *result) string {
	if r == nil {
		return "-"
	}
	return strconv.FormatInt(r.Errors, 10)
}

func flushes(r *result) string {
	if r == nil {
		return "-"
	}
	return fmt.Sprintf("%.0f", r.DiskFlushesPerSec)
}

func ratio(x float64) string {
	if x == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", x)
}
