package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gosio/socketio/adapter/cluster"
)

// errClosed is returned by the operations of a closed transport.
var errClosed = errors.New("postgres adapter: closed")

// queryTimeout bounds the queries the transport makes on its own (reading
// an attachment row, the cleanup, creating the table).
const queryTimeout = 5 * time.Second

// transport is the cluster.Transport of one server: one LISTEN connection
// for every namespace channel, read by one goroutine (run), and
// publications through the pool.
type transport struct {
	pool *pgxpool.Pool
	cfg  *pgx.ConnConfig
	uid  string
	opts Options
	log  *slog.Logger

	insertSQL, selectSQL, deleteSQL string

	ctx    context.Context // canceled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	subs     map[string]*sub // by channel
	unlisten map[string]bool // channels to UNLISTEN
	dirty    bool            // subs or unlisten changed since the last sync
	stopWait context.CancelFunc
	lastErr  error // the LISTEN connection's last failure
}

// sub is the subscription of one namespace.
type sub struct {
	nsp      string
	deliver  func(*cluster.Message, string)
	listened bool          // LISTENed on the current connection
	ready    chan struct{} // closed once LISTENed the first time
	isReady  bool
}

var _ cluster.Transport = (*transport)(nil)

func newTransport(pool *pgxpool.Pool, uid string, opts Options) (*transport, error) {
	cfg := pool.Config().ConnConfig.Copy()
	// Interrupting WaitForNotification (to LISTEN a new channel) must leave
	// the connection usable: a read deadline does, a cancel request might
	// hit the next statement.
	cfg.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.DeadlineContextWatcherHandler{Conn: c.Conn()}
	}
	table := tableIdent(opts.TableName)
	t := &transport{
		pool:      pool,
		cfg:       cfg,
		uid:       uid,
		opts:      opts,
		log:       opts.Logger,
		insertSQL: "INSERT INTO " + table + " (payload) VALUES ($1) RETURNING id",
		selectSQL: "SELECT payload FROM " + table + " WHERE id = $1",
		deleteSQL: "DELETE FROM " + table + " WHERE created_at < now() - $1::bigint * interval '1 millisecond'",
		subs:      map[string]*sub{},
		unlisten:  map[string]bool{},
	}
	if !opts.NoCreateTable {
		ctx, cancel := context.WithTimeout(context.Background(), queryTimeout)
		err := createTable(ctx, pool, opts.TableName)
		cancel()
		if err != nil {
			return nil, err
		}
	}
	t.ctx, t.cancel = context.WithCancel(context.Background())
	t.wg.Add(2)
	go t.run()
	go t.cleanup()
	return t, nil
}

func (t *transport) Publish(ctx context.Context, m *cluster.Message) (string, error) {
	return "", t.publish(ctx, m)
}

// PublishResponse publishes an answer on the namespace channel, as Node
// does (answers are not addressed: the other servers drop those whose
// request id they do not wait for).
func (t *transport) PublishResponse(ctx context.Context, _ string, m *cluster.Message) error {
	return t.publish(ctx, m)
}

func (t *transport) publish(ctx context.Context, m *cluster.Message) error {
	if t.ctx.Err() != nil {
		return errClosed
	}
	ch, err := channelOf(t.opts.ChannelPrefix, m.Nsp)
	if err != nil {
		return err
	}
	payload, viaTable, err := notification(m, t.opts.PayloadThreshold)
	if err != nil {
		return err
	}
	if viaTable {
		row, err := m.EncodeMsgpack()
		if err != nil {
			return err
		}
		var id int64
		if err := t.pool.QueryRow(ctx, t.insertSQL, row).Scan(&id); err != nil {
			return fmt.Errorf("postgres adapter: storing an attachment: %w", err)
		}
		payload = attachmentHeader(m.UID, m.Type, id)
	}
	if _, err := t.pool.Exec(ctx, "SELECT pg_notify($1, $2)", ch, string(payload)); err != nil {
		return fmt.Errorf("postgres adapter: NOTIFY %q: %w", ch, err)
	}
	return nil
}

