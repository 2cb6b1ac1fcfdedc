package store

// Several daemons on one database: each one's row in instances, and the
// leases that give each polled thread and each job run once to one of
// them at a time. Claims stay unique by key whoever holds what: a lease
// only keeps two daemons from making the same API calls.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Lease name prefixes: a polled thread's lease is ThreadLease, a job's
// JobLease.
const (
	threadLeasePrefix = "thread:"
	jobLeasePrefix    = "job:"
)

// Jobs run by one daemon at a time: the holder of their lease.
const (
	JobRetention = jobLeasePrefix + "retention" // the retention's pruning
	JobOutbox    = jobLeasePrefix + "outbox"    // the notification outbox's deliveries
)

// ThreadLease is the name of the lease of a polled thread: its platform
// and its poll state's thread id (a video's "video:" id included).
func ThreadLease(platform, threadID string) string {
	return threadLeasePrefix + platform + ":" + threadID
}

// IsThreadLease reports whether name is a thread's lease (not a job's).
func IsThreadLease(name string) bool { return strings.HasPrefix(name, threadLeasePrefix) }

// Instance is a daemon's row in instances.
type Instance struct {
	Name        string
	Host        string
	PID         int
	Version     string
	StartedAt   time.Time
	HeartbeatAt time.Time
}

// Alive reports whether the instance's heartbeat is younger than ttl at
// now.
func (i Instance) Alive(now time.Time, ttl time.Duration) bool {
	return i.HeartbeatAt.After(now.Add(-ttl))
}

// Lease is a row of leases.
type Lease struct {
	Name       string
	Holder     string
	ExpiresAt  time.Time
	AcquiredAt time.Time
}

// Grant is what AcquireLeases got.
type Grant struct {
	// Names are the leases granted, renewed until the new expiry.
	Names []string
	// From counts, by previous holder, the granted leases another
	// holder had let expire: a takeover.
	From map[string]int
}

// SetInstance names the daemon the store writes for: its claims, and the
// sends and drafts it starts, carry the name (replies.instance), and
// RecoverPending settles its claims. Call it right after Open, before the
// store is shared.
func (s *Store) SetInstance(name string) { s.instance = name }

// InstanceName is the name SetInstance gave ("" if none).
func (s *Store) InstanceName() string { return s.instance }

// LookupInstance returns the row of instance name; false when there is
// none.
func (s *Store) LookupInstance(ctx context.Context, name string) (Instance, bool, error) {
	var in Instance
	var started, beat sql.NullString
	err := s.q.QueryRowContext(ctx,
		`SELECT name, host, pid, version, started_at, heartbeat_at FROM instances WHERE name = ?`, name).
		Scan(&in.Name, &in.Host, &in.PID, &in.Version, &started, &beat)
	if errors.Is(err, sql.ErrNoRows) {
		return Instance{}, false, nil
	}
	if err != nil {
		return Instance{}, false, fmt.Errorf("look up instance %s: %w", name, err)
	}
	in.StartedAt, in.HeartbeatAt = readTime(started), readTime(beat)
	return in, true, nil
}

// RegisterInstance writes the row of in.Name as started now: its host,
// pid and version, and a first heartbeat.
func (s *Store) RegisterInstance(ctx context.Context, in Instance, now time.Time) error {
	if err := s.writableAt("register instance", now); err != nil {
		return err
	}
	ts := formatTime(now)
	_, err := s.q.ExecContext(ctx,
		`INSERT INTO instances (name, host, pid, version, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?)
		 ON CONFLICT (name) DO UPDATE SET host = excluded.host, pid = excluded.pid, version = excluded.version,
		   started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at`,
		in.Name, in.Host, in.PID, in.Version, ts, ts)
	if err != nil {
		return fmt.Errorf("register instance %s: %w", in.Name, err)
	}
	return nil
}

// Heartbeat writes now as the heartbeat of instance name, which stays
// alive for a lease's time to live from then.
func (s *Store) Heartbeat(ctx context.Context, name string, now time.Time) error {
	if err := s.writableAt("heartbeat", now); err != nil {
		return err
	}
	ts := formatTime(now)
	// An upsert: a row deleted by hand comes back.
	_, err := s.q.ExecContext(ctx,
		`INSERT INTO instances (name, started_at, heartbeat_at) VALUES (?, ?, ?)
		 ON CONFLICT (name) DO UPDATE SET heartbeat_at = excluded.heartbeat_at`,
		name, ts, ts)
	if err != nil {
		return fmt.Errorf("heartbeat of instance %s: %w", name, err)
	}
	return nil
}

