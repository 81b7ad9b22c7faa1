package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// Service is what the handler needs from the core; *memoryrelay.Relay
// implements it. Each authenticated request is served through the
// memory.Account of its key (AccountFor): the resource groups of package
// memory, the same interfaces the Go client implements. A host wraps the
// service (tracing, tenancy, auditing) by wrapping those interfaces:
//
//	type traced struct{ httpapi.Service }
//
//	func (t traced) AccountFor(k keys.Key) memory.Account {
//		return tracedAccount{t.Service.AccountFor(k)} // a memory.Account of yours
//	}
type Service interface {
	Authorizer
	// Health reports the state of the store (GET /health).
	Health(ctx context.Context) memoryrelay.Health
	// AccountFor returns the API of the account the key belongs to,
	// acting for the key: its Usage().Quota is the key's. The handler
	// calls it for each authenticated request, with the key Authorize
	// returned.
	AccountFor(k keys.Key) memory.Account
}

// Authorizer verifies a raw key, takes a rate-limit token and checks scopes.
type Authorizer interface {
	Authorize(ctx context.Context, raw string, required ...scopes.Scope) (memoryrelay.Auth, error)
}

var _ Service = (*memoryrelay.Relay)(nil)

// DefaultMaxBodyBytes is the default request body limit (10 MiB).
const DefaultMaxBodyBytes = 10 << 20

// DefaultEnvironment is what health reports as the environment by default.
const DefaultEnvironment = "self-hosted"

// Options configures [New]. The zero value is usable.
type Options struct {
	// MaxBodyBytes caps request bodies; a larger body gets 400.
	// Default 10 MiB.
	MaxBodyBytes int64
	// Environment is reported by health. Default "self-hosted".
	Environment string
	// Logger receives internal errors (never keys). Default: discard.
	Logger *slog.Logger
	// Now is the clock for health timestamps. Default time.Now.
	Now func() time.Time
	// Observers are told of each request once it is served (see
	// [Observer]): metrics, request logs ([RequestLog]). Default: none.
	Observers []Observer
}

type handler struct {
	svc  Service
	opts Options
	mux  *http.ServeMux
}

// New returns the REST API of the API contract as an http.Handler. It
// never listens; mount it on a mux, under a prefix with http.StripPrefix
// if you like:
//
//	mux.Handle("/memory/", http.StripPrefix("/memory", h))
func New(svc Service, opts Options) (http.Handler, error) {
	if svc == nil {
		return nil, errorf("httpapi: nil Service")
	}
	if opts.MaxBodyBytes == 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.MaxBodyBytes < 0 {
		return nil, errorf("httpapi: negative MaxBodyBytes")
	}
	if opts.Environment == "" {
		opts.Environment = DefaultEnvironment
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	h := &handler{svc: svc, opts: opts, mux: http.NewServeMux()}
	for _, rt := range h.routes() {
		var fn http.Handler = rt.fn
		if rt.auth {
			fn = h.authenticate(rt.scope, fn)
		}
		h.mux.Handle(rt.method+" "+rt.path, fn)
	}
	return h, nil
}

// route is one row of the routing table.
type route struct {
	method string
	path   string
	auth   bool         // false only for health
	scope  scopes.Scope // required scope when auth
	fn     http.HandlerFunc
}

// routes is the routing table: every resource group's rows. A literal
// segment beats a {capture} (Go 1.22 ServeMux precedence), as contract §6
// requires.
func (h *handler) routes() []route {
	var all []route
	for _, group := range [][]route{
		h.healthRoutes(),
		h.memoryRoutes(),
		h.agentRoutes(),
		h.sessionRoutes(),
		h.entityRoutes(),
		h.decisionRoutes(),
		h.patternRoutes(),
		h.projectRoutes(),
		h.contextRoutes(),
		h.jobRoutes(),
		h.keyRoutes(),
		h.webhookRoutes(),
		h.extractionRoutes(),
		h.usageRoutes(),
	} {
		all = append(all, group...)
	}
	return all
}

// ServeHTTP normalises the path (runs of '/' collapsed, a trailing '/'
// dropped, dot segments resolved: see cleanPath; never a redirect), sets the request id and JSON content type,
// recovers panics, and dispatches; unknown paths get 404 and known paths
// with another method 405, both with JSON bodies.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rid := requestID(r.Header.Get("X-Request-ID"))
	w.Header().Set("X-Request-ID", rid)
	w.Header().Set("Content-Type", "application/json")
	r = r.WithContext(context.WithValue(r.Context(), requestIDKey{}, rid))
	var pattern string // the route's, once known
	if len(h.opts.Observers) > 0 {
		start, x, sw := time.Now(), &exchange{}, &statusWriter{ResponseWriter: w}
		w, r = sw, r.WithContext(context.WithValue(r.Context(), exchangeKey{}, x))
		defer func() { h.observe(r, rid, pattern, start, sw, x) }() // after the recovery below
	}
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			h.opts.Logger.Error("httpapi: panic serving request", "request_id", rid, "method", r.Method, "panic", redactKeys(p))
			h.writeError(w, r, errPanic)
		}
	}()
	if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodDelete && r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, h.opts.MaxBodyBytes)
	}
	cleanPath(r)
	if _, pattern = h.mux.Handler(r); pattern == "" {
		// A request with a key is authenticated first (auth, then
		// routing) so that it counts and carries the rate-limit headers.
		if _, present := rawKey(r); present {
			if _, err := authorize(h.svc, w, r, nil); err != nil {
				h.writeError(w, r, err)
				return
			}
		}
		if allow := h.allowed(r); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			h.writeError(w, r, errMethod)
			return
		}
		h.writeError(w, r, errRoute)
		return
	}
	h.mux.ServeHTTP(&responseWriter{ResponseWriter: w, log: h.opts.Logger, r: r}, r)
}

