package pacing

import (
	"context"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/rules"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	// Sunday 2026-11-22 10:00 in Shanghai.
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, sh)
	c := model.Comment{Platform: "douyin", ThreadID: "T1", User: model.User{UID: "u1"}}
	hist := Memory{
		{Rule: "price", Platform: "douyin", UserUID: "u1", ThreadID: "T9", At: now.Add(-2 * time.Hour)},
		{Rule: "price", Platform: "douyin", UserUID: "u2", ThreadID: "T1", At: now.Add(-5 * time.Minute)},
		{Rule: "price", Platform: "douyin", UserUID: "u3", ThreadID: "T2", At: now.Add(-30 * time.Minute)},
		{Rule: "other", Platform: "douyin", UserUID: "u1", ThreadID: "T1", At: now.Add(-time.Minute)},
	}
	weekdays := rules.Window{Start: 9 * 60, End: 18 * 60}
	for d := time.Monday; d <= time.Friday; d++ {
		weekdays.Days[d] = true
	}
	for _, tc := range []struct {
		name string
		p    rules.Pacing
		want string
	}{
		{"none", rules.Pacing{}, ""},
		{"user cooldown hit", rules.Pacing{CooldownUser: 3 * time.Hour}, ReasonCooldown},
		{"user cooldown passed", rules.Pacing{CooldownUser: time.Hour}, ""},
		{"thread cooldown hit", rules.Pacing{CooldownThread: 10 * time.Minute}, ReasonCooldown},
		{"thread cooldown passed", rules.Pacing{CooldownThread: 4 * time.Minute}, ""},
		{"hour limit reached", rules.Pacing{LimitHour: 2}, ReasonLimit},
		{"hour limit not reached", rules.Pacing{LimitHour: 3}, ""},
		{"day limit reached", rules.Pacing{LimitDay: 3}, ReasonLimit},
		{"inside window", rules.Pacing{Active: []rules.Window{{Start: 9 * 60, End: 22 * 60}}, Location: sh}, ""},
		{"outside window", rules.Pacing{Active: []rules.Window{{Start: 11 * 60, End: 22 * 60}}, Location: sh}, ReasonInactive},
		{"weekdays only, on Sunday", rules.Pacing{Active: []rules.Window{weekdays}, Location: sh}, ReasonInactive},
		{"inactive wins over cooldown", rules.Pacing{CooldownUser: 3 * time.Hour, Active: []rules.Window{{Start: 0, End: 60}}, Location: sh}, ReasonInactive},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Check(context.Background(), hist, "price", tc.p, c, now)
			if err != nil || got != tc.want {
				t.Fatalf("Check = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestActiveAcrossMidnight(t *testing.T) {
	t.Parallel()
	// "Fri 22:00-02:00": Friday night and the small hours of Saturday.
	w := rules.Window{Start: 22 * 60, End: 2 * 60}
	w.Days[time.Friday] = true
	p := rules.Pacing{Active: []rules.Window{w}, Location: time.UTC}
	at := func(day, h, m int) time.Time { return time.Date(2026, 11, day, h, m, 0, 0, time.UTC) } // 2026-11-20 is a Friday
	for _, tc := range []struct {
		t    time.Time
		want bool
	}{
		{at(20, 21, 59), false},
		{at(20, 22, 0), true},
		{at(20, 23, 59), true},
		{at(21, 1, 59), true}, // Saturday morning, window started Friday
		{at(21, 2, 0), false},
		{at(21, 23, 0), false}, // Saturday evening: not a Friday
		{at(19, 1, 0), false},  // Thursday small hours: window would have started Wednesday
	} {
		if got := p.ActiveAt(tc.t); got != tc.want {
			t.Errorf("ActiveAt(%s %s) = %v, want %v", tc.t.Weekday(), tc.t.Format("15:04"), got, tc.want)
		}
	}
}
