package widget

import (
	"container/list"
	"sync"
	"time"
)

// askCache keeps the public bot API's recent answers by question, so that a question
// asked again and again costs one decision (and at most one model call) a TTL: a small
// LRU, bounded in entries, whose entries expire. It is safe for concurrent use.
type askCache struct {
	max int
	ttl time.Duration
	now func() time.Time

	mu    sync.Mutex               // guards order and byKey
	order *list.List               // of *askEntry, most recently used first
	byKey map[string]*list.Element // key → its element in order
}

type askEntry struct {
	key     string
	body    []byte
	expires time.Time
}

// newAskCache returns a cache of up to n answers kept for ttl; 0 means 512 answers
// and a minute, n < 0 a cache that keeps nothing.
func newAskCache(n int, ttl time.Duration, now func() time.Time) *askCache {
	if n == 0 {
		n = 512
	}
	if ttl <= 0 {
		ttl = time.Minute
	}
	return &askCache{max: n, ttl: ttl, now: now, order: list.New(), byKey: make(map[string]*list.Element)}
}

// get returns the answer kept for key, if any and fresh.
func (c *askCache) get(key string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[key]
	if !ok {
		return nil, false
	}
	e := el.Value.(*askEntry)
	if !c.now().Before(e.expires) {
		c.order.Remove(el)
		delete(c.byKey, key)
		return nil, false
	}
	c.order.MoveToFront(el)
	return e.body, true
}

// put keeps body for key, dropping the least recently used answer past max.
func (c *askCache) put(key string, body []byte) {
	if c.max < 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e := &askEntry{key: key, body: body, expires: c.now().Add(c.ttl)}
	if el, ok := c.byKey[key]; ok {
		el.Value = e
		c.order.MoveToFront(el)
		return
	}
	c.byKey[key] = c.order.PushFront(e)
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.byKey, last.Value.(*askEntry).key)
	}
}