// observe tells the observers about the request served.
func (h *handler) observe(r *http.Request, rid, pattern string, start time.Time, sw *statusWriter, x *exchange) {
	_, route, _ := strings.Cut(pattern, " ")
	info := RequestInfo{
		RequestID: rid, Method: r.Method, Route: route, Status: sw.status, Duration: time.Since(start),
		KeyID: x.key.ID, KeyPrefix: x.key.Prefix, AccountID: x.key.AccountID,
		AuthFailure: x.authFailure, RateLimited: x.limited,
		SearchMode: x.searchMode, SearchDuration: x.searchTime,
	}
	if info.Status == 0 {
		info.Status = http.StatusOK
	}
	for _, o := range h.opts.Observers {
		o.ObserveRequest(r.Context(), info)
	}
}

// allowed lists the methods that have a route for r's path.
func (h *handler) allowed(r *http.Request) []string {
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := &http.Request{Method: m, URL: r.URL, Host: r.Host, Header: http.Header{}}
		if _, p := h.mux.Handler(probe); p != "" {
			out = append(out, m)
		}
	}
	return out
}

// cleanPath makes r's path canonical before routing, as the contract
// (§1.1) asks and without the redirect ServeMux would answer instead: runs
// of '/' collapsed, a trailing '/' dropped, and the dot segments "." and
// ".." resolved as path.Clean resolves them, ".." at the root staying
// there. So "/v1/keys/../memories" is routed, and its scope checked,
// exactly as "/v1/memories". Percent-encoding is kept: an encoded '/'
// stays inside its segment, and an encoded dot ("%2e") is data, not a dot
// segment, so an agent or a project named "." or ".." stays addressable.
func cleanPath(r *http.Request) {
	esc := r.URL.EscapedPath()
	segs := strings.Split(esc, "/")
	out := segs[:0]
	for _, seg := range segs {
		switch seg {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
		}
	}
	clean := "/" + strings.Join(out, "/")
	if clean == esc {
		return
	}
	u := *r.URL
	if p, err := url.PathUnescape(clean); err == nil {
		u.Path, u.RawPath = p, clean
	}
	r.URL = &u
}
