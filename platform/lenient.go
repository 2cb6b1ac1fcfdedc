package platform

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
)

// FloatToInt converts a count or hint that a platform sent as a float (1.0,
// 1e3, 1e300) to an int64, clamped to int64's range and 0 for NaN: Go's
// conversion of an out-of-range float is unspecified (1e300 became
// -9223372036854775808 here), and a like count must not turn negative.
func FloatToInt(x float64) int64 {
	switch {
	case math.IsNaN(x):
		return 0
	case x >= math.MaxInt64:
		return math.MaxInt64
	case x <= math.MinInt64:
		return math.MinInt64
	}
	return int64(x)
}

// LenientInt is a count or hint from a platform's JSON answer (a total, a
// type code): a number, a numeric string, or anything else, which is 0.
// Decoding it never fails, so a hostile value in a field the daemon only
// glances at never fails the page that carries the comments.
type LenientInt int64

// UnmarshalJSON reads b leniently.
func (n *LenientInt) UnmarshalJSON(b []byte) error {
	s := string(bytes.TrimSpace(b))
	if len(s) >= 2 && s[0] == '"' {
		var str string
		if json.Unmarshal(b, &str) != nil {
			*n = 0
			return nil
		}
		s = strings.TrimSpace(str)
	}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		*n = LenientInt(v)
		return nil
	}
	if x, err := strconv.ParseFloat(s, 64); err == nil || isRangeErr(err) {
		*n = LenientInt(FloatToInt(x))
		return nil
	}
	*n = 0
	return nil
}

// isRangeErr: strconv parsed a number too large for a float64 (1e400),
// returning ±Inf.
func isRangeErr(err error) bool {
	var ne *strconv.NumError
	return err != nil && errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange)
}
