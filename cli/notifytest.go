package cli

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/autoreplyd/autoreplyd/config"
	"github.com/autoreplyd/autoreplyd/daemon"
	"github.com/autoreplyd/autoreplyd/internal/redact"
	"github.com/autoreplyd/autoreplyd/notify"
)

func notifyTestCmd(env Env) *cobra.Command {
	var cfgFlag string
	cmd := &cobra.Command{
		Use:   "notify-test CHANNEL",
		Short: "Send a test message to a notification channel and print its platform's answer",
		Long: `Send one test message ("测试消息：通知渠道 NAME 已连通") through notify.CHANNEL of the config and
print what its platform answered: the HTTP status and the robot's code and
message. Exit 1 when the message was not accepted, saying whether to retry
later (too fast, the network, the platform's trouble) or to fix the config or
the robot's settings (a bad webhook, signature, keyword or IP allow-list).
Safe while the daemon runs; the message goes outside the outbox and its rate.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(configPath(cfgFlag, env.Environ), env.Environ)
			if err != nil {
				printErrors(env, err)
				return exitError{1}
			}
			red := redact.New(cfg.Secrets()...)
			name := args[0]
			if cfg.NotifyChannel(name) == nil {
				var names []string
				for _, n := range cfg.Notify {
					names = append(names, n.Name)
				}
				known := "none: add a notify section"
				if len(names) > 0 {
					known = strings.Join(names, ", ")
				}
				return fmt.Errorf("notify.%s is not a configured channel (configured: %s)", show(red, name), known)
			}
			chs, err := daemon.BuildChannels(cfg)
			if err != nil {
				return errors.New(show(red, err.Error()))
			}
			var ch notify.Channel
			for _, c := range chs {
				if c.Name() == name {
					ch = c
				}
			}
			answer, err := notify.SendTest(cmd.Context(), ch, time.Now())
			fmt.Fprintf(env.Stdout, "notify.%s (%s): %s\n", name, ch.Type(), show(red, answer.String()))
			if err != nil {
				what := "retry later"
				switch notify.ClassOf(err) {
				case notify.Config:
					what = "fix the config or the robot's settings"
				case notify.Refused:
					what = "the platform refused this message"
				}
				return fmt.Errorf("not accepted (%s): %s", what, show(red, err.Error()))
			}
			fmt.Fprintln(env.Stdout, "accepted: the test message should show in the channel")
			return nil
		},
	}
	cmd.Flags().StringVar(&cfgFlag, "config", "", "config file (default $AUTOREPLYD_CONFIG or /etc/autoreplyd/config.yaml)")
	return cmd
}
