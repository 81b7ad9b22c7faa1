// Command server is the smallest complete program that serves memoryrelay
// over HTTP: the library opened on an SQLite file, its handler behind an
// http.Server with timeouts, an admin key made on the first start, and a
// graceful shutdown. It is the example to copy when embedding memoryrelay
// in a server of your own; to run one, use the memoryrelay command
// (go run ./cmd/memoryrelay serve), which adds flags, metrics and logs.
//
//	go run ./examples/server -addr :8000 -db memoryrelay.db
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
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
	addr := flag.String("addr", ":8000", "listen address")
	db := flag.String("db", memoryrelay.DefaultPath, "SQLite database file")
	flag.Parse()
	if err := run(ctx, *addr, *db, os.Stdout, nil); err != nil {
		log.Fatal(err)
	}
}

// run serves the API until ctx is done. ready, if not nil, receives the
// listening address.
func run(ctx context.Context, addr, db string, stdout io.Writer, ready chan<- string) error {
	relay, err := memoryrelay.Open(ctx, memoryrelay.Options{Path: db})
	if err != nil {
		return err
	}
	defer relay.Close()
	if err := firstKey(ctx, relay, stdout); err != nil {
		return err
	}
	api, err := httpapi.New(relay, httpapi.Options{})
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: api, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
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
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// firstKey gives the "default" account an admin key while it has none,
// and prints it: the only time it is shown.
func firstKey(ctx context.Context, relay *memoryrelay.Relay, stdout io.Writer) error {
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
	_, tok, err := ks.Create(ctx, memory.NewKey{Name: "admin", Scopes: scopes.NewSet(scopes.Admin)})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Admin key (shown only this once): %s\n", tok.Reveal())
	return nil
}
