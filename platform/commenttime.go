package platform

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/autoreplyd/autoreplyd/model"
)

// A comment's create time comes from the platform and is not trusted: a
// value in milliseconds, "1e300" or 253402300800 made a year past 9999 that
// the store could not read back. Every source reads its comments' times
// through this file, which takes only times between EarliestCommentTime and
// the poll's clock plus CommentTimeSkew.

// EarliestCommentTime is the earliest plausible comment time, 2005-01-01
// UTC: before any of the platforms existed (Weibo 2009, WeChat Official
// Accounts 2012, Douyin 2016, TikTok 2017), so an earlier time is a unit
// error or garbage (0, a negative value, seconds read as milliseconds).
var EarliestCommentTime = time.Date(2005, 1, 1, 0, 0, 0, 0, time.UTC)

const (
	// CommentTimeSkew is how far ahead of the poll's clock a comment's time
	// may be: a platform's clock and ours may disagree by seconds, and a
	// time zone slip by up to 14 hours; a day covers both. A time further
	// ahead is no clock's reading.
	CommentTimeSkew = 24 * time.Hour
	// maxUnixValue guards the conversion of a number to int64: beyond 2^63
	// Go's float-to-int conversion is implementation-defined (1e300 became
	// math.MinInt64 and wrapped around to a plausible-looking time). Any
	// value this large is out of range as seconds and as milliseconds.
	maxUnixValue = 1 << 53
	// maxRawShown bounds the raw value a warning quotes: a hostile value
	// may be a megabyte long.
	maxRawShown = 64
)

// RawTime is a time value of a platform's JSON answer as it came: a
// string's contents, a number's text, "" for null or absent, else the JSON
// text itself. Decoding it never fails, whatever the value: an unusable
// time costs its comment its time, never the page.
type RawTime string

// UnmarshalJSON keeps the value's text.
func (r *RawTime) UnmarshalJSON(b []byte) error {
	switch {
	case string(b) == "null":
		*r = ""
	case len(b) >= 2 && b[0] == '"':
		if bytes.IndexByte(b, '\\') < 0 {
			*r = RawTime(b[1 : len(b)-1])
			return nil
		}
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			*r = RawTime(b)
			return nil
		}
		*r = RawTime(s)
	default:
		*r = RawTime(b)
	}
	return nil
}

// PlausibleCommentTime reports whether t can be a comment's create time
// when the poll's clock reads now.
func PlausibleCommentTime(t, now time.Time) bool {
	return !t.Before(EarliestCommentTime) && !t.After(now.Add(CommentTimeSkew))
}

// UnixCommentTime reads raw, a create time in unix seconds (an integer, a
// float or either as a string), as the time of a comment seen at now. A
// value implausible as seconds but plausible as milliseconds is taken for
// milliseconds, a quirk some APIs have. ok is false for anything else:
// empty, not a number, NaN or infinite, negative, too large, or out of the
// plausible range either way.
func UnixCommentTime(raw string, now time.Time) (t time.Time, ok bool) {
	s := strings.TrimSpace(raw)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		x, ferr := strconv.ParseFloat(s, 64)
		// NaN fails every comparison: tested as "not in range".
		if ferr != nil || !(x >= 0 && x <= maxUnixValue) {
			return time.Time{}, false
		}
		n = int64(x)
	}
	if n <= 0 || n > maxUnixValue {
		return time.Time{}, false
	}
	if t := time.Unix(n, 0).UTC(); PlausibleCommentTime(t, now) {
		return t, true
	}
	if t := time.UnixMilli(n).UTC(); PlausibleCommentTime(t, now) {
		return t, true
	}
	return time.Time{}, false
}

// CommentTimes gives the new comments of one poll of one thread their
// create times: the platform's when it is plausible, else the time of the
// poll (the time the comment was seen), noting it for one warning.
type CommentTimes struct {
	now time.Time
	bad model.BadTimes
}

// NewCommentTimes checks the times of a poll whose clock reads now.
func NewCommentTimes(now time.Time) *CommentTimes { return &CommentTimes{now: now} }

// Now is the poll's clock.
func (ct *CommentTimes) Now() time.Time { return ct.now }

// Unix is the create time of comment id, given by the platform as raw unix
// seconds (or milliseconds): see UnixCommentTime.
func (ct *CommentTimes) Unix(id string, raw RawTime) time.Time {
	t, ok := UnixCommentTime(string(raw), ct.now)
	return ct.Take(id, t, ok, string(raw))
}

// Take is the create time of comment id: t, read from raw by the caller,
// when ok and plausible, else the poll's time.
func (ct *CommentTimes) Take(id string, t time.Time, ok bool, raw string) time.Time {
	if ok && PlausibleCommentTime(t, ct.now) {
		return t.UTC()
	}
	if ct.bad.Count == 0 {
		ct.bad.FirstID, ct.bad.FirstRaw = id, shorten(raw)
	}
	ct.bad.Count++
	return ct.now.UTC()
}

// Bad reports the comments whose time was replaced so far.
func (ct *CommentTimes) Bad() model.BadTimes { return ct.bad }

// shorten cuts s to about maxRawShown bytes, on a character boundary.
func shorten(s string) string {
	if len(s) <= maxRawShown {
		return s
	}
	cut := maxRawShown
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
