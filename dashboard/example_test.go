package dashboard_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/dashboard"
	"github.com/memoryrelay/memoryrelay/httpapi"
)

// A host serves the REST API at / and the dashboard under /dashboard/.
// Someone then signs in at /dashboard/signin with an admin key.
func ExampleNew() {
	dir, err := os.MkdirTemp("", "dashboard-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	relay, err := memoryrelay.Open(ctx, memoryrelay.Options{Path: filepath.Join(dir, "memory.db")})
	if err != nil {
		log.Fatal(err)
	}
	defer relay.Close()

	api, err := httpapi.New(relay, httpapi.Options{})
	if err != nil {
		log.Fatal(err)
	}
	dash, err := dashboard.New(relay, dashboard.Options{})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/dashboard/", http.StripPrefix("/dashboard", dash))
	mux.Handle("/", api)

	// Without a session every page sends to the sign-in form.
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest("GET", "/dashboard/keys", nil))
	fmt.Println(w.Code, w.Header().Get("Location"))

	w = httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest("GET", "/dashboard/signin", nil))
	fmt.Println(w.Code, w.Header().Get("Content-Type"))
	// Output:
	// 303 /dashboard/signin
	// 200 text/html; charset=utf-8
}
