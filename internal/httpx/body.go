package httpx

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/autoreplyd/autoreplyd/internal/termesc"
)

// buffer is a pooled buffer an answer is read into.
type buffer struct{ bytes.Buffer }

// buffers recycles the buffers answers are read into. Reading a 60–120 KB
// page with io.ReadAll grows a fresh buffer through a dozen sizes, twice the
// page in garbage per call, and most calls (idle threads) are exactly that.
// A decoded answer holds no byte of its buffer: strings are copied.
var buffers = sync.Pool{New: func() any { return new(buffer) }}

// keepBuffer is the largest buffer put back in the pool: a rare huge answer
// is not kept alive for the daemon's lifetime.
const keepBuffer = 1 << 20

func (b *buffer) release() {
	if b.Cap() <= keepBuffer {
		buffers.Put(b)
	}
}

// read reads at most limit+1 bytes of r, announced as size bytes (-1:
// unknown), into a pooled buffer: one byte more than limit tells an answer
// of exactly limit bytes from a longer one.
func read(r io.Reader, size, limit int64) (*buffer, []byte, error) {
	buf := buffers.Get().(*buffer)
	buf.Reset()
	if size > 0 && size <= limit {
		// MinRead more: ReadFrom grows the buffer when less than that is
		// free, even if the next read would have hit EOF.
		buf.Grow(int(size) + bytes.MinRead)
	}
	_, err := buf.ReadFrom(io.LimitReader(r, limit+1))
	return buf, buf.Bytes(), err
}

// Snippet quotes the start of an answer for an error message: trimmed, its
// secrets redacted, at most limit bytes cut on a character boundary, and its
// control and direction characters escaped (it goes into logs and history).
// Redaction comes before the cut, so that a secret the cut would halve is
// still replaced whole.
func (c *Client) Snippet(body []byte, limit int) string {
	// A secret starting before limit ends within the longest form past it.
	head := body
	if n := limit + c.red.Load().Longest(); len(head) > n {
		head = head[:n]
	}
	s := strings.TrimSpace(c.Redact(string(head)))
	switch {
	case len(s) > limit:
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	case len(head) < len(body):
		s += "..."
	}
	if s == "" {
		return "(empty answer)"
	}
	return termesc.String(s)
}

// NoRedirects returns a copy of hc (nil: the shared client New uses) that
// answers a redirect to the caller instead of following it: following one
// resends the request elsewhere (a 307 or 308 with its body).
func NoRedirects(hc *http.Client) *http.Client {
	nc := *shared
	if hc != nil {
		nc = *hc
	}
	nc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &nc
}

// NoReplay returns a copy of hc (nil: the shared client) for requests with a
// side effect: it follows no redirect (NoRedirects) and opens a fresh
// connection per request. Go's transport resends a request it thinks
// idempotent (a GET, even one that posts a reply) when a reused keep-alive
// connection fails before the first answer byte, even after the request was
// written; on a fresh connection it never does. At a few replies a minute
// the lost keep-alive costs nothing. A transport that is not an
// *http.Transport is used as is and must never replay a request itself.
//
// Its transport also writes each piece of the request straight to the
// connection: with its usual 4 KB buffer it reports the request written
// (httptrace's WroteRequest) once it is buffered, before the buffer is
// flushed, so a connection reset before the write would pass for a request
// sent whose answer was lost (an unknown outcome where there is none).
func NoReplay(hc *http.Client) *http.Client {
	nc := NoRedirects(hc)
	var t *http.Transport
	switch rt := nc.Transport.(type) {
	case nil:
		t = http.DefaultTransport.(*http.Transport).Clone()
	case *http.Transport:
		t = rt.Clone()
	default:
		return nc
	}
	t.DisableKeepAlives = true
	t.WriteBufferSize = 1 // 0 is the default size
	nc.Transport = t
	return nc
}

// JSON encodes v as a request body: without HTML escaping, so a text's <,
// > and & stay as written (WeChat refuses `\u003c` with 40033; the chat
// robots show it as typed), and without the encoder's trailing newline.
func JSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}
