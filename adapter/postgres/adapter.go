package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gosio/socketio/adapter"
	"github.com/gosio/socketio/adapter/cluster"
)

// Defaults of Node's adapter.
const (
	DefaultChannelPrefix    = "socket.io"
	DefaultTableName        = "socket_io_attachments"
	DefaultPayloadThreshold = 8000
	DefaultCleanupInterval  = 30 * time.Second
)

// maxNotifyPayload is PostgreSQL's bound: a NOTIFY payload must be shorter
// than 8000 bytes.
const maxNotifyPayload = 8000

// maxChannelLength is PostgreSQL's identifier length (NAMEDATALEN - 1):
// pg_notify refuses longer channel names, LISTEN truncates them.
const maxChannelLength = 63

// Options configure the adapter. The names are those of Node's
// createAdapter options; the zero value of each is Node's default.
type Options struct {
	// ChannelPrefix is the first part of the channel names ("socket.io").
	ChannelPrefix string
	// TableName is the attachments table ("socket_io_attachments"); a
	// schema-qualified name ("schema.table") is accepted. Each part is
	// quoted, so it is case-sensitive.
	TableName string
	// PayloadThreshold is the JSON size in bytes above which a message goes
	// through the attachments table (8000). Whatever its value, a message
	// PostgreSQL would refuse as a NOTIFY payload (8000 bytes and more)
	// goes through the table.
	PayloadThreshold int
	// CleanupInterval is the period of the deletion of attachment rows and
	// the age of the rows it deletes (30 s).
	CleanupInterval time.Duration
	// HeartbeatInterval and HeartbeatTimeout count the servers: every
	// namespace announces itself every interval, and a server not heard of
	// for the timeout is no longer counted (5 s and 10 s).
	HeartbeatInterval time.Duration
	HeartbeatTimeout  time.Duration
	// NoCreateTable leaves the attachments table to the application (Node
	// never creates it). By default each server creates it, with Node's
	// schema, when it does not exist.
	NoCreateTable bool
	// ReconnectDelay is the mean delay before the LISTEN connection is
	// opened again after it was lost (2 s, as Node: a random delay between
	// half and one and a half of it); it doubles, up to 16 times, while the
	// database does not answer.
	ReconnectDelay time.Duration
	// RequestsTimeout bounds the requests that wait for other servers
	// (fetchSockets, serverSideEmit with ack, broadcast acks without a
	// timeout): 5 s when zero.
	RequestsTimeout time.Duration
	// MaxQueuedMessages and MaxQueuedBytes bound the queue of messages to
	// the other servers (see cluster.Options: 4096 messages and 32 MiB).
	MaxQueuedMessages int
	MaxQueuedBytes    int
	// Logger receives the adapter's errors (failed publications, lost
	// connections, malformed notifications). Nil: silent.
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.ChannelPrefix == "" {
		o.ChannelPrefix = DefaultChannelPrefix
	}
	if o.TableName == "" {
		o.TableName = DefaultTableName
	}
	if o.PayloadThreshold <= 0 {
		o.PayloadThreshold = DefaultPayloadThreshold
	}
	if o.CleanupInterval <= 0 {
		o.CleanupInterval = DefaultCleanupInterval
	}
	if o.ReconnectDelay <= 0 {
		o.ReconnectDelay = 2 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// NewAdapter returns a factory (socketio.Config.Adapter) for the
// PostgreSQL adapter: every namespace of a server shares one LISTEN
// connection and publishes through pool. The LISTEN connection is opened
// outside the pool with the pool's connection configuration (the pool's
// BeforeConnect and AfterConnect hooks do not run for it). The pool is the
// caller's to close, after the servers.
func NewAdapter(pool *pgxpool.Pool, opts Options) adapter.Factory {
	opts = opts.withDefaults()
	return cluster.Factory(func(uid string) (cluster.Transport, error) {
		return newTransport(pool, uid, opts)
	}, cluster.Options{
		RequestsTimeout:   opts.RequestsTimeout,
		MaxQueuedMessages: opts.MaxQueuedMessages,
		MaxQueuedBytes:    opts.MaxQueuedBytes,
		HeartbeatInterval: opts.HeartbeatInterval,
		HeartbeatTimeout:  opts.HeartbeatTimeout,
		Logger:            opts.Logger,
	})
}

// tableIdent quotes a table name, each dot-separated part on its own.
func tableIdent(name string) string {
	return pgx.Identifier(strings.Split(name, ".")).Sanitize()
}

// channelOf returns the channel of namespace nsp.
func channelOf(prefix, nsp string) (string, error) {
	ch := prefix + "#" + nsp
	if len(ch) > maxChannelLength {
		return "", fmt.Errorf("postgres adapter: channel %q is longer than PostgreSQL's %d bytes", ch, maxChannelLength)
	}
	return ch, nil
}

// createTable creates the attachments table with Node's schema when it
// does not exist.
func createTable(ctx context.Context, pool *pgxpool.Pool, table string) error {
	_, err := pool.Exec(ctx, "CREATE TABLE IF NOT EXISTS "+tableIdent(table)+
		" (id bigserial UNIQUE, created_at timestamptz DEFAULT NOW(), payload bytea)")
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (pe.Code == "23505" || pe.Code == "42P07") {
		// Another server created it at the same moment.
		return nil
	}
	if err != nil {
		return fmt.Errorf("postgres adapter: creating table %s: %w", table, err)
	}
	return nil
}
