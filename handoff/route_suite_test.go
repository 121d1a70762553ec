//go:build legacyconsole

package handoff

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

// TestStoreRouting runs the routing part of the Store contract on both engines.
func TestStoreRouting(t *testing.T) {
	for _, e := range engines() {
		t.Run(e.name, func(t *testing.T) {
			t.Run("queue order", func(t *testing.T) { testRouteOrder(t, e.new(t)) })
			t.Run("compare and set", func(t *testing.T) { testRouteCAS(t, e.new(t)) })
			t.Run("capacity", func(t *testing.T) { testRouteCapacity(t, e.new(t)) })
			t.Run("undo", func(t *testing.T) { testRouteUndo(t, e.new(t)) })
			t.Run("assign", func(t *testing.T) { testRouteAssign(t, e.new(t)) })
			t.Run("expire", func(t *testing.T) { testRouteExpire(t, e.new(t)) })
			t.Run("pending", func(t *testing.T) { testRoutePending(t, e.new(t)) })
		})
	}
}

var rt0 = time.UnixMilli(1_700_000_000_000)

// queueScored queues id in group with a given score and front flag.
func queueScored(t *testing.T, s Store, id, group string, score int64, front bool) {
	t.Helper()
	ctx := context.Background()
	newConv(t, s, id)
	r := &Route{Group: group, Score: score, Front: front, Since: rt0, VIP: 1, Key: "handoff:" + id}
	op, err := s.Reroute(ctx, RouteChange{Conv: id, Next: r, Op: RouteOp{Kind: opHandoff, Enter: true, At: rt0}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Apply(ctx, id, Transition{From: []string{StatusBot}, To: StatusQueued, Group: group}, Message{ID: "h", Kind: KindHandoff}); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishRoute(ctx, op); err != nil {
		t.Fatal(err)
	}
}

func waitingIDs(t *testing.T, s Store) []string {
	t.Helper()
	w, err := s.Waiting(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ids(w)
}

func testRouteOrder(t *testing.T, s Store) {
	ctx := context.Background()
	queueScored(t, s, "late", GroupPresale, 3000, false)
	queueScored(t, s, "early", GroupPresale, 1000, false)
	queueScored(t, s, "other", GroupAftersale, 2000, false)
	queueScored(t, s, "front", GroupPresale, 9000, true)
	queueScored(t, s, "tie-b", GroupPresale, 2500, false)
	queueScored(t, s, "tie-a", GroupPresale, 2500, false)
	want := []string{"front", "early", "other", "tie-a", "tie-b", "late"}
	if got := waitingIDs(t, s); !slices.Equal(got, want) {
		t.Errorf("Waiting = %v, want %v", got, want)
	}
	st, err := s.RouteState(ctx, "front")
	if err != nil {
		t.Fatal(err)
	}
	want0 := Route{Group: GroupPresale, Score: 9000, Front: true, Since: rt0, VIP: 1, Key: "handoff:front"}
	if st.Route == nil || *st.Route != want0 || st.Rev != 1 || st.Pending != nil {
		t.Errorf("RouteState(front) = %+v (route %+v), want rev 1, route %+v, nothing pending", st, st.Route, want0)
	}
	if st, err := s.RouteState(ctx, "unknown"); err != nil || st.Route != nil || st.Rev != 0 || st.Pending != nil {
		t.Errorf("RouteState(unknown) = %+v, %v; want the zero state", st, err)
	}
}

func testRouteCAS(t *testing.T, s Store) {
	ctx := context.Background()
	newConv(t, s, "c1")
	r := &Route{Group: GroupPresale, Score: 1, Since: rt0, Key: "k|with|bars"}
	op, err := s.Reroute(ctx, RouteChange{Conv: "c1", Next: r, Op: RouteOp{Kind: opHandoff, Enter: true, At: rt0, Data: []byte(`{"key":"x"}`)}})
	if err != nil {
		t.Fatal(err)
	}
	if op.Rev != 1 || op.Conv != "c1" || op.Prev != nil || *op.Next != *r || string(op.Data) != `{"key":"x"}` {
		t.Errorf("Reroute = %+v", op)
	}
	// Pending: not waiting yet, and no other change.
	if got := waitingIDs(t, s); len(got) != 0 {
		t.Errorf("Waiting while the hand-off is pending = %v", got)
	}
	st, _ := s.RouteState(ctx, "c1")
	if st.Pending == nil || st.Pending.Rev != 1 || st.Pending.Kind != opHandoff || !st.Pending.Enter || *st.Pending.Next != *r || string(st.Pending.Data) != `{"key":"x"}` {
		t.Fatalf("pending = %+v", st.Pending)
	}
	next := *r
	next.Agent = "alice"
	if _, err := s.Reroute(ctx, RouteChange{Conv: "c1", Rev: 1, Prev: r, Next: &next, Cap: 5, Op: RouteOp{Kind: opClaim, At: rt0}}); !errors.Is(err, errBusy) {
		t.Errorf("Reroute with a change pending: error = %v, want errBusy", err)
	}
	if _, _, err := s.Apply(ctx, "c1", Transition{From: []string{StatusBot}, To: StatusQueued, Group: GroupPresale}, Message{ID: "h", Kind: KindHandoff}); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishRoute(ctx, RouteOp{Conv: "c1", Rev: 7}); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.RouteState(ctx, "c1"); st.Pending == nil {
		t.Error("FinishRoute of another revision finished the pending change")
	}
	if err := s.FinishRoute(ctx, op); err != nil {
		t.Fatal(err)
	}
	if got := waitingIDs(t, s); !slices.Equal(got, []string{"c1"}) {
		t.Errorf("Waiting after FinishRoute = %v, want c1", got)
	}
	for _, tc := range []struct {
		name string
		ch   RouteChange
	}{
		{"old revision", RouteChange{Conv: "c1", Rev: 0, Prev: r, Next: &next, Cap: 5}},
		{"other route", RouteChange{Conv: "c1", Rev: 1, Prev: &next, Next: &next, Cap: 5}},
		{"no route", RouteChange{Conv: "c1", Rev: 1, Next: &next, Cap: 5}},
	} {
		if _, err := s.Reroute(ctx, tc.ch); !errors.Is(err, errConflict) {
			t.Errorf("Reroute with %s: error = %v, want errConflict", tc.name, err)
		}
	}
	op, err = s.Reroute(ctx, RouteChange{Conv: "c1", Rev: 1, Prev: r, Next: &next, Cap: 5, Op: RouteOp{Kind: opClaim, Agent: "alice", To: "alice", At: rt0}})
	if err != nil || op.Rev != 2 {
		t.Fatalf("claim = %+v, %v", op, err)
	}
	if got := waitingIDs(t, s); len(got) != 0 {
		t.Errorf("Waiting after the claim = %v, want none", got)
	}
	if n, _ := s.Load(ctx, "alice"); n != 1 {
		t.Errorf("Load(alice) = %d, want 1", n)
	}
	s.FinishRoute(ctx, op)
	// Out of routing: resolved.
	op, err = s.Reroute(ctx, RouteChange{Conv: "c1", Rev: 2, Prev: &next, Op: RouteOp{Kind: opResolve, Agent: "alice", At: rt0}})
	if err != nil || op.Next != nil {
		t.Fatalf("resolve = %+v, %v", op, err)
	}
	s.FinishRoute(ctx, op)
	if n, _ := s.Load(ctx, "alice"); n != 0 {
		t.Errorf("Load(alice) after resolve = %d, want 0", n)
	}
	if st, _ := s.RouteState(ctx, "c1"); st.Route != nil || st.Rev != 3 || st.Pending != nil {
		t.Errorf("state after resolve = %+v", st)
	}
}

func testRouteCapacity(t *testing.T, s Store) {
	ctx := context.Background()
	for i := range 3 {
		queueScored(t, s, fmt.Sprint("c", i), GroupPresale, int64(i), false)
	}
	for i := range 2 {
		if err := claimIn(t, s, fmt.Sprint("c", i), "alice", 2); err != nil {
			t.Fatalf("claim %d: %v", i, err)
		}
	}
	if err := claimIn(t, s, "c2", "alice", 2); !errors.Is(err, ErrAtCapacity) {
		t.Errorf("third claim with a limit of 2: error = %v, want ErrAtCapacity", err)
	}
	if got := waitingIDs(t, s); !slices.Equal(got, []string{"c2"}) {
		t.Errorf("Waiting after the refused claim = %v, want c2", got)
	}
	if err := claimIn(t, s, "c2", "alice", 3); err != nil {
		t.Errorf("claim with a limit of 3: %v", err)
	}
	// A transfer among agents checks the new owner's limit only.
	st, _ := s.RouteState(ctx, "c0")
	next := *st.Route
	next.Agent = "bob"
	if _, err := s.Reroute(ctx, RouteChange{Conv: "c0", Rev: st.Rev, Prev: st.Route, Next: &next, Cap: 0, Op: RouteOp{Kind: opTransfer, At: rt0}}); !errors.Is(err, ErrAtCapacity) {
		t.Errorf("transfer to bob with a limit of 0: error = %v, want ErrAtCapacity", err)
	}
	op, err := s.Reroute(ctx, RouteChange{Conv: "c0", Rev: st.Rev, Prev: st.Route, Next: &next, Cap: 1, Op: RouteOp{Kind: opTransfer, At: rt0}})
	if err != nil {
		t.Fatal(err)
	}
	s.FinishRoute(ctx, op)
	if a, b := must(s.Load(ctx, "alice")), must(s.Load(ctx, "bob")); a != 2 || b != 1 {
		t.Errorf("loads after the transfer: alice %d, bob %d; want 2, 1", a, b)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func testRouteUndo(t *testing.T, s Store) {
	ctx := context.Background()
	queueScored(t, s, "c1", GroupPresale, 10, true)
	queueScored(t, s, "c2", GroupPresale, 5, false)
	st, _ := s.RouteState(ctx, "c1")
	next := *st.Route
	next.Agent = "alice"
	op, err := s.Reroute(ctx, RouteChange{Conv: "c1", Rev: st.Rev, Prev: st.Route, Next: &next, Cap: 1, Op: RouteOp{Kind: opClaim, At: rt0}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.UndoRoute(ctx, RouteOp{Conv: "c1", Rev: op.Rev + 1}); err != nil {
		t.Fatal(err)
	}
	if got := waitingIDs(t, s); !slices.Equal(got, []string{"c2"}) {
		t.Fatalf("UndoRoute of another revision changed the queue: %v", got)
	}
	if err := s.UndoRoute(ctx, op); err != nil {
		t.Fatal(err)
	}
	if got := waitingIDs(t, s); !slices.Equal(got, []string{"c1", "c2"}) {
		t.Errorf("Waiting after the undone claim = %v, want c1 back at the front", got)
	}
	after, _ := s.RouteState(ctx, "c1")
	if after.Pending != nil || after.Rev != op.Rev+1 || *after.Route != *st.Route {
		t.Errorf("state after undo = %+v (route %+v), want the route before, rev %d", after, after.Route, op.Rev+1)
	}
	if n, _ := s.Load(ctx, "alice"); n != 0 {
		t.Errorf("Load(alice) after the undone claim = %d", n)
	}
	// An undone hand-off leaves routing.
	newConv(t, s, "c3")
	op, err = s.Reroute(ctx, RouteChange{Conv: "c3", Next: &Route{Group: GroupPresale, Since: rt0}, Op: RouteOp{Kind: opHandoff, Enter: true, At: rt0}})
	if err != nil {
		t.Fatal(err)
	}
	s.UndoRoute(ctx, op)
	if st, _ := s.RouteState(ctx, "c3"); st.Route != nil || st.Pending != nil || st.Rev != 2 {
		t.Errorf("state after the undone hand-off = %+v", st)
	}
	if err := s.FinishRoute(ctx, op); err != nil {
		t.Fatal(err)
	}
	if got := waitingIDs(t, s); slices.Contains(got, "c3") {
		t.Errorf("FinishRoute after UndoRoute queued c3: %v", got)
	}
}

func testRouteAssign(t *testing.T, s Store) {
	ctx := context.Background()
	now := rt0.Add(time.Hour)
	cutoff := now.Add(-time.Minute)
	beat := func(agent, group, status string, limit int, seen time.Time) {
		t.Helper()
		if err := s.Heartbeat(ctx, Presence{Agent: agent, Group: group, Status: status, Cap: limit, Seen: seen}); err != nil {
			t.Fatal(err)
		}
	}
	if op, ok, err := s.Assign(ctx, GroupPresale, []string{"x"}, cutoff, now); ok || err != nil {
		t.Errorf("Assign on an empty queue = %+v, %v, %v", op, ok, err)
	}
	for i := range 5 {
		queueScored(t, s, fmt.Sprint("c", i), GroupPresale, int64(10-i), false)
	}
	beat("away", GroupPresale, PresenceAway, 10, now)
	beat("stale", GroupPresale, PresenceOnline, 10, cutoff.Add(-time.Millisecond))
	beat("other", GroupAftersale, PresenceOnline, 10, now)
	beat("full", GroupPresale, PresenceOnline, 0, now)
	cands := []string{"away", "stale", "other", "full", "unknown"}
	if op, ok, err := s.Assign(ctx, GroupPresale, cands, cutoff, now); ok || err != nil {
		t.Errorf("Assign with no agent fit = %+v, %v, %v", op, ok, err)
	}
	beat("bob", GroupPresale, PresenceOnline, 2, cutoff)
	beat("alice", GroupPresale, PresenceOnline, 1, now)
	cands = append(cands, "bob", "alice")
	var got []string
	for {
		op, ok, err := s.Assign(ctx, GroupPresale, cands, cutoff, now)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		if op.Kind != opAssign || op.To != op.Agent || op.Prev == nil || op.Prev.Agent != "" || op.Next.Agent != op.To || !op.At.Equal(now) {
			t.Errorf("Assign = %+v", op)
		}
		st, _ := s.RouteState(ctx, op.Conv)
		if st.Pending == nil || st.Pending.Rev != op.Rev || st.Rev != op.Rev {
			t.Errorf("after Assign of %s the state is %+v", op.Conv, st)
		}
		got = append(got, op.Conv+">"+op.To)
		s.FinishRoute(ctx, op)
	}
	// Highest priority first (lowest score: c4), to the least loaded (bob before alice
	// on a tie, by the order given), each up to their limit.
	if want := []string{"c4>bob", "c3>alice", "c2>bob"}; !slices.Equal(got, want) {
		t.Errorf("assignments = %v, want %v", got, want)
	}
	if w := waitingIDs(t, s); !slices.Equal(w, []string{"c1", "c0"}) {
		t.Errorf("Waiting after the assignments = %v, want c1, c0", w)
	}
}

func testRouteExpire(t *testing.T, s Store) {
	ctx := context.Background()
	now := rt0.Add(time.Hour)
	for i := range 3 {
		queueScored(t, s, fmt.Sprint("c", i), GroupAftersale, int64(100+i), false)
		if err := claimIn(t, s, fmt.Sprint("c", i), "alice", 20); err != nil {
			t.Fatal(err)
		}
	}
	queueScored(t, s, "waiting", GroupAftersale, 1, false)
	s.Heartbeat(ctx, Presence{Agent: "alice", Group: GroupAftersale, Status: PresenceOnline, Cap: 20, Seen: now})
	s.Heartbeat(ctx, Presence{Agent: "bob", Group: GroupAftersale, Status: PresenceOnline, Cap: 20, Seen: now.Add(time.Minute)})
	if ops, err := s.Expire(ctx, "alice", now, now); err != nil || len(ops) != 0 {
		t.Errorf("Expire with a heartbeat at the cutoff = %v, %v; want nothing", ops, err)
	}
	if as, err := s.Expired(ctx, now.Add(time.Millisecond)); err != nil || !slices.Equal(as, []string{"alice"}) {
		t.Errorf("Expired = %v, %v; want alice", as, err)
	}
	// c1 is in the middle of a transfer: it stays with alice for now.
	st, _ := s.RouteState(ctx, "c1")
	next := *st.Route
	next.Agent = "bob"
	busy, err := s.Reroute(ctx, RouteChange{Conv: "c1", Rev: st.Rev, Prev: st.Route, Next: &next, Cap: 20, Op: RouteOp{Kind: opTransfer, At: now}})
	if err != nil {
		t.Fatal(err)
	}
	s.UndoRoute(ctx, busy) // back to alice, and a new pending change:
	st, _ = s.RouteState(ctx, "c1")
	next = *st.Route
	next.Group = GroupPresale
	busy, err = s.Reroute(ctx, RouteChange{Conv: "c1", Rev: st.Rev, Prev: st.Route, Next: &next, Cap: 20, Op: RouteOp{Kind: opTransfer, At: now}})
	if err != nil {
		t.Fatal(err)
	}

	at := now.Add(2 * time.Minute)
	ops, err := s.Expire(ctx, "alice", now.Add(time.Minute), at)
	if err != nil {
		t.Fatal(err)
	}
	var convs []string
	for _, op := range ops {
		convs = append(convs, op.Conv)
		if op.Kind != opRequeue || op.Agent != "alice" || !op.Enter || op.Prev.Agent != "alice" || op.Next.Agent != "" || !op.Next.Front || !op.Next.Since.Equal(at) || op.Next.Score != op.Prev.Score {
			t.Errorf("requeue = %+v (prev %+v, next %+v)", op, op.Prev, op.Next)
		}
		if _, _, err := s.Apply(ctx, op.Conv, Transition{From: []string{StatusActive}, To: StatusQueued, Group: op.Next.Group}, Message{ID: "requeue", Kind: KindStatus}); err != nil {
			t.Fatal(err)
		}
		s.FinishRoute(ctx, op)
	}
	slices.Sort(convs)
	if !slices.Equal(convs, []string{"c0", "c2"}) {
		t.Errorf("Expire requeued %v, want c0 and c2 (c1 has a pending change)", convs)
	}
	if w := waitingIDs(t, s); !slices.Equal(w, []string{"c0", "c2", "waiting"}) {
		t.Errorf("Waiting = %v, want the requeued c0, c2 ahead of waiting", w)
	}
	ps, _ := s.Presences(ctx)
	if len(ps) != 2 || ps[0].Agent != "alice" || ps[0].Status != PresenceOffline || ps[0].Cap != 20 || !ps[0].Seen.Equal(now) || ps[1].Agent != "bob" {
		t.Errorf("Presences = %+v, want alice offline (seen %v), bob", ps, now)
	}
	// alice still holds c1, so she is expired again by the next sweep.
	if as, _ := s.Expired(ctx, now.Add(time.Minute)); !slices.Equal(as, []string{"alice"}) {
		t.Errorf("Expired while alice holds c1 = %v, want alice", as)
	}
	s.UndoRoute(ctx, busy)
	ops, err = s.Expire(ctx, "alice", now.Add(time.Minute), at)
	if err != nil || len(ops) != 1 || ops[0].Conv != "c1" {
		t.Fatalf("second Expire = %+v, %v; want c1", ops, err)
	}
	if as, _ := s.Expired(ctx, now.Add(time.Hour)); !slices.Equal(as, []string{"bob"}) {
		t.Errorf("Expired after alice gave everything back = %v, want bob only", as)
	}
	// A heartbeat saying offline expires at once, whatever the cutoff.
	s.Heartbeat(ctx, Presence{Agent: "bob", Group: GroupAftersale, Status: PresenceOffline, Cap: 20, Seen: now.Add(time.Minute)})
	if as, _ := s.Expired(ctx, rt0); !slices.Equal(as, []string{"bob"}) {
		t.Errorf("Expired after bob said offline = %v, want bob", as)
	}
	if ops, err := s.Expire(ctx, "bob", rt0, at); err != nil || len(ops) != 0 {
		t.Errorf("Expire(bob) = %v, %v", ops, err)
	}
	if as, _ := s.Expired(ctx, now.Add(time.Hour)); len(as) != 0 {
		t.Errorf("Expired at the end = %v, want none", as)
	}
}

func testRoutePending(t *testing.T, s Store) {
	ctx := context.Background()
	var ops []RouteOp
	for i := range 3 {
		newConv(t, s, fmt.Sprint("c", i))
		at := rt0.Add(time.Duration(i) * time.Second)
		op, err := s.Reroute(ctx, RouteChange{Conv: fmt.Sprint("c", i), Next: &Route{Group: GroupPresale, Since: at}, Op: RouteOp{Kind: opHandoff, Enter: true, At: at}})
		if err != nil {
			t.Fatal(err)
		}
		ops = append(ops, op)
	}
	got, err := s.PendingRoutes(ctx, rt0.Add(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Conv != "c0" || got[1].Conv != "c1" || got[1].Rev != 1 || got[1].Next == nil || !got[1].At.Equal(rt0.Add(time.Second)) {
		t.Errorf("PendingRoutes(before the third) = %+v", got)
	}
	s.FinishRoute(ctx, ops[0])
	if got, _ := s.PendingRoutes(ctx, rt0.Add(time.Hour)); len(got) != 2 || got[0].Conv != "c1" {
		t.Errorf("PendingRoutes after finishing c0 = %+v", got)
	}
}
