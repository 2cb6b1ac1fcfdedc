package simulator

import (
	"strconv"
	"time"
)

// Helpers for load tests (bench/load), which watch thousands of threads.

// AddThread appends replies to the thread threadID in one step, as AddReply
// would one by one (an empty CID is assigned, a zero CreateTime becomes now),
// and returns their cids in order. The slice is kept: the caller must not
// modify it afterwards.
func (a *JustOneAPI) AddThread(threadID string, replies []Reply) []string {
	now := time.Now().Unix()
	a.mu.Lock()
	defer a.mu.Unlock()
	cids := make([]string, len(replies))
	for i := range replies {
		r := &replies[i]
		if r.CID == "" {
			r.CID = strconv.FormatUint(a.nextCID, 10)
			a.nextCID++
		}
		if r.CreateTime == 0 {
			r.CreateTime = now
		}
		cids[i] = r.CID
	}
	defer a.repliesChanged(threadID)
	th := a.threads[threadID]
	if th == nil {
		a.threads[threadID] = &joThread{replies: replies, version: uint64(len(replies))}
		return cids
	}
	th.replies = append(th.replies, replies...)
	th.version += uint64(len(replies))
	return cids
}
