package metrics_test

import (
	"bufio"
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/httpapi"
	"github.com/memoryrelay/memoryrelay/metrics"
)

// The API with its metrics at /metrics, as `memoryrelay serve -metrics`
// serves them.
func ExampleNew() {
	dir, _ := os.MkdirTemp("", "metrics-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	relay, err := memoryrelay.Open(ctx, memoryrelay.Options{Path: filepath.Join(dir, "memory.db")})
	if err != nil {
		log.Fatal(err)
	}
	defer relay.Close()

	m, err := metrics.New(relay, metrics.Options{})
	if err != nil {
		log.Fatal(err)
	}
	api, err := httpapi.New(relay, httpapi.Options{Observers: []httpapi.Observer{m}})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	mux.Handle("/", api)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	for range 2 {
		res, err := http.Get(srv.URL + "/v1/health")
		if err != nil {
			log.Fatal(err)
		}
		res.Body.Close()
	}
	res, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		log.Fatal(err)
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "memoryrelay_http_requests_total{") {
			fmt.Println(sc.Text())
		}
	}
	// Output:
	// memoryrelay_http_requests_total{method="GET",route="/v1/health",status="200"} 2
}
