package main

// What run records for the analyst, end to end: the configured time zone
// (history and stats given only the database show the config's days and
// times, whatever the host's zone) and the threads' labels (replies_v groups
// the answers by campaign).

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
)

// runTZ runs the binary like w.run, with the host's zone set by $TZ.
func (w *world) runTZ(tz string, args ...string) (stdout, stderr string, code int) {
	w.t.Helper()
	return w.runEnv([]string{"TZ=" + tz}, args...)
}

func TestEndToEndRecordedZoneAndLabels(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "@every 1h", true)
	w.once()
	w.add(threadA, "多少钱", "客A", "40001")
	w.add(threadA, "好看", "客B", "40002")
	w.add(threadB, "多少钱", "客C", "40003")
	w.once()
	db := filepath.Join(w.dir, "state", "autoreplyd.db")

	ok := func(tz string, args ...string) string {
		t.Helper()
		out, stderr, code := w.runTZ(tz, args...)
		if code != 0 || stderr != "" {
			t.Fatalf("%v (TZ=%s): exit %d, stderr %q", args, tz, code, stderr)
		}
		return out
	}
	// The host is in New York; the config (and so the database) in Shanghai.
	const host = "America/New_York"
	for _, cmd := range []string{"history", "stats"} {
		byConfig := ok(host, cmd, "--config", w.cfg)
		byDatabase := ok(host, cmd, "--database", db)
		if byDatabase != byConfig {
			t.Errorf("%s --database shows another zone than --config:\n%s\nwant\n%s", cmd, byDatabase, byConfig)
		}
		if hostZone := ok(host, cmd, "--database", db, "--timezone", host); cmd == "history" && hostZone == byConfig {
			t.Errorf("history --timezone %s shows the same times as the config's zone:\n%s", host, hostZone)
		}
	}

	sdb, err := sql.Open("sqlite", "file:"+db+"?mode=ro")
	must(t, err)
	defer testutil.Close(t, sdb)
	var zone string
	must(t, sdb.QueryRow(`SELECT value FROM meta WHERE key = 'timezone'`).Scan(&zone))
	if zone != "Asia/Shanghai" {
		t.Errorf("meta timezone %q, want Asia/Shanghai", zone)
	}
	rows, err := sdb.Query(`SELECT coalesce(json_extract(labels, '$.campaign'), '-'), count(*)
		FROM replies_v WHERE status = 'sent' GROUP BY 1 ORDER BY 1`)
	must(t, err)
	defer rows.Close()
	var got []string
	for rows.Next() {
		var campaign, n string
		must(t, rows.Scan(&campaign, &n))
		got = append(got, campaign+"="+n)
	}
	must(t, rows.Err())
	if strings.Join(got, " ") != "-=1 spring=2" {
		t.Errorf("sent answers by campaign: %v, want [-=1 spring=2]", got)
	}
}
