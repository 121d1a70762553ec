package widget

import (
	"encoding/json"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
)

// conn is one shopper websocket: a read side used by one goroutine, and a write loop fed
// by a queue that grows as frames come and is let go once written, so that an idle
// socket holds none. A client too slow to drain the queue is disconnected instead of
// being buffered without limit.
type conn struct {
	ws   *websocket.Conn
	cfg  Config
	wake chan struct{} // one slot: frames or a close wait
	done chan struct{}

	mu      sync.Mutex // guards queue and closing
	queue   []frame
	closing *closeMsg
	// delivery observes, for a frame of a committed record, the seconds from the
	// commit to the frame written.
	delivery prometheus.Observer

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

func newConn(ws *websocket.Conn, cfg Config, delivery prometheus.Observer) *conn {
	ws.SetReadLimit(MaxFrameBytes)
	return &conn{ws: ws, cfg: cfg, wake: make(chan struct{}, 1), done: make(chan struct{}), delivery: delivery}
}

func (c *conn) notify() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
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
	c.notify()
	return true
}

// shutdown asks the write loop to send a close frame after the queued frames and stop.
func (c *conn) shutdown(m closeMsg) {
	c.mu.Lock()
	if c.closing == nil {
		c.closing = &m
	}
	c.mu.Unlock()
	c.notify()
}

// stop ends the write loop at once; the loop closes the socket.
func (c *conn) stop() { c.closeOnce.Do(func() { close(c.done) }) }

// writeLoop writes queued frames and pings until stop or shutdown, then closes the
// socket. It has a goroutine of its own, so that a client that stops reading holds up
// only its own writes: frames queued meanwhile count against the slow-consumer limit.
func (c *conn) writeLoop() {
	ping := time.NewTicker(c.cfg.PingInterval)
	defer func() {
		ping.Stop()
		c.stop()
		c.ws.Close()
	}()
	for {
		select {
		case <-c.done:
			return
		case <-c.wake:
			if !c.writeQueued() {
				return
			}
		case <-ping.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.cfg.WriteWait)); err != nil {
				return
			}
		}
	}
}

// writeQueued writes the queued frames, and the close frame when one was asked for. It
// reports false when the socket is done: the close was sent or a write failed.
func (c *conn) writeQueued() bool {
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
