package parser

import "testing"

func TestRewriteClusterSetting(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`SET CLUSTER SETTING kv.range_max_bytes = 262144`, `SET "ordo.cluster_setting:kv.range_max_bytes" TO '262144'`},
		{`set cluster setting Server.Time_Until_Dead to '15s';`, `SET "ordo.cluster_setting:server.time_until_dead" TO '15s'`},
		{`SET CLUSTER SETTING cluster.organization = 'O''Brien'`, `SET "ordo.cluster_setting:cluster.organization" TO 'O''Brien'`},
		{`SET CLUSTER SETTING kv.lock_timeout = DEFAULT`, `RESET "ordo.cluster_setting:kv.lock_timeout"`},
		{`RESET CLUSTER SETTING kv.lock_timeout`, `RESET "ordo.cluster_setting:kv.lock_timeout"`},
		{`SHOW CLUSTER SETTING kv.lock_timeout`, `SHOW "ordo.cluster_setting:kv.lock_timeout"`},
		{` SHOW ALL CLUSTER SETTINGS ;`, `SHOW "ordo.cluster_settings"`},
		{`SHOW CLUSTER SETTINGS`, `SHOW "ordo.cluster_settings"`},
		{`SET statement_timeout = 5`, ``},
		{`SET CLUSTER SETTING kv.x = 1; SELECT 1`, `SET "ordo.cluster_setting:kv.x" TO '1; SELECT 1'`},
	} {
		got, ok := rewriteClusterSetting(tc.in)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("rewrite(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
		}
	}
	// Every rewrite parses as one statement.
	for _, q := range []string{`SET CLUSTER SETTING a.b = 'x'`, `SHOW CLUSTER SETTINGS`, `RESET CLUSTER SETTING a.b`} {
		stmts, err := Parse(q)
		if err != nil || len(stmts) != 1 || stmts[0].SQL != q {
			t.Errorf("Parse(%q) = %v, %v", q, stmts, err)
		}
	}
}
