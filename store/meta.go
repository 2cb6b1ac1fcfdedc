package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// MetaTimezone is the meta key holding the IANA name of the time zone the
// daemon last ran in (the config's timezone): history and stats given only
// the database show local days and times in it.
const MetaTimezone = "timezone"

// SetMeta records value under key in the meta table, replacing any earlier
// value.
func (s *Store) SetMeta(ctx context.Context, key, value string) error {
	if err := s.writable("set meta " + key); err != nil {
		return err
	}
	_, err := s.q.ExecContext(ctx,
		`INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	if err != nil {
		return fmt.Errorf("set meta %s: %w", key, err)
	}
	return nil
}

// DeleteMeta removes key from the meta table; removing an absent key is not
// an error.
func (s *Store) DeleteMeta(ctx context.Context, key string) error {
	if err := s.writable("delete meta " + key); err != nil {
		return err
	}
	if _, err := s.q.ExecContext(ctx, `DELETE FROM meta WHERE key = ?`, key); err != nil {
		return fmt.Errorf("delete meta %s: %w", key, err)
	}
	return nil
}

// Meta returns the value recorded under key; false when there is none.
func (s *Store) Meta(ctx context.Context, key string) (string, bool, error) {
	var v string
	err := s.q.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read meta %s: %w", key, err)
	}
	return v, true, nil
}

// RecordedRules returns the distinct rule names of the claims, sorted.
func (s *Store) RecordedRules(ctx context.Context) ([]string, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT DISTINCT rule FROM replies ORDER BY rule`)
	if err != nil {
		return nil, fmt.Errorf("list recorded rules: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return nil, fmt.Errorf("list recorded rules: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list recorded rules: %w", err)
	}
	return out, nil
}
