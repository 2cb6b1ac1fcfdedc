package poller

import (
	"context"
	"strings"
	"sync"

	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/platform"
	"github.com/autoreplyd/autoreplyd/store"
)

// maxKnownCached is how many reply ids of one thread knownCache keeps: a
// page or two of any platform's listing, what an idle poll asks about.
const maxKnownCached = 64

// knownCache remembers, for each watched thread of each source, reply ids
// the database said were recorded when the thread's last poll looked up its
// first page. An idle poll lists the same page again: its look-up is then
// answered from memory instead of by a query on the store's one connection,
// which every poll would otherwise wait for behind the others' queries and
// the page transactions.
//
// Only ids the database returned, or that a page batch of the thread's poll
// has just committed (learn), are kept, and a recorded comment is never
// deleted (retention blanks its text, not its row), so a remembered id is
// still recorded: the answer is the one the database would give. An id not
// remembered is looked up in the database, as before.
//
// Threads discovered under videos are not cached: they are polled only when
// their count moved, and come and go with the videos' listings.
type knownCache struct {
	mu sync.Mutex
	// ids holds, by source name and thread id, the remembered ids, each
	// followed by a NUL (one string a thread: a fraction of the memory of
	// a slice of strings).
	ids map[string]map[string]string
}

// lookup returns the KnownFunc of one poll of thread th of source, backed
// by db, and done, to call once the poll returned: it keeps what the poll's
// first look-up found recorded.
func (k *knownCache) lookup(db *store.Store, plat, source, th string) (known platform.KnownFunc, done func()) {
	k.mu.Lock()
	prev := k.ids[source][th]
	k.mu.Unlock()
	var next string
	first := true
	known = func(ctx context.Context, ids []string) (map[string]bool, error) {
		out := make(map[string]bool, len(ids))
		var ask []string
		for _, id := range ids {
			if cached(prev, id) {
				out[id] = true
			} else {
				ask = append(ask, id)
			}
		}
		if len(ask) > 0 {
			found, err := db.Known(ctx, plat, ask)
			if err != nil {
				return nil, err
			}
			for id := range found {
				out[id] = true
			}
		}
		if first {
			first = false
			var b strings.Builder
			n := 0
			for _, id := range ids {
				if out[id] && n < maxKnownCached && !strings.Contains(id, "\x00") {
					b.WriteString(id)
					b.WriteByte(0)
					n++
				}
			}
			next = b.String()
		}
		return out, nil
	}
	done = func() {
		if first || next == prev {
			return // no look-up (the poll failed first), or nothing new to keep
		}
		k.mu.Lock()
		defer k.mu.Unlock()
		k.source(source)[th] = next
	}
	return known, done
}

// source returns the remembered ids of source's threads, making the map
// on first use. The caller holds k.mu.
func (k *knownCache) source(source string) map[string]string {
	if k.ids == nil {
		k.ids = map[string]map[string]string{}
	}
	m := k.ids[source]
	if m == nil {
		m = map[string]string{}
		k.ids[source] = m
	}
	return m
}

// cached reports whether set (ids each followed by a NUL) holds id.
func cached(set, id string) bool {
	if id == "" {
		return false
	}
	for set != "" {
		i := strings.IndexByte(set, 0)
		if set[:i] == id {
			return true
		}
		set = set[i+1:]
	}
	return false
}

// learn adds to thread th's remembered ids those of comments, which its
// poll's page batch has just committed (every comment handled is recorded,
// so each is now in the database), up to limit ids in all (the listing's
// page size: what the next poll's look-up of its first page asks about;
// maxKnownCached when unknown or larger). A first sight asks nothing (it
// records the whole listing, the first page first), and a poll that found
// new replies asked about them before they were recorded: without this the
// next poll of the thread would ask the database about its first page again.
func (k *knownCache) learn(source, th string, comments []model.Comment, limit int) {
	if len(comments) == 0 {
		return
	}
	if limit <= 0 || limit > maxKnownCached {
		limit = maxKnownCached
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	m := k.source(source)
	set := m[th]
	n := strings.Count(set, "\x00")
	var b strings.Builder
	b.WriteString(set)
	for _, c := range comments {
		if n >= limit {
			break
		}
		if c.ID == "" || strings.Contains(c.ID, "\x00") || cached(b.String(), c.ID) {
			continue
		}
		b.WriteString(c.ID)
		b.WriteByte(0)
		n++
	}
	m[th] = b.String()
}

// keep forgets the threads of source not among watched (a reload dropped
// them). It looks only when the source holds more threads than watched, so
// what it keeps stays within one entry per watched thread.
func (k *knownCache) keep(source string, watched []model.Thread) {
	k.mu.Lock()
	defer k.mu.Unlock()
	m := k.ids[source]
	if len(m) <= len(watched) {
		return
	}
	ids := make(map[string]bool, len(watched))
	for _, th := range watched {
		ids[th.ID] = true
	}
	for th := range m {
		if !ids[th] {
			delete(m, th)
		}
	}
}
