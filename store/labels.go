package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
)

// ThreadLabels are the configured labels of one watched thread.
type ThreadLabels struct {
	Platform string
	ThreadID string
	Labels   map[string]string // nil or empty: none ('{}')
}

// noLabels is the labels column of a thread without labels.
const noLabels = "{}"

// threadKey identifies a thread across platforms.
type threadKey struct{ platform, thread string }

// labelSet holds the JSON text of the configured labels of each watched
// thread, so that every saved poll state carries them; a store and its
// batches share one.
type labelSet struct {
	mu       sync.RWMutex
	byThread map[threadKey]string
	// byVideo holds the labels last given to the discovered threads of
	// each video (threadKey{platform, aweme_id}), so that a listing that
	// neither finds a thread nor brings new labels skips the query that
	// looks for threads lacking them. Cleared by SetThreadLabels: a thread
	// the config no longer lists may then need its video's.
	byVideo map[threadKey]string
}

// get returns the labels of a thread as a value for the labels column, nil
// when the thread's labels were never set (its row then keeps its own).
func (l *labelSet) get(platform, thread string) any {
	if l == nil {
		return nil
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	if j, ok := l.byThread[threadKey{platform, thread}]; ok {
		return j
	}
	return nil
}

// encodeLabels is labels as a JSON object, keys sorted, secrets scrubbed,
// '{}' when there are none. Text is kept as is (no \u escapes for <, > or &)
// so that json_extract returns exactly what the config says.
func (s *Store) encodeLabels(labels map[string]string) (string, error) {
	if len(labels) == 0 {
		return noLabels, nil
	}
	m := make(map[string]string, len(labels))
	for k, v := range labels {
		m[s.scrub(k)] = s.scrub(v)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return "", err
	}
	return string(bytes.TrimSuffix(b.Bytes(), []byte("\n"))), nil
}

// SetThreadLabels records the configured labels of every watched thread: in
// the threads table now (creating a thread's row if it has none, which
// reads as a thread never polled), and with every poll state saved from
// then on. Threads not listed keep the labels their rows hold: history of a
// thread removed from the config stays labelled as it was. The daemon calls
// it at start, with the whole config.
func (s *Store) SetThreadLabels(ctx context.Context, threads []ThreadLabels) (err error) {
	if err := s.writable("set thread labels"); err != nil {
		return err
	}
	byThread := make(map[threadKey]string, len(threads))
	for _, t := range threads {
		if t.Platform == "" || t.ThreadID == "" {
			return fmt.Errorf("set thread labels: platform and thread id are required (got %q, %q)", t.Platform, t.ThreadID)
		}
		j, err := s.encodeLabels(t.Labels)
		if err != nil {
			return fmt.Errorf("set labels of %s thread %s: %w", t.Platform, t.ThreadID, err)
		}
		byThread[threadKey{t.Platform, t.ThreadID}] = j
	}
	tx, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("set thread labels: %w", err)
	}
	defer tx.Rollback()
	// Only the rows whose labels differ are written: every start sets the
	// labels of every watched thread, and with 100,000 threads writing
	// them all took seconds of each start; unchanged, it is one read.
	have, err := threadLabelsIn(ctx, tx.Tx)
	if err != nil {
		return fmt.Errorf("set thread labels: %w", err)
	}
	var changed []threadKey
	for k, j := range byThread {
		if old, ok := have[k]; !ok || old != j {
			changed = append(changed, k)
		}
	}
	if len(changed) > 0 {
		upsert, err := tx.PrepareContext(ctx,
			`INSERT INTO threads (platform, thread_id, labels) VALUES (?, ?, ?)
			 ON CONFLICT (platform, thread_id) DO UPDATE SET labels = excluded.labels`)
		if err != nil {
			return fmt.Errorf("set thread labels: %w", err)
		}
		defer func() { err = errors.Join(err, upsert.Close()) }()
		for _, k := range changed {
			if _, err := upsert.ExecContext(ctx, k.platform, k.thread, byThread[k]); err != nil {
				return fmt.Errorf("set labels of %s thread %s: %w", k.platform, k.thread, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("set thread labels: commit: %w", err)
	}
	s.labels.mu.Lock()
	s.labels.byThread = byThread
	s.labels.byVideo = nil
	s.labels.mu.Unlock()
	return nil
}

// threadLabelsIn reads the labels of every threads row.
func threadLabelsIn(ctx context.Context, tx *sql.Tx) (map[threadKey]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT platform, thread_id, labels FROM threads`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[threadKey]string{}
	for rows.Next() {
		var k threadKey
		var j string
		if err := rows.Scan(&k.platform, &k.thread, &j); err != nil {
			return nil, err
		}
		out[k] = j
	}
	return out, rows.Err()
}
