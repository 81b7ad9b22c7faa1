package llm_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/memoryrelay/memoryrelay/extract/llm"
	"github.com/memoryrelay/memoryrelay/secret"
)

func ExampleNew() {
	// A stand-in for an OpenAI-compatible endpoint.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"model":"gpt-4o-mini","choices":[{"message":{"content":`+
			`"{\"entities\":[{\"type\":\"person\",\"name\":\"Priya\"},{\"type\":\"place\",\"name\":\"Pune\"}]}"}}]}`)
	}))
	defer srv.Close()

	x, err := llm.New(llm.Options{
		BaseURL:    srv.URL + "/v1", // e.g. https://api.openai.com/v1
		Model:      "gpt-4o-mini",
		APIKey:     secret.New("sk-..."),
		HTTPClient: srv.Client(), // the server passes one with its outbound-call policy
	})
	if err != nil {
		panic(err)
	}
	r, err := x.Extract(context.Background(), "Priya moved to Pune in May.")
	if err != nil {
		panic(err)
	}
	for _, e := range r.Entities {
		fmt.Println(e.Type, e.Name)
	}
	fmt.Println(r.Method, r.Model)
	// Output:
	// person Priya
	// location Pune
	// llm gpt-4o-mini
}
