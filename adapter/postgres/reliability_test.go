package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/adapter/postgres"
	"github.com/gosio/socketio/client"
)

// sideServer is a Go server that reports the server-side events "ev" of
// its namespaces.
type sideServer struct {
	io  *socketio.Server
	got chan string // namespace + " " + JSON args
}

func newSideServer(t *testing.T, opts postgres.Options) *sideServer {
	t.Helper()
	pool := postgres.NewLivePool(t, postgres.LiveURL(), 4)
	io, err := socketio.NewServer(socketio.Config{Adapter: postgres.NewAdapter(pool, opts)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = io.Close() })
	return &sideServer{io: io, got: make(chan string, 256)}
}

// of opens namespace name and reports its server-side events.
func (s *sideServer) of(t *testing.T, name string) *socketio.Namespace {
	t.Helper()
	nsp, err := s.io.Of(name)
	if err != nil {
		t.Fatal(err)
	}
	nsp.OnServerSideEmit("ev", func(e *socketio.ServerEvent) {
		vals, _ := e.Args().Values()
		b, _ := json.Marshal(vals)
		s.got <- name + " " + string(b)
	})
	return nsp
}

// expect waits for a server-side event.
func (s *sideServer) expect(t *testing.T, want string, within time.Duration) {
	t.Helper()
	timeout := time.After(within)
	for {
		select {
		case got := <-s.got:
			if got == want {
				return
			}
		case <-timeout:
			t.Fatalf("no server-side event %s", want)
		}
	}
}

// adminPool is a pool for the tests' own queries.
func adminPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	return postgres.NewLivePool(t, postgres.LiveURL(), 2)
}

