package console

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/handoff/desktest"
	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/timetest"
)

// killableDialer dials TCP and keeps every connection, so that a test can cut them all
// at once, as a network failure or a closed laptop does.
type killableDialer struct {
	mu    sync.Mutex // guards conns
	conns []net.Conn
}

func (k *killableDialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err == nil {
		k.mu.Lock()
		k.conns = append(k.conns, c)
		k.mu.Unlock()
	}
	return c, err
}

func (k *killableDialer) kill() {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, c := range k.conns {
		c.Close()
	}
	k.conns = nil
}

// TestAgentConnectionKilled is the fault test of the issue in real time against a real
// redis-server: an agent's console (its event stream and its heartbeats, over HTTP, like
// the browser's) holds three chats; while it beats, nothing moves, even for longer than
// the grace period; once its connections are cut, the chats are back at the front of the
// queue, each with the offline note for the shopper, within the grace period and a sweep,
// and not before the grace period has passed.
func TestAgentConnectionKilled(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	acc := ctAccounts(t, time.Now)
	d := desktest.Open(t, desktest.Options{Engine: desktest.Redis, Now: time.Now, Desk: func(c *handoff.DeskConfig) {
		c.Staff, c.Grace, c.SweepInterval = acc, desktest.OfflineGrace, desktest.OfflineSweep
	}}).Desk
	srv := httptest.NewServer(ctRoutes(t, d, acc, time.Now))
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
	})
	token := ctAddUser(t, acc, "alice", account.RoleAgent, handoff.GroupAftersale)

	// alice's console: one HTTP client, as one browser tab.
	dialer := &killableDialer{}
	client := &http.Client{Transport: &http.Transport{DialContext: dialer.dial}}
	t.Cleanup(dialer.kill)
	request := func(method, path, body string) (*http.Response, error) {
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		return client.Do(req)
	}
	events, err := request("GET", "/api/events", "")
	if err != nil || events.StatusCode != 200 {
		t.Fatalf("opening the event stream: %v %v", events, err)
	}
	streamEnded := make(chan struct{})
	go func() {
		defer close(streamEnded)
		sc := bufio.NewScanner(events.Body)
		for sc.Scan() {
		}
	}()
	beats := desktest.StartBeats(t, func() bool {
		res, err := request("POST", "/api/presence", `{"status":"online"}`)
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == 200
	})
	timetest.Poll(t, 10*time.Second, "alice's first heartbeat", func() bool {
		a, err := d.AgentLoad(ctx, "alice")
		return err == nil && a.Status == handoff.PresenceOnline
	})
	var chats []string
	for range 3 {
		chats = append(chats, ctHandoff(t, d, handoff.GroupAftersale, "after_sales"))
	}
	slices.Sort(chats)
	off := desktest.Offline{Agent: "alice", Group: handoff.GroupAftersale, Chats: chats}
	timetest.Poll(t, 10*time.Second, "alice to be given the three chats", func() bool {
		o, err := d.Owned(ctx, "alice")
		ids := ctIDs(o)
		slices.Sort(ids)
		return err == nil && slices.Equal(ids, chats)
	})

	// While the console beats, nothing moves, for longer than the grace period.
	off.Held(t, d)

	// The connection dies: the event stream and the heartbeats with it.
	lastBeat := beats.Stop()
	dialer.kill()
	killed := time.Now()
	select {
	case <-streamEnded:
	case <-time.After(5 * time.Second):
		t.Fatal("the event stream did not end when its connection was cut")
	}
	off.Requeued(t, d, lastBeat, killed)
}
