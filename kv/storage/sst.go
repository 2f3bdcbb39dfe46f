package storage

import (
	"bytes"
	"context"
	"fmt"
	"os"

	"github.com/cockroachdb/pebble/v2/objstorage/objstorageprovider"
	"github.com/cockroachdb/pebble/v2/sstable"
)

// AuxDir is the directory, inside the store, for files the engine does not
// own yet: sstables staged for ingestion.
const AuxDir = "auxiliary"

// SSTWriter writes an sstable in the engine's format, for IngestSST. Keys
// must be added in increasing order; a range deletion must precede the
// keys it spans. Only whole blocks are held in memory.
type SSTWriter struct {
	e       *Engine
	w       *sstable.Writer
	path    string
	last    []byte
	written int64
}

// NewSSTWriter creates the sstable file name in the store's AuxDir,
// replacing any file of that name.
func (e *Engine) NewSSTWriter(name string) (*SSTWriter, error) {
	dir := e.opts.FS.PathJoin(e.dir, AuxDir)
	if err := e.opts.FS.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	path := e.opts.FS.PathJoin(dir, name)
	f, err := e.opts.FS.Create(path, "")
	if err != nil {
		return nil, err
	}
	opts := e.opts.MakeWriterOptions(0, e.db.TableFormat())
	return &SSTWriter{e: e, w: sstable.NewWriter(objstorageprovider.NewFileWritable(f), opts), path: path}, nil
}

// Set adds key=value; keys must increase.
func (w *SSTWriter) Set(key, value []byte) error {
	if w.last != nil && bytes.Compare(key, w.last) <= 0 {
		return fmt.Errorf("storage: sstable keys out of order: %q after %q", key, w.last)
	}
	w.last = append(w.last[:0], key...)
	w.written += int64(len(key) + len(value))
	return w.w.Set(key, value)
}

// DeleteRange deletes [start, end) as of the ingestion: keys the engine
// holds there go, keys of this sstable stay.
func (w *SSTWriter) DeleteRange(start, end []byte) error { return w.w.DeleteRange(start, end) }

// Written is the number of key and value bytes added so far.
func (w *SSTWriter) Written() int64 { return w.written }

// Finish writes and syncs the file and returns its path.
func (w *SSTWriter) Finish() (string, error) {
	if err := w.w.Close(); err != nil {
		_ = w.e.opts.FS.Remove(w.path)
		return "", err
	}
	return w.path, nil
}

// Abort closes and removes the file.
func (w *SSTWriter) Abort() {
	_ = w.w.Close()
	_ = w.e.opts.FS.Remove(w.path)
}

// IngestSST adds the sstable at path to the engine atomically: its range
// deletions and keys become visible together, durably. Pebble links the
// file into the store and then removes path, so after a crash a file still
// at path was not ingested, or was and may be ingested again with the same
// result.
func (e *Engine) IngestSST(path string) error {
	if e.failed.Load() {
		return fmt.Errorf("%w: engine failed earlier", ErrFatal)
	}
	if err := e.enter(); err != nil {
		return err
	}
	defer e.exit()
	if err := e.db.Ingest(context.Background(), []string{path}); err != nil {
		return fmt.Errorf("storage: ingest %s: %w", path, err)
	}
	return nil
}

// AuxFiles lists the files in the store's AuxDir.
func (e *Engine) AuxFiles() ([]string, error) {
	dir := e.opts.FS.PathJoin(e.dir, AuxDir)
	names, err := e.opts.FS.List(dir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	out := make([]string, 0, len(names))
	for _, n := range names {
		out = append(out, e.opts.FS.PathJoin(dir, n))
	}
	return out, err
}

// RemoveAux deletes a file of the AuxDir (no error if it is gone).
func (e *Engine) RemoveAux(path string) error {
	if err := e.opts.FS.Remove(path); err != nil && !os.IsNotExist(err) {
		return err
	}
	return nil
}

// FileExists reports whether path exists on the engine's filesystem.
func (e *Engine) FileExists(path string) bool {
	_, err := e.opts.FS.Stat(path)
	return err == nil
}
