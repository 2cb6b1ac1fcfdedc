package rules

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// paced wraps pacing lines in a rule x that answers.
func paced(lines ...string) string {
	return r(append([]string{`    when: 'true'`, `    reply: hi`}, lines...)...)
}

// days builds a Window.Days from weekdays.
func days(ds ...time.Weekday) [7]bool {
	var out [7]bool
	for _, d := range ds {
		out[d] = true
	}
	return out
}

const (
	sun = time.Sunday
	mon = time.Monday
	tue = time.Tuesday
	wed = time.Wednesday
	thu = time.Thursday
	fri = time.Friday
	sat = time.Saturday
)

func TestParsePacing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		lines []string
		want  Pacing
	}{
		{"cooldown both", []string{`    cooldown: {user: 24h, thread: 10m}`},
			Pacing{CooldownUser: 24 * time.Hour, CooldownThread: 10 * time.Minute}},
		{"cooldown user only", []string{`    cooldown: {user: 1h30m}`}, Pacing{CooldownUser: 90 * time.Minute}},
		{"cooldown thread only, block style", []string{`    cooldown:`, `      thread: 90s`}, Pacing{CooldownThread: 90 * time.Second}},
		{"cooldown in days", []string{`    cooldown: {user: 7d, thread: 1d12h}`},
			Pacing{CooldownUser: 7 * 24 * time.Hour, CooldownThread: 36 * time.Hour}},
		{"cooldown in fractional days", []string{`    cooldown: {user: 1.5d}`}, Pacing{CooldownUser: 36 * time.Hour}},
		{"limit both", []string{`    limit: {hour: 30, day: 200}`}, Pacing{LimitHour: 30, LimitDay: 200}},
		{"limit day only", []string{`    limit:`, `      day: 5`}, Pacing{LimitDay: 5}},
		{"every day", []string{`    active: "09:00-22:00"`}, Pacing{Active: []Window{{Start: 9 * 60, End: 22 * 60}}}},
		{"unquoted", []string{`    active: 09:00-22:00`}, Pacing{Active: []Window{{Start: 9 * 60, End: 22 * 60}}}},
		{"single-digit hour", []string{`    active: "9:05-18:30"`}, Pacing{Active: []Window{{Start: 9*60 + 5, End: 18*60 + 30}}}},
		{"whole day", []string{`    active: "00:00-24:00"`}, Pacing{Active: []Window{{Start: 0, End: 24 * 60}}}},
		{"across midnight", []string{`    active: "22:00-02:00"`}, Pacing{Active: []Window{{Start: 22 * 60, End: 2 * 60}}}},
		{"English range", []string{`    active: "Mon-Fri 09:00-18:00"`},
			Pacing{Active: []Window{{Days: days(mon, tue, wed, thu, fri), Start: 9 * 60, End: 18 * 60}}}},
		{"English list, mixed case and full names", []string{`    active: "mon,WED, Friday 9:00-18:00"`},
			Pacing{Active: []Window{{Days: days(mon, wed, fri), Start: 9 * 60, End: 18 * 60}}}},
		{"English short forms", []string{`    active: "Tues,Thur,Thurs,Sat,Sun 10:00-11:00"`},
			Pacing{Active: []Window{{Days: days(tue, thu, sat, sun), Start: 10 * 60, End: 11 * 60}}}},
		{"wrapping range", []string{`    active: "Fri-Mon 20:00-23:00"`},
			Pacing{Active: []Window{{Days: days(fri, sat, sun, mon), Start: 20 * 60, End: 23 * 60}}}},
		{"range and day", []string{`    active: "Mon-Wed,Sat 08:00-09:00"`},
			Pacing{Active: []Window{{Days: days(mon, tue, wed, sat), Start: 8 * 60, End: 9 * 60}}}},
		{"spaces around dashes", []string{`    active: "Mon - Fri 09:00 - 18:00"`},
			Pacing{Active: []Window{{Days: days(mon, tue, wed, thu, fri), Start: 9 * 60, End: 18 * 60}}}},
		{"Chinese range with -", []string{`    active: "周一-周五 09:00-18:00"`},
			Pacing{Active: []Window{{Days: days(mon, tue, wed, thu, fri), Start: 9 * 60, End: 18 * 60}}}},
		{"Chinese range with 至, no space", []string{`    active: "周一至周五09:00-18:00"`},
			Pacing{Active: []Window{{Days: days(mon, tue, wed, thu, fri), Start: 9 * 60, End: 18 * 60}}}},
		{"Chinese list with 、 and ，", []string{`    active: "周六、周日，周三 10:00-16:00"`},
			Pacing{Active: []Window{{Days: days(sat, sun, wed), Start: 10 * 60, End: 16 * 60}}}},
		{"周天 and 星期 with 到", []string{`    active: ["周天 10:00-12:00", "星期一到星期三 08:00-09:00", "礼拜五 07:00-08:00"]`},
			Pacing{Active: []Window{
				{Days: days(sun), Start: 10 * 60, End: 12 * 60},
				{Days: days(mon, tue, wed), Start: 8 * 60, End: 9 * 60},
				{Days: days(fri), Start: 7 * 60, End: 8 * 60},
			}}},
		{"Chinese wrapping range across midnight", []string{`    active: "周五至周一 22:00-02:00"`},
			Pacing{Active: []Window{{Days: days(fri, sat, sun, mon), Start: 22 * 60, End: 2 * 60}}}},
		{"full-width digits and punctuation", []string{`    active: "周一－周五 ０９：００～１８：００"`},
			Pacing{Active: []Window{{Days: days(mon, tue, wed, thu, fri), Start: 9 * 60, End: 18 * 60}}}},
		{"the whole week", []string{`    active: "Sun-Sat 00:00-24:00"`},
			Pacing{Active: []Window{{Days: days(sun, mon, tue, wed, thu, fri, sat), Start: 0, End: 24 * 60}}}},
		{"list, block style", []string{`    active:`, `      - Mon-Fri 09:00-18:00`, `      - "Sat,Sun 10:00-16:00"`},
			Pacing{Active: []Window{
				{Days: days(mon, tue, wed, thu, fri), Start: 9 * 60, End: 18 * 60},
				{Days: days(sat, sun), Start: 10 * 60, End: 16 * 60},
			}}},
		{"everything", []string{`    cooldown: {user: 24h}`, `    limit: {hour: 30}`, `    active: "09:00-22:00"`},
			Pacing{CooldownUser: 24 * time.Hour, LimitHour: 30, Active: []Window{{Start: 9 * 60, End: 22 * 60}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := mustLoad(t, paced(tt.lines...))
			tt.want.Location = shanghai
			if got := set.Rules()[0].Pacing; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Pacing =\n  %+v\nwant\n  %+v", got, tt.want)
			}
		})
	}
}

