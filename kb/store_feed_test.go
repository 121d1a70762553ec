package kb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

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

// testLargeSeed seeds more articles than one step of a seed writes (seedChunk),
// one of them edited before: every other one is created once, in order, and a second
// seed creates none.
func testLargeSeed(t *testing.T, s Store) {
	ctx := context.Background()
	mine := mustCreate(t, s, article("n0700", "editor's own"))
	var bundle []Entry
	var want []string
	for i := range 2*seedChunk + 3 {
		id := fmt.Sprintf("n%04d", i)
		bundle = append(bundle, article(id, "article "+id))
		if id != mine.ID {
			want = append(want, id)
		}
	}
	created, err := s.Seed(ctx, "bundle", bundle, "system")
	if err != nil || !slices.Equal(created, want) {
		t.Fatalf("Seed of %d = %d created, %v; want %d", len(bundle), len(created), err, len(want))
	}
	if e := mustGet(t, s, mine.ID); !sameEntry(e, mine) {
		t.Errorf("Seed overwrote an editor's article: %+v", e)
	}
	if created, err = s.Seed(ctx, "bundle", bundle, "system"); err != nil || len(created) != 0 {
		t.Errorf("second Seed = %d created, %v; want nothing", len(created), err)
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

// testRestart shows that what a store saved survives a restart of its engine (Redis with
// AOF, the database closed and opened again), and that saving goes on afterwards.
func testRestart(t *testing.T, s Store, restart func(*testing.T, Store) Store) {
	ctx := context.Background()
	mustCreate(t, s, article("a", "alpha"))
	if _, err := s.Seed(ctx, "bundle", []Entry{article("b", "beta")}, "system"); err != nil {
		t.Fatal(err)
	}
	s.AddUnanswered(ctx, Unanswered{Text: "q1"})
	before, _ := s.Head(ctx)

	s = restart(t, s)
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
