package engineio

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// checkOrigin applies the origin policy. It returns the value for
// Access-Control-Allow-Origin ("" when no CORS header is due) and whether
// the request may proceed.
func (s *Server) checkOrigin(r *http.Request, origin string) (string, bool) {
	if origin == "" {
		return "", true
	}
	cors := s.cfg.CORS
	if cors == nil {
		return "", sameOrigin(r, origin)
	}
	if slices.Contains(cors.Origins, "*") {
		return "*", true
	}
	if slices.Contains(cors.Origins, origin) || (cors.AllowOrigin != nil && cors.AllowOrigin(origin, r)) {
		return origin, true
	}
	if sameOrigin(r, origin) {
		return "", true
	}
	return "", false
}

// setCORS writes the CORS headers shared by every response to an allowed
// cross-origin request.
func (s *Server) setCORS(h http.Header, r *http.Request, origin, allow string) {
	cors := s.cfg.CORS
	if cors == nil || origin == "" {
		return
	}
	if allow == "" {
		return
	}
	h.Set("Access-Control-Allow-Origin", allow)
	if allow != "*" {
		h.Add("Vary", "Origin")
	}
	if cors.Credentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	if len(cors.ExposedHeaders) > 0 {
		h.Set("Access-Control-Expose-Headers", strings.Join(cors.ExposedHeaders, ","))
	}
}

// preflight answers a CORS preflight (OPTIONS) request with 204.
func (s *Server) preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	if cors := s.cfg.CORS; cors != nil {
		h.Set("Access-Control-Allow-Methods", strings.Join(cors.Methods, ","))
		if len(cors.AllowedHeaders) > 0 {
			h.Set("Access-Control-Allow-Headers", strings.Join(cors.AllowedHeaders, ","))
		} else if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
			h.Set("Access-Control-Allow-Headers", req)
			h.Add("Vary", "Access-Control-Request-Headers")
		}
		if cors.MaxAge > 0 {
			h.Set("Access-Control-Max-Age", strconv.Itoa(int(cors.MaxAge.Seconds())))
		}
	}
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusNoContent)
}
