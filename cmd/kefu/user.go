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
	"github.com/redis/go-redis/v9"
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
	role := fs.String("role", string(account.RoleAgent), "role: agent, lead (the after-sales lead, who also approves refunds and compensation), editor or admin")
	group := fs.String("group", handoff.GroupPresale, "skill group, one of --groups")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New(usage)
	}
	if c.RedisURL == "" {
		return errors.New("no Redis configured (--redis or KEFU_REDIS_URL): without Redis the admin adds users in the console")
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("reading the password: %w", err)
	}
	password := strings.TrimRight(line, "\r\n")
	accounts, done, err := redisAccounts(c)
	if err != nil {
		return err
	}
	defer done()
	u, err := accounts.AddUser(ctx, fs.Arg(0), password, account.Role(*role), *group)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "added %s (role %s, group %s)\n", u.Name, u.Role, u.Group)
	return nil
}

// redisAccounts returns the accounts in the configured Redis, for the commands that
// change them while servers run, and the function that closes the connection.
func redisAccounts(c config) (*account.Service, func(), error) {
	groups, err := c.groups()
	if err != nil {
		return nil, nil, err
	}
	opts, err := redisOptions(c.RedisURL)
	if err != nil {
		return nil, nil, err
	}
	rdb := redis.NewUniversalClient(opts)
	st, err := account.NewRedisStore(account.RedisConfig{Client: rdb, Prefix: c.RedisPrefix})
	if err == nil {
		var accounts *account.Service
		if accounts, err = account.New(account.Config{Store: st, Groups: groups}); err == nil {
			return accounts, func() { rdb.Close() }, nil
		}
	}
	rdb.Close()
	return nil, nil, err
}
