package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/dashboard"
	"github.com/memoryrelay/memoryrelay/httpapi"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/metrics"
)

const serveAbout = `
Serve the REST API on an SQLite file, with the built-in embedder unless
-embedder names another: everything on this machine, nothing to download.

On the first start, while the account "default" has no key, it creates that
account and an admin key for it and prints the key once on standard output.
Set MEMORYRELAY_BOOTSTRAP_KEY to a well-formed key (mem_<env>_…) to make that
key the admin key instead. SIGINT or SIGTERM shut it down gracefully: requests
in flight are finished (within 10 seconds), then the database is closed.

With -metrics, GET /metrics serves Prometheus metrics on the API's port, or on
-metrics-addr alone when it is set (to keep it off the public port). Each
request is logged as one line (request id, route, status, duration, key prefix,
account; never a key) unless -request-log=false. The dashboard (sign in with
an admin key) is served at /dashboard/ unless -dashboard=false.

MEMORYRELAY_SERVER_SECRET (at least 32 bytes, e.g. the output of
"openssl rand -base64 32"; environment only, never a flag) seals the accounts'
bring-your-own extraction keys at rest; without it the extraction-keys API
answers 503. -auto-extract extracts the entities of memory creates that do
not say; -embedding-price meters a paid embedder for the keys' spend limits.`

