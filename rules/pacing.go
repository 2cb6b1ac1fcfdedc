package rules

import "time"

// Pacing is a rule's pacing, written as `cooldown`, `limit` and `active` in
// its rule file. The zero value paces nothing. The poller enforces it from
// the SQLite history (package pacing), so it survives restarts.
type Pacing struct {
	// CooldownUser: do not answer the same person again by this rule
	// within this time (`cooldown: {user: 24h}`); 0 = no cooldown.
	CooldownUser time.Duration
	// CooldownThread: do not answer in the same thread again by this rule
	// within this time (`cooldown: {thread: 10m}`); 0 = no cooldown.
	CooldownThread time.Duration
	// LimitHour and LimitDay: at most this many answers by this rule in any
	// hour / any 24 hours (`limit: {hour: 30, day: 200}`); 0 = no limit.
	LimitHour int
	LimitDay  int
	// Active are the local time windows in which the rule may answer
	// (`active: "09:00-22:00"` or a list such as
	// `["Mon-Fri 09:00-18:00", "Sat,Sun 10:00-16:00"]`); none = always.
	Active []Window
	// Location is the timezone of the windows (the rules' Options.Location).
	Location *time.Location
}

// Window is one local time window, on some weekdays.
type Window struct {
	// Days are the weekdays the window applies to, indexed by time.Weekday;
	// all false means every day.
	Days [7]bool
	// Start and End are minutes since local midnight. End <= Start is a
	// window across midnight ("22:00-02:00"): its part after midnight
	// belongs to the day it started on.
	Start, End int
}

// IsZero reports whether p paces nothing.
func (p Pacing) IsZero() bool {
	return p.CooldownUser == 0 && p.CooldownThread == 0 && p.LimitHour == 0 && p.LimitDay == 0 && len(p.Active) == 0
}

// ActiveAt reports whether t falls in one of the windows (always true when
// there are none).
func (p Pacing) ActiveAt(t time.Time) bool {
	if len(p.Active) == 0 {
		return true
	}
	loc := p.Location
	if loc == nil {
		loc = time.UTC
	}
	t = t.In(loc)
	minute := t.Hour()*60 + t.Minute()
	today := t.Weekday()
	yesterday := (today + 6) % 7
	for _, w := range p.Active {
		if w.Start < w.End {
			if w.onDay(today) && minute >= w.Start && minute < w.End {
				return true
			}
			continue
		}
		// Across midnight: the evening part today, or the morning part of
		// a window that started yesterday.
		if w.onDay(today) && minute >= w.Start {
			return true
		}
		if w.onDay(yesterday) && minute < w.End {
			return true
		}
	}
	return false
}

func (w Window) onDay(d time.Weekday) bool {
	for _, on := range w.Days {
		if on {
			return w.Days[d]
		}
	}
	return true
}
