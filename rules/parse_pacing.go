package rules

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"go.yaml.in/yaml/v3"
	"golang.org/x/text/unicode/norm"
)

// The forms shown in pacing errors.
const (
	cooldownForm = "{user: 24h, thread: 10m}"
	durationForm = "a duration such as 24h, 10m, 1h30m or 7d"
	limitForm    = "{hour: 30, day: 200}"
	windowForm   = `[DAYS ]HH:MM-HH:MM, such as "09:00-22:00", "Mon-Fri 09:00-18:00" or "周一至周五 09:00-18:00"`
	daysForm     = "Mon Tue Wed Thu Fri Sat Sun (or full names), 周一 … 周日 (or 星期一 … 星期日, 周天), or a range such as Mon-Fri or 周一-周五"
)

// parseCooldown reads `cooldown: {user: 24h, thread: 10m}`.
func (f *srcFile) parseCooldown(r *ruleSpec, v *yaml.Node) {
	fields := map[string]*time.Duration{"user": &r.pacing.CooldownUser, "thread": &r.pacing.CooldownThread}
	f.pacingMap(r, v, "cooldown", cooldownForm, []string{"user", "thread"}, func(key string, n *yaml.Node) {
		d, err := parseDuration(n)
		if err != nil {
			f.errorf(n, r.name, "cooldown.%s: want %s, got %s", key, durationForm, quote(n))
			return
		}
		if d <= 0 {
			f.errorf(n, r.name, "cooldown.%s: want a duration above 0 (leave it out for no cooldown), got %s", key, quote(n))
			return
		}
		*fields[key] = d
	})
}

// parseLimit reads `limit: {hour: 30, day: 200}`.
func (f *srcFile) parseLimit(r *ruleSpec, v *yaml.Node) {
	fields := map[string]*int{"hour": &r.pacing.LimitHour, "day": &r.pacing.LimitDay}
	f.pacingMap(r, v, "limit", limitForm, []string{"hour", "day"}, func(key string, n *yaml.Node) {
		var x int
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || n.Decode(&x) != nil || x <= 0 {
			f.errorf(n, r.name, "limit.%s: want a whole number above 0 such as 30 (leave it out for no limit), got %s", key, quote(n))
			return
		}
		*fields[key] = x
	})
}

// pacingMap checks that v is a non-empty mapping of the given keys and calls
// fn with each value.
func (f *srcFile) pacingMap(r *ruleSpec, v *yaml.Node, what, form string, keys []string, fn func(key string, n *yaml.Node)) {
	if v.Kind != yaml.MappingNode {
		f.errorf(v, r.name, "%s: want a mapping such as %s", what, form)
		return
	}
	if len(v.Content) == 0 {
		f.errorf(v, r.name, "%s: want %s:, %s: or both, as in %s", what, keys[0], keys[1], form)
		return
	}
	f.eachKey(v, r.name, func(k, n *yaml.Node) {
		if !contains(keys, k.Value) {
			f.errorf(k, r.name, "%s: unknown key %q%s; want %s or %s, as in %s", what, k.Value, suggest(k.Value, keys), keys[0], keys[1], form)
			return
		}
		fn(k.Value, n)
	})
}

// quote shows a YAML value in a message.
func quote(n *yaml.Node) string {
	switch {
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case n.Tag == "!!null":
		return "nothing"
	}
	return strconv.Quote(n.Value)
}

var dayUnit = regexp.MustCompile(`(\d+(?:\.\d*)?|\.\d+)d`)

// parseDuration reads a Go duration (1h30m, 10m, 90s) where d is also a
// unit: 24 hours (7d, 1d12h, 1.5d).
func parseDuration(n *yaml.Node) (time.Duration, error) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return 0, fmt.Errorf("not a duration")
	}
	s := dayUnit.ReplaceAllStringFunc(strings.TrimSpace(n.Value), func(m string) string {
		days, err := strconv.ParseFloat(m[:len(m)-1], 64)
		if err != nil {
			return m // left for ParseDuration to refuse
		}
		return strconv.FormatFloat(days*24, 'f', -1, 64) + "h"
	})
	return time.ParseDuration(s)
}

