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

	"github.com/kefu-im/kefu/handoff/redistest"
	"github.com/redis/go-redis/v9"
)

// limits lowers a store's bounds so that tests reach them.
type limits struct {
	feedLen       int // 0: the default
	maxUnanswered int // 0: MaxUnanswered
}

// engine is one Store implementation. start prepares what its stores share (a Redis
// server) for the test t and returns the maker of fresh, empty stores.
type engine struct {
	name  string
	start func(t *testing.T) func(t *testing.T, l limits) Store
}

func engines() []engine {
	return []engine{
		{"memory", func(*testing.T) func(*testing.T, limits) Store {
			return func(t *testing.T, l limits) Store {
				s := NewMemoryStore(newClock().Now)
				if l.feedLen > 0 {
					s.feedLen = l.feedLen
				}
				if l.maxUnanswered > 0 {
					s.maxUnanswered = l.maxUnanswered
				}
				return s
			}
		}},
		{"redis", func(t *testing.T) func(*testing.T, limits) Store {
			srv := redistest.Start(t)
			return func(t *testing.T, l limits) Store {
				return newRedisTestStore(t, srv, l)
			}
		}},
	}
}

func newRedisTestStore(t *testing.T, srv *redistest.Server, l limits) *RedisStore {
	t.Helper()
	return newRedisTestStoreOpts(t, srv, l, &redis.Options{Addr: srv.Addr()})
}

