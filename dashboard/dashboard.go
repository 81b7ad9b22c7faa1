package dashboard

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/limiter"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// Defaults of Options.
const (
	DefaultSessionTTL  = 12 * time.Hour
	DefaultIdleTimeout = time.Hour
	DefaultMaxSessions = 10_000
	DefaultSignInRate  = 10 // attempts per minute per client
)

// Limits of the dashboard's own inputs.
const (
	// MaxFormBytes is the largest form body a state-changing request may
	// carry; a larger one gets a 400 page.
	MaxFormBytes = 64 << 10
	// PreviewChars is how many characters of a memory's content the
	// lists show; the memory's own page shows all of it.
	PreviewChars = 280
	// KeysPage, MemoriesPage and AgentsPage are the page sizes of the
	// lists (the memory list and search take ?limit=1–100 too).
	KeysPage     = 50
	MemoriesPage = 20
	AgentsPage   = 20
	// RevealTTL is how long a new key waits, server-side, to be shown on
	// the page the browser is sent to after creating or rotating it. It
	// is shown once and then forgotten, or forgotten after RevealTTL.
	RevealTTL = 5 * time.Minute
)

// Service is what the dashboard needs from the core; *memoryrelay.Relay
// implements it. Pages act through the memory.Account of the signed-in
// key (AccountFor), so a host that wraps the account's resource groups
// for the REST API (see package httpapi) can wrap the dashboard's alike.
type Service interface {
	// Authorize checks the key given at sign-in. It is called once per
	// sign-in, never per page.
	Authorize(ctx context.Context, raw string, required ...scopes.Scope) (memoryrelay.Auth, error)
	AccountFor(k keys.Key) memory.Account
	Health(ctx context.Context) memoryrelay.Health
}

// RateLimitReporter is implemented by services that report a key's
// rate-limit bucket without taking a token, as *memoryrelay.Relay does
// (Relay.RateLimitState). The usage page shows the state of each key when
// the Service implements it, and says it is unknown otherwise.
type RateLimitReporter interface {
	RateLimitState(ctx context.Context, k keys.Key) (limiter.Decision, error)
}

var (
	_ Service           = (*memoryrelay.Relay)(nil)
	_ RateLimitReporter = (*memoryrelay.Relay)(nil)
)

// Options configures New. The zero value is usable.
type Options struct {
	// SessionTTL is the absolute lifetime of a session: it ends this long
	// after sign-in, however active. Default 12h.
	SessionTTL time.Duration
	// IdleTimeout ends a session this long after its last request.
	// Default 1h; it is capped at SessionTTL.
	IdleTimeout time.Duration
	// MaxSessions bounds the sessions kept in memory at once; past it a
	// sign-in ends the least recently used session. Default 10,000.
	MaxSessions int
	// SignInRate is how many sign-in attempts a client may make per
	// minute (a token bucket of that size refilling over a minute, as
	// package limiter's). Default 10.
	SignInRate int
	// ClientIP names the client of a request for the sign-in rate limit.
	// Default: the host of r.RemoteAddr. Behind a reverse proxy, return
	// the address the proxy reports in a header it sets itself; never
	// trust a header any client can send.
	ClientIP func(r *http.Request) string
	// SecureCookies marks cookies Secure even on requests that did not
	// arrive over TLS, for servers behind a TLS-terminating proxy. Over
	// TLS (r.TLS set) they are Secure anyway.
	SecureCookies bool
	// BasePath is the path the handler is mounted at ("/dashboard"),
	// used in links, redirects and the cookie path. Default: found on each
	// request, as the part of its URI that http.StripPrefix removed.
	BasePath string
	// Logger receives internal errors (never keys). Default: discard.
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// withDefaults fills in the defaults of o and checks it.
func (o Options) withDefaults() (Options, error) {
	var errs []error
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"SessionTTL", int64(o.SessionTTL)}, {"IdleTimeout", int64(o.IdleTimeout)},
		{"MaxSessions", int64(o.MaxSessions)}, {"SignInRate", int64(o.SignInRate)},
	} {
		if f.v < 0 {
			errs = append(errs, fmt.Errorf("dashboard: Options.%s must not be negative", f.name))
		}
	}
	if o.BasePath != "" && (!strings.HasPrefix(o.BasePath, "/") || strings.HasSuffix(o.BasePath, "/")) {
		errs = append(errs, errors.New(`dashboard: Options.BasePath must start with "/" and not end with one, as "/dashboard"`))
	}
	if err := errors.Join(errs...); err != nil {
		return o, err
	}
	o.SessionTTL = cmp.Or(o.SessionTTL, DefaultSessionTTL)
	o.IdleTimeout = min(cmp.Or(o.IdleTimeout, DefaultIdleTimeout), o.SessionTTL)
	o.MaxSessions = cmp.Or(o.MaxSessions, DefaultMaxSessions)
	o.SignInRate = cmp.Or(o.SignInRate, DefaultSignInRate)
	if o.ClientIP == nil {
		o.ClientIP = remoteHost
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o, nil
}