func (t *transport) Subscribe(ctx context.Context, nsp string, deliver func(*cluster.Message, string)) error {
	ch, err := channelOf(t.opts.ChannelPrefix, nsp)
	if err != nil {
		return err
	}
	s := &sub{nsp: nsp, deliver: deliver, ready: make(chan struct{})}
	t.mu.Lock()
	if t.ctx.Err() != nil {
		t.mu.Unlock()
		return errClosed
	}
	t.subs[ch] = s
	delete(t.unlisten, ch)
	t.touch()
	t.mu.Unlock()
	select {
	case <-s.ready:
		return nil
	case <-ctx.Done():
	case <-t.ctx.Done():
	}
	t.mu.Lock()
	if t.subs[ch] == s {
		delete(t.subs, ch)
		t.unlisten[ch] = true
		t.touch()
	}
	last := t.lastErr
	t.mu.Unlock()
	if last != nil {
		return fmt.Errorf("postgres adapter: LISTEN %q: %w (last error: %v)", ch, ctx.Err(), last)
	}
	return fmt.Errorf("postgres adapter: LISTEN %q: %w", ch, ctx.Err())
}

func (t *transport) Unsubscribe(nsp string) {
	ch, err := channelOf(t.opts.ChannelPrefix, nsp)
	if err != nil {
		return
	}
	t.mu.Lock()
	if t.subs[ch] != nil {
		delete(t.subs, ch)
		t.unlisten[ch] = true
		t.touch()
	}
	t.mu.Unlock()
}

// touch tells the LISTEN goroutine that the channels changed. Called with
// t.mu held.
func (t *transport) touch() {
	t.dirty = true
	if t.stopWait != nil {
		t.stopWait()
		t.stopWait = nil
	}
}

func (t *transport) Close() error {
	t.mu.Lock()
	t.cancel()
	t.mu.Unlock()
	t.wg.Wait()
	return nil
}

// run keeps the LISTEN connection: it connects (again, with backoff, when
// the connection is lost), LISTENs every channel and dispatches the
// notifications.
func (t *transport) run() {
	defer t.wg.Done()
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_ = conn.Close(ctx)
			cancel()
		}
	}()
	failures := 0
	for t.ctx.Err() == nil {
		if failures > 0 && !t.sleep(t.backoff(failures)) {
			return
		}
		if conn == nil {
			ctx, cancel := context.WithTimeout(t.ctx, 10*time.Second)
			c, err := pgx.ConnectConfig(ctx, t.cfg)
			cancel()
			if err != nil {
				t.failed("connecting the LISTEN connection", err)
				failures++
				continue
			}
			if failures > 0 {
				t.log.Info("postgres adapter: LISTEN connection back")
			}
			conn = c
		}
		err := t.sync(conn)
		if err == nil {
			err = t.wait(conn)
		}
		if err != nil {
			if t.ctx.Err() != nil {
				return
			}
			t.failed("LISTEN connection lost", err)
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_ = conn.Close(ctx)
			cancel()
			conn = nil
			t.mu.Lock()
			for _, s := range t.subs {
				s.listened = false
			}
			clear(t.unlisten)
			t.mu.Unlock()
			failures++
			continue
		}
		failures = 0
	}
}

func (t *transport) failed(what string, err error) {
	t.mu.Lock()
	t.lastErr = err
	t.mu.Unlock()
	t.log.Warn("postgres adapter: "+what, "err", err)
}

// backoff is the delay before the attempt after n failures: Node's 1-3 s
// (by default), doubled for each failure after the second, up to 16 times.
func (t *transport) backoff(n int) time.Duration {
	d := t.opts.ReconnectDelay << min(max(n-2, 0), 4)
	return time.Duration(float64(d) * (0.5 + rand.Float64()))
}

// sleep waits d; false when the transport was closed meanwhile.
func (t *transport) sleep(d time.Duration) bool {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-t.ctx.Done():
		return false
	}
}

