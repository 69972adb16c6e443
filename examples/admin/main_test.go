package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gosio/socketio/admin"
	"github.com/gosio/socketio/client"
	"go.uber.org/goleak"
	"golang.org/x/crypto/bcrypt"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// nodeModules returns this folder's node_modules, else the interop one's
// (both have the Admin UI and socket.io-client).
func nodeModules(t *testing.T) string {
	for _, dir := range []string{"node_modules", "../../interop/node_modules"} {
		if _, err := os.Stat(filepath.Join(dir, "@socket.io", "admin-ui", "ui", "dist", "index.html")); err == nil {
			return dir
		}
	}
	t.Fatal("the example needs the Admin UI from npm: run `npm ci` in examples/admin (or `npm ci --prefix interop`)")
	return ""
}

// The example serves its page, the client bundle and the UI (its bare
// prefix redirected), and its admin namespace takes the password only.
func TestExample(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	io_, in, h, err := newServer(settings{user: "ops", hash: string(hash), mode: admin.Development, nodeModules: nodeModules(t)})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(h)
	defer func() {
		_ = in.Close()
		hs.Close()
		_ = io_.Close()
	}()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tc := range []struct {
		path, want string
		status     int
	}{
		{"/", "/socket.io/socket.io.min.js", 200},
		{"/socket.io/socket.io.min.js", "", 200},
		{"/admin-ui/", "<title>Socket.IO Admin UI</title>", 200},
		{"/admin-ui", "", 301},
	} {
		res, err := noRedirect.Get(hs.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tc.status || !strings.Contains(string(b), tc.want) {
			t.Errorf("GET %s: %d, body %.80q; want %d with %q", tc.path, res.StatusCode, b, tc.status, tc.want)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dial := func(password string) (*client.Socket, error) {
		return client.Dial(ctx, hs.URL+"/admin", &client.Options{Socket: client.SocketOptions{
			Auth: map[string]string{"username": "ops", "password": password},
		}})
	}
	if _, err := dial("wrong"); !errors.As(err, new(*client.ConnectError)) {
		t.Fatalf("wrong password: %v", err)
	}
	ui, err := dial("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	defer ui.Close()
	for {
		ev, err := ui.Receive(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Name == "config" {
			break
		}
	}
}
