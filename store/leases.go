package store

// Several daemons on one database: each one's row in instances, and the
// leases that give each polled thread and each job run once to one of
// them at a time. Claims stay unique by key whoever holds what: a lease
// only keeps two daemons from making the same API calls.
//
// A lease is held while its holder's heartbeat is fresh (younger than the
// reader's time to live): renewing every lease a daemon holds is the one
// write of its heartbeat, and a lease row is written only when it changes
// hands (taken, given up, released). Its expires_at is written at a take
// as the take's time plus the taker's time to live and read by nothing
// here: daemons of earlier versions, which renewed it, still read it
// during a rolling upgrade.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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
	Name   string
	Holder string
	// ExpiresAt is the take's time plus the taker's time to live, not
	// renewed: the lease holds while its holder's heartbeat is fresh.
	ExpiresAt  time.Time
	AcquiredAt time.Time
}

// Grant is what AcquireLeases got.
type Grant struct {
	// Names are the leases granted: taken, or held already.
	Names []string
	// From counts, by previous holder, the granted leases taken from a
	// holder whose heartbeat had gone stale: a takeover.
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
// alive, and holds its leases, for a lease's time to live from then.
//
// It is a write transaction of its own, so that it and a taker's
// AcquireLeases run one after the other (SQLite's one writer, the write
// lock taken at PostgreSQL's BEGIN): a heartbeat committed before a take
// keeps the leases, and one committed after it finds them taken only if
// its daemon had already let them lapse by its own clock.
func (s *Store) Heartbeat(ctx context.Context, name string, now time.Time) error {
	if err := s.writableAt("heartbeat", now); err != nil {
		return err
	}
	fail := func(err error) error { return fmt.Errorf("heartbeat of instance %s: %w", name, err) }
	tx, err := s.begin(ctx)
	if err != nil {
		return fail(err)
	}
	defer tx.Rollback()
	ts := formatTime(now)
	// An upsert: a row deleted by hand comes back.
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO instances (name, started_at, heartbeat_at) VALUES (?, ?, ?)
		 ON CONFLICT (name) DO UPDATE SET heartbeat_at = excluded.heartbeat_at`,
		name, ts, ts); err != nil {
		return fail(err)
	}
	if err := tx.Commit(); err != nil {
		return fail(err)
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

// AcquireLeases gives holder the leases of names that no other holder
// holds at now (a holder whose heartbeat is younger than ttl holds its
// leases): at most limit of them (all when limit <= 0), the first ones in
// the order given, those holder holds already included. It returns the
// names granted, and whose stale leases were taken over. A lease holder
// holds already is granted without a write: only a lease changing hands
// writes its row.
//
// The leases and their holders' heartbeats are read, then the leases are
// taken by one conditional upsert per batch of names, in one transaction:
// the upsert itself takes a lease only when it is free or its holder's
// heartbeat is stale, so of two daemons racing for a name only one gets
// it, and a holder whose heartbeat was written after the read keeps it,
// whatever the database's isolation.
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
	ts, stale := formatTime(now), formatTime(now.Add(-ttl))
	var want []string
	prev := map[string]string{}
	seen := map[string]bool{}
	// Read a batch at a time, until limit names are found takeable: a
	// daemon one short of its share reads a batch, not every thread.
	for start := 0; start < len(names) && (limit <= 0 || len(g.Names)+len(want) < limit); start += maxVars {
		chunk := names[start:min(start+maxVars, len(names))]
		current, err := leasesOf(ctx, tx.Tx, chunk, stale)
		if err != nil {
			return g, fmt.Errorf("acquire leases: %w", err)
		}
		for _, n := range chunk {
			if seen[n] || (limit > 0 && len(g.Names)+len(want) >= limit) {
				continue
			}
			seen[n] = true
			cur, ok := current[n]
			switch {
			case !ok:
			case cur.Holder == holder:
				g.Names = append(g.Names, n) // held already: nothing to write
				continue
			case !cur.alive:
				prev[n] = cur.Holder
			default:
				continue // another holder's, alive
			}
			want = append(want, n)
		}
	}
	if s.leasesRead != nil {
		if err := s.leasesRead(ctx, tx.Tx); err != nil {
			return g, fmt.Errorf("acquire leases: %w", err)
		}
	}
	expires := formatTime(now.Add(ttl))
	// ?1..?4 are shared by every row; the names follow.
	const shared = 4
	for start := 0; start < len(want); start += maxVars {
		chunk := want[start:min(start+maxVars, len(want))]
		var b strings.Builder
		b.WriteString(`INSERT INTO leases (name, holder, expires_at, acquired_at) VALUES `)
		args := []any{holder, expires, ts, stale}
		for i, n := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?" + strconv.Itoa(shared+1+i) + ", ?1, ?2, ?3)")
			args = append(args, n)
		}
		// The holder's heartbeat is checked again here, in the statement
		// that takes: the read above may be older than it.
		b.WriteString(` ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at,
		   acquired_at = CASE WHEN leases.holder = excluded.holder THEN leases.acquired_at ELSE excluded.acquired_at END
		 WHERE leases.holder = excluded.holder
		    OR NOT EXISTS (SELECT 1 FROM instances WHERE instances.name = leases.holder AND instances.heartbeat_at > ?4)
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

// heldLease is a lease row and whether its holder is alive.
type heldLease struct {
	Lease
	alive bool
}

// leasesOf reads the leases of names, by name, each with whether its
// holder's heartbeat is later than stale.
func leasesOf(ctx context.Context, q querier, names []string, stale string) (map[string]heldLease, error) {
	out := make(map[string]heldLease, len(names))
	for start := 0; start < len(names); start += maxVars {
		chunk := names[start:min(start+maxVars, len(names))]
		args := make([]any, 0, len(chunk)+1)
		args = append(args, stale)
		for _, n := range chunk {
			args = append(args, n)
		}
		rows, err := q.QueryContext(ctx,
			`SELECT l.name, l.holder, CASE WHEN i.heartbeat_at > ? THEN 1 ELSE 0 END
			 FROM leases l LEFT JOIN instances i ON i.name = l.holder
			 WHERE l.name IN (?`+strings.Repeat(", ?", len(chunk)-1)+`)`,
			args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var l heldLease
			var alive int
			if err := rows.Scan(&l.Name, &l.Holder, &alive); err != nil {
				rows.Close()
				return nil, err
			}
			l.alive = alive == 1
			out[l.Name] = l
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		if err := rows.Err(); err != nil {
			return nil, err
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

// ReleaseAllLeases deletes every lease row of holder in one statement (by
// the leases_holder index): a clean stop's tidying once its heartbeat is
// dated back, which has already freed them.
func (s *Store) ReleaseAllLeases(ctx context.Context, holder string) (int, error) {
	if err := s.writable("release leases"); err != nil {
		return 0, err
	}
	res, err := s.q.ExecContext(ctx, `DELETE FROM leases WHERE holder = ?`, holder)
	if err != nil {
		return 0, fmt.Errorf("release leases of %s: %w", holder, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("release leases of %s: %w", holder, err)
	}
	return int(n), nil
}

// HeldLeases returns the leases whose holder is holder, by name: held
// while its heartbeat is fresh, which is the caller's to know (its own
// heartbeat, by its own clock). A daemon reads them after a heartbeat to
// learn which leases are still its own.
func (s *Store) HeldLeases(ctx context.Context, holder string) ([]Lease, error) {
	rows, err := s.q.QueryContext(ctx,
		`SELECT name, holder, expires_at, acquired_at FROM leases WHERE holder = ? ORDER BY name`, holder)
	if err != nil {
		return nil, fmt.Errorf("list leases of %s: %w", holder, err)
	}
	ls, err := scanLeases(rows)
	if err != nil {
		return nil, fmt.Errorf("list leases of %s: %w", holder, err)
	}
	return ls, nil
}

// HeldLeaseNames returns the names of the leases whose holder is holder,
// sorted: HeldLeases without the times, which a daemon reading its
// leases back at every cycle does not need (at 100,000 leases the times
// cost two thirds of the read).
func (s *Store) HeldLeaseNames(ctx context.Context, holder string) ([]string, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT name FROM leases WHERE holder = ? ORDER BY name`, holder)
	if err != nil {
		return nil, fmt.Errorf("list leases of %s: %w", holder, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("list leases of %s: %w", holder, err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list leases of %s: %w", holder, err)
	}
	return out, nil
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
