package douyin

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/simulator"
)

// Issue 8's target: decoding takes only the fields we use. A reply's user
// object has about 190 fields; decoding it into a map (or keeping it as
// json.RawMessage, or behind an interface) would build or hold all of them.

var rawMessageType = reflect.TypeFor[json.RawMessage]()

// genericFields lists, as paths of JSON keys from name, every field reachable
// from t that is a map, an interface or raw JSON (json.RawMessage or any
// []byte): what would decode or keep every key instead of the few used.
func genericFields(t reflect.Type, name string) []string {
	var bad []string
	var walk func(t reflect.Type, path string, seen []reflect.Type)
	walk = func(t reflect.Type, path string, seen []reflect.Type) {
		switch {
		case t == rawMessageType:
			bad = append(bad, path+" (json.RawMessage)")
			return
		case t.Kind() == reflect.Map, t.Kind() == reflect.Interface:
			bad = append(bad, path+" ("+t.String()+")")
			return
		case (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) && t.Elem().Kind() == reflect.Uint8:
			bad = append(bad, path+" ("+t.String()+", raw bytes)")
			return
		}
		switch t.Kind() {
		case reflect.Pointer:
			walk(t.Elem(), path, seen)
		case reflect.Slice, reflect.Array:
			walk(t.Elem(), path+"[]", seen)
		case reflect.Struct:
			if slices.Contains(seen, t) {
				return // a recursive type: its fields are being walked already
			}
			seen = append(seen, t)
			for i := range t.NumField() {
				f := t.Field(i)
				key := f.Name
				if tag, _, _ := strings.Cut(f.Tag.Get("json"), ","); tag == "-" {
					continue // never decoded
				} else if tag != "" {
					key = tag
				}
				walk(f.Type, path+"."+key, seen)
			}
		}
	}
	walk(t, name, nil)
	return bad
}

// TestDecodeOnlyUsedFields fails if the structs a page (of replies or of a
// video's comments) is decoded into hold a map, an interface or raw JSON
// anywhere, the user object included.
func TestDecodeOnlyUsedFields(t *testing.T) {
	t.Parallel()
	for _, typ := range []struct {
		name string
		t    reflect.Type
	}{
		{"answer", reflect.TypeFor[answer[reply]]()},
		{"page", reflect.TypeFor[page]()},
		{"video answer", reflect.TypeFor[answer[videoItem]]()},
	} {
		if bad := genericFields(typ.t, typ.name); len(bad) > 0 {
			t.Errorf("decoding a reply page keeps generic JSON in:\n\t%s", strings.Join(bad, "\n\t"))
		}
	}
	// The user object is decoded into a small struct of the fields used.
	user, ok := reflect.TypeFor[reply]().FieldByName("User")
	if !ok || user.Type.Kind() != reflect.Struct || user.Tag.Get("json") != "user" {
		t.Fatalf("reply.User: %v, want a struct decoded from \"user\"", user.Type)
	}
	if n := user.Type.NumField(); n > 20 {
		t.Errorf("the user struct has %d fields; decode only those used", n)
	}
}

// TestGenericFieldsFindsAll checks the walk itself on a type with every kind
// of offence, nested in pointers, slices and arrays.
func TestGenericFieldsFindsAll(t *testing.T) {
	t.Parallel()
	type user struct {
		UID   string         `json:"uid"`
		Extra map[string]any `json:"extra"`
		Raw   json.RawMessage
		Bytes []byte `json:"bytes,omitempty"`
		Skip  any    `json:"-"`
	}
	type node struct {
		Next *node
		Any  any `json:"any"`
	}
	type bad struct {
		Data *struct {
			Comments []struct {
				User  user    `json:"user"`
				Users [2]user `json:"users"`
			} `json:"comments"`
		} `json:"data"`
		List []map[string]string `json:"list"`
		Tree node                `json:"tree"`
	}
	got := genericFields(reflect.TypeFor[bad](), "bad")
	want := []string{
		"bad.data.comments[].user.extra (map[string]interface {})",
		"bad.data.comments[].user.Raw (json.RawMessage)",
		"bad.data.comments[].user.bytes ([]uint8, raw bytes)",
		"bad.data.comments[].users[].extra (map[string]interface {})",
		"bad.data.comments[].users[].Raw (json.RawMessage)",
		"bad.data.comments[].users[].bytes ([]uint8, raw bytes)",
		"bad.list[] (map[string]string)",
		"bad.tree.any (interface {})",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}

// decodeNaive is the naive decoding BenchmarkDecodePage is compared with:
// the whole page into map[string]any.
func decodeNaive(tb testing.TB, body []byte) {
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		tb.Fatal(err)
	}
	if cs, _ := m["data"].(map[string]any)["comments"].([]any); len(cs) != 20 {
		tb.Fatalf("%d replies", len(cs))
	}
}

