package widget

import (
	"encoding/json"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
)

// conn is one shopper websocket: a read side used by one goroutine, and a queue of
// frames to write that grows as frames come and is let go once written, so that an
// idle socket holds none. The queue is written by whichever goroutine its owner wakes
// (kick): a socket keeps no goroutine of its own waiting to write. A client too slow to
// drain the queue is disconnected instead of being buffered without limit.
type conn struct {
	ws   *websocket.Conn
	cfg  Config
	kick func()        // asks the owner to write the queue soon, without blocking
	done chan struct{} // closed when the socket is done: closed, or a write failed

	mu      sync.Mutex // guards queue, closing and ping
	queue   []frame
	closing *closeMsg
	// delivery observes, for a frame of a committed record, the seconds from the
	// commit to the frame written.
	delivery prometheus.Observer

	ping      *time.Timer // guarded by mu
	closeOnce sync.Once
}

// frame is a queued frame and, for a record heard as an event, when it was committed.
type frame struct {
	b  []byte
	at time.Time
}

type closeMsg struct {
	code   int
	reason string
}

// newConn wraps ws; kick is called whenever frames wait to be written (writeQueued).
// The conn pings the client every PingInterval from a timer.
func newConn(ws *websocket.Conn, cfg Config, delivery prometheus.Observer, kick func()) *conn {
	ws.SetReadLimit(MaxFrameBytes)
	c := &conn{ws: ws, cfg: cfg, kick: kick, done: make(chan struct{}), delivery: delivery}
	c.mu.Lock()
	c.ping = time.AfterFunc(cfg.PingInterval, c.sendPing)
	c.mu.Unlock()
	return c
}

// sendPing pings the client and sets the next ping. Control frames may be written
// beside the writes of the queue (gorilla/websocket allows WriteControl concurrently).
func (c *conn) sendPing() {
	select {
	case <-c.done:
		return
	default:
	}
	if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.cfg.WriteWait)); err != nil {
		c.stop()
		return
	}
	c.mu.Lock()
	c.ping.Reset(c.cfg.PingInterval)
	c.mu.Unlock()
}

// enqueue queues a frame; it reports false when the connection is closed or the client
// is too slow, in which case the connection is being closed.
func (c *conn) enqueue(v any) bool { return c.enqueueAt(v, time.Time{}) }

// enqueueAt is enqueue for the frame of a record committed at at: the time until the
// frame is written is observed as its delivery time.
func (c *conn) enqueueAt(v any, at time.Time) bool {
	b, err := json.Marshal(v)
	if err != nil {
		return false
	}
	select {
	case <-c.done:
		return false
	default:
	}
	c.mu.Lock()
	if c.closing != nil {
		c.mu.Unlock()
		return false
	}
	if len(c.queue) >= c.cfg.SendQueue {
		c.mu.Unlock()
		c.shutdown(closeMsg{websocket.ClosePolicyViolation, "slow consumer"})
		return false
	}
	c.queue = append(c.queue, frame{b, at})
	c.mu.Unlock()
	c.kick()
	return true
}

// shutdown asks for a close frame to be sent after the queued frames, and the socket
// closed.
func (c *conn) shutdown(m closeMsg) {
	c.mu.Lock()
	if c.closing == nil {
		c.closing = &m
	}
	c.mu.Unlock()
	c.kick()
}

// stop closes the socket at once; a read or write under way fails.
func (c *conn) stop() {
	c.closeOnce.Do(func() {
		close(c.done)
		c.mu.Lock()
		c.ping.Stop()
		c.mu.Unlock()
		c.ws.Close()
	})
}

// writeQueued writes the queued frames, and the close frame when one was asked for,
// then closes the socket; it reports false when the socket is done: the close was sent
// or a write failed. One goroutine at a time calls it.
func (c *conn) writeQueued() bool {
	if !c.write() {
		c.stop()
		return false
	}
	return true
}

func (c *conn) write() bool {
	c.mu.Lock()
	frames, closing := c.queue, c.closing
	c.queue = nil
	c.mu.Unlock()
	for _, f := range frames {
		c.ws.SetWriteDeadline(time.Now().Add(c.cfg.WriteWait))
		if c.ws.WriteMessage(websocket.TextMessage, f.b) != nil {
			return false
		}
		if !f.at.IsZero() && c.delivery != nil {
			c.delivery.Observe(max(time.Since(f.at), 0).Seconds())
		}
	}
	if closing != nil {
		c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(closing.code, closing.reason), time.Now().Add(c.cfg.WriteWait))
		return false
	}
	return true
}
