package ratelimit

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kefu-im/kefu/internal/redistest"
)

// BenchmarkAllow is one decision on each engine, over 1,000 subjects.
func BenchmarkAllow(b *testing.B) {
	r := Per("message", 10, 30*time.Second)
	subjects := make([]string, 1000)
	for i := range subjects {
		subjects[i] = "conv:" + strconv.Itoa(i)
	}
	run := func(b *testing.B, l *Limiter) {
		ctx := context.Background()
		i := 0
		for b.Loop() {
			l.Allow(ctx, r, subjects[i%len(subjects)])
			i++
		}
	}
	b.Run("memory", func(b *testing.B) { run(b, New(Config{})) })
	b.Run("redis", func(b *testing.B) {
		srv := redistest.Start(b)
		rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
		defer rdb.Close()
		run(b, New(Config{Redis: rdb, Prefix: srv.Prefix(b)}))
	})
}