// remoteHost is the default Options.ClientIP.
func remoteHost(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// handler is the dashboard. It is safe for concurrent use.
type handler struct {
	svc      Service
	opts     Options
	sessions *sessionStore
	signIns  *limiter.Local
	pages    *pages
	assets   fs.FS
	cop      *http.CrossOriginProtection
	mux      *http.ServeMux
}

// New returns the dashboard as an http.Handler over svc. It never listens;
// mount it under a prefix with http.StripPrefix:
//
//	mux.Handle("/dashboard/", http.StripPrefix("/dashboard", h))
func New(svc Service, opts Options) (http.Handler, error) {
	if svc == nil {
		return nil, errors.New("dashboard: New needs a Service")
	}
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	signIns, err := limiter.NewLocal(limiter.Options{Limit: opts.SignInRate, Now: opts.Now})
	if err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	pg, err := parsePages()
	if err != nil {
		return nil, fmt.Errorf("dashboard: templates: %w", err)
	}
	assets, err := fs.Sub(ui, "ui/assets")
	if err != nil {
		return nil, fmt.Errorf("dashboard: assets: %w", err)
	}
	h := &handler{
		svc:      svc,
		opts:     opts,
		sessions: newSessionStore(opts.SessionTTL, opts.IdleTimeout, opts.MaxSessions),
		signIns:  signIns,
		pages:    pg,
		assets:   assets,
		cop:      http.NewCrossOriginProtection(),
		mux:      http.NewServeMux(),
	}
	for _, rt := range h.routes() {
		h.mux.Handle(rt.pattern, h.serve(rt))
	}
	h.mux.Handle("GET /assets/{name}", http.HandlerFunc(h.asset))
	h.mux.Handle("/", h.serve(route{pattern: "/", public: true, fn: h.notFound}))
	return h, nil
}

// route is one page or action of the dashboard.
type route struct {
	pattern string
	// public routes need no session (sign-in); every other route needs a
	// signed-in session whose key holds scope.
	public bool
	scope  scopes.Scope
	fn     func(c *call)
}

// routes is the table of the dashboard's pages and actions. Every POST
// changes state and is checked for CSRF (the session's token, or the
// sign-in form's) and for a cross-origin request.
func (h *handler) routes() []route {
	return []route{
		{pattern: "GET /{$}", scope: scopes.Admin, fn: h.home},
		{pattern: "GET /signin", public: true, fn: h.signInPage},
		{pattern: "POST /signin", public: true, fn: h.signIn},
		{pattern: "POST /signout", scope: scopes.Admin, fn: h.signOut},

		{pattern: "GET /keys", scope: scopes.Admin, fn: h.keysPage},
		{pattern: "POST /keys", scope: scopes.Admin, fn: h.createKey},
		{pattern: "GET /keys/new", scope: scopes.Admin, fn: h.newKeyPage},
		{pattern: "GET /keys/{id}/revoke", scope: scopes.Admin, fn: h.revokePage},
		{pattern: "POST /keys/{id}/revoke", scope: scopes.Admin, fn: h.revokeKey},
		{pattern: "GET /keys/{id}/rotate", scope: scopes.Admin, fn: h.rotatePage},
		{pattern: "POST /keys/{id}/rotate", scope: scopes.Admin, fn: h.rotateKey},
		{pattern: "GET /keys/{id}/edit", scope: scopes.Admin, fn: h.editPage},
		{pattern: "POST /keys/{id}/edit", scope: scopes.Admin, fn: h.editKey},

		{pattern: "GET /memories", scope: scopes.Read, fn: h.memoriesPage},
		{pattern: "GET /memories/{id}", scope: scopes.Read, fn: h.memoryPage},
		{pattern: "GET /memories/{id}/delete", scope: scopes.Delete, fn: h.deleteMemoryPage},
		{pattern: "POST /memories/{id}/delete", scope: scopes.Delete, fn: h.deleteMemory},

		{pattern: "GET /agents", scope: scopes.Read, fn: h.agentsPage},
		{pattern: "GET /usage", scope: scopes.Admin, fn: h.usagePage},
		{pattern: "GET /health", scope: scopes.Read, fn: h.healthPage},
	}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", contentSecurityPolicy)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.mux.ServeHTTP(w, r)
}

// contentSecurityPolicy allows only the dashboard's own script and style
// sheet (no inline script or style, no eval), no plugins, no framing, and
// forms that post only to the dashboard's origin.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// call is one request to a route, with what the dashboard knows of it.
type call struct {
	h    *handler
	w    http.ResponseWriter
	r    *http.Request
	base string   // the mount prefix, "" or "/dashboard"
	sess *session // nil on public routes
	now  time.Time
}

func (c *call) ctx() context.Context { return c.r.Context() }

// account is the API of the signed-in key's account, acting for it.
func (c *call) account() memory.Account { return c.h.svc.AccountFor(c.sess.key()) }

// serve runs a route: the session and its key's scope for private
// routes, CSRF and origin checks for every POST.
func (h *handler) serve(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		c := &call{h: h, w: w, r: r, base: h.basePath(r), now: h.opts.Now()}
		post := r.Method == http.MethodPost
		if post {
			if err := h.cop.Check(r); err != nil {
				c.fail(http.StatusForbidden, "This form was sent from another site, so it was refused. Open the dashboard and try again.")
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, MaxFormBytes)
			if err := r.ParseForm(); err != nil {
				c.fail(http.StatusBadRequest, "The form could not be read (it may be too large). Reload the page and try again.")
				return
			}
		}
		if rt.public {
			rt.fn(c)
			return
		}
		s, why := h.sessions.get(h.sessionID(r), c.now)
		if s == nil {
			c.toSignIn(why)
			return
		}
		c.sess = s
		// The key is read again on every request, so that a key revoked
		// (here or through the API) or expired ends its sessions at once.
		k, err := h.svc.AccountFor(s.key()).Keys().Get(r.Context(), s.key().ID)
		switch {
		case errors.Is(err, memory.ErrNotFound):
			h.sessions.end(s)
			c.toSignIn(endedRevoked)
			return
		case err != nil:
			c.failErr(err)
			return
		case k.RevokedAt != nil:
			h.sessions.end(s)
			c.toSignIn(endedRevoked)
			return
		case k.ExpiresAt != nil && !c.now.Before(*k.ExpiresAt):
			h.sessions.end(s)
			c.toSignIn(endedExpiredKey)
			return
		}
		s.setKey(k)
		if err := k.Scopes.Check(rt.scope); err != nil {
			c.fail(http.StatusForbidden, "The key you signed in with cannot do this: it lacks the "+rt.scope.String()+" scope.")
			return
		}
		if post && !s.checkCSRF(r.PostFormValue(csrfField)) {
			c.fail(http.StatusForbidden, "This form has expired or did not come from this dashboard, so it was refused. Reload the page and try again.")
			return
		}
		rt.fn(c)
	})
}

