// Command kefu is the Kefu customer-service server and its tools.
//
//	kefu [serve] [flags]          run the server (the default)
//	kefu user add --role R --group G NAME
//	                              add a user; password from stdin
//	kefu token add [--role editor] NAME | list | revoke ID
//	                              issue, list and revoke API tokens
//	kefu eval [--kb PATH] --questions FILE[,FILE…]
//	                              measure the bot on labelled questions
//	kefu articles import [--dry-run] PATH | export [--format zip|jsonl] FILE
//	                              move articles in and out
//	kefu backup FILE              copy the embedded database, consistent, while it serves
//
// The commands that change data work on the data directory (KEFU_DATA_DIR) or the
// configured Redis, whether a server runs or not: while a server holds the data
// directory they go through its admin socket.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	// The shop's time zone (KEFU_TIMEZONE) loads in images without a time zone database.
	_ "time/tzdata"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := dispatch(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "kefu:", err)
		os.Exit(1)
	}
}

func dispatch(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serveCmd(ctx, args, stderr)
	case "user":
		return userCmd(ctx, args, stdin, stdout, stderr)
	case "token":
		return tokenCmd(ctx, args, stdout, stderr)
	case "eval":
		return evalCmd(ctx, args, stdout, stderr)
	case "articles":
		return articlesCmd(ctx, args, stdout, stderr)
	case "backup":
		return backupCmd(ctx, args, stdout, stderr)
	case "help":
		fmt.Fprintln(stdout, "usage: kefu [serve] [flags] | kefu user add --role agent|lead|editor|admin --group GROUP NAME | kefu token add|list|revoke | kefu eval [flags] | kefu articles import|export [flags] PATH | kefu backup FILE")
		return nil
	}
	return fmt.Errorf("unknown command %q (try: serve, user add, token, eval, articles, backup, help)", cmd)
}

func serveCmd(ctx context.Context, args []string, stderr io.Writer) error {
	var c config
	fs := newFlagSet("serve", &c, stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := c.validate(); err != nil {
		return err
	}
	log, err := newLogger(c, stderr)
	if err != nil {
		return err
	}
	return run(ctx, c, log)
}

// newLogger returns the process logger: JSON, or human-readable on a terminal.
func newLogger(c config, w io.Writer) (zerolog.Logger, error) {
	level, err := zerolog.ParseLevel(c.LogLevel)
	if err != nil {
		return zerolog.Logger{}, fmt.Errorf("log level: %w", err)
	}
	format := c.LogFormat
	if format == "" {
		format = "json"
		if f, ok := w.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
			format = "console"
		}
	}
	if format == "console" {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: "15:04:05"}
	}
	return zerolog.New(w).Level(level).With().Timestamp().Logger(), nil
}
