package poller

import (
	"context"
	"sync"
)

// senderQueue is how many answers one responder may have queued in a cycle
// before recording more pages waits for its sends: backpressure, not a
// limit on answers (the queued claims are in the database either way).
const senderQueue = 1024

// sender sends a cycle's queued answers while the cycle goes on polling:
// one goroutine per responder, each in the order the answers were queued,
// each under its responder's own rate limit and pauses. A send waiting for
// its responder's rate limit (or the random pause before it) thus never
// holds up polling, nor another responder's sends.
type sender struct {
	p   *Poller
	ctx context.Context

	mu     sync.Mutex
	queues map[string]chan queuedSend
	st     Stats // what the sends did
	wg     sync.WaitGroup
}

func (p *Poller) newSender(ctx context.Context) *sender {
	return &sender{p: p, ctx: ctx, queues: map[string]chan queuedSend{}}
}

// enqueue hands a committed queued claim to its responder's goroutine,
// starting it on first use; it waits while that responder's queue is full.
// Only the goroutine that runs the cycle calls it.
func (s *sender) enqueue(q queuedSend) {
	r := q.claim.Responder
	s.mu.Lock()
	ch, ok := s.queues[r]
	if !ok {
		ch = make(chan queuedSend, senderQueue)
		s.queues[r] = ch
		s.wg.Go(func() { s.run(ch) })
	}
	s.mu.Unlock()
	s.p.outstanding(r, 1)
	ch <- q
}

func (s *sender) run(ch <-chan queuedSend) {
	for q := range ch {
		var st Stats
		s.p.send(s.ctx, q.id, q.claim, q.comment, &st, false)
		s.p.outstanding(q.claim.Responder, -1)
		s.mu.Lock()
		s.st.add(st)
		s.mu.Unlock()
	}
}

// finish waits until every queued answer is settled and returns what the
// sends did. When the cycle's context is cancelled the answers not yet sent
// are settled retrying (reason shutdown) without a send.
func (s *sender) finish() Stats {
	s.mu.Lock()
	for _, ch := range s.queues {
		close(ch)
	}
	s.queues = map[string]chan queuedSend{}
	s.mu.Unlock()
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st
}

// outstanding adds d to responder's answers queued and not yet settled, which
// its daily cap counts as if sent.
func (p *Poller) outstanding(responder string, d int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.responder(responder).queued += d
}

func (p *Poller) outstandingOf(responder string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.responder(responder).queued
}
