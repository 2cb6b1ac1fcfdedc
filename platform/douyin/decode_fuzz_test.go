package douyin

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/autoreplyd/autoreplyd/model"
)

var (
	fuzzNow = time.Date(2025, 3, 1, 12, 30, 0, 0, time.UTC)
	fuzzLoc = time.FixedZone("CST", 8*3600)
)

// foldGet returns the member of object m that encoding/json would decode
// into a field named key (names match case-insensitively); ok is false
// when m is not an object or when several members match, since which one
// wins then depends on their order, which a map loses.
func foldGet(m any, key string) (v any, present, ok bool) {
	obj, isObj := m.(map[string]any)
	if !isObj {
		return nil, false, false
	}
	for k, x := range obj {
		if strings.EqualFold(k, key) {
			if present {
				return nil, false, false
			}
			v, present = x, true
		}
	}
	return v, present, true
}

// wantID is what a flexID must hold for JSON value v; ok is false when v
// is not an id at all (then decoding must have failed).
func wantID(v any) (id string, ok bool) {
	switch x := v.(type) {
	case nil:
		return "", true
	case json.Number:
		return string(x), true // every digit, as written
	case string:
		return x, true
	}
	return "", false
}

func FuzzDecodePage(f *testing.F) {
	f.Add(pageOf20(f))
	for _, s := range []string{
		// Ids as 19-digit JSON numbers (beyond 2^53) keep every digit.
		`{"code":0,"data":{"comments":[{"cid":7251536675678782265,"aweme_id":7251517975340027197,"reply_id":7251524159191958327,` +
			`"reply_to_reply_id":9007199254740993123,"text":"兄弟那你得多补补橱窗牡蛎精安排吧[暗中观察]","create_time":1688379962,` +
			`"digg_count":23,"user":{"uid":74470874573,"nickname":"史密斯夫妇💑","unique_id":"GMJ_1116","is_verified":true}}],` +
			`"cursor":10,"has_more":1,"total":117}}`,
		`{"code":"0","data":{"comments":[{"cid":"7251536675678782265","reply_to_reply_id":"0"}],"has_more":true,"cursor":"20","total":"117"}}`,
		`{"code":" 0 ","data":{"comments":[],"has_more":"false","cursor":1.5e1,"total":null}}`,
		`{"code":0,"data":{"comments":[{"cid":1e400},{"cid":-0.0e-0},{"CID":"upper","cid":"lower"}],"has_more":"1"}}`,
		`{"code":0,"data":{"comments":[null,{"cid":null,"user":null}],"has_more":0}}`,
		`{"code":0,"data":null}`,
		`{"code":0}`,
		`{"code":0,"data":{"comments":[{"cid":true}]}}`,
		`{"code":0,"data":{"comments":[{"cid":"\u0037\u0032\ud83d\ude02"}]}}`,
		`{"code":0,"data":{"has_more":"maybe"}}`,
		`{"code":0,"data":{"comments":[{"cid":1.5e`,
		`{"code":0,"data":{"comments":[{"cid":"72515366756787`,
		"\ufeff{\"code\":0}",
		`{"data":{}}`,
		`{"code":null}`,
		`{"code":100,"message":"Invalid or Inactive Token"}`,
		`{"code":"301","msg":"Collection Failed. Please Retry."}`,
		`{"code":302}`,
		`{"code":303,"message":"Daily Quota Exceeded"}`,
		`{"code":400,"message":"Invalid Parameters"}`,
		`{"code":601,"message":"Insufficient Balance"}`,
		`{"code":"0.0"}`,
		`{"code":[0]}`,
		`[]`, `null`, `""`, ``, `0`,
		`{"code":0,"data":{"comments":[{"cid":"1","create_time":"1e99","digg_count":"NaN","level":"-9223372036854775809"}]}}`,
		strings.Repeat(`{"a":`, 10000) + strings.Repeat(`}`, 10000),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := decodePage(body, fuzzNow, fuzzLoc)

		// What encoding/json sees in body, numbers as written.
		var ref any
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		refErr := dec.Decode(&ref)
		if refErr == nil && dec.More() {
			refErr = errors.New("trailing data")
		}

		if err != nil {
			var se *model.SourceError
			if !errors.As(err, &se) {
				t.Fatalf("error is %T, not *model.SourceError: %v", err, err)
			}
			if se.Action < model.SourceRetry || se.Action > model.SourceSkipThread || strings.HasPrefix(se.Action.String(), "SourceAction(") {
				t.Errorf("error without a known action: %#v", se)
			}
			if se.Msg == "" {
				t.Errorf("error without a message: %#v", se)
			}
			if se.Action == model.SourcePause && !se.Until.After(fuzzNow) {
				t.Errorf("pause until %v, not after now", se.Until)
			}
			if se.Code == "0" {
				t.Errorf("code 0 is success, not an error: %v", se)
			}
			return
		}
		if refErr != nil {
			t.Fatalf("decodePage accepted what encoding/json refuses (%v): %q", refErr, body)
		}

		// Success means business code 0.
		if code, present, ok := foldGet(ref, "code"); ok {
			switch c := code.(type) {
			case json.Number:
				if c != "0" {
					t.Errorf("success with code %s", c)
				}
			case string:
				if strings.TrimSpace(c) != "0" {
					t.Errorf("success with code %q", c)
				}
			default:
				t.Errorf("success with code %v (present %v)", code, present)
			}
		}

		data, _, ok := foldGet(ref, "data")
		if !ok {
			return
		}
		if hm, present, ok := foldGet(data, "has_more"); ok && present {
			switch x := hm.(type) {
			case bool:
				if p.HasMore != x {
					t.Errorf("has_more %v decoded as %v", x, p.HasMore)
				}
			case json.Number:
				if f, err := strconv.ParseFloat(string(x), 64); err == nil && p.HasMore != (f != 0) {
					t.Errorf("has_more %s decoded as %v", x, p.HasMore)
				}
			}
		}
		list, _, ok := foldGet(data, "comments")
		if !ok {
			return
		}
		items, _ := list.([]any)
		if len(items) != len(p.Comments) {
			t.Fatalf("%d comments decoded, %d in the answer", len(p.Comments), len(items))
		}
		exact := utf8.Valid(body) // else encoding/json replaces bad bytes, fast paths may not
		for i, item := range items {
			r := &p.Comments[i]
			user, _, userOK := foldGet(item, "user")
			for _, fld := range []struct {
				obj   any
				objOK bool
				key   string
				got   flexID
			}{
				{item, true, "cid", r.CID},
				{item, true, "aweme_id", r.AwemeID},
				{item, true, "reply_id", r.ReplyID},
				{item, true, "reply_to_reply_id", r.ReplyToReplyID},
				{user, userOK, "uid", r.User.UID},
			} {
				if !fld.objOK {
					continue
				}
				v, _, ok := foldGet(fld.obj, fld.key)
				if !ok {
					continue
				}
				want, isID := wantID(v)
				if !isID {
					t.Errorf("comment %d: %s %v accepted as id %q", i, fld.key, v, fld.got)
					continue
				}
				if _, isNum := v.(json.Number); (exact || isNum) && string(fld.got) != want {
					t.Errorf("comment %d: %s is %q, the answer says %q", i, fld.key, fld.got, want)
				}
			}
			// The shared model keeps the id as decoded.
			if c := comment(model.Thread{ID: "7251524159191958327"}, r, time.Now()); c.ID != string(r.CID) {
				t.Errorf("comment id %q, decoded %q", c.ID, r.CID)
			}
		}
	})
}
