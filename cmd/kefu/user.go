package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/kefu-im/kefu/handoff"
)

// userCmd runs "kefu user add --role R --group G NAME", reading the password from the
// first line of stdin. It writes to the configured Redis, so a running server sees the
// user at once.
func userCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	const usage = "usage: kefu user add --role agent|lead|editor|admin --group GROUP NAME (password on stdin; GROUP one of KEFU_GROUPS, presale,aftersale by default)"
	if len(args) == 0 || args[0] != "add" {
		return errors.New(usage)
	}
	var c config
	fs := newFlagSet("user add", &c, stderr)
	role := fs.String("role", handoff.RoleAgent, "role: agent, lead (the after-sales lead, who also approves refunds and compensation), editor or admin")
	group := fs.String("group", handoff.GroupPresale, "skill group, one of --groups")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New(usage)
	}
	groups, err := c.groups()
	if err != nil {
		return err
	}
	if c.RedisURL == "" {
		return errors.New("no Redis configured (--redis or KEFU_REDIS_URL): on the memory engine the admin adds users in the console")
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("reading the password: %w", err)
	}
	password := strings.TrimRight(line, "\r\n")
	log, err := newLogger(config{LogLevel: "warn", LogFormat: "console"}, stderr)
	if err != nil {
		return err
	}
	store, _, rdb, err := newStores(c, log)
	if err != nil {
		return err
	}
	defer rdb.Close()
	desk, err := handoff.NewDesk(handoff.DeskConfig{Store: store, Groups: groups, Logger: log})
	if err != nil {
		return err
	}
	u, err := desk.AddUser(ctx, fs.Arg(0), password, *role, *group)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "added %s (role %s, group %s)\n", u.Name, u.Role, u.Group)
	return nil
}
