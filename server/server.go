package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ordodb/ordo/kv"
	"github.com/ordodb/ordo/kv/keys"
	"github.com/ordodb/ordo/kv/kverr"
	"github.com/ordodb/ordo/kv/storage"
	"github.com/ordodb/ordo/pgwire"
	"github.com/ordodb/ordo/range/store"
	"github.com/ordodb/ordo/rpc"
	"github.com/ordodb/ordo/rpc/rpcpb"
	"github.com/ordodb/ordo/server/settings"
	"github.com/ordodb/ordo/txn"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// Server is one ordo node.
type Server struct {
	cfg       Config
	eng       *storage.Engine
	lis       net.Listener
	grpc      *grpc.Server
	http      *http.Server
	httpLis   net.Listener
	dialer    *rpc.Dialer
	transport *rpc.RaftTransport
	dir       *directory
	// joinStarted is when joinLoop started (read only by its goroutine).
	joinStarted time.Time
	ds          *kv.DistSender
	db          *kv.DB
	live        *livenessTracker
	coord       *txn.Coordinator
	metrics     *nodeMetrics
	// settings is the latest snapshot of the cluster settings.
	settings atomic.Pointer[settings.Values]

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu struct {
		sync.Mutex
		store         *store.Store
		ident         *rpcpb.StoreIdent
		bootstrapping bool
		pg            *pgwire.Server
		sqlLis        net.Listener
	}
	started chan struct{} // closed once the node has joined a cluster
}

// New opens the node's store and prepares its services; Start runs them.
func New(cfg Config) (*Server, error) {
	cfg.setDefaults()
	s := &Server{cfg: cfg, started: make(chan struct{})}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if cfg.FS == nil {
		if err := os.MkdirAll(cfg.StoreDir, 0o755); err != nil {
			return nil, fmt.Errorf("server: store dir: %w", err)
		}
	}
	onFatal := cfg.OnFatal
	if onFatal == nil {
		onFatal = func(err error) {
			cfg.Logger.Error("fatal error (storage or Raft); stopping the node", "err", err)
			os.Exit(2)
		}
	}
	s.cfg.OnFatal = onFatal
	eng, err := storage.Open(storage.Config{Dir: cfg.StoreDir, FS: cfg.FS, CacheBytes: cfg.CacheBytes, OnFatal: onFatal})
	if err != nil {
		return nil, err
	}
	s.eng = eng
	s.metrics = newNodeMetrics(s)
	s.dialer = rpc.NewDialerFrom(cfg.PeerSourceIP)
	s.settings.Store(settings.Cluster.Defaults())
	s.live = newLivenessTracker(cfg)
	s.live.deadAfter = s.timeUntilDead
	return s, nil
}

// Start listens and starts the node; it returns once it serves gRPC. The
// node joins or bootstraps a cluster in the background if it has to.
func (s *Server) Start() error {
	lis, err := net.Listen("tcp", s.cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("server: listen %s: %w", s.cfg.ListenAddr, err)
	}
	s.lis = lis
	if s.cfg.AdvertiseAddr == "" {
		s.cfg.AdvertiseAddr = lis.Addr().String()
	}
	s.dir = newDirectory(s.selfDesc())
	s.transport = rpc.NewRaftTransport(rpc.TransportConfig{
		Dialer:        s.dialer,
		Resolve:       s.dir.NodeAddr,
		OnUnreachable: s.reportUnreachable,
		Drop:          s.cfg.Knobs.RaftDrop,
		Logger:        s.cfg.Logger,
	})
	s.ds = kv.NewDistSender(kv.SenderConfig{
		Dialer:   s.dialer,
		Resolver: s.dir,
		Local:    localSender{s},
		MetaDesc: s.metaDesc,
		Logger:   s.cfg.Logger,
	})
	s.db = kv.NewDB(s.ds)
	s.grpc = grpc.NewServer(append(rpc.ServerOptions(), grpc.ChainUnaryInterceptor(recoverUnary(s.cfg.Logger)))...)
	rpcpb.RegisterNodeServer(s.grpc, &nodeService{s: s})
	rpcpb.RegisterSnapshotsServer(s.grpc, snapshotService{s: s})
	s.goLoop(func() { _ = s.grpc.Serve(lis) })
	if err := s.startHTTP(); err != nil {
		return err
	}
	ident, err := s.loadIdent()
	if err != nil {
		return err
	}
	switch {
	case ident != nil:
		return s.startNode(ident, nil, nil)
	case s.cfg.SingleNode:
		_, err := s.bootstrap(context.Background(), nil)
		return err
	default:
		s.goLoop(s.joinLoop)
	}
	return nil
}

