package local

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// echoServer echoes every connection on a loopback port and counts the
// connections it has accepted and those still open.
type echoServer struct {
	ln       net.Listener
	wg       sync.WaitGroup
	mu       sync.Mutex
	accepted int
	open     int
	closed   chan struct{}
}

func startEcho(t *testing.T) *echoServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e := &echoServer{ln: ln, closed: make(chan struct{}, 100)}
	e.wg.Add(1)
	go e.serve()
	t.Cleanup(func() {
		_ = ln.Close()
		e.wg.Wait()
	})
	return e
}

func (e *echoServer) serve() {
	defer e.wg.Done()
	for {
		c, err := e.ln.Accept()
		if err != nil {
			return
		}
		e.mu.Lock()
		e.accepted++
		e.open++
		e.mu.Unlock()
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			_, _ = io.Copy(c, c)
			_ = c.Close()
			e.mu.Lock()
			e.open--
			e.mu.Unlock()
			e.closed <- struct{}{}
		}()
	}
}

func (e *echoServer) counts() (accepted, open int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.accepted, e.open
}

func startTestProxy(t *testing.T, target string) *proxy {
	t.Helper()
	p, err := listenProxy()
	if err != nil {
		t.Fatal(err)
	}
	p.start(target, copyPipe)
	t.Cleanup(p.close)
	return p
}

func dialProxy(t *testing.T, p *proxy) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", p.addr(), time.Second)
	if err != nil {
		t.Fatalf("dialing the proxy: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// roundTrip writes msg on c and reads it back, with a deadline.
func roundTrip(c net.Conn, msg string) error {
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte(msg)); err != nil {
		return err
	}
	buf := make([]byte, len(msg))
	if _, err := io.ReadFull(c, buf); err != nil {
		return err
	}
	if string(buf) != msg {
		return errors.New("echoed " + string(buf) + ", want " + msg)
	}
	return nil
}

// dialRefused dials the proxy and reports whether the connection was
// refused: reset before or right after the dial returned.
func dialRefused(p *proxy) error {
	c, err := net.DialTimeout("tcp", p.addr(), time.Second)
	if err != nil {
		return nil
	}
	defer func() { _ = c.Close() }()
	return refused(c)
}

// refused reports whether c was reset or closed by the proxy: a read fails
// at once with something other than a timeout.
func refused(c net.Conn) error {
	_ = c.SetReadDeadline(time.Now().Add(time.Second))
	_, err := c.Read(make([]byte, 1))
	var ne net.Error
	if err == nil || (errors.As(err, &ne) && ne.Timeout()) {
		return errors.New("the connection is still open")
	}
	return nil
}

func TestProxyForwards(t *testing.T) {
	e := startEcho(t)
	p := startTestProxy(t, e.ln.Addr().String())
	for _, msg := range []string{"hello", "second message on the same connection"} {
		c := dialProxy(t, p)
		if err := roundTrip(c, msg); err != nil {
			t.Errorf("round trip %q: %v", msg, err)
		}
		if err := roundTrip(c, msg); err != nil {
			t.Errorf("second round trip %q: %v", msg, err)
		}
	}
	if accepted, _ := e.counts(); accepted != 2 {
		t.Errorf("target accepted %d connections, want 2", accepted)
	}
}

// TestProxyCut checks that a cut resets the live connections on both
// sides, refuses new ones until every cut is healed, and that healing
// restores forwarding.
func TestProxyCut(t *testing.T) {
	tests := []struct {
		name string
		cuts int
	}{
		{name: "one cut", cuts: 1},
		{name: "nested cuts", cuts: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := startEcho(t)
			p := startTestProxy(t, e.ln.Addr().String())
			live := dialProxy(t, p)
			if err := roundTrip(live, "before"); err != nil {
				t.Fatal(err)
			}
			reset := 0
			for i := 0; i < tt.cuts; i++ {
				reset += p.cut()
			}
			if reset != 1 {
				t.Errorf("the cut reset %d connections, want 1", reset)
			}
			if err := refused(live); err != nil {
				t.Errorf("client side after the cut: %v", err)
			}
			awaitClosed(t, e, "the target's side after the cut")
			for i := 0; i < tt.cuts; i++ {
				if err := dialRefused(p); err != nil {
					t.Errorf("a new connection with %d of %d cuts healed: %v", i, tt.cuts, err)
				}
				p.heal()
			}
			if accepted, _ := e.counts(); accepted != 1 {
				t.Errorf("target accepted %d connections, want only the one before the cut", accepted)
			}
			if err := roundTrip(dialProxy(t, p), "after"); err != nil {
				t.Errorf("after the heal: %v", err)
			}
		})
	}
}

func awaitClosed(t *testing.T, e *echoServer, what string) {
	t.Helper()
	select {
	case <-e.closed:
	case <-time.After(time.Second):
		t.Errorf("%s: the target's connection is still open", what)
	}
}

// TestProxyTargetDown checks that a connection whose target refuses is reset.
func TestProxyTargetDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	p := startTestProxy(t, addr)
	if err := dialRefused(p); err != nil {
		t.Errorf("with the target down: %v", err)
	}
}

// TestProxyClose checks that close resets live connections, stops
// accepting and returns once every goroutine has (goleak checks the rest).
func TestProxyClose(t *testing.T) {
	e := startEcho(t)
	p, err := listenProxy()
	if err != nil {
		t.Fatal(err)
	}
	p.start(e.ln.Addr().String(), copyPipe)
	conns := []net.Conn{dialProxy(t, p), dialProxy(t, p)}
	for _, c := range conns {
		if err := roundTrip(c, "x"); err != nil {
			t.Fatal(err)
		}
	}
	p.cut()
	if err := dialRefused(p); err != nil {
		t.Fatal(err)
	}
	p.heal()
	conns = append(conns, dialProxy(t, p))
	if err := roundTrip(conns[2], "y"); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	p.close()
	if took := time.Since(began); took > time.Second {
		t.Errorf("close took %s", took)
	}
	for i, c := range conns {
		if err := refused(c); err != nil {
			t.Errorf("connection %d after close: %v", i, err)
		}
	}
	if c, err := net.DialTimeout("tcp", p.addr(), time.Second); err == nil {
		_ = c.Close()
		t.Errorf("dialing a closed proxy succeeded")
	}
	p.close()
}
