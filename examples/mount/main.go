// Command mount shows memoryrelay's API inside an existing web server: the
// handler under /memory/ beside the host's own routes, one of which is
// protected by a memoryrelay key with httpapi.RequireKey.
//
//	go run ./examples/mount
//	curl localhost:8080/                          # the host's public page
//	curl localhost:8080/memory/v1/health          # memoryrelay, no key needed
//	curl -H "Authorization: Bearer $KEY" localhost:8080/reports   # host route, needs read scope
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/httpapi"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, ":8080", "mount.db", os.Stdout, nil); err != nil {
		fmt.Fprintln(os.Stderr, "mount:", err)
		os.Exit(1)
	}
}

// run serves the host's mux on addr until ctx is done; ready, if not nil,
// receives the address and a read+write key once it is serving.
func run(ctx context.Context, addr, dbPath string, stdout io.Writer, ready chan<- [2]string) error {
	relay, err := memoryrelay.Open(ctx, memoryrelay.Options{Path: dbPath})
	if err != nil {
		return err
	}
	defer relay.Close()

	acct, err := relay.CreateAccount(ctx, "host")
	if err != nil {
		return err
	}
	_, tok, err := relay.Account(acct.ID).Keys().Create(ctx, memory.NewKey{Name: "mount example", Scopes: scopes.NewSet(scopes.Read, scopes.Write)})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "read+write key for this run: %s\n", tok.Reveal())

	api, err := httpapi.New(relay, httpapi.Options{})
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "the host's own public page")
	})
	// The host's own route, protected by memoryrelay keys.
	mux.Handle("GET /reports", httpapi.RequireKey(relay, scopes.Read)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k, _ := httpapi.KeyFromContext(r.Context())
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, "{\"report\":\"ok\",\"key\":%q}\n", k.Name)
	})))
	// memoryrelay's API under /memory/.
	mux.Handle("/memory/", http.StripPrefix("/memory", api))

	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if ready != nil {
		ready <- [2]string{ln.Addr().String(), tok.Reveal()}
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(sctx)
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