func (s *Server) selfDesc() *rpcpb.NodeDescriptor {
	sqlAddr, httpAddr := s.cfg.AdvertiseSQL, s.cfg.AdvertiseHTTP
	if sqlAddr == "" {
		sqlAddr = s.cfg.SQLAddr
	}
	if httpAddr == "" {
		httpAddr = s.httpAddr()
	}
	return &rpcpb.NodeDescriptor{Address: s.cfg.AdvertiseAddr, SqlAddress: sqlAddr, HttpAddress: httpAddr}
}

// Addr is the node's gRPC address.
func (s *Server) Addr() string { return s.cfg.AdvertiseAddr }

// NodeID is the node's id, 0 until it has joined a cluster.
func (s *Server) NodeID() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.ident == nil {
		return 0
	}
	return s.mu.ident.NodeId
}

// Store returns the node's store, nil until it has joined a cluster.
func (s *Server) Store() *store.Store {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.store
}

// DB returns the node's kv client.
func (s *Server) DB() *kv.DB { return s.db }

// Started is closed once the node is part of a cluster.
func (s *Server) Started() <-chan struct{} { return s.started }

func (s *Server) goLoop(fn func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		fn()
	}()
}

// Stop stops the node and closes its store.
func (s *Server) Stop() {
	s.mu.Lock()
	pg := s.mu.pg
	s.mu.Unlock()
	if pg != nil {
		_ = pg.Close()
	}
	s.cancel()
	if s.http != nil {
		_ = s.http.Close()
	}
	if s.grpc != nil {
		s.grpc.Stop()
	}
	s.wg.Wait()
	if s.coord != nil {
		s.coord.Close()
	}
	if st := s.Store(); st != nil {
		st.Stop()
	}
	if s.transport != nil {
		s.transport.Close()
	}
	s.dialer.Close()
	_ = s.eng.Close()
}

func (s *Server) loadIdent() (*rpcpb.StoreIdent, error) {
	v, found, err := s.eng.Get(keys.StoreIdentKey())
	if err != nil || !found {
		return nil, err
	}
	id := &rpcpb.StoreIdent{}
	if err := proto.Unmarshal(v, id); err != nil {
		return nil, fmt.Errorf("server: corrupt store ident: %w", err)
	}
	return id, nil
}

