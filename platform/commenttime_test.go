package platform

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestUnixCommentTime(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 9, 22, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		raw  string
		want time.Time // zero: refused
	}{
		{"1688379962", time.Unix(1688379962, 0)},
		{" 1688379962 ", time.Unix(1688379962, 0)},
		{"1688379962.9", time.Unix(1688379962, 0)},
		{"1.688379962e9", time.Unix(1688379962, 0)},
		// Milliseconds, a plausible upstream quirk.
		{"1688379962123", time.UnixMilli(1688379962123)},
		{"1.7e12", time.UnixMilli(1_700_000_000_000)},
		// A day ahead of the poll's clock is still a clock's reading.
		{"1773180000", time.Unix(1773180000, 0)},
		{"", time.Time{}},
		{"0", time.Time{}},
		{"-1", time.Time{}},
		{"-1688379962", time.Time{}},
		{"abc", time.Time{}},
		{"NaN", time.Time{}},
		{"Inf", time.Time{}},
		{"-Inf", time.Time{}},
		{"1e300", time.Time{}},
		{"1e400", time.Time{}},
		{"253402300800", time.Time{}}, // year 10000; as ms, 1978
		{"9223372036854775807", time.Time{}},
		{"9223372036854775808", time.Time{}},
		{"1e19", time.Time{}},
		{"1104537599", time.Time{}},       // 2004-12-31 23:59:59 UTC: before the platforms
		{"1773180001", time.Time{}},       // a day and a second ahead
		{"1773180001000", time.Time{}},    // the same in ms
		{"true", time.Time{}},             // a bool kept as JSON text
		{`{"t":1688379962}`, time.Time{}}, // an object
	} {
		got, ok := UnixCommentTime(tc.raw, now)
		if ok != !tc.want.IsZero() || !got.Equal(tc.want) {
			t.Errorf("%q: got %v %v, want %v", tc.raw, got, ok, tc.want)
		}
		if ok && got.Location() != time.UTC {
			t.Errorf("%q: not UTC: %v", tc.raw, got)
		}
	}
}

func TestRawTimeNeverFailsTheDecode(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]RawTime{
		`1688379962`:                       "1688379962",
		`"1688379962"`:                     "1688379962",
		`1e300`:                            "1e300",
		`"1e300"`:                          "1e300",
		`null`:                             "",
		`true`:                             "true",
		`{"a":[1,2]}`:                      `{"a":[1,2]}`,
		`[1]`:                              "[1]",
		`"\u0031\u0032"`:                   "12",
		`"Wed Jun 01 00:50:25 +0800 2011"`: "Wed Jun 01 00:50:25 +0800 2011",
	} {
		var v struct {
			T RawTime `json:"t"`
		}
		if err := json.Unmarshal([]byte(`{"t":`+in+`}`), &v); err != nil || v.T != want {
			t.Errorf("%s: got %q, %v; want %q", in, v.T, err, want)
		}
	}
}

func TestCommentTimesReplaceAndCount(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 9, 22, 0, 0, 123, time.FixedZone("CST", 8*3600))
	ct := NewCommentTimes(now)
	if got := ct.Unix("1", "1688379962"); !got.Equal(time.Unix(1688379962, 0)) {
		t.Errorf("good time: %v", got)
	}
	if b := ct.Bad(); b.Count != 0 {
		t.Errorf("a good time counted bad: %+v", b)
	}
	long := strings.Repeat("九", 100)
	for i, raw := range []RawTime{"253402300800", "1e300", RawTime(long)} {
		if got := ct.Unix(string(rune('a'+i)), raw); !got.Equal(now) || got.Location() != time.UTC {
			t.Errorf("%q: got %v, want the poll's time %v in UTC", raw, got, now)
		}
	}
	// Take: a time read by the caller, checked the same way.
	if got := ct.Take("d", time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), true, "Fri Jan 01 00:00:00 +0000 9999"); !got.Equal(now) {
		t.Errorf("year 9999 taken: %v", got)
	}
	if got := ct.Take("e", time.Time{}, false, "abc"); !got.Equal(now) {
		t.Errorf("unreadable taken: %v", got)
	}
	b := ct.Bad()
	if b.Count != 5 || b.FirstID != "a" || b.FirstRaw != "253402300800" {
		t.Errorf("report %+v", b)
	}
	// A long raw value is shortened, on a character boundary.
	ct2 := NewCommentTimes(now)
	ct2.Unix("x", RawTime(long))
	if r := ct2.Bad().FirstRaw; len(r) > maxRawShown+len("…") || !strings.HasPrefix(long, strings.TrimSuffix(r, "…")) {
		t.Errorf("shortened to %q", r)
	}
}
