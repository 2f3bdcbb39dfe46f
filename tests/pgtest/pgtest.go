package pgtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// DefaultBinDir is where Debian's postgresql-15 package puts its binaries.
const DefaultBinDir = "/usr/lib/postgresql/15/bin"

// Server is a running PostgreSQL.
type Server struct {
	Host    string
	Port    int
	User    string // superuser name
	binDir  string
	dataDir string
	runAs   string // "" when running as the current user
}

// Addr returns host:port.
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// URL returns a connection URL for database "postgres" without TLS.
func (s *Server) URL() string {
	return fmt.Sprintf("postgres://%s@%s/postgres?sslmode=disable", s.User, s.Addr())
}

// Start initialises and starts a server; it is stopped and removed when the
// test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := start()
	if err != nil {
		t.Fatalf("pgtest: cannot start PostgreSQL 15 (install the Debian package postgresql-15): %v", err)
	}
	t.Cleanup(func() {
		if err := s.stop(); err != nil {
			t.Errorf("pgtest: stop: %v", err)
		}
	})
	return s
}

func start() (*Server, error) {
	bin := os.Getenv("ORDO_PG_BIN")
	if bin == "" {
		bin = DefaultBinDir
	}
	for _, b := range []string{"initdb", "pg_ctl", "postgres"} {
		if _, err := os.Stat(filepath.Join(bin, b)); err != nil {
			return nil, fmt.Errorf("binary %s missing in %s", b, bin)
		}
	}
	s := &Server{Host: "127.0.0.1", User: "postgres", binDir: bin}
	dir, err := os.MkdirTemp("", "ordo-pgtest-")
	if err != nil {
		return nil, err
	}
	s.dataDir = filepath.Join(dir, "data")
	if err := s.prepareOwner(dir); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := s.initdbAndStart(dir); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

// prepareOwner arranges for the server to run as "postgres" when we are root.
func (s *Server) prepareOwner(dir string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return fmt.Errorf("running as root needs a postgres user: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	s.runAs = "postgres"
	return os.Chown(dir, uid, gid)
}

func (s *Server) initdbAndStart(dir string) error {
	if out, err := s.run("initdb", "-D", s.dataDir, "-A", "trust", "-U", s.User, "-E", "UTF8",
		"--locale=C.UTF-8", "--no-sync", "--no-instructions"); err != nil {
		return fmt.Errorf("initdb: %v\n%s", err, out)
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	s.Port = port
	opts := strings.Join([]string{
		"-p", strconv.Itoa(port), "-k", dir, "-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "TimeZone=Etc/UTC", "-c", "max_connections=50", "-c", "shared_buffers=16MB",
	}, " ")
	logFile := filepath.Join(dir, "postgres.log")
	if out, err := s.run("pg_ctl", "-D", s.dataDir, "-o", opts, "-l", logFile, "-w", "-t", "60", "start"); err != nil {
		log, _ := os.ReadFile(logFile)
		return fmt.Errorf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	return nil
}

func (s *Server) stop() error {
	out, err := s.run("pg_ctl", "-D", s.dataDir, "-m", "immediate", "-w", "stop")
	rmErr := os.RemoveAll(filepath.Dir(s.dataDir))
	if err != nil {
		return fmt.Errorf("pg_ctl stop: %v\n%s", err, out)
	}
	return rmErr
}

func (s *Server) run(bin string, args ...string) ([]byte, error) {
	path := filepath.Join(s.binDir, bin)
	var cmd *exec.Cmd
	if s.runAs != "" {
		cmd = exec.Command("runuser", append([]string{"-u", s.runAs, "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8", "TZ=Etc/UTC")
	return cmd.CombinedOutput()
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
