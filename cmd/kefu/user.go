package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/account"
)

// userCmd runs "kefu user add --role R --group G NAME", reading the password from the
// first line of stdin. It adds the user to the configured data (adminOps): a running
// server sees them at once, and before the first start they can sign in once it runs.
func userCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	const usage = "usage: kefu user add --role agent|lead|editor|admin --group GROUP NAME (password on stdin; GROUP one of KEFU_GROUPS, presale,aftersale by default)"
	if len(args) == 0 || args[0] != "add" {
		return errors.New(usage)
	}
	var c config
	fs := newFlagSet("user add", &c, stderr)
	role := fs.String("role", string(account.RoleAgent), "role: agent, lead (the after-sales lead, who also approves refunds and compensation), editor or admin")
	group := fs.String("group", string(handoff.GroupPresale), "skill group, one of --groups")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New(usage)
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("reading the password: %w", err)
	}
	password := strings.TrimRight(line, "\r\n")
	ops, done, err := openOps(c)
	if err != nil {
		return err
	}
	defer done()
	u, err := ops.AddUser(ctx, fs.Arg(0), password, account.Role(*role), *group)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "added %s (role %s, group %s)\n", u.Name, u.Role, u.Group)
	return nil
}
