package kb

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kefu-im/kefu/internal/boltdb/bolttest"
	"github.com/kefu-im/kefu/internal/redistest"
)

// limits lowers a store's bounds so that tests reach them.
type limits struct {
	feedLen       int // 0: the default
	maxUnanswered int // 0: MaxUnanswered
}

// engine is one Store implementation. start prepares what its stores share (a Redis
// server) for the test t and returns the maker of fresh, empty stores, and restart,
// which restarts the engine of a store (Redis, or the database closed and opened again)
// and returns the store on what it kept.
type engine struct {
	name  string
	start func(t *testing.T) (fresh func(t *testing.T, l limits) Store, restart func(t *testing.T, s Store) Store)
}

func engines() []engine {
	return []engine{
		{"bolt", func(*testing.T) (func(*testing.T, limits) Store, func(*testing.T, Store) Store) {
			return func(t *testing.T, l limits) Store {
				return newBoltTestStore(t, bolttest.Open(t), l)
			}, reopenBolt
		}},
		{"redis", func(t *testing.T) (func(*testing.T, limits) Store, func(*testing.T, Store) Store) {
			srv := redistest.Start(t)
			return func(t *testing.T, l limits) Store {
					return newRedisTestStore(t, srv, l)
				}, func(t *testing.T, s Store) Store {
					srv.Restart()
					waitPing(t, s)
					return s
				}
		}},
	}
}

// clock is a test clock that moves one second, and a few nanoseconds that a store must
// keep, on every reading.
type clock struct{ n atomic.Int64 }

func newClock() *clock { return new(clock) }

func (c *clock) Now() time.Time {
	return time.Date(2025, 3, 1, 8, 0, 0, 123456789, time.FixedZone("CST", 8*3600)).Add(time.Duration(c.n.Add(1)) * time.Second)
}

func TestStore(t *testing.T) {
	for _, e := range engines() {
		t.Run(e.name, func(t *testing.T) {
			newStore, restart := e.start(t)
			fresh := func(t *testing.T) Store { return newStore(t, limits{}) }
			t.Run("create and read", func(t *testing.T) { testCreateRead(t, fresh(t)) })
			t.Run("update and versions", func(t *testing.T) { testUpdate(t, fresh(t)) })
			t.Run("conflict", func(t *testing.T) { testConflict(t, fresh(t)) })
			t.Run("delete and recreate", func(t *testing.T) { testDelete(t, fresh(t)) })
			t.Run("concurrent saves", func(t *testing.T) { testConcurrent(t, fresh(t)) })
			t.Run("feed", func(t *testing.T) { testFeed(t, fresh(t)) })
			t.Run("feed wait", func(t *testing.T) { testFeedWait(t, fresh(t)) })
			t.Run("feed gap", func(t *testing.T) { testFeedGap(t, newStore(t, limits{feedLen: 3})) })
			t.Run("seed", func(t *testing.T) { testSeed(t, fresh(t)) })
			t.Run("large seed", func(t *testing.T) { testLargeSeed(t, fresh(t)) })
			t.Run("unanswered", func(t *testing.T) { testUnanswered(t, fresh(t)) })
			t.Run("unanswered trim", func(t *testing.T) { testUnansweredTrim(t, newStore(t, limits{maxUnanswered: 3})) })
			t.Run("restart", func(t *testing.T) { testRestart(t, fresh(t), restart) })
		})
	}
}

func article(id, title string) Entry {
	return Entry{
		Article: Article{
			ID: id, Title: title, Category: CategoryPresale, Questions: []string{title + "?", "how " + title},
			Answer: "answer to " + title, Tags: []string{"t"}, Lang: "en",
		},
		Status: StatusPublished,
	}
}

func mustCreate(t *testing.T, s Store, e Entry) Entry {
	t.Helper()
	got, err := s.Create(context.Background(), e, "editor", ActionCreate)
	if err != nil {
		t.Fatalf("Create(%q): %v", e.ID, err)
	}
	return got
}

func mustGet(t *testing.T, s Store, id string) Entry {
	t.Helper()
	e, err := s.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("Get(%q): %v", id, err)
	}
	return e
}

func mustVersions(t *testing.T, s Store, id string) []Version {
	t.Helper()
	vs, err := s.Versions(context.Background(), id)
	if err != nil {
		t.Fatalf("Versions(%q): %v", id, err)
	}
	return vs
}

