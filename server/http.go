package server

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/pprof"

	"google.golang.org/protobuf/encoding/protojson"
)

func (s *Server) httpAddr() string {
	if s.httpLis != nil {
		return s.httpLis.Addr().String()
	}
	return s.cfg.HTTPAddr
}

// startHTTP serves the status port: /health, /status and /debug/pprof.
func (s *Server) startHTTP() error {
	if s.cfg.HTTPAddr == "" {
		return nil
	}
	lis, err := net.Listen("tcp", s.cfg.HTTPAddr)
	if err != nil {
		return err
	}
	s.httpLis = lis
	mux := http.NewServeMux()
	mux.HandleFunc("/health", s.handleHealth)
	mux.HandleFunc("/status", s.handleStatus)
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	s.http = &http.Server{Handler: mux}
	s.goLoop(func() { _ = s.http.Serve(lis) })
	return nil
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	if s.NodeID() == 0 {
		http.Error(w, "not initialized", http.StatusServiceUnavailable)
		return
	}
	_, _ = w.Write([]byte("ok\n"))
}

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	st := s.Store()
	if st == nil {
		http.Error(w, "not initialized", http.StatusServiceUnavailable)
		return
	}
	out := map[string]any{"node_id": s.NodeID()}
	var nodes, ranges []json.RawMessage
	for _, n := range s.nodeStatus(r.Context()).Nodes {
		b, _ := protojson.Marshal(n)
		nodes = append(nodes, b)
	}
	for _, i := range localRangeInfos(st) {
		b, _ := protojson.Marshal(i)
		ranges = append(ranges, b)
	}
	out["nodes"], out["local_ranges"] = nodes, ranges
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}
