package platform_test

import (
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/platform"
)

func TestOrderObserver(t *testing.T) {
	t.Parallel()
	at := func(s ...int) *platform.OrderObserver {
		var o platform.OrderObserver
		for _, x := range s {
			if x < 0 {
				o.Break()
				continue
			}
			o.Observe(time.Unix(int64(x), 0))
		}
		return &o
	}
	for _, tc := range []struct {
		name  string
		times []int
		known string
		want  string
	}{
		{"nothing", nil, model.OrderUnknown, model.OrderUnknown},
		{"too few falling", []int{5, 4, 3, 2, 1}, model.OrderUnknown, model.OrderUnknown},
		{"enough falling", []int{6, 5, 4, 3, 2, 1}, model.OrderUnknown, model.OrderNewest},
		{"enough rising", []int{1, 2, 3, 4, 5, 6}, model.OrderUnknown, model.OrderOldest},
		{"equal times tell nothing", []int{6, 6, 5, 5, 4, 3, 2}, model.OrderUnknown, model.OrderUnknown},
		{"both ways", []int{1, 2, 1}, model.OrderUnknown, model.OrderMixed},
		{"a break is not a step", []int{1, 2, -1, 1, 2}, model.OrderUnknown, model.OrderUnknown},
		{"known newest stands", []int{3, 2}, model.OrderNewest, model.OrderNewest},
		{"one rise against newest", []int{2, 3}, model.OrderNewest, model.OrderMixed},
		{"one fall against oldest", []int{3, 2}, model.OrderOldest, model.OrderMixed},
		{"mixed stays mixed", []int{6, 5, 4, 3, 2, 1}, model.OrderMixed, model.OrderMixed},
	} {
		if got := at(tc.times...).Judge(tc.known); got != tc.want {
			t.Errorf("%s: Judge(%q) = %q, want %q", tc.name, tc.known, got, tc.want)
		}
	}
}