// sameEntry compares entries by value, times by instant.
func sameEntry(a, b Entry) bool {
	if !a.CreatedAt.Equal(b.CreatedAt) || !a.UpdatedAt.Equal(b.UpdatedAt) {
		return false
	}
	a.CreatedAt, a.UpdatedAt, b.CreatedAt, b.UpdatedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	return reflect.DeepEqual(a, b)
}

func testCreateRead(t *testing.T, s Store) {
	ctx := context.Background()
	in := article("b", "beta")
	got, err := s.Create(ctx, in, "alice", ActionCreate)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 1 || got.UpdatedBy != "alice" || got.UpdatedAt.IsZero() || !got.CreatedAt.Equal(got.UpdatedAt) ||
		got.Title != "beta" || got.Status != StatusPublished {
		t.Errorf("Create = %+v; want version 1 by alice, created when updated", got)
	}
	if got.UpdatedAt.Nanosecond() != 123456789 {
		t.Errorf("UpdatedAt = %v; the clock's nanoseconds are lost", got.UpdatedAt)
	}
	in.Questions[0] = "changed by the caller"
	got.Tags[0] = "changed by the caller"
	if e := mustGet(t, s, "b"); e.Questions[0] != "beta?" || e.Tags[0] != "t" {
		t.Errorf("the store shares slices with its caller: Get = %+v", e)
	}
	if e := mustGet(t, s, "b"); !sameEntry(e, Entry{Article: article("b", "beta").Article, Status: StatusPublished,
		Version: 1, CreatedAt: got.CreatedAt, UpdatedBy: "alice", UpdatedAt: got.UpdatedAt}) {
		t.Errorf("Get = %+v", e)
	}
	if _, err := s.Create(ctx, article("b", "again"), "bob", ActionCreate); !errors.Is(err, ErrExists) {
		t.Errorf("Create of an id in use: error %v, want ErrExists", err)
	}
	if e := mustGet(t, s, "b"); e.Title != "beta" || e.Version != 1 {
		t.Errorf("refused Create changed the article: %+v", e)
	}
	mustCreate(t, s, article("c", "gamma"))
	draft := article("a", "alpha")
	draft.Status, draft.Review, draft.Conversation = StatusDraft, true, "c_Zm9vYmFy"
	mustCreate(t, s, draft)

	list, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range list {
		ids = append(ids, e.ID)
	}
	if !slices.Equal(ids, []string{"a", "b", "c"}) {
		t.Fatalf("List ids = %v, want a b c", ids)
	}
	if a := list[0]; a.Status != StatusDraft || !a.Review || a.Version != 1 || a.Conversation != "c_Zm9vYmFy" {
		t.Errorf("List[0] = %+v, want the draft for review from its conversation", a)
	}
	if vs := mustVersions(t, s, "a"); vs[0].Conversation != "c_Zm9vYmFy" {
		t.Errorf("Versions(a)[0] = %+v, want its conversation", vs[0])
	}

	vs := mustVersions(t, s, "b")
	if len(vs) != 1 || vs[0].Action != ActionCreate || vs[0].Deleted || !sameEntry(vs[0].Entry, mustGet(t, s, "b")) {
		t.Errorf("Versions(b) = %+v", vs)
	}
	v, err := s.Version(ctx, "b", 1)
	if err != nil || !reflect.DeepEqual(v, vs[0]) {
		t.Errorf("Version(b, 1) = %+v, %v; want %+v", v, err, vs[0])
	}
	for _, n := range []int{0, -1, 2} {
		if _, err := s.Version(ctx, "b", n); !errors.Is(err, ErrNotFound) {
			t.Errorf("Version(b, %d) error = %v, want ErrNotFound", n, err)
		}
	}
	if _, err := s.Get(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(unknown) error = %v, want ErrNotFound", err)
	}
	if _, err := s.Versions(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Versions(unknown) error = %v, want ErrNotFound", err)
	}
	if _, err := s.Version(ctx, "nope", 1); !errors.Is(err, ErrNotFound) {
		t.Errorf("Version(unknown, 1) error = %v, want ErrNotFound", err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

func testUpdate(t *testing.T, s Store) {
	ctx := context.Background()
	v1 := mustCreate(t, s, article("a", "alpha"))
	edit := v1
	edit.Title, edit.Questions = "alpha two", []string{"second?"}
	edit.CreatedAt, edit.UpdatedBy = time.Time{}, "ignored"
	v2, err := s.Update(ctx, edit, 1, "bob", ActionUpdate, 0)
	if err != nil {
		t.Fatal(err)
	}
	if v2.Version != 2 || v2.UpdatedBy != "bob" || !v2.CreatedAt.Equal(v1.CreatedAt) || !v2.UpdatedAt.After(v1.UpdatedAt) || v2.Title != "alpha two" {
		t.Errorf("Update = %+v; want version 2 by bob, created as version 1 (%v), updated later", v2, v1.CreatedAt)
	}
	if got := mustGet(t, s, "a"); !sameEntry(got, v2) {
		t.Errorf("Get = %+v, want %+v", got, v2)
	}
	restore := v1
	v3, err := s.Update(ctx, restore, 2, "carol", ActionRestore, 1)
	if err != nil {
		t.Fatal(err)
	}
	if v3.Version != 3 || v3.Title != "alpha" || v3.UpdatedBy != "carol" {
		t.Errorf("restoring Update = %+v", v3)
	}
	vs := mustVersions(t, s, "a")
	var got []string
	for _, v := range vs {
		got = append(got, fmt.Sprintf("%d %s %s %d %s", v.Version, v.Action, v.Title, v.RestoredFrom, v.UpdatedBy))
	}
	want := []string{"3 restore alpha 1 carol", "2 update alpha two 0 bob", "1 create alpha 0 editor"}
	if !slices.Equal(got, want) {
		t.Errorf("Versions = %q, want newest first %q", got, want)
	}
	for i, v := range vs {
		one, err := s.Version(ctx, "a", v.Version)
		if err != nil || !reflect.DeepEqual(one, v) {
			t.Errorf("Version(a, %d) = %+v, %v; want Versions[%d] %+v", v.Version, one, err, i, v)
		}
	}
	if _, err := s.Update(ctx, article("nope", "x"), 1, "bob", ActionUpdate, 0); !errors.Is(err, ErrNotFound) {
		t.Errorf("Update(unknown) error = %v, want ErrNotFound", err)
	}
	if _, err := s.Versions(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a refused Update left versions of an unknown id: %v", err)
	}
}

func testConflict(t *testing.T, s Store) {
	ctx := context.Background()
	mustCreate(t, s, article("a", "alpha"))
	if _, err := s.Update(ctx, article("a", "first"), 1, "alice", ActionUpdate, 0); err != nil {
		t.Fatal(err)
	}
	head, _ := s.Head(ctx)
	if _, err := s.Update(ctx, article("a", "stale"), 1, "bob", ActionUpdate, 0); !errors.Is(err, ErrConflict) {
		t.Errorf("Update at a stale base: error %v, want ErrConflict", err)
	}
	if _, err := s.Update(ctx, article("a", "future"), 3, "bob", ActionUpdate, 0); !errors.Is(err, ErrConflict) {
		t.Errorf("Update at a future base: error %v, want ErrConflict", err)
	}
	if err := s.Delete(ctx, "a", 1, "bob"); !errors.Is(err, ErrConflict) {
		t.Errorf("Delete at a stale base: error %v, want ErrConflict", err)
	}
	if e := mustGet(t, s, "a"); e.Title != "first" || e.Version != 2 || e.UpdatedBy != "alice" {
		t.Errorf("after refused saves Get = %+v, want alice's version 2", e)
	}
	if vs := mustVersions(t, s, "a"); len(vs) != 2 {
		t.Errorf("after refused saves %d versions, want 2", len(vs))
	}
	if h, _ := s.Head(ctx); h != head {
		t.Errorf("refused saves moved the feed: head %q → %q", head, h)
	}
}

func testDelete(t *testing.T, s Store) {
	ctx := context.Background()
	v1 := mustCreate(t, s, article("a", "alpha"))
	mustCreate(t, s, article("b", "beta"))
	if _, err := s.Update(ctx, article("a", "alpha two"), 1, "bob", ActionUpdate, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "a", 2, "carol"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(deleted) error = %v, want ErrNotFound", err)
	}
	if list, _ := s.List(ctx); len(list) != 1 || list[0].ID != "b" {
		t.Errorf("List after delete = %+v, want b alone", list)
	}
	vs := mustVersions(t, s, "a")
	if len(vs) != 3 || !vs[0].Deleted || vs[0].Action != ActionDelete || vs[0].Version != 3 || vs[0].UpdatedBy != "carol" ||
		vs[0].Title != "alpha two" || vs[1].Deleted || vs[2].Deleted {
		t.Errorf("Versions after delete = %+v; want 3, the newest deleted by carol with the last content", vs)
	}
	if _, err := s.Update(ctx, article("a", "x"), 3, "bob", ActionUpdate, 0); !errors.Is(err, ErrNotFound) {
		t.Errorf("Update(deleted) error = %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, "a", 3, "bob"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Delete(deleted) error = %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, "nope", 1, "bob"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Delete(unknown) error = %v, want ErrNotFound", err)
	}

	again, err := s.Create(ctx, article("a", "alpha again"), "dave", ActionCreate)
	if err != nil {
		t.Fatal(err)
	}
	if again.Version != 4 || !again.CreatedAt.After(v1.CreatedAt) || !again.CreatedAt.Equal(again.UpdatedAt) {
		t.Errorf("re-Create = %+v; want version 4, created now", again)
	}
	vs = mustVersions(t, s, "a")
	if len(vs) != 4 || vs[0].Action != ActionCreate || vs[0].Deleted || !vs[1].Deleted {
		t.Errorf("Versions after re-create = %+v", vs)
	}
	if got := mustGet(t, s, "a"); got.Version != 4 || got.Title != "alpha again" {
		t.Errorf("Get after re-create = %+v", got)
	}
}

func testConcurrent(t *testing.T, s Store) {
	ctx := context.Background()
	mustCreate(t, s, article("a", "alpha"))
	const n = 10
	var (
		wg                   sync.WaitGroup
		ok, conflict, exists atomic.Int32
		winner               atomic.Value
		start                = make(chan struct{})
	)
	for i := range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			<-start
			title := fmt.Sprint("edit ", i)
			_, err := s.Update(ctx, article("a", title), 1, fmt.Sprint("editor", i), ActionUpdate, 0)
			switch {
			case err == nil:
				ok.Add(1)
				winner.Store(title)
			case errors.Is(err, ErrConflict):
				conflict.Add(1)
			default:
				t.Errorf("Update #%d: %v", i, err)
			}
		}()
		go func() {
			defer wg.Done()
			<-start
			_, err := s.Create(ctx, article("new", fmt.Sprint("new ", i)), "x", ActionCreate)
			switch {
			case err == nil:
			case errors.Is(err, ErrExists):
				exists.Add(1)
			default:
				t.Errorf("Create #%d: %v", i, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if ok.Load() != 1 || conflict.Load() != n-1 {
		t.Fatalf("%d Updates at one base: %d succeeded, %d conflicts; want 1 and %d", n, ok.Load(), conflict.Load(), n-1)
	}
	if e := mustGet(t, s, "a"); e.Version != 2 || e.Title != winner.Load() {
		t.Errorf("Get = version %d %q, want version 2 %q", e.Version, e.Title, winner.Load())
	}
	if vs := mustVersions(t, s, "a"); len(vs) != 2 {
		t.Errorf("%d versions, want 2", len(vs))
	}
	if exists.Load() != n-1 {
		t.Errorf("%d Creates of one id: %d ErrExists, want %d", n, exists.Load(), n-1)
	}
	if vs := mustVersions(t, s, "new"); len(vs) != 1 {
		t.Errorf("%d versions of the concurrently created article, want 1", len(vs))
	}
}

// checkUnavailable calls every method of s, whose engine is down, and checks that each
// fails with an error wrapping ErrUnavailable, not ErrNotFound. s held article "a" at
// version 1, and head was its feed's head.
func checkUnavailable(t *testing.T, when string, s Store, head string) {
	t.Helper()
	ctx := context.Background()
	calls := map[string]func() error{
		"Get":    func() error { _, err := s.Get(ctx, "a"); return err },
		"Create": func() error { _, err := s.Create(ctx, article("b", "beta"), "x", ActionCreate); return err },
		"Update": func() error { _, err := s.Update(ctx, article("a", "x"), 1, "x", ActionUpdate, 0); return err },
		"Delete": func() error { return s.Delete(ctx, "a", 1, "x") },
		"List":   func() error { _, err := s.List(ctx); return err },
		"Versions": func() error {
			_, err := s.Versions(ctx, "a")
			return err
		},
		"Changes":       func() error { _, _, err := s.Changes(ctx, head, time.Second); return err },
		"Head":          func() error { _, err := s.Head(ctx); return err },
		"Seed":          func() error { _, err := s.Seed(ctx, "bundle", []Entry{article("c", "c")}, "x"); return err },
		"AddUnanswered": func() error { return s.AddUnanswered(ctx, Unanswered{Text: "q"}) },
		"Unanswered":    func() error { _, err := s.Unanswered(ctx, 10); return err },
		"Ping":          func() error { return s.Ping(ctx) },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrNotFound) {
			t.Errorf("%s %s: error %v, want ErrUnavailable", name, when, err)
		}
	}
}
