package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"golang.org/x/time/rate"
)

// parser accepts 5 fields (minute first), 6 fields (seconds first),
// descriptors (@hourly, @every 1m) and a CRON_TZ= prefix.
var parser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Parser returns the cron parser used to validate `schedule`; the daemon
// schedules with it (cron.WithParser) so that what check accepts is what runs.
func Parser() cron.Parser { return parser }

// ParseSchedule parses a cron spec with Parser.
func ParseSchedule(spec string) (sched cron.Schedule, err error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, errors.New("empty cron spec")
	}
	// robfig/cron slices out of range on "CRON_TZ=UTC" with nothing after it.
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		if !strings.Contains(spec, " ") {
			return nil, fmt.Errorf("%q: a time zone prefix needs a schedule after it", spec)
		}
	}
	defer func() {
		if r := recover(); r != nil {
			sched, err = nil, fmt.Errorf("%q: invalid cron spec", spec)
		}
	}()
	return parser.Parse(spec)
}

// ParseRate parses a token bucket refill written N/s, N/m or N/h (N a
// positive number, e.g. 20/m or 0.5/s).
func ParseRate(s string) (rate.Limit, error) {
	n, unit, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return 0, fmt.Errorf("%q: want N/s, N/m or N/h, e.g. 20/m", s)
	}
	var per time.Duration
	switch strings.TrimSpace(unit) {
	case "s":
		per = time.Second
	case "m":
		per = time.Minute
	case "h":
		per = time.Hour
	default:
		return 0, fmt.Errorf("%q: unit must be s, m or h, e.g. 20/m", s)
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(n), 64)
	if err != nil || v <= 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("%q: count must be a positive number, e.g. 20/m", s)
	}
	return rate.Limit(v / per.Seconds()), nil
}