// parseActive reads `active:`, one window or a list of them.
func (f *srcFile) parseActive(r *ruleSpec, v *yaml.Node) {
	one := func(n *yaml.Node, part string) {
		n = deref(n)
		if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
			f.errorf(n, r.name, "%s: want %s, got %s", part, windowForm, quote(n))
			return
		}
		w, err := parseWindow(n.Value)
		if err != nil {
			f.errorf(n, r.name, "%s: %v", part, err)
			return
		}
		r.pacing.Active = append(r.pacing.Active, w)
	}
	if v.Kind != yaml.SequenceNode {
		if v.Kind == yaml.MappingNode {
			f.errorf(v, r.name, "active: want %s, or a list of them; got a mapping", windowForm)
			return
		}
		one(v, "active")
		return
	}
	if len(v.Content) == 0 {
		f.errorf(v, r.name, "active is an empty list (leave active out to answer at any time)")
		return
	}
	for i, item := range v.Content {
		one(item, fmt.Sprintf("active[%d]", i+1))
	}
}

// rangeDash are the ways of writing a range: 周一至周五, Mon-Fri, 9:00~18:00.
const rangeDash = `(?:-|–|—|~|〜|至|到)`

var (
	windowPattern = regexp.MustCompile(`^(.*?)\s*(\d{1,2}):(\d{2})\s*` + rangeDash + `\s*(\d{1,2}):(\d{2})$`)
	dayDash       = regexp.MustCompile(`\s*` + rangeDash + `\s*`)
)

// parseWindow reads one `[DAYS ]HH:MM-HH:MM` window. Full-width digits and
// punctuation (０９：００，) are read as their ASCII forms.
func parseWindow(value string) (Window, error) {
	var w Window
	s := strings.TrimSpace(norm.NFKC.String(value))
	m := windowPattern.FindStringSubmatch(s)
	if m == nil {
		return w, fmt.Errorf("want %s, got %q", windowForm, value)
	}
	clock := func(h, mm string) int {
		hh, _ := strconv.Atoi(h)
		mi, _ := strconv.Atoi(mm)
		if mi > 59 {
			return -1
		}
		return hh*60 + mi
	}
	w.Start, w.End = clock(m[2], m[3]), clock(m[4], m[5])
	if w.Start < 0 || w.Start >= 24*60 {
		return w, fmt.Errorf("start %s:%s is not a time of day: want 00:00 to 23:59, in %q", m[2], m[3], value)
	}
	if w.End < 0 || w.End > 24*60 {
		return w, fmt.Errorf("end %s:%s is not a time of day: want 00:00 to 24:00, in %q", m[4], m[5], value)
	}
	if w.Start == w.End {
		return w, fmt.Errorf("%q is empty: start and end are the same (00:00-24:00 is the whole day)", value)
	}
	if days := strings.TrimSpace(m[1]); days != "" {
		var err error
		if w.Days, err = parseDays(days); err != nil {
			return w, fmt.Errorf("%w, in %q", err, value)
		}
	}
	return w, nil
}

// parseDays reads a list of days and day ranges: "Mon-Fri,Sun", "周一至周五、周日".
func parseDays(s string) ([7]bool, error) {
	var days [7]bool
	s = dayDash.ReplaceAllString(s, "-")
	items := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '、' || r == ';' || unicode.IsSpace(r) })
	for _, item := range items {
		ends := strings.Split(item, "-")
		if len(ends) > 2 {
			return days, fmt.Errorf("day range %q has more than two ends: want %s", item, daysForm)
		}
		from, ok := dayNames[strings.ToLower(ends[0])]
		if !ok {
			return days, fmt.Errorf("unknown day %q: want %s", ends[0], daysForm)
		}
		to := from
		if len(ends) == 2 {
			if to, ok = dayNames[strings.ToLower(ends[1])]; !ok {
				return days, fmt.Errorf("unknown day %q: want %s", ends[1], daysForm)
			}
		}
		// A range may wrap around the week: Fri-Mon is Fri, Sat, Sun, Mon.
		for d := from; ; d = (d + 1) % 7 {
			days[d] = true
			if d == to {
				break
			}
		}
	}
	return days, nil
}

// dayNames maps the accepted names of days, lower-cased, to weekdays.
var dayNames = func() map[string]time.Weekday {
	m := map[string]time.Weekday{}
	english := [7][]string{
		{"sun", "sunday"}, {"mon", "monday"}, {"tue", "tues", "tuesday"}, {"wed", "wednesday"},
		{"thu", "thur", "thurs", "thursday"}, {"fri", "friday"}, {"sat", "saturday"},
	}
	for d, names := range english {
		for _, n := range names {
			m[n] = time.Weekday(d)
		}
	}
	chinese := []string{"日", "一", "二", "三", "四", "五", "六"}
	for d, c := range chinese {
		for _, prefix := range []string{"周", "星期", "礼拜"} {
			m[prefix+c] = time.Weekday(d)
		}
	}
	for _, prefix := range []string{"周", "星期", "礼拜"} {
		m[prefix+"天"] = time.Sunday
	}
	return m
}()
