package main

import (
	"testing"

	"github.com/redis/go-redis/v9"
)

func TestRedisOptions(t *testing.T) {
	cases := []struct {
		url     string
		addrs   []string
		db      int
		pass    string
		master  string
		cluster bool
		kind    string // the type redis.NewUniversalClient makes
	}{
		{"redis://localhost:6379/2", []string{"localhost:6379"}, 2, "", "", false, "single"},
		{"redis://:s3cret@10.0.0.5:6380", []string{"10.0.0.5:6380"}, 0, "s3cret", "", false, "single"},
		// A Sentinel (failover) client is a *redis.Client too; MasterName makes it one.
		{"redis-sentinel://:pw@s1:26379,s2:26379,s3:26379/1?master=kefu", []string{"s1:26379", "s2:26379", "s3:26379"}, 1, "pw", "kefu", false, "single"},
		{"redis-cluster://n1:7000,n2:7001", []string{"n1:7000", "n2:7001"}, 0, "", "", true, "cluster"},
	}
	for _, c := range cases {
		o, err := redisOptions(c.url)
		if err != nil {
			t.Fatalf("%s: %v", c.url, err)
		}
		if len(o.Addrs) != len(c.addrs) || o.DB != c.db || o.Password != c.pass || o.MasterName != c.master || o.IsClusterMode != c.cluster {
			t.Errorf("%s: got %+v", c.url, o)
			continue
		}
		for i := range c.addrs {
			if o.Addrs[i] != c.addrs[i] {
				t.Errorf("%s: addrs %v", c.url, o.Addrs)
			}
		}
		rdb := redis.NewUniversalClient(o)
		var kind string
		switch rdb.(type) {
		case *redis.Client:
			kind = "single"
		case *redis.ClusterClient:
			kind = "cluster"
		default:
			kind = "other"
		}
		rdb.Close()
		if kind != c.kind {
			t.Errorf("%s: made a %s client, want %s", c.url, kind, c.kind)
		}
	}
	for _, bad := range []string{"http://x", "redis-sentinel://s1:26379", "redis-cluster://n1:7000/3", "redis-cluster://", "redis://h/x"} {
		if _, err := redisOptions(bad); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}
