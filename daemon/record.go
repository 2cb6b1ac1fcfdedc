package daemon

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/autoreplyd/autoreplyd/platform"
	"github.com/autoreplyd/autoreplyd/poller"
	"github.com/autoreplyd/autoreplyd/store"
)

// recordConfig writes into the database what its readers need of the
// config: the time zone (history and stats given only the database show
// local days in it) and the labels of every watched thread (replies_v
// carries them for per-campaign queries). It runs at every start, so both
// follow config changes.
func (d *Daemon) recordConfig(ctx context.Context, st *store.Store, bindings []poller.Binding) error {
	if name, ok := zoneName(d.cfg.Location); ok {
		if err := st.SetMeta(ctx, store.MetaTimezone, name); err != nil {
			return err
		}
	} else {
		// Better no zone (readers fall back to their own) than a stale one.
		d.log.Warn("the time zone has no IANA name: not recorded in the database; history and stats with --database show the host's zone (give them --timezone)",
			"timezone", d.cfg.Timezone)
		if err := st.DeleteMeta(ctx, store.MetaTimezone); err != nil {
			return err
		}
	}
	var labels []store.ThreadLabels
	for _, b := range bindings {
		for _, th := range b.Source.Threads() {
			labels = append(labels, store.ThreadLabels{Platform: b.Source.Platform(), ThreadID: th.ID, Labels: th.Labels})
		}
		// A video's labels go with its poll state's row: its top-level
		// comments, their own threads, show them until discovered.
		if vs, ok := b.Source.(platform.VideoSource); ok {
			for _, v := range vs.Videos() {
				labels = append(labels, store.ThreadLabels{Platform: b.Source.Platform(), ThreadID: platform.VideoStateID(v.ID), Labels: v.Labels})
			}
		}
	}
	return st.SetThreadLabels(ctx, labels)
}

// zoneName is the IANA name of loc. For "Local" (the default timezone) it
// is the host's zone: $TZ, else the zoneinfo file /etc/localtime links to,
// else /etc/timezone; false when none of them names a zone Go can load.
func zoneName(loc *time.Location) (string, bool) {
	if loc != time.Local {
		return loc.String(), true
	}
	var candidates []string
	// time.Local is named after $TZ when $TZ names a zone, "UTC" when
	// the host has none, and "Local" when it came from /etc/localtime.
	if n := time.Local.String(); n != "Local" {
		candidates = append(candidates, n)
	}
	if target, err := filepath.EvalSymlinks("/etc/localtime"); err == nil {
		if _, rest, ok := strings.Cut(target, "/zoneinfo/"); ok {
			candidates = append(candidates, strings.TrimPrefix(rest, "posix/"))
		}
	}
	if b, err := os.ReadFile("/etc/timezone"); err == nil {
		candidates = append(candidates, strings.TrimSpace(string(b)))
	}
	for _, c := range candidates {
		if c == "" || c == "Local" {
			continue
		}
		if _, err := time.LoadLocation(c); err == nil {
			return c, true
		}
	}
	return "", false
}
