package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

const backupUsage = "usage: kefu backup FILE   copy the embedded database, consistent, even while a server runs"

// backupCmd writes a copy of the embedded database to a file: taken in one read
// transaction by the server that holds it (through its admin socket) or by this process,
// and checked to open before it is kept.
func backupCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c config
	fs := newFlagSet("backup", &c, stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New(backupUsage)
	}
	if c.RedisURL != "" {
		return errors.New("the data is in Redis: back it up with Redis's own persistence (RDB snapshots or the AOF)")
	}
	ops, done, err := openOps(c)
	if err != nil {
		return err
	}
	defer done()
	dst := fs.Arg(0)
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".kefu-backup-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := ops.Backup(ctx, tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("copying the database: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	// A copy cut short (the server stopped midway) does not open.
	db, err := bolt.Open(tmp.Name(), 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return fmt.Errorf("the copy does not open, so it is not kept: %w", err)
	}
	err = db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	})
	db.Close()
	if err != nil {
		return fmt.Errorf("the copy does not check, so it is not kept: %w", err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return err
	}
	st, _ := os.Stat(dst)
	fmt.Fprintf(stdout, "backed up %s to %s (%d bytes)\n", c.DataDir, dst, st.Size())
	return nil
}