// AliveInstances returns the names of the instances alive at now (a
// heartbeat younger than ttl), sorted.
func (s *Store) AliveInstances(ctx context.Context, now time.Time, ttl time.Duration) ([]string, error) {
	rows, err := s.q.QueryContext(ctx,
		`SELECT name FROM instances WHERE heartbeat_at > ? ORDER BY name`, formatTime(now.Add(-ttl)))
	if err != nil {
		return nil, fmt.Errorf("list alive instances: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("list alive instances: %w", err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list alive instances: %w", err)
	}
	return out, nil
}

// AcquireLeases gives holder, until now+ttl, the leases of names that no
// other holder has unexpired at now: at most limit of them (all when limit
// <= 0), the first ones in the order given, those holder holds already
// included (they are renewed). It returns the names granted, and who had
// let the taken over ones expire.
//
// The leases are read, then taken by one conditional upsert per batch of
// names, in one transaction: the upsert takes a lease only from its own
// holder or from an expired one, so of two daemons racing for a name only
// one gets it, whatever the database's isolation.
func (s *Store) AcquireLeases(ctx context.Context, holder string, names []string, ttl time.Duration, now time.Time, limit int) (Grant, error) {
	g := Grant{From: map[string]int{}}
	if err := s.writableAt("acquire leases", now); err != nil {
		return g, err
	}
	if holder == "" {
		return g, errors.New("acquire leases: no holder")
	}
	if len(names) == 0 {
		return g, nil
	}
	tx, err := s.begin(ctx)
	if err != nil {
		return g, fmt.Errorf("acquire leases: %w", err)
	}
	defer tx.Rollback()
	ts := formatTime(now)
	var want []string
	prev := map[string]string{}
	seen := map[string]bool{}
	// Read a batch at a time, until limit names are found takeable: a
	// daemon one short of its share reads a batch, not every thread.
	for start := 0; start < len(names) && (limit <= 0 || len(want) < limit); start += maxVars {
		chunk := names[start:min(start+maxVars, len(names))]
		current, err := leasesOf(ctx, tx.Tx, chunk)
		if err != nil {
			return g, fmt.Errorf("acquire leases: %w", err)
		}
		for _, n := range chunk {
			if seen[n] || (limit > 0 && len(want) >= limit) {
				continue
			}
			seen[n] = true
			cur, ok := current[n]
			switch {
			case !ok, cur.Holder == holder:
			case formatTime(cur.ExpiresAt) <= ts:
				prev[n] = cur.Holder
			default:
				continue // another holder's, unexpired
			}
			want = append(want, n)
		}
	}
	expires := formatTime(now.Add(ttl))
	// ?1..?4 are shared by every row; the names follow.
	const shared = 4
	for start := 0; start < len(want); start += maxVars {
		chunk := want[start:min(start+maxVars, len(want))]
		var b strings.Builder
		b.WriteString(`INSERT INTO leases (name, holder, expires_at, acquired_at) VALUES `)
		args := []any{holder, expires, ts, ts}
		for i, n := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?" + strconv.Itoa(shared+1+i) + ", ?1, ?2, ?3)")
			args = append(args, n)
		}
		b.WriteString(` ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at,
		   acquired_at = CASE WHEN leases.holder = excluded.holder THEN leases.acquired_at ELSE excluded.acquired_at END
		 WHERE leases.holder = excluded.holder OR leases.expires_at <= ?4
		 RETURNING name`)
		rows, err := tx.QueryContext(ctx, b.String(), args...)
		if err != nil {
			return g, fmt.Errorf("acquire leases: %w", err)
		}
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				rows.Close()
				return g, fmt.Errorf("acquire leases: %w", err)
			}
			g.Names = append(g.Names, n)
			if h, ok := prev[n]; ok && h != holder {
				g.From[h]++
			}
		}
		if err := rows.Close(); err != nil {
			return g, fmt.Errorf("acquire leases: %w", err)
		}
		if err := rows.Err(); err != nil {
			return g, fmt.Errorf("acquire leases: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return Grant{From: map[string]int{}}, fmt.Errorf("acquire leases: commit: %w", err)
	}
	return g, nil
}

