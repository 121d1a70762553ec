package redisstore_test

import (
	"testing"

	"github.com/kefu-im/kefu/handoff/enginetest"
	"github.com/kefu-im/kefu/handoff/redisstore"
	"github.com/kefu-im/kefu/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// opener returns an Opener of engines on one redis-server started for t, each with a
// key prefix of its own test.
func opener(t *testing.T) enginetest.Opener {
	srv := redistest.Start(t)
	return func(t *testing.T) enginetest.Engine {
		rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
		t.Cleanup(func() { rdb.Close() })
		s, err := redisstore.New(redisstore.Config{Client: rdb, Prefix: srv.Prefix(t)})
		if err != nil {
			t.Fatal(err)
		}
		return enginetest.Engine{Conversations: s, Roster: s, Annals: s, Bus: s, Tickets: s}
	}
}

func TestContract(t *testing.T) { enginetest.Run(t, opener(t)) }
