package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/goleak"
)

// pgURL is the PostgreSQL the live tests share: $PG_URL, default the
// local server's database test (trust authentication). Every test uses
// its own channel prefix and attachments table.
var pgURL string

// pgHostPort is pgURL's address, for the cut proxy.
var pgHostPort string

func TestMain(m *testing.M) {
	code := func() int {
		pgURL = os.Getenv("PG_URL")
		if pgURL == "" {
			pgURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
		}
		cfg, err := pgxpool.ParseConfig(pgURL)
		if err != nil {
			fmt.Fprintf(os.Stderr, "postgres adapter tests: bad PG_URL %q: %v\n", pgURL, err)
			return 1
		}
		pgHostPort = net.JoinHostPort(cfg.ConnConfig.Host, fmt.Sprint(cfg.ConnConfig.Port))
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err == nil {
			err = pool.Ping(ctx)
			pool.Close()
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "postgres adapter tests need PostgreSQL at %s (set PG_URL; .ci/run starts one): %v\n", pgURL, err)
			return 1
		}
		return m.Run()
	}()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// testLogger logs the adapters' warnings when POSTGRES_ADAPTER_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("POSTGRES_ADAPTER_LOG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// randomName returns prefix followed by 12 random hex digits.
func randomName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// newPool returns a pool on url with at most maxConns connections, closed
// by the test's cleanup.
func newPool(t testing.TB, url string, maxConns int32) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = maxConns
	cfg.ConnConfig.ConnectTimeout = 2 * time.Second
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// testTable returns a fresh attachments table name, dropped by the test's
// cleanup (the adapter creates it).
func testTable(t testing.TB) string {
	t.Helper()
	table := randomName("sio_test_")
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		pool, err := pgxpool.New(ctx, pgURL)
		if err != nil {
			return
		}
		defer pool.Close()
		_, _ = pool.Exec(ctx, "DROP TABLE IF EXISTS "+tableIdent(table))
	})
	return table
}

// cutProxy is a TCP proxy in front of PostgreSQL that can cut every
// connection and refuse new ones, as a database crash would, then accept
// again.
type cutProxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	down  bool
	conns map[net.Conn]bool
	wg    sync.WaitGroup
}

func newCutProxy(t testing.TB, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

// url is the connection URL of the database through the proxy.
func (p *cutProxy) url() string {
	return "postgres://postgres@" + p.ln.Addr().String() + "/test?sslmode=disable"
}

func (p *cutProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			_ = c.Close()
			continue
		}
		p.conns[c] = true
		p.mu.Unlock()
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			d, err := net.DialTimeout("tcp", p.target, 2*time.Second)
			if err != nil {
				_ = c.Close()
				return
			}
			p.mu.Lock()
			if p.down || p.conns[c] == false {
				p.mu.Unlock()
				_ = c.Close()
				_ = d.Close()
				return
			}
			p.conns[d] = true
			p.mu.Unlock()
			var wg sync.WaitGroup
			wg.Add(2)
			pipe := func(dst, src net.Conn) {
				defer wg.Done()
				_, _ = io.Copy(dst, src)
				_ = dst.Close()
				_ = src.Close()
			}
			go pipe(d, c)
			go pipe(c, d)
			wg.Wait()
			p.mu.Lock()
			delete(p.conns, c)
			delete(p.conns, d)
			p.mu.Unlock()
		}()
	}
}

// cut closes every connection and refuses new ones until restore.
func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		_ = c.Close()
		delete(p.conns, c)
	}
}

// restore accepts connections again.
func (p *cutProxy) restore() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}

func (p *cutProxy) close() {
	_ = p.ln.Close()
	p.cut()
	p.wg.Wait()
}
