package notifytest

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/autoreplyd/autoreplyd/notify"
)

// Row statuses of the Outbox.
const (
	StatusPending   = "pending"
	StatusDelivered = "delivered"
	StatusFailed    = "failed"
)

// Row is one notification in an Outbox.
type Row struct {
	notify.Pending
	Status    string
	Next      time.Time // due at
	LastError string
	// Marked counts the Delivered calls naming the row: more than one
	// means a notification was delivered again after it was accepted.
	Marked int
}

// Outbox is an in-memory notify.Outbox, as the store's behaves: oldest
// first, Delivered final. Its Fail methods inject the store's failures.
type Outbox struct {
	mu            sync.Mutex
	rows          []*Row
	next          int64
	failDelivered int
	dueCalls      map[string]int
}

// NewOutbox returns an empty Outbox.
func NewOutbox() *Outbox { return &Outbox{dueCalls: map[string]int{}} }

// Add queues e for channel, written at created, due at once; it returns the
// row's id.
func (o *Outbox) Add(channel string, e notify.Event, created time.Time) int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.next++
	o.rows = append(o.rows, &Row{Pending: notify.Pending{ID: o.next, Channel: channel, Event: e, CreatedAt: created},
		Status: StatusPending, Next: created})
	return o.next
}

// Rows returns a copy of every row, in id order.
func (o *Outbox) Rows() []Row {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]Row, len(o.rows))
	for i, r := range o.rows {
		out[i] = *r
	}
	return out
}

// Row returns the row of id (the zero Row if there is none).
func (o *Outbox) Row(id int64) Row {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, r := range o.rows {
		if r.ID == id {
			return *r
		}
	}
	return Row{}
}

// DueCalls counts the Due calls for channel.
func (o *Outbox) DueCalls(channel string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.dueCalls[channel]
}

// FailDelivered makes the next n Delivered calls fail (as a crash between
// the channel's acceptance and the store's write would leave it).
func (o *Outbox) FailDelivered(n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.failDelivered = n
}

// Due implements notify.Outbox.
func (o *Outbox) Due(_ context.Context, channel string, now time.Time, limit int) ([]notify.Pending, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.dueCalls[channel]++
	var out []notify.Pending
	for _, r := range o.rows {
		if len(out) >= limit {
			break
		}
		if r.Channel == channel && r.Status == StatusPending && !r.Next.After(now) {
			out = append(out, r.Pending)
		}
	}
	return out, nil
}

// Delivered implements notify.Outbox.
func (o *Outbox) Delivered(_ context.Context, ids []int64, _ time.Time) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.failDelivered > 0 {
		o.failDelivered--
		return errOutbox
	}
	o.each(ids, func(r *Row) {
		r.Status = StatusDelivered
		r.Marked++
	})
	return nil
}

// Retry implements notify.Outbox.
func (o *Outbox) Retry(_ context.Context, ids []int64, errText string, next, _ time.Time) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.each(ids, func(r *Row) {
		if r.Status != StatusPending {
			return
		}
		r.Attempts++
		r.LastError, r.Next = errText, next
	})
	return nil
}

// Abandon implements notify.Outbox.
func (o *Outbox) Abandon(_ context.Context, ids []int64, errText string, _ time.Time) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.each(ids, func(r *Row) {
		if r.Status != StatusPending {
			return
		}
		r.Status, r.LastError = StatusFailed, errText
	})
	return nil
}

// Queued implements notify.Outbox.
func (o *Outbox) Queued(context.Context) (map[string]int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	q := map[string]int{}
	for _, r := range o.rows {
		if r.Status == StatusPending {
			q[r.Channel]++
		}
	}
	return q, nil
}

func (o *Outbox) each(ids []int64, f func(*Row)) {
	for _, r := range o.rows {
		if slices.Contains(ids, r.ID) {
			f(r)
		}
	}
}

type outboxError struct{}

func (outboxError) Error() string { return "notifytest: injected outbox failure" }

var errOutbox error = outboxError{}

var _ notify.Outbox = (*Outbox)(nil)
