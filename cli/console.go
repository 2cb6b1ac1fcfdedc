package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/bcrypt"
)

// consoleHashCost is the bcrypt cost of hash-password: about a quarter of a
// second per sign-in on a small server, thousands of times slower to guess
// than the lowest cost the config accepts (config.MinBcryptCost).
const consoleHashCost = 12

// maxPasswordInput bounds what hash-password reads: bcrypt uses the first
// 72 bytes of a password and refuses more.
const maxPasswordInput = 4 << 10

func consoleCmd(env Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "console",
		Short: "Web console helpers",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "hash-password < password-file",
		Short: "Read a console password from standard input and print its bcrypt hash (for console.users' password_hash)",
		Long: `Reads one password from standard input (the first line; a final newline is
not part of it) and prints its bcrypt hash at cost 12, for console.users'
password_hash. Nothing is echoed and the password is never printed:

  autoreplyd console hash-password < password-file
  read -rs pw && printf '%s' "$pw" | autoreplyd console hash-password

An empty password, or one longer than bcrypt's 72 bytes, is refused.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return hashPassword(env) },
	})
	return cmd
}

// hashPassword reads the password from env.Stdin and prints its hash.
func hashPassword(env Env) error {
	if env.Stdin == nil {
		return errors.New("no standard input to read the password from")
	}
	line, err := bufio.NewReaderSize(io.LimitReader(env.Stdin, maxPasswordInput), maxPasswordInput).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read the password: %w", err)
	}
	pw := strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	switch {
	case pw == "":
		return errors.New("the password is empty: give it on standard input (autoreplyd console hash-password < password-file)")
	case len(pw) > 72:
		return fmt.Errorf("the password is %d bytes long: bcrypt takes at most 72", len(pw))
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), consoleHashCost)
	if err != nil {
		return fmt.Errorf("hash the password: %w", err)
	}
	_, err = fmt.Fprintln(env.Stdout, string(h))
	return err
}
