package parser

import (
	"regexp"
	"strings"
)

// Cluster settings use CockroachDB's statements, which PostgreSQL's grammar
// does not have. A query string that is one of them is rewritten, before
// parsing, into the session-variable statement on a reserved name that the
// executor recognises:
//
//	SET CLUSTER SETTING name = value   →  SET "ordo.cluster_setting:name" TO 'value'
//	SET CLUSTER SETTING name TO DEFAULT →  RESET "ordo.cluster_setting:name"
//	RESET CLUSTER SETTING name          →  RESET "ordo.cluster_setting:name"
//	SHOW CLUSTER SETTING name           →  SHOW "ordo.cluster_setting:name"
//	SHOW [ALL] CLUSTER SETTINGS         →  SHOW "ordo.cluster_settings"
const (
	// ClusterSettingPrefix prefixes the reserved variable name of one
	// cluster setting.
	ClusterSettingPrefix = "ordo.cluster_setting:"
	// ClusterSettingsAll is the reserved name of SHOW CLUSTER SETTINGS.
	ClusterSettingsAll = "ordo.cluster_settings"
)

var (
	setClusterSetting   = regexp.MustCompile(`(?is)^\s*SET\s+CLUSTER\s+SETTING\s+([a-z_][a-z0-9_.]*)\s*(?:=|\s+TO\s+)\s*(.*?)\s*;?\s*$`)
	resetClusterSetting = regexp.MustCompile(`(?is)^\s*RESET\s+CLUSTER\s+SETTING\s+([a-z_][a-z0-9_.]*)\s*;?\s*$`)
	showClusterSetting  = regexp.MustCompile(`(?is)^\s*SHOW\s+CLUSTER\s+SETTING\s+([a-z_][a-z0-9_.]*)\s*;?\s*$`)
	showClusterSettings = regexp.MustCompile(`(?is)^\s*SHOW\s+(?:ALL\s+)?CLUSTER\s+SETTINGS\s*;?\s*$`)
)

// rewriteClusterSetting returns the rewritten text of a cluster-setting
// statement, or false if sql is not one.
func rewriteClusterSetting(sql string) (string, bool) {
	if m := setClusterSetting.FindStringSubmatch(sql); m != nil {
		name, value := strings.ToLower(m[1]), strings.TrimSpace(m[2])
		if strings.EqualFold(value, "DEFAULT") {
			return `RESET "` + ClusterSettingPrefix + name + `"`, true
		}
		if len(value) >= 2 && value[0] == '\'' && value[len(value)-1] == '\'' {
			value = strings.ReplaceAll(value[1:len(value)-1], "''", "'")
		}
		if value == "" {
			return "", false
		}
		return `SET "` + ClusterSettingPrefix + name + `" TO '` + strings.ReplaceAll(value, "'", "''") + `'`, true
	}
	if m := resetClusterSetting.FindStringSubmatch(sql); m != nil {
		return `RESET "` + ClusterSettingPrefix + strings.ToLower(m[1]) + `"`, true
	}
	if m := showClusterSetting.FindStringSubmatch(sql); m != nil {
		return `SHOW "` + ClusterSettingPrefix + strings.ToLower(m[1]) + `"`, true
	}
	if showClusterSettings.MatchString(sql) {
		return `SHOW "` + ClusterSettingsAll + `"`, true
	}
	return "", false
}
