package engineio

import (
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// checkOrigin applies the origin policy. It returns the value for
// Access-Control-Allow-Origin ("" when no CORS header is due) and whether
// the request may proceed. Origins are compared as scheme, host and port,
// exactly; an Origin header that is not a plain serialised origin (with
// userinfo, a path, a query) is refused unless every origin is allowed.
func (s *Server) checkOrigin(r *http.Request, origin string) (string, bool) {
	if origin == "" {
		return "", true
	}
	cors := s.cfg.CORS
	if cors != nil && cors.anyOrigin {
		return "*", true
	}
	o, valid := parseOrigin(origin, false)
	if !valid && origin != "null" {
		return "", false
	}
	if cors == nil {
		return "", valid && sameOrigin(r, o)
	}
	if (valid && slices.Contains(cors.origins, o)) || (!valid && cors.nullOrigin) ||
		(cors.AllowOrigin != nil && cors.AllowOrigin(origin, r)) {
		return origin, true
	}
	if valid && sameOrigin(r, o) {
		return "", true
	}
	return "", false
}

// webOrigin is a serialised origin taken apart: lower-case scheme and
// host, and the port, explicit even when it is the scheme's default.
type webOrigin struct{ scheme, host, port string }

// parseOrigin parses a serialised origin, "scheme://host[:port]". With
// lenient (configured origins), a trailing "/" is accepted.
func parseOrigin(s string, lenient bool) (webOrigin, bool) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Opaque != "" || u.User != nil || u.RawQuery != "" ||
		u.ForceQuery || u.Fragment != "" || (u.Path != "" && !(lenient && u.Path == "/")) {
		return webOrigin{}, false
	}
	o := webOrigin{scheme: strings.ToLower(u.Scheme), host: strings.ToLower(u.Hostname()), port: u.Port()}
	if o.host == "" || strings.HasSuffix(u.Host, ":") {
		return webOrigin{}, false
	}
	if o.port == "" {
		o.port = defaultPort(o.scheme)
	}
	return o, true
}

func defaultPort(scheme string) string {
	switch scheme {
	case "http", "ws":
		return "80"
	case "https", "wss":
		return "443"
	}
	return ""
}

// requestScheme returns the scheme the client used: X-Forwarded-Proto when
// a proxy set it, "https" for a TLS connection, and "" when it cannot be
// told (plain HTTP, perhaps from a proxy that terminates TLS and says
// nothing).
func requestScheme(r *http.Request) string {
	if v := r.Header.Get("X-Forwarded-Proto"); v != "" {
		v, _, _ = strings.Cut(v, ",")
		return strings.ToLower(strings.TrimSpace(v))
	}
	if r.TLS != nil {
		return "https"
	}
	return ""
}

// splitHostPort splits a Host header into a lower-case host and its port
// ("" when none is given).
func splitHostPort(hostport string) (host, port string) {
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		return strings.ToLower(h), p
	}
	return strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]")), ""
}

// sameOrigin reports whether o is the origin the request was sent to: the
// same host and port as the Host header, and the same scheme when the
// request's scheme is known (see requestScheme). When it is not, http and
// https are both taken, so that a TLS-terminating proxy in front needs no
// setting, but a TLS request from an http page is refused.
func sameOrigin(r *http.Request, o webOrigin) bool {
	if o.scheme != "http" && o.scheme != "https" {
		return false
	}
	host, port := splitHostPort(r.Host)
	scheme := requestScheme(r)
	if host != o.host || (scheme != "" && scheme != o.scheme) {
		return false
	}
	if port == "" {
		if scheme == "" {
			scheme = o.scheme
		}
		port = defaultPort(scheme)
	}
	return port == o.port
}

// allowedHost reports whether the request's Host header names one of the
// allowed hosts (always true when none are configured).
func (s *Server) allowedHost(r *http.Request) bool {
	if len(s.cfg.AllowedHosts) == 0 {
		return true
	}
	host, port := splitHostPort(r.Host)
	for _, a := range s.cfg.AllowedHosts {
		ah, ap := splitHostPort(a)
		if ap != "" && ap != port {
			continue
		}
		if ah == host || (strings.HasPrefix(ah, ".") && (host == ah[1:] || strings.HasSuffix(host, ah))) {
			return true
		}
	}
	return false
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