// startNode starts the store of a node that belongs to a cluster.
func (s *Server) startNode(ident *rpcpb.StoreIdent, nodes []*rpcpb.NodeDescriptor, meta *rpcpb.RangeDescriptor) error {
	s.dir.update(s.loadNodes()...)
	s.dir.update(nodes...)
	if meta != nil {
		s.dir.setMeta(meta)
	}
	st := store.New(store.Config{
		NodeID:             ident.NodeId,
		Engine:             s.eng,
		Transport:          s.transport,
		Logger:             s.cfg.Logger.With("node", ident.NodeId),
		TickInterval:       s.cfg.TickInterval,
		OnFatal:            s.cfg.OnFatal,
		Metrics:            s.metrics.replica,
		SnapshotChunkBytes: func() int64 { return settings.SnapshotChunkBytes.Get(s.settings.Load()) },
		SnapshotRate:       func() int64 { return settings.SnapshotMaxRate.Get(s.settings.Load()) },
		SpillBytes:         func() int64 { return settings.SpillBytes.Get(s.settings.Load()) },
		TxnRangeBytes:      func() int64 { return settings.TxnRangeBytes.Get(s.settings.Load()) },
		FilterCompiler:     compileRowFilter,
	})
	s.transport.SetNodeID(ident.NodeId)
	if err := st.Start(); err != nil {
		return err
	}
	s.mu.Lock()
	s.mu.store, s.mu.ident = st, ident
	s.mu.Unlock()
	s.dir.setSelf(ident.NodeId)
	s.coord = s.newCoordinator()
	s.saveNodes()
	close(s.started)
	s.cfg.Logger.Info("node started", "version", s.cfg.Version, "node", ident.NodeId, "cluster", ident.ClusterId,
		"addr", s.cfg.AdvertiseAddr, "sql", s.cfg.SQLAddr, "http", s.httpAddr(), "store", s.cfg.StoreDir)
	s.goLoop(s.registerLoop)
	s.goLoop(s.heartbeatLoop)
	s.goLoop(s.livenessLoop)
	s.goLoop(s.metaRepairLoop)
	s.goLoop(s.txnRecoveryLoop)
	s.goLoop(s.replicateLoop)
	s.goLoop(s.replicaGCLoop)
	s.goLoop(s.splitLoop)
	s.goLoop(s.settingsLoop)
	if err := s.startSQL(); err != nil {
		s.cfg.Logger.Error("cannot serve SQL", "err", err)
		return err
	}
	return nil
}

func (s *Server) reportUnreachable(nodeID uint64) {
	if st := s.Store(); st != nil {
		st.ReportUnreachable(nodeID)
	}
}

// localSender serves the DistSender's requests for ranges on this node.
type localSender struct{ s *Server }

func (l localSender) NodeID() uint64 { return l.s.NodeID() }

func (l localSender) Send(ctx context.Context, rangeID uint64, ops []*rpcpb.Op) ([]*rpcpb.OpResult, error) {
	st := l.s.Store()
	if st == nil {
		return nil, kverr.ErrNotInitialized
	}
	return st.Send(ctx, rangeID, ops)
}

// metaDesc returns the meta range's descriptor: from the local replica if
// the node has one, else as learnt from other nodes.
func (s *Server) metaDesc(ctx context.Context) (*rpcpb.RangeDescriptor, error) {
	if st := s.Store(); st != nil {
		if r := st.LookupReplica(keys.MinAddressable); r != nil {
			return r.Desc(), nil
		}
	}
	if d := s.dir.meta(); d != nil {
		return d, nil
	}
	for _, addr := range s.peerAddrs() {
		info, err := s.clusterInfo(ctx, addr)
		if err == nil && info.MetaRange != nil {
			s.dir.setMeta(info.MetaRange)
			return info.MetaRange, nil
		}
	}
	return nil, fmt.Errorf("server: meta range location unknown")
}

// peerAddrs lists addresses of other nodes: the registry, then --join.
func (s *Server) peerAddrs() []string {
	var out []string
	seen := map[string]bool{s.cfg.AdvertiseAddr: true}
	for _, a := range append(s.dir.addrs(), s.cfg.Join...) {
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}

// storeDirLog is the log file of a node, in its store directory.
func StoreDirLog(dir string) string { return filepath.Join(dir, "ordo.log") }

var errAlreadyInitialized = errors.New("cluster has already been initialized")

// loadNodes reads the node directory saved in the store.
func (s *Server) loadNodes() []*rpcpb.NodeDescriptor {
	v, found, err := s.eng.Get(keys.StoreNodesKey())
	if err != nil || !found {
		return nil
	}
	nl := &rpcpb.NodeList{}
	if proto.Unmarshal(v, nl) != nil {
		return nil
	}
	return nl.Nodes
}

// saveNodes saves the node directory in the store (unsynced: it is a hint).
func (s *Server) saveNodes() {
	v, err := proto.Marshal(&rpcpb.NodeList{Nodes: s.dir.list()})
	if err != nil {
		return
	}
	b := s.eng.NewBatch()
	defer b.Close()
	if b.Set(keys.StoreNodesKey(), v) == nil {
		_ = s.eng.Commit(b, false)
	}
}