func decodeOurs(tb testing.TB, body []byte) {
	p, err := decodePage(body, time.Time{}, time.UTC)
	if err != nil || len(p.Comments) != 20 {
		tb.Fatal(len(p.Comments), err)
	}
}

// BenchmarkDecodePageMap decodes the page of BenchmarkDecodePage into
// map[string]any.
func BenchmarkDecodePageMap(b *testing.B) {
	body := pageOf20(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		decodeNaive(b, body)
	}
}

// BenchmarkDecodePageVsMap decodes a page of 20 full replies into our
// structs and into map[string]any alternately in one run, so that machine
// noise hits both alike. "ratio" is map time over struct time (how many
// times cheaper ours is); ns/op and allocations are those of the pair.
func BenchmarkDecodePageVsMap(b *testing.B) {
	body := pageOf20(b)
	var tOurs, tMap time.Duration
	ours := func() {
		start := time.Now()
		decodeOurs(b, body)
		tOurs += time.Since(start)
	}
	naive := func() {
		start := time.Now()
		decodeNaive(b, body)
		tMap += time.Since(start)
	}
	b.ReportAllocs()
	odd := false
	for b.Loop() {
		if odd {
			ours()
			naive()
		} else {
			naive()
			ours()
		}
		odd = !odd
	}
	if tOurs > 0 {
		b.ReportMetric(float64(tMap)/float64(tOurs), "ratio")
		b.ReportMetric(float64(tOurs.Nanoseconds())/float64(b.N), "struct-ns/op")
		b.ReportMetric(float64(tMap.Nanoseconds())/float64(b.N), "map-ns/op")
		b.ReportMetric(float64(len(body))/20, "B/reply")
	}
}

// BenchmarkIdlePoll is the daemon's commonest call: polling a thread whose
// first page (10 full replies, as JustOneAPI pages them) holds nothing new,
// through the HTTP client, against a loopback imitation.
func BenchmarkIdlePoll(b *testing.B) {
	api := simulator.NewJustOneAPI("tok")
	for i := range 10 {
		api.AddReply(threadID, simulator.Reply{
			AwemeID: "7251517975340027197", Text: "兄弟那你得多补补橱窗牡蛎精安排吧[暗中观察] 多少钱？😂",
			CreateTime: 1688379962 + int64(i), UserUID: "74470874573", Nickname: "史密斯夫妇💑",
			UniqueID: "GMJ_1116", SecUID: "MS4wLjABAAAA6KxayaNDf8hvL5Nti7fsnlJIMQRpUQQexZGW8GTIgqk", Region: "CN",
		})
	}
	srv := httptest.NewServer(api)
	defer srv.Close()
	th := model.Thread{ID: threadID, PostID: "7251517975340027197"}
	src, err := New(Config{BaseURL: srv.URL, Token: "tok", Threads: []model.Thread{th}, FullRescanEvery: -1})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	first, err := src.PollThread(ctx, th, model.ThreadState{}, nil)
	if err != nil || len(first.Comments) != 10 {
		b.Fatal(len(first.Comments), err)
	}
	known := func(_ context.Context, ids []string) (map[string]bool, error) {
		out := make(map[string]bool, len(ids))
		for _, id := range ids {
			out[id] = true
		}
		return out, nil
	}
	b.ReportAllocs()
	for b.Loop() {
		r, err := src.PollThread(ctx, th, first.State, known)
		if err != nil || len(r.Comments) != 0 || r.Calls != 1 {
			b.Fatal(len(r.Comments), r.Calls, err)
		}
	}
}
