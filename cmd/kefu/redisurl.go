package main

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// redisOptions turns KEFU_REDIS_URL into go-redis' universal options:
//
//	redis://[:password@]host:port[/db]                       one server (rediss:// for TLS)
//	redis-sentinel://[:password@]h1:26379,h2:26379[/db]?master=NAME
//	                                                         Sentinel: the master NAME
//	redis-cluster://[:password@]h1:6379,h2:6379              Cluster: the seed nodes
//
// Every Lua script touches keys of one hash slot (docs/handoff.md), so the same key
// layout runs on all three.
func redisOptions(raw string) (*redis.UniversalOptions, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("redis URL: %w", err)
	}
	switch u.Scheme {
	case "redis", "rediss":
		o, err := redis.ParseURL(raw)
		if err != nil {
			return nil, fmt.Errorf("redis URL: %w", err)
		}
		return &redis.UniversalOptions{
			Addrs: []string{o.Addr}, DB: o.DB, Username: o.Username, Password: o.Password,
			TLSConfig: o.TLSConfig,
		}, nil
	case "redis-sentinel", "redis-cluster":
	default:
		return nil, fmt.Errorf("redis URL: unknown scheme %q (want redis, rediss, redis-sentinel or redis-cluster)", u.Scheme)
	}
	o := &redis.UniversalOptions{IsClusterMode: u.Scheme == "redis-cluster"}
	for _, a := range strings.Split(u.Host, ",") {
		if a = strings.TrimSpace(a); a != "" {
			o.Addrs = append(o.Addrs, a)
		}
	}
	if len(o.Addrs) == 0 {
		return nil, fmt.Errorf("redis URL: no hosts in %q", u.Redacted())
	}
	if u.User != nil {
		o.Username = u.User.Username()
		o.Password, _ = u.User.Password()
	}
	if db := strings.Trim(u.Path, "/"); db != "" {
		if o.DB, err = strconv.Atoi(db); err != nil {
			return nil, fmt.Errorf("redis URL: database %q is not a number", db)
		}
		if o.IsClusterMode && o.DB != 0 {
			return nil, fmt.Errorf("redis URL: a cluster has only database 0")
		}
	}
	if u.Scheme == "redis-sentinel" {
		o.MasterName = u.Query().Get("master")
		if o.MasterName == "" {
			return nil, fmt.Errorf("redis URL: a sentinel URL needs ?master=NAME")
		}
		o.SentinelPassword = u.Query().Get("sentinel_password")
	}
	return o, nil
}
