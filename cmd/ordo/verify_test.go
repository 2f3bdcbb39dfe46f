package main

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestParseVerifyArgs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		err  string // substring of the error, "" for none
	}{
		{args: []string{"--hosts", "127.0.0.1:1,127.0.0.1:2"}},
		{args: []string{"--url", "postgres://u@h/db", "--isolation", "repeatable-read", "--workload", "bank"}},
		{args: []string{}}, // a local cluster
		{args: []string{"--nemesis", "partition,kill,pause,delay,loss", "--nodes", "5"}},
		{args: []string{"--hosts", "h:1", "--nemesis", "kill"}, err: "--nemesis needs the cluster ordo verify starts"},
		{args: []string{"--nemesis", "meteor"}, err: "unknown nemesis"},
		{args: []string{"--nemesis", "clock"}, err: "-tags failpoints"},
		{args: []string{"--nodes", "0"}, err: "--nodes"},
		{args: []string{"--hosts", "h:1", "--workload", "register,sets,g2,registration,counter,comments"}},
		{args: []string{"--hosts", "h:1", "--workload", "nonesuch"}, err: "unknown workload"},
		{args: []string{"--hosts", "h:1", "--workload", ","}, err: "names no workload"},
		{args: []string{"--hosts", "h:1", "--duration", "0s"}, err: "--duration"},
		{args: []string{"--hosts", "h:1", "--clients", "0"}, err: "--clients"},
		{args: []string{"--hosts", "h:1", "--isolation", "snapshot"}, err: "--isolation"},
		{args: []string{"--hosts", "h:1", "extra"}, err: "unexpected argument"},
	} {
		_, err := parseVerifyArgs(tc.args, io.Discard)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want one containing %q", tc.args, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
		}
	}
	cfg, err := parseVerifyArgs([]string{"--hosts", "a:1, b:2", "--seed", "9"}, io.Discard)
	switch {
	case err != nil:
		t.Fatal(err)
	case len(cfg.run.URLs) != 2 || cfg.run.URLs[1] != "postgres://root@b:2/defaultdb?sslmode=disable":
		t.Errorf("URLs %q", cfg.run.URLs)
	case cfg.run.Seed != 9 || cfg.run.Clients != 8 || cfg.run.Duration != 60*time.Second || cfg.run.Isolation != pgx.Serializable:
		t.Errorf("defaults: %+v", cfg.run)
	case strings.Join(cfg.workloads, ",") != "list-append,bank,bank-multitable,register,sets,g2,registration,counter,comments,sequential":
		t.Errorf("workloads %q", cfg.workloads)
	}
	if cfg, _ := parseVerifyArgs([]string{"--hosts", "a:1"}, io.Discard); cfg.run.Seed == 0 {
		t.Error("seed 0 not replaced by a clock seed")
	}
}