// leasesOf reads the leases of names, by name.
func leasesOf(ctx context.Context, q querier, names []string) (map[string]Lease, error) {
	out := make(map[string]Lease, len(names))
	for start := 0; start < len(names); start += maxVars {
		chunk := names[start:min(start+maxVars, len(names))]
		args := make([]any, len(chunk))
		for i, n := range chunk {
			args[i] = n
		}
		rows, err := q.QueryContext(ctx,
			`SELECT name, holder, expires_at, acquired_at FROM leases WHERE name IN (?`+strings.Repeat(", ?", len(chunk)-1)+`)`,
			args...)
		if err != nil {
			return nil, err
		}
		ls, err := scanLeases(rows)
		if err != nil {
			return nil, err
		}
		for _, l := range ls {
			out[l.Name] = l
		}
	}
	return out, nil
}

// scanLeases reads rows of (name, holder, expires_at, acquired_at) and
// closes them.
func scanLeases(rows *sql.Rows) ([]Lease, error) {
	defer rows.Close()
	var out []Lease
	for rows.Next() {
		var l Lease
		var exp, acq sql.NullString
		if err := rows.Scan(&l.Name, &l.Holder, &exp, &acq); err != nil {
			return nil, err
		}
		l.ExpiresAt, l.AcquiredAt = readTime(exp), readTime(acq)
		out = append(out, l)
	}
	return out, rows.Err()
}

// RenewLeases extends every lease holder holds to now+ttl, expired ones
// no other holder took meanwhile included, and returns their names,
// sorted: a lease missing from them was taken by another holder.
func (s *Store) RenewLeases(ctx context.Context, holder string, ttl time.Duration, now time.Time) ([]string, error) {
	if err := s.writableAt("renew leases", now); err != nil {
		return nil, err
	}
	rows, err := s.q.QueryContext(ctx,
		`UPDATE leases SET expires_at = ? WHERE holder = ? RETURNING name`, formatTime(now.Add(ttl)), holder)
	if err != nil {
		return nil, fmt.Errorf("renew leases of %s: %w", holder, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("renew leases of %s: %w", holder, err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("renew leases of %s: %w", holder, err)
	}
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("renew leases of %s: %w", holder, err)
	}
	slices.Sort(out)
	return out, nil
}

// ReleaseLeases gives up the leases of names that holder holds, so that
// another daemon may take them at once; it returns how many it gave up.
func (s *Store) ReleaseLeases(ctx context.Context, holder string, names []string) (int, error) {
	if err := s.writable("release leases"); err != nil {
		return 0, err
	}
	released := 0
	for start := 0; start < len(names); start += maxVars {
		chunk := names[start:min(start+maxVars, len(names))]
		args := make([]any, 0, len(chunk)+1)
		args = append(args, holder)
		for _, n := range chunk {
			args = append(args, n)
		}
		res, err := s.q.ExecContext(ctx,
			`DELETE FROM leases WHERE holder = ? AND name IN (?`+strings.Repeat(", ?", len(chunk)-1)+`)`, args...)
		if err != nil {
			return released, fmt.Errorf("release leases of %s: %w", holder, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return released, fmt.Errorf("release leases of %s: %w", holder, err)
		}
		released += int(n)
	}
	return released, nil
}

// HeldLeases returns the leases holder holds unexpired at now, by name.
func (s *Store) HeldLeases(ctx context.Context, holder string, now time.Time) ([]Lease, error) {
	rows, err := s.q.QueryContext(ctx,
		`SELECT name, holder, expires_at, acquired_at FROM leases WHERE holder = ? AND expires_at > ? ORDER BY name`,
		holder, formatTime(now))
	if err != nil {
		return nil, fmt.Errorf("list leases of %s: %w", holder, err)
	}
	ls, err := scanLeases(rows)
	if err != nil {
		return nil, fmt.Errorf("list leases of %s: %w", holder, err)
	}
	return ls, nil
}

// RecoverInstance settles the pending claims of instance name, a dead
// daemon whose threads another takes over, as RecoverPending settles a
// crashed run's: attempted ones become unknown, queued ones are requeued.
// Claims of any other instance are left alone.
func (s *Store) RecoverInstance(ctx context.Context, name string, now time.Time) (unknown, requeued int, err error) {
	if name == "" {
		return 0, 0, errors.New("recover the claims of an instance: no name")
	}
	return s.recoverPending(ctx, "recover the claims of instance "+name, now, `instance = ?`, name)
}
