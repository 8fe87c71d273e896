package local

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// proxyDialTimeout bounds a proxy's dial of its target.
const proxyDialTimeout = 2 * time.Second

// pipeFunc copies one direction of a proxied connection until src or dst fails.
type pipeFunc func(dst io.Writer, src io.Reader) error

// copyPipe copies bytes as they come.
func copyPipe(dst io.Writer, src io.Reader) error {
	_, err := io.Copy(dst, src)
	return err
}

// proxy forwards the TCP connections it accepts on a loopback port to a
// target address: the bytes from the dialer to the target through its up
// pipe, the bytes back as they come. While cut it resets every connection
// it carries and every one it accepts, until healed; cuts nest (each cut
// needs its heal). Close stops it and reaps every goroutine.
type proxy struct {
	target string
	ln     net.Listener
	up     pipeFunc
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// mu guards cuts, closed and conns.
	mu     sync.Mutex
	cuts   int
	closed bool
	conns  map[*proxyConn]struct{}
}

// listenProxy listens on a free loopback port; start begins forwarding.
func listenProxy() (*proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &proxy{ln: ln, ctx: ctx, cancel: cancel, conns: map[*proxyConn]struct{}{}}, nil
}

// addr is the address the proxy listens on.
func (p *proxy) addr() string { return p.ln.Addr().String() }

// start accepts connections and forwards them to target, the dialer's bytes through up.
func (p *proxy) start(target string, up pipeFunc) {
	p.target, p.up = target, up
	p.wg.Add(1)
	go p.acceptLoop()
}

func (p *proxy) acceptLoop() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			if !p.sleep(10 * time.Millisecond) {
				return
			}
			continue
		}
		if !p.open() {
			resetConn(c)
			continue
		}
		p.wg.Add(1)
		go p.serve(c)
	}
}

// sleep waits d; it returns false when the proxy closes meanwhile.
func (p *proxy) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// open reports whether the proxy forwards new connections now.
func (p *proxy) open() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.closed && p.cuts == 0
}

// serve dials the target for the accepted connection down and forwards
// both ways until either side ends or a cut resets them.
func (p *proxy) serve(down net.Conn) {
	defer p.wg.Done()
	d := net.Dialer{Timeout: proxyDialTimeout}
	up, err := d.DialContext(p.ctx, "tcp", p.target)
	if err != nil {
		resetConn(down)
		return
	}
	pc := &proxyConn{down: down, up: up}
	if !p.track(pc) {
		pc.end(true)
		return
	}
	defer p.untrack(pc)
	back := make(chan struct{})
	go func() {
		defer close(back)
		_ = copyPipe(down, up)
		pc.end(false)
	}()
	_ = p.up(up, down)
	pc.end(false)
	<-back
}

func (p *proxy) track(pc *proxyConn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.cuts > 0 {
		return false
	}
	p.conns[pc] = struct{}{}
	return true
}

func (p *proxy) untrack(pc *proxyConn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.conns, pc)
}

// cut resets every connection the proxy carries and refuses new ones until
// the matching heal; it returns how many connections it reset.
func (p *proxy) cut() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cuts++
	if p.cuts > 1 {
		return 0
	}
	for pc := range p.conns {
		pc.end(true)
	}
	return len(p.conns)
}

// heal undoes one cut; the proxy forwards again once every cut is healed.
func (p *proxy) heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cuts > 0 {
		p.cuts--
	}
}

// close stops accepting, resets every connection and waits until every
// goroutine of the proxy has returned.
func (p *proxy) close() {
	p.mu.Lock()
	p.closed = true
	for pc := range p.conns {
		pc.end(true)
	}
	p.mu.Unlock()
	p.cancel()
	_ = p.ln.Close()
	p.wg.Wait()
}

// proxyConn is one forwarded connection: down from the dialer, up to the target.
type proxyConn struct {
	down, up net.Conn
	once     sync.Once
}

// end closes both sides once: with a reset when reset is set (a cut), else
// with a normal close (one side ended).
func (pc *proxyConn) end(reset bool) {
	pc.once.Do(func() {
		if reset {
			resetConn(pc.down)
			resetConn(pc.up)
			return
		}
		_ = pc.down.Close()
		_ = pc.up.Close()
	})
}

// resetConn closes c with a TCP reset. dragonboat's sender only writes, so
// after a plain close its next message would be taken by the half-closed
// socket and lost; after a reset, the write (or, for a connection accepted
// during a cut, often the dial itself) fails at once, and the sender
// redials, as soon as its circuit breaker lets it, once the cut is healed.
func resetConn(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}