// basePath is the prefix the dashboard is mounted at: Options.BasePath,
// or the part of the request URI that http.StripPrefix removed.
func (h *handler) basePath(r *http.Request) string {
	if h.opts.BasePath != "" {
		return h.opts.BasePath
	}
	uri, _, _ := strings.Cut(r.RequestURI, "?")
	base, ok := strings.CutSuffix(uri, r.URL.EscapedPath())
	if !ok || !strings.HasPrefix(base, "/") || strings.HasPrefix(base, "//") || strings.HasSuffix(base, "/") {
		return ""
	}
	return base
}

// secure reports whether cookies of the request are marked Secure.
func (h *handler) secure(r *http.Request) bool { return r.TLS != nil || h.opts.SecureCookies }

// redirect answers 303 See Other to a dashboard path ("/keys").
func (c *call) redirect(path string) {
	http.Redirect(c.w, c.r, c.base+path, http.StatusSeeOther)
}

func (h *handler) home(c *call) { c.redirect("/keys") }

func (h *handler) notFound(c *call) {
	// Public, so that an unknown path says "not found" rather than "sign
	// in"; signed in, the page has its navigation.
	if s, _ := h.sessions.get(h.sessionID(c.r), c.now); s != nil {
		c.sess = s
	}
	c.fail(http.StatusNotFound, "There is no such page in the dashboard.")
}

// asset serves an embedded file of ui/assets.
func (h *handler) asset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	b, err := fs.ReadFile(h.assets, name)
	if err != nil {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	switch {
	case strings.HasSuffix(name, ".css"):
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	case strings.HasSuffix(name, ".js"):
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	case strings.HasSuffix(name, ".svg"):
		w.Header().Set("Content-Type", "image/svg+xml")
	default:
		w.Header().Set("Content-Type", "application/octet-stream")
	}
	w.Header().Set("Cache-Control", "max-age=300")
	w.Write(b)
}
