package socketio

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// The client bundle files Node's socket.io serves (serveClient), as found
// in the dist folder of npm's socket.io-client.
var clientFileNames = map[string]string{
	"socket.io.js":                 "application/javascript; charset=utf-8",
	"socket.io.js.map":             "application/json; charset=utf-8",
	"socket.io.min.js":             "application/javascript; charset=utf-8",
	"socket.io.min.js.map":         "application/json; charset=utf-8",
	"socket.io.msgpack.min.js":     "application/javascript; charset=utf-8",
	"socket.io.msgpack.min.js.map": "application/json; charset=utf-8",
	"socket.io.esm.min.js":         "application/javascript; charset=utf-8",
	"socket.io.esm.min.js.map":     "application/json; charset=utf-8",
}

// clientFile is a bundle file read once, with its ETag and gzip form.
type clientFile struct {
	data, gz []byte
	etag     string
	ctype    string
}

type clientFiles struct {
	fsys  fs.FS
	mu    sync.Mutex
	cache map[string]*clientFile
}

func (cf *clientFiles) get(name string) (*clientFile, error) {
	cf.mu.Lock()
	defer cf.mu.Unlock()
	if f := cf.cache[name]; f != nil {
		return f, nil
	}
	data, err := fs.ReadFile(cf.fsys, name)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	_, _ = zw.Write(data)
	_ = zw.Close()
	f := &clientFile{data: data, gz: gz.Bytes(), etag: `"` + hex.EncodeToString(sum[:12]) + `"`, ctype: clientFileNames[name]}
	if cf.cache == nil {
		cf.cache = make(map[string]*clientFile)
	}
	cf.cache[name] = f
	return f, nil
}

// serveClientFile answers a request for a bundle file; it reports false when
// the path is not one.
func (s *Server) serveClientFile(w http.ResponseWriter, r *http.Request, base string) bool {
	if s.clientFiles == nil || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		return false
	}
	name, ok := strings.CutPrefix(r.URL.Path, base+"/")
	if !ok || clientFileNames[name] == "" {
		return false
	}
	f, err := s.clientFiles.get(name)
	if err != nil {
		s.cfg.Logger.Warn("socket.io: client file not found in Config.ClientFiles", "file", name, "err", err)
		http.NotFound(w, r)
		return true
	}
	h := w.Header()
	h.Set("ETag", f.etag)
	h.Set("Cache-Control", "public, max-age=0")
	h.Set("Content-Type", f.ctype)
	h.Add("Vary", "Accept-Encoding")
	if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, f.etag) {
		w.WriteHeader(http.StatusNotModified)
		return true
	}
	body := f.data
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		body = f.gz
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(body)
	}
	return true
}
