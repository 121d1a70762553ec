package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/kefu-im/kefu/internal/account"
)

const tokenUsage = `usage:
  kefu token add [--role editor] NAME   issue an API token; it is printed once
  kefu token list                       list the API tokens (never their secrets)
  kefu token revoke ID                  revoke an API token`

// tokenCmd issues, lists and revokes API tokens in the configured data (adminOps), so
// that a running server accepts or refuses them at once.
func tokenCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(tokenUsage)
	}
	var c config
	fs := newFlagSet("token "+args[0], &c, stderr)
	role := fs.String("role", string(account.RoleEditor), "add: the token's role (editor)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if nargs, ok := map[string]int{"add": 1, "list": 0, "revoke": 1}[args[0]]; !ok || fs.NArg() != nargs {
		return errors.New(tokenUsage)
	}
	accounts, done, err := openOps(c)
	if err != nil {
		return err
	}
	defer done()
	switch args[0] {
	case "add":
		t, token, err := accounts.AddToken(ctx, fs.Arg(0), account.Role(*role))
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "issued API token %s (id %s, role %s); it is shown only now:\n%s\n", t.Name, t.ID, t.Role, token)
	case "list":
		ts, err := accounts.Tokens(ctx)
		if err != nil {
			return err
		}
		for _, t := range ts {
			fmt.Fprintf(stdout, "%s\t%s\t%s\tby %s\t%s\n", t.ID, t.Name, t.Role, t.CreatedBy, t.CreatedAt.Format(time.RFC3339))
		}
	case "revoke":
		if err := accounts.RevokeToken(ctx, fs.Arg(0)); err != nil {
			if errors.Is(err, account.ErrNotFound) {
				return fmt.Errorf("no API token has the id %q", fs.Arg(0))
			}
			return err
		}
		fmt.Fprintf(stdout, "revoked API token %s\n", fs.Arg(0))
	}
	return nil
}
