package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/ordodb/ordo/kv/failpoint"
	"github.com/ordodb/ordo/server"
)

func runStart(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("start", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		store      = fs.String("store", "ordo-data", "store directory")
		listen     = fs.String("listen-addr", "127.0.0.1:26257", "node-to-node and kv gRPC address")
		advertise  = fs.String("advertise-addr", "", "address other nodes use (default: the listen address)")
		sqlAddr    = fs.String("sql-addr", "", "Postgres wire protocol address")
		httpAddr   = fs.String("http-addr", "", "HTTP address: web console (/), /metrics (Prometheus), /status, /health, /debug/pprof")
		advSQL     = fs.String("advertise-sql-addr", "", "SQL address other nodes and tools are told (default: --sql-addr)")
		advHTTP    = fs.String("advertise-http-addr", "", "HTTP address other nodes and tools are told (default: --http-addr)")
		join       = fs.String("join", "", "comma-separated addresses of nodes to join")
		singleNode = fs.Bool("single-node", false, "bootstrap a one-node cluster if the store is empty")
		logLevel   = fs.String("log-level", "info", "debug, info, warn or error")
		certsDir   = fs.String("certs-dir", "", "directory with ca.crt, node.crt and node.key (ordo cert): the SQL port accepts TLS")
		cache      = fs.Int64("cache", 64<<20, "bytes of the storage engine's block cache")
		hbaConf    = fs.String("hba-conf", "", "host-based authentication rules (pg_hba.conf host lines); default: trust everyone")
		peerSource = fs.String("peer-source-ip", "", "testing: bind outgoing node-to-node connections to this local IP, so a fault-injection proxy can tell peers apart (ordo verify --nemesis; tests/nemesis)")
	)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	logger, closeLog, err := openLog(*store, *logLevel, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "ordo start: %v\n", err)
		return 1
	}
	defer closeLog()
	if err := failpoint.ArmFromEnv(); err != nil { // -tags failpoints only
		fmt.Fprintf(stderr, "ordo start: %v\n", err)
		return 2
	}
	cfg := server.Config{
		StoreDir:      *store,
		ListenAddr:    *listen,
		AdvertiseAddr: *advertise,
		SQLAddr:       *sqlAddr,
		HTTPAddr:      *httpAddr,
		AdvertiseSQL:  *advSQL,
		AdvertiseHTTP: *advHTTP,
		Join:          splitList(*join),
		SingleNode:    *singleNode,
		CertsDir:      *certsDir,
		HBAConfFile:   *hbaConf,
		Logger:        logger,
		Version:       Version,
		CacheBytes:    *cache,
		PeerSourceIP:  *peerSource,
	}
	if len(cfg.Join) == 0 && !cfg.SingleNode {
		cfg.Join = []string{*listen}
	}
	s, err := server.New(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "ordo start: %v\n", err)
		return 1
	}
	if err := s.Start(); err != nil {
		fmt.Fprintf(stderr, "ordo start: %v\n", err)
		s.Stop()
		return 1
	}
	fmt.Fprintf(stdout, "ordo node listening on %s (store %s)\n", s.Addr(), *store)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	logger.Info("stopping")
	s.Stop()
	return 0
}

// openLog logs to DIR/ordo.log and to stderr.
func openLog(dir, level string, stderr io.Writer) (*slog.Logger, func(), error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, nil, fmt.Errorf("bad --log-level %q", level)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, err
	}
	f, err := os.OpenFile(server.StoreDirLog(dir), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, nil, err
	}
	h := slog.NewTextHandler(io.MultiWriter(f, stderr), &slog.HandlerOptions{Level: l})
	return slog.New(h), func() { _ = f.Close() }, nil
}
