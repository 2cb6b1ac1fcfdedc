package platform

import (
	"time"

	"github.com/autoreplyd/autoreplyd/model"
)

// MinOrderEvidence is how many steps in one direction (consecutive comments
// listed with falling, or rising, create times) and none the other way a
// listing must show before a source relies on its order (model.OrderNewest:
// stop paging at the first page with nothing new). A "recommended" listing
// of a few comments is newest first by chance often enough (one in two for
// two comments, one in 120 for six): trusting it would miss the new
// comments of every later poll until a full rescan. Six comments in order
// make the chance one in 720; a thread with fewer is scanned whole, which
// costs one page.
const MinOrderEvidence = 5

// OrderObserver judges a listing's order from the create times of
// consecutive comments, as a source pages through it. A comment whose time
// is unusable is left out, as if it were not listed (the poll's time given
// to it instead would make any listing look mixed); equal times tell
// nothing.
type OrderObserver struct {
	rises, falls int
	last         time.Time
	has          bool
}

// Break says the next comment observed does not follow the last one in the
// listing (a page was skipped).
func (o *OrderObserver) Break() { o.has = false }

// Observe observes the next comment's create time.
func (o *OrderObserver) Observe(t time.Time) {
	if o.has {
		switch {
		case t.After(o.last):
			o.rises++
		case t.Before(o.last):
			o.falls++
		}
	}
	o.last, o.has = t, true
}

// Judge is the listing's order given what was known of it before
// (model.OrderUnknown if nothing): a step against the known order makes it
// mixed, a known order nothing contradicts stands, and without one the
// observation decides once it has MinOrderEvidence steps one way and none
// the other.
func (o *OrderObserver) Judge(known string) string {
	switch {
	case o.rises > 0 && o.falls > 0:
		return model.OrderMixed
	case known == model.OrderMixed:
		return model.OrderMixed
	case known == model.OrderNewest:
		if o.rises > 0 {
			return model.OrderMixed
		}
		return model.OrderNewest
	case known == model.OrderOldest:
		if o.falls > 0 {
			return model.OrderMixed
		}
		return model.OrderOldest
	case o.falls >= MinOrderEvidence:
		return model.OrderNewest
	case o.rises >= MinOrderEvidence:
		return model.OrderOldest
	}
	return model.OrderUnknown
}
