package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/handoff/boltstore"
	"github.com/kefu-im/kefu/handoff/redisstore"
	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/audit"
	"github.com/kefu-im/kefu/internal/boltdb"
	"github.com/kefu-im/kefu/internal/webhook"
	webhookbolt "github.com/kefu-im/kefu/internal/webhook/boltstore"
	webhookredis "github.com/kefu-im/kefu/internal/webhook/redisstore"
	"github.com/kefu-im/kefu/kb"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
	bolt "go.etcd.io/bbolt"
)

// Storage engines.
const (
	engineEmbedded = "embedded" // the bbolt file of the data directory, one process
	engineRedis    = "redis"    // several nodes
)

// storage is where one node keeps its data: the embedded database of the data directory
// (the default), or Redis. The desk, the articles and the accounts each have their own
// engine on it.
type storage struct {
	engine   string
	db       *bolt.DB              // embedded
	rdb      redis.UniversalClient // redis
	boltDesk *boltstore.Store      // embedded
	redDesk  *redisstore.Store     // redis
	articles kb.Store
	accounts account.Store
	webhooks webhook.Store
	audit    audit.Store
}

// deskConfig returns a desk configuration on s's engine, which serves every storage
// interface of the desk.
func (s *storage) deskConfig() handoff.DeskConfig {
	if d := s.boltDesk; d != nil {
		return handoff.DeskConfig{Engine: d.Engine()}
	}
	return handoff.DeskConfig{Engine: s.redDesk.Engine()}
}

// errDataDirInUse says that a server holds the data directory.
var errDataDirInUse = errors.New("data directory in use")

// openStorage opens the storage of the configuration. With no Redis URL it opens the
// embedded database of the data directory, creating both; when another process holds
// it, the error wraps errDataDirInUse.
func openStorage(c config, log zerolog.Logger) (*storage, error) {
	if c.RedisURL != "" {
		return openRedis(c, log)
	}
	db, err := boltdb.Open(c.DataDir)
	if errors.Is(err, boltdb.ErrInUse) {
		return nil, fmt.Errorf("%w: %s is held by another kefu process", errDataDirInUse, c.DataDir)
	}
	if err != nil {
		return nil, err
	}
	s := &storage{engine: engineEmbedded, db: db}
	fail := func(err error) (*storage, error) {
		db.Close()
		return nil, err
	}
	if s.boltDesk, err = boltstore.New(boltstore.Config{DB: db}); err != nil {
		return fail(err)
	}
	if s.articles, err = kb.NewBoltStore(kb.BoltConfig{DB: db, Logger: log.With().Str("part", "kb").Logger()}); err != nil {
		return fail(err)
	}
	if s.accounts, err = account.NewBoltStore(account.BoltConfig{DB: db}); err != nil {
		return fail(err)
	}
	if s.webhooks, err = webhookbolt.New(db); err != nil {
		return fail(err)
	}
	if s.audit, err = audit.NewBoltStore(db); err != nil {
		return fail(err)
	}
	return s, nil
}

func openRedis(c config, log zerolog.Logger) (*storage, error) {
	opts, err := redisOptions(c.RedisURL)
	if err != nil {
		return nil, err
	}
	rdb := redis.NewUniversalClient(opts)
	s := &storage{engine: engineRedis, rdb: rdb}
	fail := func(err error) (*storage, error) {
		rdb.Close()
		return nil, err
	}
	rlog := log.With().Str("part", "redis").Logger()
	if s.redDesk, err = redisstore.New(redisstore.Config{Client: rdb, Prefix: c.RedisPrefix, Logger: rlog}); err != nil {
		return fail(err)
	}
	if s.articles, err = kb.NewRedisStore(kb.RedisConfig{Client: rdb, Prefix: c.RedisPrefix, Logger: rlog}); err != nil {
		return fail(err)
	}
	if s.accounts, err = account.NewRedisStore(account.RedisConfig{Client: rdb, Prefix: c.RedisPrefix}); err != nil {
		return fail(err)
	}
	if s.webhooks, err = webhookredis.New(rdb, c.RedisPrefix); err != nil {
		return fail(err)
	}
	if s.audit, err = audit.NewRedisStore(rdb, c.RedisPrefix); err != nil {
		return fail(err)
	}
	return s, nil
}

// close closes what openStorage opened.
func (s *storage) close() {
	if s.db != nil {
		s.db.Close()
	}
	if s.rdb != nil {
		s.rdb.Close()
	}
}

// adminSocket is the file of a running server's admin socket in the data directory: the
// subcommands change the data through it while the server holds the database.
func adminSocket(dataDir string) string { return filepath.Join(dataDir, "kefu.sock") }

// ensureDataDir creates the data directory, readable by its owner alone.
func ensureDataDir(dir string) error { return os.MkdirAll(dir, 0o700) }
