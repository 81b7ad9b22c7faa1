package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/httpapi"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
)

func ExampleNew() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "httpapi-example")
	defer os.RemoveAll(dir)
	relay, _ := memoryrelay.Open(ctx, memoryrelay.Options{Path: filepath.Join(dir, "memory.db")})
	defer relay.Close()
	acct, _ := relay.CreateAccount(ctx, "acme")
	_, tok, _ := relay.Account(acct.ID).Keys().Create(ctx, memory.NewKey{Name: "agent", Scopes: scopes.NewSet(scopes.Read, scopes.Write)})

	api, err := httpapi.New(relay, httpapi.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	// Mount under /memory/ beside the host's own routes.
	mux := http.NewServeMux()
	mux.Handle("/memory/", http.StripPrefix("/memory", api))

	req := httptest.NewRequest("POST", "/memory/v1/memories", strings.NewReader(`{"content":"Likes green tea","agent_id":"assistant"}`))
	req.Header.Set("Authorization", "Bearer "+tok.Reveal())
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Header().Get("X-RateLimit-Remaining"))

	req = httptest.NewRequest("DELETE", "/memory/v1/memories/00000000-0000-4000-8000-000000000000", nil)
	req.Header.Set("X-API-Key", tok.Reveal())
	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	fmt.Println(rec.Code, strings.Contains(rec.Body.String(), `"message":"Insufficient scope. Required: delete"`))
	// Output:
	// 201 99
	// 403 true
}