// sync LISTENs the new channels and UNLISTENs the dropped ones.
func (t *transport) sync(conn *pgx.Conn) error {
	t.mu.Lock()
	t.dirty = false
	var listen []string
	var subs []*sub
	for ch, s := range t.subs {
		if !s.listened {
			listen = append(listen, ch)
			subs = append(subs, s)
		}
	}
	var drop []string
	for ch := range t.unlisten {
		drop = append(drop, ch)
	}
	clear(t.unlisten)
	t.mu.Unlock()
	ctx, cancel := context.WithTimeout(t.ctx, queryTimeout)
	defer cancel()
	for _, ch := range drop {
		if _, err := conn.Exec(ctx, "UNLISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			return fmt.Errorf("UNLISTEN %q: %w", ch, err)
		}
	}
	for _, ch := range listen {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			return fmt.Errorf("LISTEN %q: %w", ch, err)
		}
	}
	t.mu.Lock()
	for _, s := range subs {
		s.listened = true
		if !s.isReady {
			s.isReady = true
			close(s.ready)
		}
	}
	t.mu.Unlock()
	return nil
}

// wait dispatches notifications until the channels change (nil) or the
// connection fails.
func (t *transport) wait(conn *pgx.Conn) error {
	t.mu.Lock()
	if t.dirty || t.ctx.Err() != nil {
		t.mu.Unlock()
		return nil
	}
	ctx, cancel := context.WithCancel(t.ctx)
	t.stopWait = cancel
	t.mu.Unlock()
	defer cancel()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			if ctx.Err() != nil && !conn.IsClosed() {
				return nil // interrupted: channels changed, or closing
			}
			return err
		}
		t.dispatch(n)
	}
}

// dispatch decodes a notification (reading its attachment row) and hands
// it to its namespace.
func (t *transport) dispatch(n *pgconn.Notification) {
	defer func() {
		if r := recover(); r != nil {
			t.log.Error("postgres adapter: notification handler panicked; message dropped", "channel", n.Channel,
				"panic", r, "stack", string(debug.Stack()))
		}
	}()
	t.mu.Lock()
	s := t.subs[n.Channel]
	t.mu.Unlock()
	if s == nil {
		return
	}
	m, err := t.decode([]byte(n.Payload))
	if err != nil {
		t.log.Warn("postgres adapter: notification dropped", "channel", n.Channel, "err", err)
		return
	}
	if m == nil || m.UID == t.uid {
		return
	}
	if m.Nsp == "" {
		// Node's emitter leaves the namespace out: it is the channel's.
		m.Nsp = s.nsp
	}
	t.mu.Lock()
	live := t.subs[n.Channel] == s
	t.mu.Unlock()
	if live {
		s.deliver(m, "")
	}
}

// decode reads a notification payload: a message, or the header of an
// attachment row, then read from the table. nil for this server's own
// attachments (not read).
func (t *transport) decode(payload []byte) (*cluster.Message, error) {
	h, ok, err := parseHeader(payload)
	if err != nil {
		return nil, err
	}
	if !ok {
		if len(payload) == 0 || payload[0] != '{' {
			return nil, errors.New("the payload is not a JSON object")
		}
		return cluster.Decode(payload)
	}
	if h.uid == t.uid {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(t.ctx, queryTimeout)
	defer cancel()
	var row []byte
	if err := t.pool.QueryRow(ctx, t.selectSQL, h.id).Scan(&row); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, fmt.Errorf("attachment %d is gone (older than the cleanup interval?)", h.id)
		}
		return nil, fmt.Errorf("reading attachment %d: %w", h.id, err)
	}
	m, err := cluster.Decode(row)
	if err != nil {
		return nil, fmt.Errorf("attachment %d: %w", h.id, err)
	}
	return m, nil
}

// cleanup deletes the attachment rows older than CleanupInterval, every
// CleanupInterval, as every Node server does.
func (t *transport) cleanup() {
	defer t.wg.Done()
	tk := time.NewTicker(t.opts.CleanupInterval)
	defer tk.Stop()
	for {
		select {
		case <-tk.C:
		case <-t.ctx.Done():
			return
		}
		ctx, cancel := context.WithTimeout(t.ctx, queryTimeout)
		_, err := t.pool.Exec(ctx, t.deleteSQL, t.opts.CleanupInterval.Milliseconds())
		cancel()
		if err != nil && t.ctx.Err() == nil {
			t.log.Warn("postgres adapter: deleting old attachments", "err", err)
		}
	}
}
