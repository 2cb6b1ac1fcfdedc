package simulator

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// Fault.Body replaces the answer of FaultHTTPStatus and FaultBrokenJSON.
func TestFaultBody(t *testing.T) {
	api := NewJustOneAPI("tok")
	srv := httptest.NewServer(api)
	defer srv.Close()
	for _, tc := range []struct {
		fault  Fault
		status int
		body   string
	}{
		{Fault{Kind: FaultHTTPStatus, Status: 403}, 403, "Forbidden\n"},
		{Fault{Kind: FaultHTTPStatus, Status: 403, Body: "<html>denied ?token=tok</html>"}, 403, "<html>denied ?token=tok</html>"},
		{Fault{Kind: FaultBrokenJSON, Body: `{"code": 0, "echo": "tok`}, 200, `{"code": 0, "echo": "tok`},
	} {
		api.Faults.Push(tc.fault)
		resp, err := http.Get(srv.URL + JustOneAPIPath + "?token=tok&commentId=1&page=1")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != tc.status || string(b) != tc.body {
			t.Errorf("%+v: HTTP %d %q, want %d %q", tc.fault, resp.StatusCode, b, tc.status, tc.body)
		}
	}
}
