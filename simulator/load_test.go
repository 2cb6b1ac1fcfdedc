package simulator

import (
	"bytes"
	"encoding/json"
	"strconv"
	"testing"
)

func TestAddThreadListsLikeAddReply(t *testing.T) {
	t.Parallel()
	mk := func(i int) Reply {
		return Reply{AwemeID: "7250000000000000001", Text: "第" + strconv.Itoa(i) + "条 多少钱？", CreateTime: int64(1_700_000_000 + i),
			UserUID: "1000000000" + strconv.Itoa(i%3), Nickname: "小猫🌸", SecUID: "MS4wLjABAAAAx", Region: "CN"}
	}
	one := NewJustOneAPI(joTestToken)
	bulk := NewJustOneAPI(joTestToken)
	var rs []Reply
	for i := range 25 {
		one.AddReply("7300000000000000001", mk(i))
		rs = append(rs, mk(i))
	}
	cids := bulk.AddThread("7300000000000000001", rs)
	if len(cids) != 25 || cids[0] != "7400000000000000001" || cids[24] != "7400000000000000025" {
		t.Fatalf("cids = %v", cids)
	}
	// A second bulk add continues the thread and the cids.
	more := bulk.AddThread("7300000000000000001", []Reply{mk(25)})
	one.AddReply("7300000000000000001", mk(25))
	if more[0] != "7400000000000000026" {
		t.Fatalf("next cid = %s", more[0])
	}
	for _, order := range []ReplyOrder{OrderOldest, OrderNewest, OrderRecommended} {
		one.SetOrder(order)
		bulk.SetOrder(order)
		for page := 1; page <= 3; page++ {
			a := stripNow(one.renderPage("7300000000000000001", page))
			b := stripNow(bulk.renderPage("7300000000000000001", page))
			if !bytes.Equal(a, b) {
				t.Fatalf("%v page %d differs", order, page)
			}
		}
	}
}

// stripNow removes the parts of a page that depend on the time of rendering.
func stripNow(b []byte) []byte {
	if i := bytes.Index(b, []byte(`,"extra":`)); i >= 0 {
		return b[:i]
	}
	return b
}

// joWriteJSON's direct writing must give the encoder's bytes.
func TestWriteJSONMatchesEncoder(t *testing.T) {
	t.Parallel()
	values := []any{"", "plain", "多少钱？[呲牙]😂", "a\"b", `back\slash`, "tab\there", "\x01", "<&>", "line\u2028sep", "para\u2029",
		"bad\xffutf8", "\ufffd", 0, -1, 42, int64(7400000000000000001), int64(-5), true, false, nil, 1.5}
	for _, v := range values {
		var got bytes.Buffer
		joWriteJSON(&got, v)
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String()[:want.Len()-1] {
			t.Errorf("%#v: got %s, want %s", v, got.String(), want.String())
		}
	}
}

func BenchmarkRenderPage(b *testing.B) {
	api := NewJustOneAPI(joTestToken)
	rs := make([]Reply, 20)
	for i := range rs {
		rs[i] = Reply{AwemeID: "7250000000000000001", Text: "这个多少钱啊[捂脸]", UserUID: "12345678901", Nickname: "爱吃葡萄✨",
			UniqueID: "dyabc123", SecUID: "MS4wLjABAAAAabcdefghijklmnopqrstuvwxyz0123456789", Region: "CN", CreateTime: int64(1_700_000_000 + i)}
	}
	api.AddThread("7300000000000000001", rs)
	api.SetOrder(OrderNewest)
	b.ReportAllocs()
	for b.Loop() {
		_ = api.renderPage("7300000000000000001", 1)
	}
}
