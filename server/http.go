package server

import (
	"net"
	"net/http"
	"net/http/pprof"

	"github.com/ordodb/ordo/kv/failpoint"
	"github.com/ordodb/ordo/server/console"
)

func (s *Server) httpAddr() string {
	if s.httpLis != nil {
		return s.httpLis.Addr().String()
	}
	return s.cfg.HTTPAddr
}

// HTTPAddr is the address the status port listens on ("" without one).
func (s *Server) HTTPAddr() string { return s.httpAddr() }

// startHTTP serves the status port: /health, /status, /debug/pprof and the
// web console (docs/console.md).
func (s *Server) startHTTP() error {
	if s.cfg.HTTPAddr == "" {
		return nil
	}
	lis, err := net.Listen("tcp", s.cfg.HTTPAddr)
	if err != nil {
		return err
	}
	s.httpLis = lis
	s.http = &http.Server{Handler: s.httpMux()}
	s.goLoop(func() { _ = s.http.Serve(lis) })
	return nil
}

func (s *Server) httpMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/health", s.handleHealth)
	mux.HandleFunc("/status", s.handleStatus)
	mux.Handle("/metrics", s.metricsHandler())
	registerPprof(mux)
	registerConsole(mux)
	return mux
}

// registerConsole serves the web console at / and /console/.
func registerConsole(mux *http.ServeMux) {
	c := console.Handler()
	mux.Handle("/", c)
	mux.Handle("/console/", http.StripPrefix("/console", c))
}

// registerPprof serves net/http/pprof: the index, which also serves every
// named profile (/debug/pprof/heap, goroutine, mutex, block, allocs,
// threadcreate), and the handlers that are not profiles.
func registerPprof(mux *http.ServeMux) {
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	if h := failpoint.Handler(); h != nil { // -tags failpoints only
		mux.Handle("/debug/failpoints", h)
		mux.Handle("/debug/failpoints/", h)
		mux.Handle("/debug/clock", h)
	}
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	if s.NodeID() == 0 {
		http.Error(w, "not initialized", http.StatusServiceUnavailable)
		return
	}
	_, _ = w.Write([]byte("ok\n"))
}