// listenBackends returns the pids of the sessions whose last statement
// LISTENed a channel of prefix.
func listenBackends(t *testing.T, db *pgxpool.Pool, prefix string) []int32 {
	t.Helper()
	rows, err := db.Query(context.Background(),
		`SELECT pid FROM pg_stat_activity WHERE query LIKE $1 AND pid <> pg_backend_pid()`, `LISTEN "`+prefix+`#%`)
	if err != nil {
		t.Fatal(err)
	}
	var pids []int32
	for rows.Next() {
		var pid int32
		if err := rows.Scan(&pid); err != nil {
			t.Fatal(err)
		}
		pids = append(pids, pid)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return pids
}

// One LISTEN connection serves every namespace of a server: 30
// namespaces, one session, and each namespace gets its messages.
func TestOneListenConnection(t *testing.T) {
	t.Parallel()
	prefix, table := postgres.RandomName("one"), postgres.LiveTable(t)
	opts := testOptions(prefix, table)
	a := newSideServer(t, opts)
	var names []string
	for i := range 30 {
		name := fmt.Sprintf("/n%d", i)
		names = append(names, name)
		a.of(t, name)
	}
	db := adminPool(t)
	if pids := listenBackends(t, db, prefix); len(pids) != 1 {
		t.Fatalf("%d LISTEN sessions for one server: %v", len(pids), pids)
	}
	b := newSideServer(t, opts)
	ctx := context.Background()
	for _, name := range names {
		nsp := b.of(t, name)
		waitFor(t, "server count of "+name, func() bool {
			n, err := nsp.Adapter().ServerCount(ctx)
			return err == nil && n == 2
		})
		if err := nsp.ServerSideEmit(ctx, "ev", name); err != nil {
			t.Fatal(err)
		}
		a.expect(t, name+` ["`+name+`"]`, 5*time.Second)
	}
	if pids := listenBackends(t, db, prefix); len(pids) != 2 {
		t.Fatalf("%d LISTEN sessions for two servers: %v", len(pids), pids)
	}
}

// The LISTEN connection killed by the database (pg_terminate_backend):
// the server connects again, LISTENs its channels again and gets the
// messages sent after that, in both directions.
func TestListenConnectionKilled(t *testing.T) {
	t.Parallel()
	prefix, table := postgres.RandomName("kill"), postgres.LiveTable(t)
	opts := testOptions(prefix, table)
	a, b := newSideServer(t, opts), newSideServer(t, opts)
	na, nb := a.of(t, "/"), b.of(t, "/")
	a.of(t, "/other")
	nbOther := b.of(t, "/other")
	db := adminPool(t)
	ctx := context.Background()
	waitFor(t, "count", func() bool { n, _ := na.Adapter().ServerCount(ctx); return n == 2 })
	var pids []int32
	waitFor(t, "two LISTEN sessions", func() bool { pids = listenBackends(t, db, prefix); return len(pids) == 2 })
	for _, pid := range pids {
		var ok bool
		if err := db.QueryRow(ctx, "SELECT pg_terminate_backend($1)", pid).Scan(&ok); err != nil || !ok {
			t.Fatalf("terminate %d: %v %v", pid, ok, err)
		}
	}
	// Messages sent while a server is reconnecting are lost (PostgreSQL
	// keeps nothing): send until one arrives.
	for i, dir := range []struct {
		from *socketio.Namespace
		to   *sideServer
		nsp  string
	}{{nb, a, "/"}, {na, b, "/"}, {nbOther, a, "/other"}} {
		if !deliveredAgain(ctx, dir.from, dir.to, dir.nsp, i) {
			t.Fatalf("direction %d: nothing delivered 10 s after the LISTEN connections were killed", i)
		}
	}
	if after := listenBackends(t, db, prefix); len(after) != 2 || after[0] == pids[0] || after[0] == pids[1] {
		t.Fatalf("LISTEN sessions %v after killing %v", after, pids)
	}
}

// deliveredAgain sends server-side events from one server until one
// reaches the other (within 10 s).
func deliveredAgain(ctx context.Context, from *socketio.Namespace, to *sideServer, nsp string, i int) bool {
	deadline := time.Now().Add(10 * time.Second)
	for n := 0; time.Now().Before(deadline); n++ {
		_ = from.ServerSideEmit(ctx, "ev", fmt.Sprintf("after-%d-%d", i, n))
		select {
		case got := <-to.got:
			if strings.HasPrefix(got, nsp+` ["after-`+fmt.Sprint(i)+"-") {
				return true
			}
		case <-time.After(200 * time.Millisecond):
		}
	}
	return false
}

// Messages of every size reach the other server: up to the NOTIFY limit
// as NOTIFY payloads, from 8000 bytes of JSON (which Node's adapter fails
// to send) and with binary through the attachments table, whose old rows
// every server deletes.
func TestAttachments(t *testing.T) {
	t.Parallel()
	prefix, table := postgres.RandomName("att"), postgres.LiveTable(t)
	opts := testOptions(prefix, table)
	opts.CleanupInterval = 700 * time.Millisecond
	a, b := newSideServer(t, opts), newSideServer(t, opts)
	a.of(t, "/")
	nb := b.of(t, "/")
	ctx := context.Background()
	waitFor(t, "count", func() bool { n, _ := nb.Adapter().ServerCount(ctx); return n == 2 })
	db := adminPool(t)
	rows := func() int {
		var n int
		if err := db.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// The JSON of a server-side emit of s: {"type":9,"data":{"packet":["ev","<s>"]},"uid":"<16>","nsp":"/"}.
	overhead := len(`{"type":9,"data":{"packet":["ev",""]},"uid":"0123456789abcdef","nsp":"/"}`)
	for _, size := range []int{100, 7999, 8000, 8001, 20000} {
		s := strings.Repeat("x", size-overhead)
		if err := nb.ServerSideEmit(ctx, "ev", s); err != nil {
			t.Fatalf("%d bytes: %v", size, err)
		}
		a.expect(t, `/ ["`+s+`"]`, 5*time.Second)
	}
	if n := rows(); n != 3 {
		t.Fatalf("%d attachment rows, want 3 (8000, 8001, 20000 bytes)", n)
	}
	waitFor(t, "old rows deleted", func() bool { return rows() == 0 })
}

// Malformed notifications (not JSON, wrong shapes, a missing attachment
// row, a huge nesting) are dropped; the server goes on.
func TestMalformedNotifications(t *testing.T) {
	t.Parallel()
	prefix, table := postgres.RandomName("bad"), postgres.LiveTable(t)
	opts := testOptions(prefix, table)
	a, b := newSideServer(t, opts), newSideServer(t, opts)
	a.of(t, "/")
	nb := b.of(t, "/")
	ctx := context.Background()
	waitFor(t, "count", func() bool { n, _ := nb.Adapter().ServerCount(ctx); return n == 2 })
	db := adminPool(t)
	ch := prefix + "#/"
	for _, p := range []string{
		"not json", "{", "[]", "null", `{"type":"x"}`, `{"type":3}`, `{"type":3,"data":5,"uid":"u","nsp":"/"}`,
		`{"type":3,"data":{"packet":{"type":2,"data":"x"}},"uid":"u","nsp":"/"}`,
		`{"type":9,"data":{"packet":[]},"uid":"u","nsp":"/"}`,
		`{"type":8,"data":{"requestId":"r","sockets":[5]},"uid":"u","nsp":"/"}`,
		`{"uid":"u","type":3,"attachmentId":"999999999"}`, `{"uid":"u","type":3,"attachmentId":"x"}`,
		`{"uid":"u","type":3,"attachmentId":1e30}`, strings.Repeat("[", 7000),
	} {
		if _, err := db.Exec(ctx, "SELECT pg_notify($1, $2)", ch, p); err != nil {
			t.Fatalf("%q: %v", p, err)
		}
	}
	// A row that is not msgpack.
	var id int64
	if err := db.QueryRow(ctx, "INSERT INTO "+table+" (payload) VALUES ($1) RETURNING id", []byte{0xc1, 0x93}).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, "SELECT pg_notify($1, $2)", ch, fmt.Sprintf(`{"uid":"u","type":3,"attachmentId":"%d"}`, id)); err != nil {
		t.Fatal(err)
	}
	if err := nb.ServerSideEmit(ctx, "ev", "still here"); err != nil {
		t.Fatal(err)
	}
	a.expect(t, `/ ["still here"]`, 5*time.Second)
}

// A namespace whose channel would be longer than PostgreSQL's 63 bytes is
// refused with a clear error (LISTEN would truncate its name).
func TestLongChannel(t *testing.T) {
	t.Parallel()
	s := newSideServer(t, testOptions(postgres.RandomName("long"), postgres.LiveTable(t)))
	_, err := s.io.Of("/" + strings.Repeat("n", 60))
	if err == nil || !strings.Contains(err.Error(), "63 bytes") {
		t.Fatalf("err %v", err)
	}
}

// The broadcasts of one server reach another server's client in the order
// they were emitted, whether they go as NOTIFY payloads or through the
// attachments table (Node's servers may reorder those).
func TestOrderAcrossPaths(t *testing.T) {
	t.Parallel()
	prefix, table := postgres.RandomName("order"), postgres.LiveTable(t)
	opts := testOptions(prefix, table)
	a, b := newSideServer(t, opts), newSideServer(t, opts)
	hs := httptest.NewServer(a.io)
	t.Cleanup(hs.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	waitFor(t, "count", func() bool { n, _ := b.io.MainNamespace().Adapter().ServerCount(ctx); return n == 2 })
	s, err := client.Dial(ctx, hs.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const n = 60
	big := strings.Repeat("b", 9000)
	for i := range n {
		var err error
		switch i % 3 {
		case 0:
			err = b.io.Emit("seq", i, []byte{byte(i)})
		case 1:
			err = b.io.Emit("seq", i)
		default:
			err = b.io.Emit("seq", i, big)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		ev, err := s.Receive(ctx)
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		var got int
		if err := ev.Bind(&got); err != nil || ev.Name != "seq" || got != i {
			t.Fatalf("event %d: %s %d (%v)", i, ev.Name, got, err)
		}
	}
}
