package cli

import (
	"bytes"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestConsoleHashPassword(t *testing.T) {
	t.Parallel()
	const pw = "密码 s3cr3t-console 🔑"
	var out, errb bytes.Buffer
	code := Main(t.Context(), []string{"console", "hash-password"}, Env{Stdout: &out, Stderr: &errb, Stdin: strings.NewReader(pw + "\n")})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	hash := strings.TrimSuffix(out.String(), "\n")
	if strings.Contains(out.String()+errb.String(), pw) {
		t.Error("the password is printed")
	}
	if cost, err := bcrypt.Cost([]byte(hash)); err != nil || cost != 12 {
		t.Fatalf("hash %q: cost %d, %v", hash, cost, err)
	}
	if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)); err != nil {
		t.Errorf("the hash does not match the password: %v", err)
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw+"\n")) == nil {
		t.Error("the final newline was hashed as part of the password")
	}
}

func TestConsoleHashPasswordRefusesEmpty(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"", "\n", strings.Repeat("x", 73)} {
		var out, errb bytes.Buffer
		code := Main(t.Context(), []string{"console", "hash-password"}, Env{Stdout: &out, Stderr: &errb, Stdin: strings.NewReader(in)})
		if code != 1 || out.Len() != 0 || !strings.Contains(errb.String(), "password") {
			t.Errorf("input %q: exit %d, stdout %q, stderr %q", in, code, out.String(), errb.String())
		}
	}
}