func TestPacingErrors(t *testing.T) {
	t.Parallel()
	const noReply = "pacing applies to answers, and a rule without reply does not answer"
	tests := []struct {
		name  string
		lines []string
		want  []string
	}{
		{"cooldown not a mapping", []string{`    cooldown: 24h`},
			[]string{`t.yaml:5:15: rule "x": cooldown: want a mapping such as {user: 24h, thread: 10m}`}},
		{"cooldown empty", []string{`    cooldown: {}`},
			[]string{`t.yaml:5:15: rule "x": cooldown: want user:, thread: or both, as in {user: 24h, thread: 10m}`}},
		{"cooldown null", []string{`    cooldown:`},
			[]string{`t.yaml:5:14: rule "x": cooldown: want a mapping such as {user: 24h, thread: 10m}`}},
		{"cooldown unknown key", []string{`    cooldown: {users: 24h, post: 1h}`}, []string{
			`t.yaml:5:16: rule "x": cooldown: unknown key "users" (did you mean "user"?); want user or thread, as in {user: 24h, thread: 10m}`,
			`t.yaml:5:28: rule "x": cooldown: unknown key "post"; want user or thread, as in {user: 24h, thread: 10m}`,
		}},
		{"cooldown duplicate key", []string{`    cooldown: {user: 1h, user: 2h}`},
			[]string{`t.yaml:5:26: rule "x": duplicate key "user" (first at line 5)`}},
		{"cooldown bad duration", []string{`    cooldown: {user: 24x, thread: 一天}`}, []string{
			`t.yaml:5:22: rule "x": cooldown.user: want a duration such as 24h, 10m, 1h30m or 7d, got "24x"`,
			`t.yaml:5:35: rule "x": cooldown.thread: want a duration such as 24h, 10m, 1h30m or 7d, got "一天"`,
		}},
		{"cooldown without unit", []string{`    cooldown: {user: 24}`},
			[]string{`t.yaml:5:22: rule "x": cooldown.user: want a duration such as 24h, 10m, 1h30m or 7d, got "24"`}},
		{"cooldown not a scalar", []string{`    cooldown:`, `      thread: [10m]`, `      user:`},
			[]string{
				`t.yaml:6:15: rule "x": cooldown.thread: want a duration such as 24h, 10m, 1h30m or 7d, got a list`,
				`t.yaml:7:12: rule "x": cooldown.user: want a duration such as 24h, 10m, 1h30m or 7d, got nothing`,
			}},
		{"cooldown zero and negative", []string{`    cooldown: {user: 0s, thread: -10m}`}, []string{
			`t.yaml:5:22: rule "x": cooldown.user: want a duration above 0 (leave it out for no cooldown), got "0s"`,
			`t.yaml:5:34: rule "x": cooldown.thread: want a duration above 0 (leave it out for no cooldown), got "-10m"`,
		}},
		{"cooldown overflow", []string{`    cooldown: {user: 9999999999d}`},
			[]string{`t.yaml:5:22: rule "x": cooldown.user: want a duration such as 24h, 10m, 1h30m or 7d, got "9999999999d"`}},
		{"limit not a mapping", []string{`    limit: 30`},
			[]string{`t.yaml:5:12: rule "x": limit: want a mapping such as {hour: 30, day: 200}`}},
		{"limit empty", []string{`    limit: {}`},
			[]string{`t.yaml:5:12: rule "x": limit: want hour:, day: or both, as in {hour: 30, day: 200}`}},
		{"limit unknown key", []string{`    limit: {hours: 30, minute: 1}`}, []string{
			`t.yaml:5:13: rule "x": limit: unknown key "hours" (did you mean "hour"?); want hour or day, as in {hour: 30, day: 200}`,
			`t.yaml:5:24: rule "x": limit: unknown key "minute"; want hour or day, as in {hour: 30, day: 200}`,
		}},
		{"limit not positive", []string{`    limit: {hour: 0, day: -1}`}, []string{
			`t.yaml:5:19: rule "x": limit.hour: want a whole number above 0 such as 30 (leave it out for no limit), got "0"`,
			`t.yaml:5:27: rule "x": limit.day: want a whole number above 0 such as 30 (leave it out for no limit), got "-1"`,
		}},
		{"limit not a whole number", []string{`    limit: {hour: 2.5, day: "200"}`}, []string{
			`t.yaml:5:19: rule "x": limit.hour: want a whole number above 0 such as 30 (leave it out for no limit), got "2.5"`,
			`t.yaml:5:29: rule "x": limit.day: want a whole number above 0 such as 30 (leave it out for no limit), got "200"`,
		}},
		{"active malformed", []string{`    active: "9点到18点"`},
			[]string{`t.yaml:5:13: rule "x": active: want [DAYS ]HH:MM-HH:MM, such as "09:00-22:00", "Mon-Fri 09:00-18:00" or "周一至周五 09:00-18:00", got "9点到18点"`}},
		{"active without end", []string{`    active: "Mon 09:00"`},
			[]string{`t.yaml:5:13: rule "x": active: want [DAYS ]HH:MM-HH:MM, such as "09:00-22:00", "Mon-Fri 09:00-18:00" or "周一至周五 09:00-18:00", got "Mon 09:00"`}},
		{"active null", []string{`    active:`},
			[]string{`t.yaml:5:12: rule "x": active: want [DAYS ]HH:MM-HH:MM, such as "09:00-22:00", "Mon-Fri 09:00-18:00" or "周一至周五 09:00-18:00", got nothing`}},
		{"active a mapping", []string{`    active: {from: "09:00"}`},
			[]string{`t.yaml:5:13: rule "x": active: want [DAYS ]HH:MM-HH:MM, such as "09:00-22:00", "Mon-Fri 09:00-18:00" or "周一至周五 09:00-18:00", or a list of them; got a mapping`}},
		{"active empty list", []string{`    active: []`},
			[]string{`t.yaml:5:13: rule "x": active is an empty list (leave active out to answer at any time)`}},
		{"active bad start", []string{`    active: "24:00-02:00"`},
			[]string{`t.yaml:5:13: rule "x": active: start 24:00 is not a time of day: want 00:00 to 23:59, in "24:00-02:00"`}},
		{"active bad minutes", []string{`    active: "09:60-10:00"`},
			[]string{`t.yaml:5:13: rule "x": active: start 09:60 is not a time of day: want 00:00 to 23:59, in "09:60-10:00"`}},
		{"active bad end", []string{`    active: "09:00-25:00"`},
			[]string{`t.yaml:5:13: rule "x": active: end 25:00 is not a time of day: want 00:00 to 24:00, in "09:00-25:00"`}},
		{"active end past 24:00", []string{`    active: "09:00-24:30"`},
			[]string{`t.yaml:5:13: rule "x": active: end 24:30 is not a time of day: want 00:00 to 24:00, in "09:00-24:30"`}},
		{"active empty window", []string{`    active: "周一 09:00-09:00"`},
			[]string{`t.yaml:5:13: rule "x": active: "周一 09:00-09:00" is empty: start and end are the same (00:00-24:00 is the whole day)`}},
		{"active unknown English day", []string{`    active: "Mo-Fr 09:00-18:00"`},
			[]string{`t.yaml:5:13: rule "x": active: unknown day "Mo": want Mon Tue Wed Thu Fri Sat Sun (or full names), 周一 … 周日 (or 星期一 … 星期日, 周天), or a range such as Mon-Fri or 周一-周五, in "Mo-Fr 09:00-18:00"`}},
		{"active unknown Chinese day", []string{`    active: "周一-周八 09:00-18:00"`},
			[]string{`t.yaml:5:13: rule "x": active: unknown day "周八": want Mon Tue Wed Thu Fri Sat Sun (or full names), 周一 … 周日 (or 星期一 … 星期日, 周天), or a range such as Mon-Fri or 周一-周五, in "周一-周八 09:00-18:00"`}},
		{"active incomplete range", []string{`    active: "Mon- 09:00-18:00"`},
			[]string{`t.yaml:5:13: rule "x": active: unknown day "": want Mon Tue Wed Thu Fri Sat Sun (or full names), 周一 … 周日 (or 星期一 … 星期日, 周天), or a range such as Mon-Fri or 周一-周五, in "Mon- 09:00-18:00"`}},
		{"active three-ended range", []string{`    active: "Mon-Wed-Fri 09:00-18:00"`},
			[]string{`t.yaml:5:13: rule "x": active: day range "Mon-Wed-Fri" has more than two ends: want Mon Tue Wed Thu Fri Sat Sun (or full names), 周一 … 周日 (or 星期一 … 星期日, 周天), or a range such as Mon-Fri or 周一-周五, in "Mon-Wed-Fri 09:00-18:00"`}},
		{"active list items, each at its place", []string{`    active:`, `      - "Mon-Fri 09:00-18:00"`, `      - 9-18`, `      - [x]`, `      - "周末 10:00-16:00"`}, []string{
			`t.yaml:7:9: rule "x": active[2]: want [DAYS ]HH:MM-HH:MM, such as "09:00-22:00", "Mon-Fri 09:00-18:00" or "周一至周五 09:00-18:00", got "9-18"`,
			`t.yaml:8:9: rule "x": active[3]: want [DAYS ]HH:MM-HH:MM, such as "09:00-22:00", "Mon-Fri 09:00-18:00" or "周一至周五 09:00-18:00", got a list`,
			`t.yaml:9:9: rule "x": active[4]: unknown day "周末": want Mon Tue Wed Thu Fri Sat Sun (or full names), 周一 … 周日 (or 星期一 … 星期日, 周天), or a range such as Mon-Fri or 周一-周五, in "周末 10:00-16:00"`,
		}},
		{"active flow list", []string{`    active: ["09:00-12:00", "13:00-13:00"]`},
			[]string{`t.yaml:5:29: rule "x": active[2]: "13:00-13:00" is empty: start and end are the same (00:00-24:00 is the whole day)`}},
		{"near miss of a pacing key", []string{`    cooldwon: {user: 1h}`},
			[]string{`t.yaml:5:5: rule "x": unknown key "cooldwon" (did you mean "cooldown"?)`}},
		{"via not a name", []string{`    via: [kitkot]`},
			[]string{`t.yaml:5:10: rule "x": via must name a responder, e.g. via: kitkot`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkLoadErrors(t, paced(tt.lines...), tt.want)
		})
	}

	t.Run("without reply", func(t *testing.T) {
		checkLoadErrors(t, r(`    when: 'true'`, `    limit: {day: 3}`, `    active: "Mon 09:00-10:00"`), []string{
			`t.yaml:4:5: rule "x": limit without reply: ` + noReply,
			`t.yaml:5:5: rule "x": active without reply: ` + noReply,
		})
	})
	t.Run("without reply, and malformed", func(t *testing.T) {
		checkLoadErrors(t, r(`    when: 'true'`, `    cooldown: {user: soon}`), []string{
			`t.yaml:4:5: rule "x": cooldown without reply: ` + noReply,
			`t.yaml:4:22: rule "x": cooldown.user: want a duration such as 24h, 10m, 1h30m or 7d, got "soon"`,
		})
	})
	t.Run("with a broken reply", func(t *testing.T) {
		// The reply is there, only broken: no complaint about pacing.
		checkLoadErrors(t, r(`    when: 'true'`, `    reply: ''`, `    cooldown: {user: 1h}`), []string{
			`t.yaml:4:12: rule "x": reply is empty (leave reply out for a rule that does not answer)`,
		})
	})
}

