package simulator

import (
	"context"
	"net"
	"net/http"
	"sync"
	"time"
)

// Resets imitates a connection reset before the request is written: the
// server accepts a connection and resets it (RST) before reading a byte, and
// the client, having seen the reset, fails to write its request. Nothing
// reached the platform, so a client must call it retryable.
//
// This happens below HTTP, so it is no Fault of a handler's queue: a
// handler runs only once a request has been read. On loopback the client's
// write would usually win the race against the reset, so the client's side
// takes part: its dialer (Client) waits for the listener's verdict on each
// connection to the listener and, for a reset one, until the reset has
// arrived. Serve the imitation on Listener's listener and send through
// Client's client. Safe for concurrent use.
type Resets struct {
	mu       sync.Mutex
	pending  int
	addrs    map[string]bool      // the listeners' addresses
	verdicts map[string]chan bool // by the client's address: true = reset
}

// awaitVerdict bounds the dialer's wait for the listener: a listener that
// stopped accepting must not hang a client for good.
const awaitVerdict = 10 * time.Second

// Push makes the next n connections accepted by Listener's listeners reset.
func (r *Resets) Push(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pending += n
}

// Len is the number of resets still to come.
func (r *Resets) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pending
}

// verdict is the channel of the connection from client address addr.
func (r *Resets) verdict(addr string) chan bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.verdicts == nil {
		r.verdicts = map[string]chan bool{}
	}
	ch := r.verdicts[addr]
	if ch == nil {
		ch = make(chan bool, 1)
		r.verdicts[addr] = ch
	}
	return ch
}

func (r *Resets) forget(addr string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.verdicts, addr)
}

// Listener wraps l: while resets are pending, each connection it accepts is
// reset and never handed to the server.
func (r *Resets) Listener(l net.Listener) net.Listener {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.addrs == nil {
		r.addrs = map[string]bool{}
	}
	r.addrs[l.Addr().String()] = true
	return &resetListener{Listener: l, r: r}
}

type resetListener struct {
	net.Listener
	r *Resets
}

func (l *resetListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l.r.mu.Lock()
		reset := l.r.pending > 0
		if reset {
			l.r.pending--
		}
		l.r.mu.Unlock()
		if !reset {
			l.r.verdict(c.RemoteAddr().String()) <- false
			return c, nil
		}
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // close with RST, not FIN
		}
		_ = c.Close()
		l.r.verdict(c.RemoteAddr().String()) <- true
	}
}

// Client returns a copy of hc (nil: a default client) whose connections to
// Listener's listeners wait for its verdict before the request is written.
func (r *Resets) Client(hc *http.Client) *http.Client {
	var nc http.Client
	if hc != nil {
		nc = *hc
	}
	t, ok := nc.Transport.(*http.Transport)
	if !ok || t == nil {
		t = http.DefaultTransport.(*http.Transport)
	}
	t = t.Clone()
	dial := t.DialContext
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		r.mu.Lock()
		ours := r.addrs[addr]
		r.mu.Unlock()
		if !ours {
			return c, nil
		}
		local := c.LocalAddr().String()
		defer r.forget(local)
		select {
		case reset := <-r.verdict(local):
			if reset {
				// Read until the reset arrives: the request's write then
				// fails for certain (the socket is closed for writing).
				_ = c.SetReadDeadline(time.Now().Add(awaitVerdict))
				var b [1]byte
				_, _ = c.Read(b[:])
				_ = c.SetReadDeadline(time.Time{})
			}
		case <-time.After(awaitVerdict):
		case <-ctx.Done():
		}
		return c, nil
	}
	nc.Transport = t
	return &nc
}
