package knowledge_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kefu-im/kefu/kb"
)

// feedDownStore is a store whose change feed fails while down is set, as Redis's does
// when the server is gone: the rest of the store still answers.
type feedDownStore struct {
	*kb.BoltStore
	down atomic.Bool
}

var errFeedDown = errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")

func (f *feedDownStore) Changes(ctx context.Context, cursor string, wait time.Duration) ([]kb.Change, string, error) {
	if f.down.Load() {
		return nil, cursor, errFeedDown
	}
	return f.BoltStore.Changes(ctx, cursor, wait)
}

type editorStatus struct {
	Ready     bool `json:"ready"`
	Stale     bool `json:"stale"`
	Articles  int  `json:"articles"`
	Proposals int  `json:"proposals"`
}

// waitStatus polls GET /api/editor/status until ok accepts it, for up to 5 s.
func (e *env) waitStatus(what string, ok func(editorStatus) bool) editorStatus {
	e.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var st editorStatus
		code := e.call("ed", "GET", "/api/editor/status", nil, &st)
		if code == 200 && ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("status after 5 s: %d %+v, want %s", code, st, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestStaleIndexIsReported cuts the change feed: the Service says it is stale (the
// editor's status, Ready and Stale, which /readyz and /metrics report), and when the
// feed is back it catches up with what was saved meanwhile and says so.
func TestStaleIndexIsReported(t *testing.T) {
	var fs *feedDownStore
	e := newEnvWith(t, transferSeed, func(m *kb.BoltStore) kb.Store {
		fs = &feedDownStore{BoltStore: m}
		return fs
	})
	st := e.waitStatus("ready", func(s editorStatus) bool { return s.Ready })
	if st.Stale || st.Articles != len(transferSeed) || !e.svc.Follower().Ready() || e.svc.Follower().Stale() {
		t.Fatalf("status before the outage = %+v (Ready %v, Stale %v)", st, e.svc.Follower().Ready(), e.svc.Follower().Stale())
	}

	fs.down.Store(true)
	e.waitStatus("stale", func(s editorStatus) bool { return s.Stale && !s.Ready })
	if e.svc.Follower().Ready() || !e.svc.Follower().Stale() {
		t.Fatalf("Ready %v, Stale %v during the outage", e.svc.Follower().Ready(), e.svc.Follower().Stale())
	}
	// Saved while the feed is down: the index cannot know yet.
	if code := e.call("ed", "POST", "/api/articles", map[string]any{"id": "meanwhile", "title": "停机期间发布", "category": "policy", "answer": "回答", "status": "published"}, nil); code != 201 {
		t.Fatalf("create: %d", code)
	}
	if _, err := e.index.Article("meanwhile"); err == nil {
		t.Fatal("the index has an article saved while its feed is down")
	}

	fs.down.Store(false)
	e.waitStatus("ready again", func(s editorStatus) bool { return s.Ready && !s.Stale })
	e.waitIndexed("meanwhile", true)
	if code := e.call("agent", "GET", "/api/editor/status", nil, nil); code != 403 {
		t.Errorf("an agent's status: %d, want 403", code)
	}
}

// TestProposalsCount checks the proposals count of the editor's status as proposals
// arrive, are published, and are deleted.
func TestProposalsCount(t *testing.T) {
	e := newEnv(t, nil)
	propose := func(title string) article {
		var p article
		if code := e.call("agent", "POST", "/api/proposals", map[string]any{"title": title, "answer": "回答"}, &p); code != 201 {
			t.Fatalf("propose %s: %d", title, code)
		}
		return p
	}
	a, b := propose("能送货上楼吗"), propose("能开专票吗")
	e.waitStatus("2 proposals", func(s editorStatus) bool { return s.Proposals == 2 })

	// Saved again as a draft that keeps the flag, it still waits; published, it does not.
	if code := e.call("ed", "PUT", "/api/articles/"+a.ID, map[string]any{"version": 1, "title": "能送货上楼吗", "category": "presale", "answer": "可以"}, nil); code != 200 {
		t.Fatalf("edit: %d", code)
	}
	if code := e.call("ed", "PUT", "/api/articles/"+b.ID, map[string]any{"version": 1, "title": "能开专票吗", "category": "presale", "answer": "可以", "status": "published"}, nil); code != 200 {
		t.Fatalf("publish: %d", code)
	}
	e.waitIndexed(b.ID, true)
	if st := e.waitStatus("1 proposal", func(s editorStatus) bool { return s.Proposals == 1 }); st.Articles != 1 {
		t.Fatalf("status = %+v", st)
	}
	if code := e.call("ed", "DELETE", "/api/articles/"+a.ID+"?version=2", nil, nil); code != 204 {
		t.Fatalf("delete: %d", code)
	}
	e.waitStatus("no proposal", func(s editorStatus) bool { return s.Proposals == 0 })

}

// TestProposalsCountRebuilt checks that a rebuild counts the proposals from the store,
// those the follower could not see included.
func TestProposalsCountRebuilt(t *testing.T) {
	var fs *feedDownStore
	e := newEnvWith(t, nil, func(m *kb.BoltStore) kb.Store {
		fs = &feedDownStore{BoltStore: m}
		return fs
	})
	fs.down.Store(true)
	e.waitStatus("stale", func(s editorStatus) bool { return s.Stale })
	if code := e.call("agent", "POST", "/api/proposals", map[string]any{"title": "周末发货吗", "answer": "周末照常发货。"}, nil); code != 201 {
		t.Fatalf("propose: %d", code)
	}
	if n := e.svc.Proposals(); n != 0 {
		t.Fatalf("Proposals = %d with the feed down, want 0", n)
	}
	if err := e.svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := e.svc.Proposals(); n != 1 {
		t.Fatalf("Proposals after a rebuild = %d, want 1", n)
	}
}