func checkLoadErrors(t *testing.T, doc string, want []string) {
	t.Helper()
	set, err := LoadBytes("t.yaml", []byte(doc), Options{})
	if err == nil {
		t.Fatalf("loaded %d rules, want errors", set.Len())
	}
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("want *LoadError, got %T %v", err, err)
	}
	var got []string
	for _, pe := range le.Errors {
		got = append(got, pe.Error())
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func TestPacingInDecisions(t *testing.T) {
	t.Parallel()
	const rules = `
rules:
  - name: price
    when: 'text contains "价格"'
    reply: 价格请看橱窗
    cooldown: {user: 24h, thread: 10m}
    limit: {hour: 30, day: 200}
    active: ["周一至周五 09:00-18:00", "Sat,Sun 22:00-02:00"]
    continue: true
  - name: plain
    when: 'true'
    reply: hi
  - name: skip
    when: 'false'
`
	week := days(mon, tue, wed, thu, fri)
	want := Pacing{
		CooldownUser: 24 * time.Hour, CooldownThread: 10 * time.Minute,
		LimitHour: 30, LimitDay: 200,
		Active: []Window{
			{Days: week, Start: 9 * 60, End: 18 * 60},
			{Days: days(sat, sun), Start: 22 * 60, End: 2 * 60},
		},
	}
	for _, loc := range []*time.Location{nil, shanghai} {
		set, err := LoadBytes("t.yaml", []byte(rules), Options{Location: loc})
		if err != nil {
			t.Fatal(err)
		}
		wantLoc := loc
		if loc == nil {
			wantLoc = time.UTC
		}
		w := want
		w.Location = wantLoc
		infos := set.Rules()
		if !reflect.DeepEqual(infos[0].Pacing, w) {
			t.Errorf("%v: RuleInfo.Pacing = %+v\nwant %+v", loc, infos[0].Pacing, w)
		}
		for _, i := range infos[1:] {
			if !i.Pacing.IsZero() || i.Pacing.Location != wantLoc {
				t.Errorf("%v: rule %s: Pacing = %+v", loc, i.Name, i.Pacing)
			}
		}
		ds, errs := set.Evaluate(comment("价格?"), testNow)
		if len(errs) > 0 || len(ds) != 2 {
			t.Fatalf("decisions %+v, errors %v", ds, errs)
		}
		if !reflect.DeepEqual(ds[0].Pacing, w) {
			t.Errorf("%v: Decision.Pacing = %+v\nwant %+v", loc, ds[0].Pacing, w)
		}
		if ds[1].Rule != "plain" || !ds[1].Pacing.IsZero() || ds[1].Pacing.Location != wantLoc {
			t.Errorf("%v: plain decision = %+v", loc, ds[1])
		}

		// The windows handed out are copies: the Set stays as loaded.
		ds[0].Pacing.Active[0].Start = 0
		infos[0].Pacing.Active[0].End = 0
		if again := set.Rules()[0].Pacing; !reflect.DeepEqual(again, w) {
			t.Errorf("the Set changed: %+v", again)
		}
	}
}

func TestActiveAtParsedWindows(t *testing.T) {
	t.Parallel()
	set := mustLoad(t, paced(`    active: ["周一至周五 09:00-18:00", "Sat,Sun 22:00-02:00", "周三 23:00-24:00"]`))
	p := set.Rules()[0].Pacing
	// 2025-03-03 is a Monday; times are in Shanghai (UTC+8).
	at := func(day int, hhmm string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", "2025-03-"+twoDigits(day)+" "+hhmm, shanghai)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		when time.Time
		want bool
	}{
		{at(3, "08:59"), false}, // Monday, before
		{at(3, "09:00"), true},  // Monday, start is inside
		{at(3, "17:59"), true},
		{at(3, "18:00"), false}, // end is outside
		{at(7, "12:00"), true},  // Friday
		{at(7, "23:00"), false}, // Friday night: the weekend window starts Saturday
		{at(8, "12:00"), false}, // Saturday noon
		{at(8, "22:00"), true},  // Saturday night
		{at(9, "01:59"), true},  // Sunday early: Saturday's window
		{at(9, "02:00"), false},
		{at(9, "23:30"), true},  // Sunday night
		{at(10, "01:00"), true}, // Monday early: Sunday's window goes past midnight
		{at(10, "02:30"), false},
		{at(5, "23:59"), true}, // Wednesday, up to 24:00
		{at(6, "00:00"), false},
		// The same instant seen from UTC: Monday 01:00 UTC is 09:00 in Shanghai.
		{time.Date(2025, 3, 3, 1, 0, 0, 0, time.UTC), true},
		{time.Date(2025, 3, 3, 0, 59, 0, 0, time.UTC), false},
	}
	for _, tt := range tests {
		if got := p.ActiveAt(tt.when); got != tt.want {
			t.Errorf("ActiveAt(%s) = %v, want %v", tt.when.In(shanghai).Format("Mon 15:04"), got, tt.want)
		}
	}
}

func twoDigits(n int) string {
	return fmt.Sprintf("%02d", n)
}

func TestParseDurationForms(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]time.Duration{
		"24h": 24 * time.Hour, "10m": 10 * time.Minute, "1h30m": 90 * time.Minute, "7d": 7 * 24 * time.Hour,
		"1d12h": 36 * time.Hour, ".5d": 12 * time.Hour, "2d30m": 48*time.Hour + 30*time.Minute, "1500ms": 1500 * time.Millisecond,
	} {
		n := scalar(s)
		if got, err := parseDuration(n); err != nil || got != want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "d", "1dd", "1x", "一天", "1.2.3d"} {
		if got, err := parseDuration(scalar(s)); err == nil {
			t.Errorf("parseDuration(%q) = %v, want an error", s, got)
		}
	}
}

func scalar(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}
