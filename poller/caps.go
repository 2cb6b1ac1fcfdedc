package poller

// Variants and caps: which variant of a reply goes out, and each
// responder's daily cap.

import (
	"context"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/autoreplyd/autoreplyd/store"
)

// chooseVariant chooses one of a rule's rendered variants for responder:
// one it did not post in its last AvoidRepeat answers (nor in chosen, the
// texts this comment already answers with, oldest first), at random; when
// every variant is recent, the one used longest ago. A single variant is
// used as is; with AvoidRepeat 0 the choice is random.
func (p *Poller) chooseVariant(ctx context.Context, db *store.Store, responder string, vs, chosen []string) (string, error) {
	n := p.opts.Pacing[responder].AvoidRepeat
	if len(vs) <= 1 || n <= 0 {
		return pickVariant(vs), nil
	}
	stored, err := db.RecentReplyTexts(ctx, responder, n, p.opts.DryRun)
	if err != nil {
		return "", err
	}
	recent := slices.Clone(chosen)
	slices.Reverse(recent)
	recent = append(recent, stored...) // newest first
	if len(recent) > n {
		recent = recent[:n]
	}
	lastUse := make(map[string]int, len(recent)) // text -> answers ago (0 = the last)
	for i, t := range recent {
		if _, ok := lastUse[t]; !ok {
			lastUse[t] = i
		}
	}
	var fresh []string
	for _, v := range vs {
		if _, ok := lastUse[v]; !ok {
			fresh = append(fresh, v)
		}
	}
	if len(fresh) > 0 {
		return pickVariant(fresh), nil
	}
	oldest := vs[0]
	for _, v := range vs[1:] {
		if lastUse[v] > lastUse[oldest] {
			oldest = v
		}
	}
	return oldest, nil
}

// pickVariant chooses one of a rule's rendered variants at random.
func pickVariant(vs []string) string {
	switch len(vs) {
	case 0:
		return ""
	case 1:
		return vs[0]
	}
	return vs[rand.IntN(len(vs))]
}

// capped reports whether the responder reached its daily cap, counting
// extra answers about to be sent; the count of sent answers is read from
// history once per local day and kept up to date by send.
func (p *Poller) capped(ctx context.Context, db *store.Store, responder string, extra int) bool {
	pc := p.opts.Pacing[responder]
	if pc.DailyCap <= 0 {
		return false
	}
	now := p.opts.Now().In(p.opts.Location)
	day := now.Format(time.DateOnly)
	p.mu.Lock()
	cc := p.responder(responder).sentToday
	p.mu.Unlock()
	if cc.day != day {
		midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, p.opts.Location)
		n, err := db.CountSent(ctx, responder, midnight)
		if err != nil {
			failed(ctx, p.log, "count today's sends", "responder", responder, "err", err)
			return false
		}
		cc = capCount{day: day, count: n}
		p.mu.Lock()
		p.responder(responder).sentToday = cc
		p.mu.Unlock()
	}
	return cc.count+extra >= pc.DailyCap
}

func (p *Poller) countSent(responder string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if r := p.responder(responder); r.sentToday.day != "" {
		r.sentToday.count++
	}
}
