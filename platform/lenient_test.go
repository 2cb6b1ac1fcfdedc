package platform

import (
	"encoding/json"
	"math"
	"testing"
)

func TestLenientInt(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]int64{
		`12`: 12, `"12"`: 12, `" 7 "`: 7, `1.0`: 1, `1e3`: 1000, `1e300`: math.MaxInt64, `-1e300`: math.MinInt64,
		`"1e400"`: math.MaxInt64, `null`: 0, `"abc"`: 0, `true`: 0, `{"a":1}`: 0, `[1]`: 0, `""`: 0,
		`9223372036854775807`: math.MaxInt64, `99999999999999999999`: math.MaxInt64,
	} {
		var v struct {
			N LenientInt `json:"n"`
		}
		if err := json.Unmarshal([]byte(`{"n":`+raw+`}`), &v); err != nil || int64(v.N) != want {
			t.Errorf("%s: %d, %v; want %d", raw, v.N, err, want)
		}
	}
}

func TestFloatToInt(t *testing.T) {
	t.Parallel()
	if FloatToInt(math.NaN()) != 0 || FloatToInt(math.Inf(1)) != math.MaxInt64 || FloatToInt(1e300) != math.MaxInt64 || FloatToInt(-1e300) != math.MinInt64 || FloatToInt(42.9) != 42 {
		t.Fatal("FloatToInt")
	}
}