func serve(ctx context.Context, args []string, sys *system) error {
	getenv := sys.getenv
	fs := newFlags(sys, "serve", "serve [flags]", serveAbout)
	db := addDBFlags(fs, getenv)
	addr := fs.String("addr", envOr(getenv, "MEMORYRELAY_ADDR", ":8000"), "listen address (env MEMORYRELAY_ADDR)")
	rate := fs.Int("rate-limit", envInt(getenv, "MEMORYRELAY_RATE_LIMIT", memoryrelay.DefaultRateLimit), "requests per minute per key (env MEMORYRELAY_RATE_LIMIT)")
	workers := fs.Int("workers", envInt(getenv, "MEMORYRELAY_WORKERS", memoryrelay.DefaultWorkers), "v2 job workers; -1 for none (env MEMORYRELAY_WORKERS)")
	readHeader := fs.Duration("read-header-timeout", 5*time.Second, "time allowed to send request headers")
	read := fs.Duration("read-timeout", 30*time.Second, "time allowed to send a whole request")
	write := fs.Duration("write-timeout", 60*time.Second, "time allowed to write a response")
	idle := fs.Duration("idle-timeout", 120*time.Second, "how long an idle keep-alive connection stays open")
	maxHeader := fs.Int("max-header-bytes", 64<<10, "largest request header accepted")
	withMetrics := fs.Bool("metrics", envBool(getenv, "MEMORYRELAY_METRICS", false), "serve Prometheus metrics at GET /metrics (env MEMORYRELAY_METRICS)")
	metricsAddr := fs.String("metrics-addr", getenv("MEMORYRELAY_METRICS_ADDR"), "serve /metrics on this address instead of the API's; implies -metrics (env MEMORYRELAY_METRICS_ADDR)")
	logFormat := fs.String("log-format", envOr(getenv, "MEMORYRELAY_LOG_FORMAT", "text"), "log format: text or json (env MEMORYRELAY_LOG_FORMAT)")
	logLevel := fs.String("log-level", envOr(getenv, "MEMORYRELAY_LOG_LEVEL", "info"), "least level logged: debug, info, warn or error (env MEMORYRELAY_LOG_LEVEL)")
	requestLog := fs.Bool("request-log", envBool(getenv, "MEMORYRELAY_REQUEST_LOG", true), "log one line per request, at info (5xx at error) (env MEMORYRELAY_REQUEST_LOG)")
	pgURL := fs.String("postgres-url", getenv("MEMORYRELAY_POSTGRES_URL"), "PostgreSQL database to use instead of -db, shared by every node (env MEMORYRELAY_POSTGRES_URL)")
	pgConns := fs.Int("postgres-max-conns", envInt(getenv, "MEMORYRELAY_POSTGRES_MAX_CONNS", 0), "most connections to PostgreSQL from this node; 0 for the default (env MEMORYRELAY_POSTGRES_MAX_CONNS)")
	redisURL := fs.String("redis-url", getenv("MEMORYRELAY_REDIS_URL"), "Redis shared by every node: rate limits and key revocations (env MEMORYRELAY_REDIS_URL)")
	failClosed := fs.Bool("redis-fail-closed", envBool(getenv, "MEMORYRELAY_REDIS_FAIL_CLOSED", false), "answer 503 while Redis is down instead of limiting each node on its own (env MEMORYRELAY_REDIS_FAIL_CLOSED)")
	dash := fs.Bool("dashboard", envBool(getenv, "MEMORYRELAY_DASHBOARD", true), "serve the dashboard at /dashboard/; -dashboard=false turns it off (env MEMORYRELAY_DASHBOARD)")
	autoExtract := fs.Bool("auto-extract", envBool(getenv, "MEMORYRELAY_AUTO_EXTRACT", false), "extract entities from memories whose create does not say (env MEMORYRELAY_AUTO_EXTRACT)")
	price := fs.Float64("embedding-price", envFloat(getenv, "MEMORYRELAY_EMBEDDING_PRICE", 0), "what the embedder costs, USD per million tokens, charged to the keys' spend limits; 0: free (env MEMORYRELAY_EMBEDDING_PRICE)")
	dashSecure := fs.Bool("dashboard-secure-cookies", envBool(getenv, "MEMORYRELAY_DASHBOARD_SECURE_COOKIES", false), "mark the dashboard's cookies Secure on plain-HTTP requests too, behind a TLS-terminating proxy (env MEMORYRELAY_DASHBOARD_SECURE_COOKIES)")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("serve takes no arguments, got %q", rest)
	}
	log, err := newLogger(sys.stderr, *logFormat, *logLevel)
	if err != nil {
		return err
	}
	opts, err := db.options(true)
	if err != nil {
		return err
	}
	opts.RateLimit, opts.Workers, opts.Logger = *rate, *workers, log
	opts.PostgresURL, opts.PostgresMaxConns = *pgURL, *pgConns
	opts.RedisURL, opts.RedisFailClosed = *redisURL, *failClosed
	opts.ServerSecret = []byte(getenv("MEMORYRELAY_SERVER_SECRET"))
	opts.Extraction.Default, opts.EmbeddingPrice = *autoExtract, *price
	if *pgURL != "" {
		opts.Path = "" // the data is in PostgreSQL, not in -db's file
	}

	relay, err := memoryrelay.Open(ctx, opts)
	if err != nil {
		return err
	}
	defer relay.Close()

	if err := bootstrap(ctx, relay, getenv("MEMORYRELAY_BOOTSTRAP_KEY"), sys.stdout); err != nil {
		return err
	}

	var observers []httpapi.Observer
	var m *metrics.Metrics
	if *withMetrics || *metricsAddr != "" {
		if m, err = metrics.New(relay, metrics.Options{}); err != nil {
			return err
		}
		observers = append(observers, m)
	}
	if *requestLog {
		observers = append(observers, httpapi.RequestLog(log))
	}
	api, err := httpapi.New(relay, httpapi.Options{Logger: log, Observers: observers})
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/", api)
	if m != nil && *metricsAddr == "" {
		mux.Handle("GET /metrics", m.Handler())
	}
	if *dash {
		d, err := dashboard.New(relay, dashboard.Options{Logger: log, SecureCookies: *dashSecure})
		if err != nil {
			return err
		}
		mux.Handle("/dashboard/", http.StripPrefix("/dashboard", d))
		mux.Handle("GET /dashboard", http.RedirectHandler("/dashboard/", http.StatusMovedPermanently))
	}

	newServer := func(h http.Handler) *http.Server {
		return &http.Server{
			Handler:           h,
			ReadHeaderTimeout: *readHeader,
			ReadTimeout:       *read,
			WriteTimeout:      *write,
			IdleTimeout:       *idle,
			MaxHeaderBytes:    *maxHeader,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		}
	}
	type listener struct {
		name string
		srv  *http.Server
		ln   net.Listener
	}
	var servers []listener
	defer func() {
		for _, s := range servers {
			s.ln.Close() // those not yet serving; Shutdown closed the others
		}
	}()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	servers = append(servers, listener{"api", newServer(mux), ln})
	if m != nil && *metricsAddr != "" {
		mm := http.NewServeMux()
		mm.Handle("GET /metrics", m.Handler())
		mln, err := net.Listen("tcp", *metricsAddr)
		if err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
		servers = append(servers, listener{"metrics", newServer(mm), mln})
	}

	errc := make(chan error, len(servers))
	for _, s := range servers {
		if s.name == "api" {
			log.Info("memoryrelay listening", "addr", s.ln.Addr().String(), "db", opts.Path)
		} else {
			log.Info("metrics listening", "addr", s.ln.Addr().String())
		}
		go func() { errc <- s.srv.Serve(s.ln) }()
		if sys.listening != nil {
			sys.listening(s.name, s.ln.Addr().String())
		}
	}
	var serveErr error
	select {
	case serveErr = <-errc:
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var errs []error
	for _, s := range servers {
		if err := s.srv.Shutdown(shutdownCtx); err != nil {
			errs = append(errs, err)
		}
	}
	for range len(servers) - btoi(serveErr != nil) {
		if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		errs = append(errs, serveErr)
	}
	return errors.Join(errs...)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// newLogger returns the logger of -log-format and -log-level.
func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usagef("-log-level must be debug, info, warn or error, not %q", level)
	}
	ho := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, ho)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, ho)), nil
	}
	return nil, usagef("-log-format must be text or json, not %q", format)
}

// bootstrap makes sure the "default" account exists and, while it has no
// key at all, gives it an admin key. The key is printed once and never
// again.
func bootstrap(ctx context.Context, relay *memoryrelay.Relay, given string, stdout io.Writer) error {
	var tok *keys.Token
	if given != "" {
		t, err := keys.Parse(given)
		if err != nil {
			return fmt.Errorf("MEMORYRELAY_BOOTSTRAP_KEY: %w", err)
		}
		tok = &t
	}
	// Once per database, however many nodes start at once.
	b, err := relay.Bootstrap(ctx, "default", tok)
	if err != nil || !b.Created {
		return err
	}
	if tok != nil {
		fmt.Fprintln(stdout, "Account \"default\" uses the admin key from MEMORYRELAY_BOOTSTRAP_KEY.")
		return nil
	}
	fmt.Fprintf(stdout, "Admin key for account \"default\" (shown only this once):\n\n    %s\n\n", b.Token.Reveal())
	return nil
}