func newRedisTestStoreOpts(t *testing.T, srv *redistest.Server, l limits, opt *redis.Options) *RedisStore {
	t.Helper()
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	s, err := NewRedisStore(RedisConfig{Client: rdb, Prefix: srv.Prefix(t), Now: newClock().Now, FeedLen: l.feedLen})
	if err != nil {
		t.Fatal(err)
	}
	if l.maxUnanswered > 0 {
		s.maxUnanswered = l.maxUnanswered
	}
	return s
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
			newStore := e.start(t)
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
			t.Run("unanswered", func(t *testing.T) { testUnanswered(t, fresh(t)) })
			t.Run("unanswered trim", func(t *testing.T) { testUnansweredTrim(t, newStore(t, limits{maxUnanswered: 3})) })
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

// changes reads the feed after cursor without waiting and fails the test on an error.
func changes(t *testing.T, s Store, cursor string) ([]Change, string) {
	t.Helper()
	cs, next, err := s.Changes(context.Background(), cursor, 0)
	if err != nil {
		t.Fatalf("Changes(%q): %v", cursor, err)
	}
	return cs, next
}

func describe(cs []Change) []string {
	var out []string
	for _, c := range cs {
		out = append(out, fmt.Sprintf("%s@%d deleted=%v", c.ID, c.Version, c.Deleted))
	}
	return out
}

func testFeed(t *testing.T, s Store) {
	ctx := context.Background()
	if h, err := s.Head(ctx); err != nil || h != "" {
		t.Errorf("Head of an empty feed = %q, %v; want \"\"", h, err)
	}
	if cs, next := changes(t, s, ""); len(cs) != 0 || next != "" {
		t.Errorf("Changes of an empty feed = %v, %q", cs, next)
	}
	mustCreate(t, s, article("a", "alpha"))
	mustCreate(t, s, article("b", "beta"))
	s.Update(ctx, article("a", "alpha two"), 1, "x", ActionUpdate, 0)
	s.Delete(ctx, "b", 1, "x")
	if _, err := s.Update(ctx, article("a", "stale"), 1, "x", ActionUpdate, 0); !errors.Is(err, ErrConflict) {
		t.Fatalf("stale Update error = %v", err)
	}

	all, cur := changes(t, s, "")
	want := []string{"a@1 deleted=false", "b@1 deleted=false", "a@2 deleted=false", "b@2 deleted=true"}
	if got := describe(all); !slices.Equal(got, want) {
		t.Fatalf("Changes(\"\") = %q, want %q", got, want)
	}
	if head, _ := s.Head(ctx); cur != all[3].Cursor || head != cur {
		t.Errorf("cursor %q, last change's %q, head %q; want all equal", cur, all[3].Cursor, head)
	}
	for i, c := range all {
		rest, next := changes(t, s, c.Cursor)
		if got := describe(rest); !slices.Equal(got, want[i+1:]) || next != cur && i < 3 {
			t.Errorf("Changes after change %d = %q, %q; want %q, %q", i, got, next, want[i+1:], cur)
		}
		if i == 3 && next != c.Cursor {
			t.Errorf("Changes after the last change returned cursor %q, want the same %q", next, c.Cursor)
		}
	}
	mustCreate(t, s, article("c", "gamma"))
	more, next := changes(t, s, cur)
	if got := describe(more); !slices.Equal(got, []string{"c@1 deleted=false"}) || next == cur {
		t.Errorf("Changes after new save = %q, cursor %q", got, next)
	}
	for _, bad := range []string{"not-a-cursor", "-1", "1-x"} {
		if _, _, err := s.Changes(ctx, bad, 0); !errors.Is(err, ErrFeedGap) {
			t.Errorf("Changes(%q) error = %v, want ErrFeedGap", bad, err)
		}
	}
}

func testFeedWait(t *testing.T, s Store) {
	ctx := context.Background()
	mustCreate(t, s, article("a", "alpha"))
	head, _ := s.Head(ctx)
	if cs, next, err := s.Changes(ctx, head, 20*time.Millisecond); err != nil || len(cs) != 0 || next != head {
		t.Errorf("Changes with nothing new = %v, %q, %v; want none and the same cursor", cs, next, err)
	}

	type result struct {
		cs   []Change
		next string
		err  error
	}
	const wait = 20 * time.Second // long: only a wake-up makes the test end in time
	done := make(chan result, 1)
	go func() {
		cs, next, err := s.Changes(ctx, head, wait)
		done <- result{cs, next, err}
	}()
	go s.Create(ctx, article("b", "beta"), "other node", ActionCreate)
	select {
	case r := <-done:
		if r.err != nil || !slices.Equal(describe(r.cs), []string{"b@1 deleted=false"}) || r.next != r.cs[0].Cursor {
			t.Errorf("waiting Changes = %q, %q, %v; want b@1 and its cursor", describe(r.cs), r.next, r.err)
		}
	case <-time.After(wait - time.Second):
		t.Fatal("waiting Changes not woken by a Create")
	}

	cctx, cancel := context.WithCancel(ctx)
	head, _ = s.Head(ctx)
	go func() {
		cs, next, err := s.Changes(cctx, head, wait)
		done <- result{cs, next, err}
	}()
	cancel()
	select {
	case r := <-done:
		if !errors.Is(r.err, context.Canceled) || len(r.cs) != 0 {
			t.Errorf("cancelled Changes = %v, %v; want context.Canceled", r.cs, r.err)
		}
		if errors.Is(r.err, ErrUnavailable) {
			t.Errorf("cancelled Changes error %v wraps ErrUnavailable", r.err)
		}
	case <-time.After(wait - time.Second):
		t.Fatal("Changes did not end when its context was cancelled")
	}
}

func testFeedGap(t *testing.T, s Store) {
	ctx := context.Background()
	mustCreate(t, s, article("a", "alpha"))
	first, _ := s.Head(ctx)
	// More than one stream node (100 entries), so Redis' approximate trim drops one.
	for i := range 150 {
		mustCreate(t, s, article(fmt.Sprint("n", i), "n"))
	}
	for _, c := range []string{first, ""} {
		if _, _, err := s.Changes(ctx, c, 0); !errors.Is(err, ErrFeedGap) {
			t.Errorf("Changes(%q) after the feed was trimmed: error %v, want ErrFeedGap", c, err)
		}
		if _, _, err := s.Changes(ctx, c, time.Second); !errors.Is(err, ErrFeedGap) {
			t.Errorf("waiting Changes(%q) after the feed was trimmed: error %v, want ErrFeedGap", c, err)
		}
	}
	head, _ := s.Head(ctx)
	if cs, next := changes(t, s, head); len(cs) != 0 || next != head {
		t.Errorf("Changes(head) = %v, %q", cs, next)
	}
	mustCreate(t, s, article("z", "z"))
	if cs, _ := changes(t, s, head); !slices.Equal(describe(cs), []string{"z@1 deleted=false"}) {
		t.Errorf("Changes(head) after a save = %q", describe(cs))
	}
}

func testSeed(t *testing.T, s Store) {
	ctx := context.Background()
	bundle := []Entry{article("a", "alpha"), article("b", "beta")}
	created, err := s.Seed(ctx, "bundle", bundle, "system")
	if err != nil || !slices.Equal(created, []string{"a", "b"}) {
		t.Fatalf("first Seed = %v, %v; want a b", created, err)
	}
	vs := mustVersions(t, s, "a")
	if len(vs) != 1 || vs[0].Action != ActionImport || vs[0].Version != 1 || vs[0].UpdatedBy != "system" || vs[0].CreatedAt.IsZero() {
		t.Errorf("seeded versions = %+v; want one import by system", vs)
	}
	if cs, _ := changes(t, s, ""); !slices.Equal(describe(cs), []string{"a@1 deleted=false", "b@1 deleted=false"}) {
		t.Errorf("feed after Seed = %q", describe(cs))
	}

	mine := mustCreate(t, s, article("c", "editor's own c"))
	if _, err := s.Update(ctx, article("b", "edited b"), 1, "editor", ActionUpdate, 0); err != nil {
		t.Fatal(err)
	}
	bundle = append(bundle, article("c", "bundled c"), article("d", "delta"), article("d", "duplicate d"))
	created, err = s.Seed(ctx, "bundle", bundle, "system")
	if err != nil || !slices.Equal(created, []string{"d"}) {
		t.Fatalf("second Seed = %v, %v; want d alone", created, err)
	}
	if e := mustGet(t, s, "b"); e.Title != "edited b" || e.Version != 2 {
		t.Errorf("Seed overwrote an edit: %+v", e)
	}
	if e := mustGet(t, s, "c"); !sameEntry(e, mine) {
		t.Errorf("Seed overwrote an editor's article: %+v", e)
	}
	if e := mustGet(t, s, "d"); e.Title != "delta" {
		t.Errorf("seeded d = %+v, want the first entry of the id", e)
	}
	if created, err = s.Seed(ctx, "bundle", bundle, "system"); err != nil || len(created) != 0 {
		t.Errorf("third Seed = %v, %v; want nothing", created, err)
	}

	if err := s.Delete(ctx, "a", 1, "editor"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "c", 1, "editor"); err != nil {
		t.Fatal(err)
	}
	if created, err = s.Seed(ctx, "bundle", bundle, "system"); err != nil || len(created) != 0 {
		t.Errorf("Seed after deletions = %v, %v; want nothing", created, err)
	}
	for _, id := range []string{"a", "c"} {
		if _, err := s.Get(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("deleted %s came back: %v", id, err)
		}
	}

	created, err = s.Seed(ctx, "other", []Entry{article("a", "alpha elsewhere")}, "system")
	if err != nil || !slices.Equal(created, []string{"a"}) {
		t.Fatalf("Seed from another source = %v, %v; want a", created, err)
	}
	if e := mustGet(t, s, "a"); e.Version != 3 || e.Title != "alpha elsewhere" {
		t.Errorf("re-seeded a = %+v; want version 3, after the deletion", e)
	}
	if created, err = s.Seed(ctx, "empty", nil, "system"); err != nil || len(created) != 0 {
		t.Errorf("Seed of nothing = %v, %v", created, err)
	}
}

func unansweredTexts(t *testing.T, s Store, limit int) ([]string, []Unanswered) {
	t.Helper()
	us, err := s.Unanswered(context.Background(), limit)
	if err != nil {
		t.Fatalf("Unanswered(%d): %v", limit, err)
	}
	var out []string
	for _, u := range us {
		out = append(out, u.Text)
	}
	return out, us
}

func testUnanswered(t *testing.T, s Store) {
	ctx := context.Background()
	if got, _ := unansweredTexts(t, s, 10); len(got) != 0 {
		t.Errorf("Unanswered of an empty store = %q", got)
	}
	// Dismissing ids the store has not given yet must not hide the questions that get
	// them later.
	if err := s.DismissUnanswered(ctx, []string{"0", "1", "2", "3", "4", "5", "6"}); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)
	if err := s.AddUnanswered(ctx, Unanswered{ID: "ignored", Text: "q1", Reason: "low_confidence", Article: "a", Confidence: 0.31, At: at}); err != nil {
		t.Fatal(err)
	}
	for i := 2; i <= 5; i++ {
		if err := s.AddUnanswered(ctx, Unanswered{Text: fmt.Sprint("q", i), Reason: "out_of_scope"}); err != nil {
			t.Fatal(err)
		}
	}
	got, us := unansweredTexts(t, s, 10)
	if !slices.Equal(got, []string{"q5", "q4", "q3", "q2", "q1"}) {
		t.Fatalf("Unanswered = %q, want newest first q5…q1", got)
	}
	seen := map[string]bool{}
	for _, u := range us {
		if u.ID == "" || u.ID == "ignored" || seen[u.ID] || u.At.IsZero() {
			t.Errorf("question %+v: want a fresh, distinct id and a time", u)
		}
		seen[u.ID] = true
	}
	if q1 := us[4]; q1.Reason != "low_confidence" || q1.Article != "a" || q1.Confidence != 0.31 || !q1.At.Equal(at) {
		t.Errorf("q1 = %+v", q1)
	}
	if got, _ := unansweredTexts(t, s, 2); !slices.Equal(got, []string{"q5", "q4"}) {
		t.Errorf("Unanswered(2) = %q, want q5 q4", got)
	}
	if got, _ := unansweredTexts(t, s, 0); len(got) != 0 {
		t.Errorf("Unanswered(0) = %q, want none", got)
	}
	if err := s.DismissUnanswered(ctx, []string{us[1].ID, us[3].ID, "unknown"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := unansweredTexts(t, s, 10); !slices.Equal(got, []string{"q5", "q3", "q1"}) {
		t.Errorf("after dismissing q4 and q2: %q, want q5 q3 q1", got)
	}
	if err := s.DismissUnanswered(ctx, nil); err != nil {
		t.Errorf("DismissUnanswered(nil): %v", err)
	}
	s.AddUnanswered(ctx, Unanswered{Text: "q6"})
	if got, _ := unansweredTexts(t, s, 2); !slices.Equal(got, []string{"q6", "q5"}) {
		t.Errorf("after another question: %q, want q6 q5", got)
	}
}

func testUnansweredTrim(t *testing.T, s Store) {
	ctx := context.Background()
	for i := 1; i <= 5; i++ {
		if err := s.AddUnanswered(ctx, Unanswered{Text: fmt.Sprint("q", i)}); err != nil {
			t.Fatal(err)
		}
	}
	got, us := unansweredTexts(t, s, 10)
	if !slices.Equal(got, []string{"q5", "q4", "q3"}) {
		t.Fatalf("Unanswered keeping 3 = %q, want q5 q4 q3", got)
	}
	s.DismissUnanswered(ctx, []string{us[0].ID})
	s.AddUnanswered(ctx, Unanswered{Text: "q6"})
	if got, _ := unansweredTexts(t, s, 10); !slices.Equal(got, []string{"q6", "q4", "q3"}) {
		t.Errorf("after a dismissal and a question: %q, want q6 q4 q3", got)
	}
}

// TestRedisStoreRestart shows that what a RedisStore saved survives a restart of Redis
// (AOF), and that saving goes on afterwards.
func TestRedisStoreRestart(t *testing.T) {
	srv := redistest.Start(t)
	s := newRedisTestStore(t, srv, limits{})
	ctx := context.Background()
	mustCreate(t, s, article("a", "alpha"))
	if _, err := s.Seed(ctx, "bundle", []Entry{article("b", "beta")}, "system"); err != nil {
		t.Fatal(err)
	}
	s.AddUnanswered(ctx, Unanswered{Text: "q1"})
	before, _ := s.Head(ctx)

	srv.Restart()
	waitPing(t, s)
	if _, err := s.Update(ctx, article("a", "after restart"), 1, "bob", ActionUpdate, 0); err != nil {
		t.Fatalf("Update after restart: %v", err)
	}
	if e := mustGet(t, s, "a"); e.Version != 2 || e.Title != "after restart" {
		t.Errorf("Get after restart = %+v", e)
	}
	if vs := mustVersions(t, s, "a"); len(vs) != 2 || vs[1].Title != "alpha" {
		t.Errorf("Versions after restart = %+v", vs)
	}
	if cs, _ := changes(t, s, ""); !slices.Equal(describe(cs), []string{"a@1 deleted=false", "b@1 deleted=false", "a@2 deleted=false"}) {
		t.Errorf("feed after restart = %q", describe(cs))
	}
	if cs, _ := changes(t, s, before); !slices.Equal(describe(cs), []string{"a@2 deleted=false"}) {
		t.Errorf("Changes(cursor from before the restart) = %q", describe(cs))
	}
	if created, err := s.Seed(ctx, "bundle", []Entry{article("b", "beta")}, "system"); err != nil || len(created) != 0 {
		t.Errorf("Seed after restart = %v, %v; want nothing", created, err)
	}
	if got, _ := unansweredTexts(t, s, 10); !slices.Equal(got, []string{"q1"}) {
		t.Errorf("Unanswered after restart = %q", got)
	}
}

// TestRedisStoreUnavailable shows that calls while Redis is down fail with an error
// wrapping ErrUnavailable, not ErrNotFound, and work again once it is back.
func TestRedisStoreUnavailable(t *testing.T) {
	srv := redistest.Start(t)
	// One dial and no retries, so that each failing call fails fast.
	s := newRedisTestStoreOpts(t, srv, limits{}, &redis.Options{Addr: srv.Addr(), MaxRetries: -1, DialerRetries: 1})
	ctx := context.Background()
	mustCreate(t, s, article("a", "alpha"))
	head, _ := s.Head(ctx)

	srv.Stop()
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
			t.Errorf("%s while Redis is down: error %v, want ErrUnavailable", name, err)
		}
	}

	srv.Restart()
	waitPing(t, s)
	if e := mustGet(t, s, "a"); e.Version != 1 {
		t.Errorf("Get after Redis is back = %+v", e)
	}
	if _, err := s.Create(ctx, article("b", "beta"), "x", ActionCreate); err != nil {
		t.Errorf("Create after Redis is back: %v", err)
	}
}

