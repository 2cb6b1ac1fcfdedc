package store

// PostgreSQL's errors, sorted into what waits out (the server restarting,
// failing over, unreachable for a while) and what an operator must fix.

import (
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// pgTransient reports whether err is a PostgreSQL condition that clears
// by itself or by an operator's fix in place; ok is false when err is not
// PostgreSQL's at all.
func pgTransient(err error) (transient, ok bool) {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "08"), // connection exception
			strings.HasPrefix(pe.Code, "53"),                           // insufficient resources: disk full, too many connections
			strings.HasPrefix(pe.Code, "58"),                           // system error: I/O
			pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03", // shutting down, crashed, starting up
			pe.Code == "57014",                     // query cancelled (statement_timeout, an operator's cancel)
			pe.Code == "40001", pe.Code == "40P01", // serialization failure, deadlock
			pe.Code == "25006", // read-only transaction: a standby, during or after a failover
			pe.Code == "55P03": // lock not available
			return true, true
		}
		return false, true
	}
	var ce *pgconn.ConnectError
	switch {
	case errors.As(err, &ce):
		// Unreachable, refused, timed out, or a server that answers but
		// refuses us (password, unknown database): the latter are not
		// waited out at start, where the daemon would wait forever.
		return !pgAuthFailure(err), true
	case pgconn.SafeToRetry(err), pgconn.Timeout(err), errors.Is(err, driver.ErrBadConn):
		return true, true
	}
	// A connection broken under a query. (Not any net.Error: a
	// syscall.Errno is one too, and an SQLite file's EACCES is not
	// PostgreSQL's.)
	var oe *net.OpError
	if errors.As(err, &oe) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true, true
	}
	if strings.Contains(err.Error(), "conn closed") || strings.Contains(err.Error(), "conn busy") {
		return true, true
	}
	return false, false
}

// pgAuthFailure reports whether the server refused the connection for
// who we are or what we asked for.
func pgAuthFailure(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return strings.HasPrefix(pe.Code, "28") || pe.Code == "3D000" // authorization; no such database
	}
	return false
}

// pgDescribe says what a PostgreSQL condition is, in words an operator can
// act on ("" when err is not one).
func pgDescribe(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "28"):
			return "PostgreSQL refused the login (check the user, database_password_file or passfile, and pg_hba.conf)"
		case pe.Code == "3D000":
			return "the PostgreSQL database does not exist (create it: createdb -O USER autoreplyd)"
		case pe.Code == "25006":
			return "PostgreSQL is read-only: the URL reaches a standby (after a failover, point it at the primary, or use target_session_attrs=read-write): nothing is claimed or sent meanwhile"
		case pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03":
			return "PostgreSQL is restarting or failing over: nothing is claimed or sent until it is back"
		case strings.HasPrefix(pe.Code, "53"):
			return "PostgreSQL is out of resources (disk full or too many connections): nothing is claimed or sent until it recovers"
		case strings.HasPrefix(pe.Code, "08"), strings.HasPrefix(pe.Code, "58"):
			return "PostgreSQL connection or I/O failure: nothing is claimed or sent until it is back"
		}
		return ""
	}
	if t, ok := pgTransient(err); ok && t {
		return "PostgreSQL is unreachable: nothing is claimed or sent until it is back"
	}
	return ""
}
