package server

import (
	"context"
	"errors"
	"time"

	"github.com/ordodb/ordo/kv/keys"
	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/server/settings"
	"github.com/ordodb/ordo/sql"
)

// Cluster settings are stored replicated, one key per setting
// (settings.Key). Every node reloads them every second (settingsLoop) into
// an immutable snapshot its components read. A setting that was never set
// keeps the node's own configuration (server.Config), whose defaults are
// the registry's; a SET overrides it on every node.

// clusterSettings is the SQL executor's view of them (sql.ClusterSettings).
type clusterSettings struct{ s *Server }

func (c clusterSettings) lookup(name string) (*settings.Setting, error) {
	st, err := settings.Cluster.Lookup(name)
	if err != nil {
		return nil, pgcode.New(pgcode.UndefinedObject, "%s", err.Error())
	}
	return st, nil
}

// SetClusterSetting implements sql.ClusterSettings.
func (c clusterSettings) SetClusterSetting(ctx context.Context, name, value string) error {
	st, err := c.lookup(name)
	if err != nil {
		return err
	}
	v, err := st.Parse(value)
	if err != nil {
		return pgcode.New(pgcode.InvalidParameterValue, "%s", err.Error())
	}
	if err := c.s.db.Put(ctx, settings.Key(name), settings.Encode(v)); err != nil {
		return err
	}
	return c.s.reloadSettings(ctx)
}

// ResetClusterSetting implements sql.ClusterSettings.
func (c clusterSettings) ResetClusterSetting(ctx context.Context, name string) error {
	if _, err := c.lookup(name); err != nil {
		return err
	}
	if _, err := c.s.db.Delete(ctx, settings.Key(name)); err != nil {
		return err
	}
	return c.s.reloadSettings(ctx)
}

// ShowClusterSettings implements sql.ClusterSettings.
func (c clusterSettings) ShowClusterSettings(ctx context.Context) ([]sql.ClusterSettingRow, error) {
	if err := c.s.reloadSettings(ctx); err != nil {
		return nil, err
	}
	v := c.s.settings.Load()
	var out []sql.ClusterSettingRow
	for _, r := range v.Show() {
		if !v.IsSet(r.Name) {
			r.Value = c.s.nodeDefault(r.Name, r.Value)
		}
		out = append(out, sql.ClusterSettingRow{Name: r.Name, Value: r.Value, Type: r.Type, Description: r.Description})
	}
	return out, nil
}

// nodeDefault is what a never-set setting shows: the node's configuration
// where it has its own value for it.
func (s *Server) nodeDefault(name, registryDefault string) string {
	switch name {
	case settings.TimeUntilDead.Name():
		return settings.DurationValue(s.cfg.TimeUntilDead).String()
	case settings.RangeMaxBytes.Name():
		return settings.BytesValue(s.cfg.RangeMaxBytes).String()
	case settings.ReplicationFactor.Name():
		return settings.IntValue(int64(s.cfg.ReplicationFactor)).String()
	}
	return registryDefault
}

// reloadSettings reads every stored setting and publishes a new snapshot.
func (s *Server) reloadSettings(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	p := keys.SettingsPrefix()
	rows, err := s.db.Scan(ctx, p, keys.PrefixEnd(p), 0)
	if err != nil {
		return err
	}
	stored := map[string][]byte{}
	for _, kv := range rows {
		if name, ok := settings.NameFromKey(kv.Key); ok {
			stored[name] = kv.Value
		}
	}
	v, err := settings.Cluster.Load(stored)
	s.settings.Store(v)
	if err != nil {
		s.cfg.Logger.Warn("stored cluster settings that do not decode keep their defaults", "err", err)
	}
	return nil
}

func (s *Server) settingsLoop() {
	s.every(time.Second, func(ctx context.Context) {
		if err := s.reloadSettings(ctx); err != nil && !errors.Is(err, context.Canceled) {
			s.cfg.Logger.Debug("reload cluster settings", "err", err)
		}
	})
}

// The values components use: a cluster setting if it was set, else the
// node's configuration.

func (s *Server) timeUntilDead() time.Duration {
	if v := s.settings.Load(); v.IsSet(settings.TimeUntilDead.Name()) {
		return settings.TimeUntilDead.Get(v)
	}
	return s.cfg.TimeUntilDead
}

func (s *Server) rangeMaxBytes() int64 {
	if v := s.settings.Load(); v.IsSet(settings.RangeMaxBytes.Name()) {
		return settings.RangeMaxBytes.Get(v)
	}
	return s.cfg.RangeMaxBytes
}

func (s *Server) replicationFactor() int {
	if v := s.settings.Load(); v.IsSet(settings.ReplicationFactor.Name()) {
		return int(settings.ReplicationFactor.Get(v))
	}
	return s.cfg.ReplicationFactor
}
