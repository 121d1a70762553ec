package widget

import (
	"encoding/json"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// conn is one shopper websocket: a read side used by one goroutine, and a write loop
// fed by a bounded queue. A client too slow to drain the queue is disconnected instead
// of being buffered without limit.
type conn struct {
	ws        *websocket.Conn
	send      chan []byte
	closing   chan closeMsg
	done      chan struct{}
	closeOnce sync.Once
	cfg       Config
}

type closeMsg struct {
	code   int
	reason string
}

func newConn(ws *websocket.Conn, cfg Config) *conn {
	ws.SetReadLimit(MaxFrameBytes)
	return &conn{
		ws:      ws,
		send:    make(chan []byte, cfg.SendQueue),
		closing: make(chan closeMsg, 1),
		done:    make(chan struct{}),
		cfg:     cfg,
	}
}

// enqueue queues a frame; it reports false when the connection is closed or the client
// is too slow, in which case the connection is being closed.
func (c *conn) enqueue(v any) bool {
	b, err := json.Marshal(v)
	if err != nil {
		return false
	}
	select {
	case <-c.done:
		return false
	default:
	}
	select {
	case c.send <- b:
		return true
	default:
		c.shutdown(closeMsg{websocket.ClosePolicyViolation, "slow consumer"})
		return false
	}
}

// shutdown asks the write loop to send a close frame after the queued frames and stop.
func (c *conn) shutdown(m closeMsg) {
	select {
	case c.closing <- m:
	default:
	}
}

// stop ends the write loop at once; the loop closes the socket.
func (c *conn) stop() { c.closeOnce.Do(func() { close(c.done) }) }

// writeLoop writes queued frames and pings until stop or shutdown, then closes the socket.
func (c *conn) writeLoop() {
	ping := time.NewTicker(c.cfg.PingInterval)
	defer func() {
		ping.Stop()
		c.stop()
		c.ws.Close()
	}()
	write := func(b []byte) bool {
		c.ws.SetWriteDeadline(time.Now().Add(c.cfg.WriteWait))
		return c.ws.WriteMessage(websocket.TextMessage, b) == nil
	}
	for {
		select {
		case <-c.done:
			return
		case b := <-c.send:
			if !write(b) {
				return
			}
		case m := <-c.closing:
			for drained := false; !drained; {
				select {
				case b := <-c.send:
					if !write(b) {
						return
					}
				default:
					drained = true
				}
			}
			c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(m.code, m.reason), time.Now().Add(c.cfg.WriteWait))
			return
		case <-ping.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.cfg.WriteWait)); err != nil {
				return
			}
		}
	}
}
