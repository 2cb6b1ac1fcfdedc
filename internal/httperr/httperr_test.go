package httperr

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestDescribeNeverPrintsTheURL(t *testing.T) {
	t.Parallel()
	const key = "SECRET-KEY-123"
	u := "https://api.example/x?token=" + key
	for _, cause := range []error{syscall.ECONNREFUSED, syscall.ECONNRESET, context.DeadlineExceeded, errors.New("tls: bad certificate")} {
		err := &url.Error{Op: "Get", URL: u, Err: fmt.Errorf("dial: %w", cause)}
		if got := Describe(err); strings.Contains(got, key) || got == "" {
			t.Fatalf("Describe(%v) = %q", cause, got)
		}
	}
}

func TestAfterWrite(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-ctx.Done()
	if r, _ := AfterWrite(ctx, errors.New("x")); r != "timeout" {
		t.Fatalf("deadline: %s", r)
	}
	c2, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if r, _ := AfterWrite(c2, errors.New("x")); r != "cancelled" {
		t.Fatalf("cancel: %s", r)
	}
	if r, _ := AfterWrite(context.Background(), syscall.ECONNRESET); r != "dropped" {
		t.Fatalf("reset: %s", r)
	}
}

func TestSnippetCutsOnCharacters(t *testing.T) {
	t.Parallel()
	if got := Snippet([]byte("  "), 10); got != "(empty answer)" {
		t.Fatal(got)
	}
	got := Snippet([]byte(strings.Repeat("价", 10)), 7) // 3 bytes each
	if got != "价价..." {
		t.Fatalf("%q", got)
	}
}

func TestFailureAndRedact(t *testing.T) {
	t.Parallel()
	const key = "k+y/=SECRET"
	err := &url.Error{Op: "Get", URL: "https://x/api?api_key=" + url.QueryEscape(key), Err: syscall.ECONNREFUSED}
	msg := Redact(Failure("list replies", "https://x/api/list", time.Minute, err), key)
	if strings.Contains(msg, "SECRET") || !strings.Contains(msg, "connection refused") || !strings.Contains(msg, "list replies https://x/api/list") {
		t.Fatalf("%q", msg)
	}
	slow := Failure("list", "e", 5*time.Second, fmt.Errorf("x: %w", context.DeadlineExceeded))
	if slow != "list e: no answer within 5s" {
		t.Fatalf("%q", slow)
	}
	if got := Redact("echo "+url.QueryEscape(key)+" and "+key, key); strings.Contains(got, "SECRET") {
		t.Fatalf("%q", got)
	}
}
