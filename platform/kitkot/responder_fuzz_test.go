package kitkot

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/simulator"
)

// Keys with characters that URLs escape, so that every spelling differs.
const (
	fuzzAPIKey     = "FZAKEY-s3cr3t+api/key=7q ü"
	fuzzSessionKey = "FZSKEY-s3ss10n&key%2F#9w"
)

// simulatorAnswers are the imitation's real answers: a success (HTTP 200,
// code 200, the new comment) and the refusals (HTTP 400).
func simulatorAnswers(tb testing.TB) map[int][]byte {
	sim := simulator.NewKitkot(fuzzAPIKey, fuzzSessionKey)
	out := map[int][]byte{}
	for _, q := range []url.Values{
		{"api_key": {fuzzAPIKey}, "session_key": {fuzzSessionKey}, "aweme_id": {"7251517975340027197"}, "text": {"亲，价格都在橱窗里[比心]"}, "reply_id": {"7251524159191958327"}},
		{"api_key": {"wrong"}, "session_key": {fuzzSessionKey}, "aweme_id": {"1"}, "text": {"x"}, "reply_id": {"2"}},
	} {
		rec := httptest.NewRecorder()
		sim.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, simulator.KitkotReplyPath+"?"+q.Encode(), nil))
		out[rec.Code] = rec.Body.Bytes()
	}
	if len(out) != 2 {
		tb.Fatalf("simulator answers: %v", out)
	}
	return out
}

// fuzzGet returns the member of object m that encoding/json decodes into a
// field named key (case-insensitively); ok is false when m is not an object
// or several members match.
func fuzzGet(m any, key string) (v any, ok bool) {
	obj, isObj := m.(map[string]any)
	if !isObj {
		return nil, false
	}
	found := false
	for k, x := range obj {
		if strings.EqualFold(k, key) {
			if found {
				return nil, false
			}
			v, found = x, true
		}
	}
	return v, true
}

func FuzzDecodeAnswer(f *testing.F) {
	for status, body := range simulatorAnswers(f) {
		f.Add(status, body)
	}
	for _, c := range []struct {
		status int
		body   string
	}{
		{200, `{"code":200,"comment":{"cid":7400000000000000123,"reply_comment":[{"cid":"1"}]},"msg":"ok"}`},
		{200, `{"code":"200","comment":{"cid":"7400000000000000124"}}`},
		{200, `{"code":200,"msg":"Comment sent successfully"}`},
		{200, `{"code":200,"comment":null}`},
		{200, `{"code":200,"comment":{"cid":null}}`},
		{200, `{"code":200.0,"comment":{"cid":"1"}}`},
		{200, `{"code":" 200","comment":{"cid":"1"}}`},
		{200, `{"code":"0","comment":{"cid":"1"}}`},
		{200, `{"code":null,"comment":{"cid":"1"}}`},
		{200, `{"Code":200,"CODE":400,"comment":{"cid":"1"}}`},
		{200, `{"code":200,"comment":{"cid":true}}`},
		{200, `{"code":200,"comment":{"cid":"1"`},
		{204, ``},
		{201, `{"code":200,"comment":{"cid":"7"}}`},
		{200, `{"code":10001,"msg":"risk control"}`},
		{200, `{"msg":"?"}`},
		{200, `<html>maintenance</html>`},
		{200, "\ufeff{\"code\":200}"},
		{400, `{'code': 400, 'msg': 'Failed to publish reply'}`},
		{400, `{"code":400,"msg":"Failed to publish reply"}`},
		{400, `{"code":40013,"msg":"session expired"}`},
		{400, `{"code":400,"msg":"bad request api_key=` + url.QueryEscape(fuzzAPIKey) + `&session_key=` + url.QueryEscape(fuzzSessionKey) + `"}`},
		{400, `{"code":"` + fuzzAPIKey + `","msg":"` + fuzzSessionKey + `"}`},
		{500, `internal error at /api/video/comments/publish/reply?api_key=` + url.PathEscape(fuzzAPIKey)},
		{503, `{"code":503,"msg":"busy"}`},
		{429, ``}, {502, ``}, {504, ``}, {404, `not found`}, {302, ``}, {100, ``}, {0, ``}, {-1, ``}, {999, `{}`},
		{200, strings.Repeat(`{"a":`, 10000) + strings.Repeat(`}`, 10000)},
	} {
		f.Add(c.status, []byte(c.body))
	}
	r, err := NewResponder(ResponderConfig{BaseURL: "http://127.0.0.1:1/api", APIKey: fuzzAPIKey, SessionKey: fuzzSessionKey})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		res, serr := r.classify(context.Background(), status, body, nil, "hi")

		var a answer
		parsed := json.Unmarshal(body, &a) == nil && a.Code != nil
		success := status >= 200 && status < 300 && parsed && *a.Code == "200"
		if success != (serr == nil) {
			t.Fatalf("HTTP %d %q: success is %v, got result %+v, error %v", status, body, success, res, serr)
		}
		if serr == nil {
			// The reply id is the answer's comment.cid, every digit kept.
			var ref any
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.UseNumber()
			if err := dec.Decode(&ref); err != nil {
				t.Fatalf("success on JSON encoding/json refuses: %v", err)
			}
			comment, ok := fuzzGet(ref, "comment")
			cid, cidOK := fuzzGet(comment, "cid")
			var want string
			switch x := cid.(type) {
			case json.Number:
				want = string(x)
			case string:
				want = x
			}
			if (ok && comment == nil || ok && cidOK) && res.PlatformReplyID != want && bytes.Equal(bytes.ToValidUTF8(body, nil), body) {
				t.Errorf("PlatformReplyID %q, the answer's cid is %q", res.PlatformReplyID, want)
			}
			if res.Reason != "" {
				t.Errorf("success with reason %q", res.Reason)
			}
			return
		}

		if res != (model.SendResult{}) {
			t.Errorf("a result %+v with the error", res)
		}
		var want model.FailureKind
		switch {
		case status >= 200 && status < 300:
			want = model.Permanent // the platform answered, and refused
			if !parsed {
				want = model.Unknown // unreadable: it may have posted
			}
		case status == 429, status == 502, status == 503, status == 504:
			want = model.Retryable
		case status >= 500, status < 200:
			want = model.Unknown
		default: // 3xx, 4xx
			want = model.Permanent
		}
		if serr.Kind != want {
			t.Errorf("HTTP %d %q: kind %s, want %s (%v)", status, body, serr.Kind, want, serr)
		}
		if serr.Reason == "" || serr.Msg == "" {
			t.Errorf("error without reason or message: %#v", serr)
		}
		// Only kitkot's documented refusal, code 400 with its JSON, may be
		// about one reply: anything else counts toward the breaker.
		if serr.ReplyOnly && (serr.Kind != model.Permanent || serr.Code != "400" || !parsed) {
			t.Errorf("HTTP %d %q: ReplyOnly on %#v", status, body, serr)
		}
		for _, text := range []string{serr.Error(), serr.Msg, serr.Code, serr.Reason, fmt.Sprintf("%#v", *serr)} {
			for _, key := range []string{fuzzAPIKey, fuzzSessionKey} {
				for _, form := range []string{key, url.QueryEscape(key), url.PathEscape(key)} {
					if strings.Contains(text, form) {
						t.Errorf("error text %q shows a key (%q)", text, form)
					}
				}
			}
		}
	})
}
