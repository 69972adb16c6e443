package admin

import (
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"strings"
)

// UIDir returns the files of the Admin UI in dir, the ui/dist folder of
// npm's @socket.io/admin-ui (e.g.
// "node_modules/@socket.io/admin-ui/ui/dist" after `npm install
// @socket.io/admin-ui`), checking that it holds the UI's index.html. The
// project ships no third-party code: the UI comes from npm.
func UIDir(dir string) (fs.FS, error) {
	if _, err := os.Stat(dir + "/index.html"); err != nil {
		return nil, fmt.Errorf("admin: no Admin UI in %s (install it with `npm install @socket.io/admin-ui@0.5.1` and "+
			"give its node_modules/@socket.io/admin-ui/ui/dist folder): %w", dir, err)
	}
	return os.DirFS(dir), nil
}

// UIHandler serves the Admin UI's files (dist, see UIDir) under prefix,
// e.g. "/admin-ui/": mount it on the same pattern of a ServeMux. The UI's
// page loads its scripts and styles with relative URLs, so it must be
// opened at the prefix with its trailing slash: a request for the prefix
// without it is redirected there.
//
// Served from the Socket.IO server's own origin, the UI needs no CORS: type
// that origin (e.g. http://localhost:3000) as the server URL in its
// connection form. Its page loads the Roboto font and the Material Design
// icons from public CDNs; offline it works without them (icons do not
// show).
func UIHandler(prefix string, dist fs.FS) http.Handler {
	prefix = "/" + strings.Trim(prefix, "/") + "/"
	if prefix == "//" {
		prefix = "/"
	}
	bare := strings.TrimSuffix(prefix, "/")
	files := http.StripPrefix(prefix, http.FileServerFS(dist))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if bare != "" && r.URL.Path == bare {
			target := prefix
			if r.URL.RawQuery != "" {
				target += "?" + r.URL.RawQuery
			}
			http.Redirect(w, r, target, http.StatusMovedPermanently)
			return
		}
		if !strings.HasPrefix(r.URL.Path, prefix) {
			http.NotFound(w, r)
			return
		}
		files.ServeHTTP(w, r)
	})
}
