// Command server runs the memoryrelay REST API on an SQLite file with the
// built-in embedder: everything on this machine, nothing to download.
//
//	go run ./examples/server                      # :8000, ./memoryrelay.db
//	go run ./examples/server -addr :9000 -db /var/lib/memory.db
//
// Flags may also come from the environment: MEMORYRELAY_ADDR,
// MEMORYRELAY_DB, MEMORYRELAY_RATE_LIMIT, MEMORYRELAY_AUTO_EXTRACT.
// MEMORYRELAY_SERVER_SECRET (at least 32 bytes, e.g. the output of
// "openssl rand -base64 32") seals the accounts' extraction keys at rest;
// without it the extraction-keys API answers 503. On the first start, when the
// database has no keys, it creates an account named "default" and an admin
// key for it, and prints the key once on standard output. Set
// MEMORYRELAY_BOOTSTRAP_KEY to a well-formed key (mem_<env>_…) to use that
// key instead of a generated one. SIGINT or SIGTERM shut it down
// gracefully.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/httpapi"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

// run starts the server and blocks until ctx is done. If ready is not nil,
// it receives the listening address once the server accepts connections.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, ready chan<- string) error {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", envOr(getenv, "MEMORYRELAY_ADDR", ":8000"), "listen address (env MEMORYRELAY_ADDR)")
	dbPath := fs.String("db", envOr(getenv, "MEMORYRELAY_DB", memoryrelay.DefaultPath), "SQLite database file (env MEMORYRELAY_DB)")
	rate := fs.Int("rate-limit", envInt(getenv, "MEMORYRELAY_RATE_LIMIT", memoryrelay.DefaultRateLimit), "requests per minute per key (env MEMORYRELAY_RATE_LIMIT)")
	readHeader := fs.Duration("read-header-timeout", 5*time.Second, "time allowed to send request headers")
	read := fs.Duration("read-timeout", 30*time.Second, "time allowed to send a whole request")
	write := fs.Duration("write-timeout", 60*time.Second, "time allowed to write a response")
	idle := fs.Duration("idle-timeout", 120*time.Second, "how long an idle keep-alive connection stays open")
	maxHeader := fs.Int("max-header-bytes", 64<<10, "largest request header accepted")
	autoExtract := fs.Bool("auto-extract", envBool(getenv, "MEMORYRELAY_AUTO_EXTRACT"), "extract entities from memories whose create does not say (env MEMORYRELAY_AUTO_EXTRACT)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))

	relay, err := memoryrelay.Open(ctx, memoryrelay.Options{Path: *dbPath, RateLimit: *rate, Logger: log,
		ServerSecret: []byte(getenv("MEMORYRELAY_SERVER_SECRET")), Extraction: memoryrelay.ExtractionOptions{Default: *autoExtract}})
	if err != nil {
		return err
	}
	defer relay.Close()

	if err := bootstrap(ctx, relay, getenv("MEMORYRELAY_BOOTSTRAP_KEY"), stdout); err != nil {
		return err
	}

	api, err := httpapi.New(relay, httpapi.Options{Logger: log})
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           api,
		ReadHeaderTimeout: *readHeader,
		ReadTimeout:       *read,
		WriteTimeout:      *write,
		IdleTimeout:       *idle,
		MaxHeaderBytes:    *maxHeader,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	log.Info("memoryrelay listening", "addr", ln.Addr().String(), "db", *dbPath)
	if ready != nil {
		ready <- ln.Addr().String()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// bootstrap makes sure the "default" account exists and, while it has no
// key at all, gives it an admin key. The key is printed once and never
// again.
func bootstrap(ctx context.Context, relay *memoryrelay.Relay, given string, stdout io.Writer) error {
	acct, err := relay.AccountByName(ctx, "default")
	if errors.Is(err, memoryrelay.ErrNotFound) {
		acct, err = relay.CreateAccount(ctx, "default")
	}
	if err != nil {
		return err
	}
	ks := relay.Account(acct.ID).Keys()
	if page, err := ks.List(ctx, memory.PageParams{Limit: 1}); err != nil || page.Total > 0 {
		return err
	}
	params := memory.NewKey{Name: "bootstrap admin", Scopes: scopes.NewSet(scopes.Admin)}
	if given != "" {
		tok, err := keys.Parse(given)
		if err != nil {
			return fmt.Errorf("MEMORYRELAY_BOOTSTRAP_KEY: %w", err)
		}
		if _, err := relay.ImportKey(ctx, acct.ID, tok, params); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "Account \"default\" uses the admin key from MEMORYRELAY_BOOTSTRAP_KEY.")
		return nil
	}
	_, tok, err := ks.Create(ctx, params)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Admin key for account \"default\" (shown only this once):\n\n    %s\n\n", tok.Reveal())
	return nil
}

func envOr(getenv func(string) string, name, def string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return def
}

func envBool(getenv func(string) string, name string) bool {
	b, _ := strconv.ParseBool(getenv(name))
	return b
}

func envInt(getenv func(string) string, name string, def int) int {
	if v, err := strconv.Atoi(getenv(name)); err == nil {
		return v
	}
	return def
}