// waitPing polls s until it answers, for a client whose pool still remembers a dial
// error.
func waitPing(t *testing.T, s Store) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := s.Ping(context.Background())
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("store not reachable after restart: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRedisStoreRetriedSave shows that a save go-redis sends again after losing its
// reply (the same call, the same token) is answered as saved, and stored once.
func TestRedisStoreRetriedSave(t *testing.T) {
	srv := redistest.Start(t)
	s := newRedisTestStore(t, srv, limits{})
	ctx := context.Background()
	e := stamp(article("a", "alpha"), 1, "x", time.Now().UTC())
	e.CreatedAt = e.UpdatedAt
	v := Version{Entry: e, Action: ActionCreate}
	for i := range 2 {
		if code, err := s.save(ctx, "create", v, "token-1"); err != nil || code != saveOK {
			t.Fatalf("save #%d = %d, %v; want saved", i+1, code, err)
		}
	}
	if code, err := s.save(ctx, "create", v, "token-2"); err != nil || code != saveExists {
		t.Errorf("save by another call = %d, %v; want exists", code, err)
	}
	e2 := stamp(e, 2, "y", time.Now().UTC())
	for i := range 2 {
		if code, err := s.save(ctx, "update", Version{Entry: e2, Action: ActionUpdate}, "token-3"); err != nil || code != saveOK {
			t.Fatalf("update #%d = %d, %v; want saved", i+1, code, err)
		}
	}
	if vs := mustVersions(t, s, "a"); len(vs) != 2 {
		t.Errorf("%d versions, want 2", len(vs))
	}
	if cs, _ := changes(t, s, ""); len(cs) != 2 {
		t.Errorf("%d changes, want 2", len(cs))
	}
}
