package admin

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	socketio "github.com/gosio/socketio"
	"golang.org/x/crypto/bcrypt"
)

// Auth is how the UI authenticates: NoAuth or a Basic.
type Auth interface{ isAuth() }

type noAuth struct{}

func (noAuth) isAuth() {}

// NoAuth lets any client into the admin namespace (Node's auth: false):
// only for a server that nobody else can reach.
var NoAuth Auth = noAuth{}

// Basic is a user name and a bcrypt hash of the password (Node's auth
// {type: "basic", username, password}), e.g. from
//
//	hash, err := bcrypt.GenerateFromPassword([]byte(password), 10)
//
// ($2a$, $2b$ and $2y$ hashes, such as those of Node's bcryptjs, are
// accepted). After a successful login the UI gets a session id, which it
// sends instead of the password when it is reloaded (see Store).
type Basic struct {
	Username     string
	PasswordHash string
}

func (Basic) isAuth() {}

// check rejects a hash bcrypt cannot use (Node accepts any string and then
// refuses every login; an error at start is kinder).
func (b Basic) check() error {
	if _, err := bcrypt.Cost([]byte(b.PasswordHash)); err != nil {
		return fmt.Errorf("admin: Basic.PasswordHash must be a bcrypt hash: %w", err)
	}
	return nil
}

// errInvalidCredentials is the refusal the UI recognises: CONNECT_ERROR
// {"message":"invalid credentials"}.
var errInvalidCredentials = errors.New("invalid credentials")

// authenticate is the admin namespace's connection middleware: a known
// session id, or the user name and password.
func (in *Instrumentation) authenticate(s *socketio.Socket) error {
	if in.closed.Load() {
		return errClosed
	}
	b, ok := in.auth.(Basic)
	if !ok {
		return nil // NoAuth
	}
	auth := s.Handshake().Auth
	ctx, cancel := context.WithTimeout(s.Context(), commandTimeout)
	defer cancel()
	if id, _ := auth["sessionId"].(string); id != "" {
		ok, err := in.store.SessionExists(ctx, id)
		if err != nil {
			in.log.Warn("socket.io admin: session store", "err", err)
		}
		if ok {
			return nil
		}
	}
	user, _ := auth["username"].(string)
	password, _ := auth["password"].(string)
	// The password is checked whatever the user name, so that the time
	// taken does not tell whether the name is right.
	passOK := bcrypt.CompareHashAndPassword([]byte(b.PasswordHash), []byte(password)) == nil
	userOK := subtle.ConstantTimeCompare([]byte(user), []byte(b.Username)) == 1
	if !passOK || !userOK {
		return errInvalidCredentials
	}
	id := newSessionID()
	if err := in.store.SaveSession(ctx, id); err != nil {
		// The login stands; the UI will ask for the password again.
		in.log.Warn("socket.io admin: session not saved", "err", err)
		return nil
	}
	in.pending.Store(s, id)
	return nil
}

// newSessionID returns 16 hex digits, as Node's randomBytes(8).
func newSessionID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Store keeps the session ids of the UIs that logged in with a password
// (Node's InMemoryStore and RedisStore). Several servers behind a load
// balancer need one store they all share (a key with a time to live in
// Redis, for instance: SET socket.io-admin#<id> 1 EX 86400 to save, EXISTS
// to check), or a UI that reconnects to another server must log in again.
// Its methods are called from the admin sockets' goroutines, possibly
// concurrently.
type Store interface {
	// SaveSession records a new session id.
	SaveSession(ctx context.Context, id string) error
	// SessionExists reports whether the id was saved and has not expired.
	SessionExists(ctx context.Context, id string) (bool, error)
}

// MemoryStore is the default Store: session ids in memory, for one
// server.
type MemoryStore struct {
	ttl time.Duration

	mu       sync.Mutex
	sessions map[string]time.Time // id -> expiry (zero: never)
	saves    int
}

// NewMemoryStore returns an in-memory Store whose sessions expire after
// ttl; with 0 they never expire, as in Node's InMemoryStore.
func NewMemoryStore(ttl time.Duration) *MemoryStore {
	return &MemoryStore{ttl: ttl, sessions: make(map[string]time.Time)}
}

// SaveSession records id.
func (m *MemoryStore) SaveSession(_ context.Context, id string) error {
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	var exp time.Time
	if m.ttl > 0 {
		exp = now.Add(m.ttl)
	}
	m.sessions[id] = exp
	m.saves++
	if m.ttl > 0 && m.saves%64 == 0 {
		for k, e := range m.sessions {
			if now.After(e) {
				delete(m.sessions, k)
			}
		}
	}
	return nil
}

// SessionExists reports whether id was saved and has not expired.
func (m *MemoryStore) SessionExists(_ context.Context, id string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	exp, ok := m.sessions[id]
	if !ok {
		return false, nil
	}
	if !exp.IsZero() && time.Now().After(exp) {
		delete(m.sessions, id)
		return false, nil
	}
	return true, nil
}
