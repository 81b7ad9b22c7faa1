package httpapi_test

// Bad input gets a 4xx, never a 500 (issue 8 §3): long queries, lists
// that become SQL terms, dot segments, JSON nesting, decoder messages,
// invalid UTF-8 and forged cursors.

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/httpapi"
	"github.com/memoryrelay/memoryrelay/memory"
)

// cjkText is n Han characters whose overlapping pairs (the full-text terms
// of Han text) are nearly all distinct.
func cjkText(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteRune(rune(0x4E00 + (i*7919)%20992))
	}
	return b.String()
}

// asciiWords is n characters of distinct lowercase words, space-separated.
func asciiWords(n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		if i > 0 {
			b.WriteByte(' ')
		}
		w := []byte("qxaaaa")
		for j, v := len(w)-1, i; v > 0; j, v = j-1, v/26 {
			w[j] = byte('a' + v%26)
		}
		b.Write(w)
	}
	return b.String()[:n]
}

// mixedText is n characters mixing Han runs, Latin words with diacritics,
// digits, Cyrillic, emoji and punctuation.
func mixedText(n int) string {
	parts := []string{"機械学習の", " résumé ", "42", " Привет ", "🙂", "-", "foo_bar", "ß", "データ", "x9y8"}
	var rs []rune
	for i := 0; len(rs) < n; i++ {
		rs = append(rs, []rune(parts[i%len(parts)])...)
		rs = append(rs, rune(0x4E00+(i*31)%20992), rune('a'+i%26))
	}
	return string(rs[:n])
}

// TestLongQueriesAnswer: a query of up to 51,200 characters is answered on
// every endpoint that searches, in every mode, whatever its script (32,768
// Han characters were a 500: one SQL variable per term, repeats included);
// one more character is a 400.
func TestLongQueriesAnswer(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{RateLimit: 100_000})
	key := e.keys["rw"]
	cjk := cjkText(memory.MaxContentChars)
	ascii := asciiWords(memory.MaxContentChars)
	mixed := mixedText(memory.MaxContentChars)
	// Memories that share terms with the queries, so that every side of
	// the search has candidates to score.
	cjkID := e.createMemory(key, map[string]any{"content": cjk[:3000]})
	e.createMemory(key, map[string]any{"content": ascii[:3000]})
	e.createMemory(key, map[string]any{"content": mixed[:3000]})
	repeated := strings.Repeat("機械", 16_384) // 32,768 characters, one distinct pair... twice

	for name, q := range map[string]string{"cjk": cjk, "ascii": ascii, "mixed": mixed, "repeated": repeated} {
		if n := utf8.RuneCountInString(q); n > memory.MaxContentChars {
			t.Fatalf("%s: %d characters", name, n)
		}
		for _, c := range []struct {
			path string
			body map[string]any
		}{
			{"/v1/memories/search", map[string]any{"query": q}},
			{"/v1/memories/search", map[string]any{"query": q, "search_mode": "keyword"}},
			{"/v1/memories/search", map[string]any{"query": q, "search_mode": "semantic"}},
			{"/v1/memories/context", map[string]any{"query": q}},
			{"/v2/context", map[string]any{"query": q}},
			{"/v2/context/build", map[string]any{"query": q, "search_mode": "keyword"}},
		} {
			r := e.do("POST", c.path, key, c.body)
			if r.status != http.StatusOK {
				t.Errorf("%s %s %v: %d %.300s", name, c.path, c.body["search_mode"], r.status, r.raw)
			}
		}
	}
	// Matching still works on what the cap keeps: the Han memory is found
	// by keyword from the full 51,200-character query.
	r := e.do("POST", "/v1/memories/search", key, map[string]any{"query": cjk, "search_mode": "keyword"})
	if data, _ := r.body["data"].([]any); len(data) == 0 || data[0].(map[string]any)["id"] != cjkID {
		t.Errorf("keyword search with the long Han query: %.300s", r.raw)
	}

	tooLong := cjk + "字"
	for _, path := range []string{"/v1/memories/search", "/v1/memories/context", "/v2/context", "/v2/context/build"} {
		checkError(t, e.do("POST", path, key, map[string]any{"query": tooLong}), 400, "validation_error", "query must be 1-51200 characters")
	}
}

// TestRequestListsCapped: every caller-supplied list that becomes SQL
// terms or variables has a documented maximum, answered at the maximum and
// a 400 one past it (929 metadata_filter keys and 934 tags were a 500:
// SQLite's expression depth).
func TestRequestListsCapped(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{RateLimit: 100_000})
	key := e.keys["rw"]
	meta := map[string]any{}
	for i := range memory.MaxMetadataFilterKeys {
		meta["k"+strconv.Itoa(i)] = i
	}
	id := e.createMemory(key, map[string]any{"content": "filtered memory", "metadata": meta})

	filter := func(n int) map[string]any {
		f := map[string]any{}
		for i := range n {
			f["k"+strconv.Itoa(i)] = i
		}
		return f
	}
	r := e.do("POST", "/v1/memories/search", key, map[string]any{"query": "filtered memory", "metadata_filter": filter(memory.MaxMetadataFilterKeys)})
	if data, _ := r.body["data"].([]any); r.status != 200 || len(data) != 1 || data[0].(map[string]any)["id"] != id {
		t.Errorf("metadata_filter with %d keys: %d %.300s", memory.MaxMetadataFilterKeys, r.status, r.raw)
	}
	for _, n := range []int{memory.MaxMetadataFilterKeys + 1, 929, 5000} {
		checkError(t, e.do("POST", "/v1/memories/search", key, map[string]any{"query": "x", "metadata_filter": filter(n)}),
			400, "validation_error", fmt.Sprintf("metadata_filter must have at most %d keys", memory.MaxMetadataFilterKeys))
	}

	tags := make([]string, memory.MaxTagFilter)
	for i := range tags {
		tags[i] = "t" + strconv.Itoa(i)
	}
	if r := e.do("POST", "/v1/decisions", key, map[string]any{"title": "tagged", "rationale": "r", "tags": tags}); r.status != 201 {
		t.Fatalf("decision: %d %s", r.status, r.raw)
	}
	list := func(n int, dup bool) response {
		var q []string
		for i := range n {
			q = append(q, "t"+strconv.Itoa(i))
			if dup {
				q = append(q, "t"+strconv.Itoa(i))
			}
		}
		return e.do("GET", "/v1/decisions?tags="+url.QueryEscape(strings.Join(q, ",")), key, nil)
	}
	for _, dup := range []bool{false, true} { // repeats count once
		if r := list(memory.MaxTagFilter, dup); r.status != 200 || len(r.body["data"].([]any)) != 1 {
			t.Errorf("%d tags (repeated %v): %d %.300s", memory.MaxTagFilter, dup, r.status, r.raw)
		}
	}
	for _, n := range []int{memory.MaxTagFilter + 1, 934} {
		checkError(t, list(n, false), 400, "validation_error", fmt.Sprintf("tags must list at most %d distinct tags", memory.MaxTagFilter))
	}

	exclude := func(n int) []string {
		out := []string{id}
		for len(out) < n {
			out = append(out, fmt.Sprintf("00000000-0000-4000-8000-%012d", len(out)))
		}
		return out
	}
	r = e.do("POST", "/v2/context/build", key, map[string]any{"query": "filtered memory", "exclude_memory_ids": exclude(memory.MaxExcludeIDs)})
	if r.status != 200 || len(r.body["context"].([]any)) != 0 {
		t.Errorf("exclude_memory_ids with %d ids: %d %.300s", memory.MaxExcludeIDs, r.status, r.raw)
	}
	checkError(t, e.do("POST", "/v2/context", key, map[string]any{"query": "x", "exclude_memory_ids": exclude(memory.MaxExcludeIDs + 1)}),
		400, "validation_error", fmt.Sprintf("exclude_memory_ids must hold at most %d ids", memory.MaxExcludeIDs))

	items := make([]any, memory.MaxBatch)
	for i := range items {
		items[i] = map[string]any{"content": "batch item " + strconv.Itoa(i)}
	}
	r = e.do("POST", "/v1/memories/batch", key, map[string]any{"memories": items})
	if r.status != 200 || r.body["succeeded"] != float64(memory.MaxBatch) {
		t.Errorf("batch of %d: %d %.300s", memory.MaxBatch, r.status, r.raw)
	}
	checkError(t, e.do("POST", "/v1/memories/batch", key, map[string]any{"memories": append(items, items[0])}),
		400, "validation_error", "memories must hold 1-1000 items")
}

// TestNoRedirects: no path, however written, gets a 3xx or a body that is
// not the contract's JSON (ServeMux answered dot segments with a 307 and
// an empty body). Dot segments are resolved, so a path is routed, and its
// scope checked, as the path it resolves to.
func TestNoRedirects(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{RateLimit: 100_000})
	// A redirect is an answer here, not something to follow.
	e.srv.Client().CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	e.createMemory(e.keys["rw"], map[string]any{"content": "m"})
	for _, c := range []struct {
		path   string
		status int // with the read key
	}{
		{"/v1/./memories", 200},
		{"/v1/keys/../memories", 200},
		{"/v1/memories/.", 200},
		{"/v1/memories/./", 200},
		{"/./v1/memories", 200},
		{"/../../v1/memories", 200},
		{"/v1/memories/x/..", 200},
		{"//v1//memories//", 200},
		{"/v1/memories/", 200},
		{"/v1/agents/../memories/", 200},
		{"/v1/memories/..", 404},
		{"/v1/..", 404},
		{"/..", 404},
		{"/.", 404},
		{"/", 404},
		{"/v1/%2e/memories", 404},
		{"/v1/memories/%2e%2e", 404},
		{"/v1/memories/%2E", 404},
		{"/v1/keys/%2e%2e/memories", 404},
		{"/v1/memories/../keys", 403}, // routed as /v1/keys: admin scope
		{"/v1/memories/../health", 200},
		{"/health/.", 200},
	} {
		r := e.do("GET", c.path, e.keys["read"], nil)
		if r.status != c.status {
			t.Errorf("GET %s: %d, want %d: %.200s", c.path, r.status, c.status, r.raw)
		}
	}
	// The scope is the resolved route's: a delete-only key may not list
	// memories through a detour.
	checkError(t, e.do("GET", "/v1/keys/../memories", e.keys["delete"], nil), 403, "authorization_error", "Insufficient scope. Required: read")
	// A write through a dot segment is the write.
	if r := e.do("POST", "/v1/./memories/../memories", e.keys["rw"], map[string]any{"content": "via dots"}); r.status != 201 {
		t.Errorf("POST via dot segments: %d %s", r.status, r.raw)
	}
	// Every method, every shape of path: never 3xx (do checks the JSON
	// body, the content type and the request id of each).
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"} {
		for _, p := range []string{"/v1/./agents", "/v1/x/../agents/", "/v1/agents/%2e%2e", "/v1//agents/.//", "/v2/./memories", "/v1/memories/search/.", "/v1/keys/../../../../"} {
			if m == "HEAD" {
				res, err := e.srv.Client().Head(e.srv.URL + p)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				if res.StatusCode/100 == 3 {
					t.Errorf("HEAD %s: %d", p, res.StatusCode)
				}
				continue
			}
			if r := e.do(m, p, e.keys["admin"], "{}"); r.status/100 == 3 {
				t.Errorf("%s %s: %d", m, p, r.status)
			}
		}
	}
}

// TestStoredJSONDepth: every stored JSON field accepts nesting to
// memory.MaxJSONDepth levels (the outermost object is level 1) and is
// a 400 one level deeper (memory metadata was accepted to 1,000 levels,
// a project's stack to any depth). A request body nested deeper than
// httpapi.MaxRequestDepth is a 400 before it is decoded.
func TestStoredJSONDepth(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{RateLimit: 100_000})
	rw, admin := e.keys["rw"], e.keys["admin"]
	max := memory.MaxJSONDepth
	obj := func(levels int) string { return deep(levels, true) } // {"a":{"a":…1}}, levels deep
	e.createMemory(rw, map[string]any{"content": "m"})
	mem := e.createMemory(rw, map[string]any{"content": "to update"})
	if r := e.do("POST", "/v1/agents", rw, map[string]any{"name": "agent-d"}); r.status != 201 {
		t.Fatalf("agent: %d %s", r.status, r.raw)
	}
	r := e.do("POST", "/v1/decisions", rw, map[string]any{"title": "d", "rationale": "r"})
	if r.status != 201 {
		t.Fatalf("decision: %d %s", r.status, r.raw)
	}
	decision := r.body["id"].(string)
	for _, slug := range []string{"dp-a", "dp-b"} {
		if r := e.do("POST", "/v1/projects", rw, map[string]any{"slug": slug, "name": slug}); r.status != 201 {
			t.Fatalf("project: %d %s", r.status, r.raw)
		}
	}

	n := 0
	uniq := func() string { n++; return strconv.Itoa(n) }
	cases := []struct {
		name, method, path, key string
		body                    func(v string) string // v: the JSON value of the field
		field                   string
	}{
		{"memory create", "POST", "/v1/memories", rw, func(v string) string { return `{"content":"c","metadata":` + v + `}` }, "metadata"},
		{"memory update", "PATCH", "/v1/memories/" + mem, rw, func(v string) string { return `{"metadata":` + v + `}` }, "metadata"},
		{"memory v2", "POST", "/v2/memories", rw, func(v string) string { return `{"content":"c","metadata":` + v + `}` }, "metadata"},
		{"agent create", "POST", "/v1/agents", rw, func(v string) string { return `{"name":"ag` + uniq() + `","metadata":` + v + `}` }, "metadata"},
		{"agent update", "PATCH", "/v1/agents/agent-d", rw, func(v string) string { return `{"metadata":` + v + `}` }, "metadata"},
		{"entity", "POST", "/v1/entities", rw, func(v string) string { return `{"name":"e` + uniq() + `","type":"person","metadata":` + v + `}` }, "metadata"},
		{"session", "POST", "/v1/sessions", rw, func(v string) string { return `{"title":"s","metadata":` + v + `}` }, "metadata"},
		{"session get-or-create", "POST", "/v1/sessions/get-or-create", rw, func(v string) string { return `{"external_id":"x` + uniq() + `","metadata":` + v + `}` }, "metadata"},
		{"decision", "POST", "/v1/decisions", rw, func(v string) string { return `{"title":"t","rationale":"r","metadata":` + v + `}` }, "metadata"},
		{"pattern", "POST", "/v1/patterns", rw, func(v string) string { return `{"title":"t","description":"d","metadata":` + v + `}` }, "metadata"},
		{"project metadata", "POST", "/v1/projects", rw, func(v string) string { return `{"slug":"p` + uniq() + `","name":"P","metadata":` + v + `}` }, "metadata"},
		{"project stack", "POST", "/v1/projects", rw, func(v string) string { return `{"slug":"p` + uniq() + `","name":"P","stack":` + v + `}` }, "stack"},
		{"project relationship", "POST", "/v1/projects/dp-a/relationships", rw, func(v string) string {
			return `{"target_project":"dp-b","relationship_type":"rel` + uniq() + `","metadata":` + v + `}`
		}, "metadata"},
		{"key", "POST", "/v1/keys", admin, func(v string) string { return `{"name":"k` + uniq() + `","scopes":["read"],"metadata":` + v + `}` }, "metadata"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if r := e.do(c.method, c.path, c.key, c.body(obj(max))); r.status/100 != 2 {
				t.Errorf("%d levels: %d %.300s", max, r.status, r.raw)
			}
			checkError(t, e.do(c.method, c.path, c.key, c.body(obj(max+1))), 400, "validation_error",
				fmt.Sprintf("%s must be nested at most %d levels deep", c.field, max))
		})
	}
	// A supersede's metadata, on a fresh decision each time.
	if r := e.do("POST", "/v1/decisions/"+decision+"/supersede", rw, `{"title":"t2","rationale":"r","metadata":`+obj(max)+`}`); r.status != 201 {
		t.Errorf("supersede %d levels: %d %.300s", max, r.status, r.raw)
	} else {
		checkError(t, e.do("POST", "/v1/decisions/"+r.body["id"].(string)+"/supersede", rw, `{"title":"t3","rationale":"r","metadata":`+obj(max+1)+`}`),
			400, "validation_error", fmt.Sprintf("metadata must be nested at most %d levels deep", max))
	}
	// A batch item fails alone.
	r = e.do("POST", "/v1/memories/batch", rw, `{"memories":[{"content":"ok","metadata":`+obj(max)+`},{"content":"deep","metadata":`+obj(max+1)+`}]}`)
	if r.status != 200 {
		t.Fatalf("batch: %d %s", r.status, r.raw)
	}
	res := r.body["results"].([]any)
	if res[0].(map[string]any)["status"] != "success" || res[1].(map[string]any)["status"] != "failed" ||
		res[1].(map[string]any)["error"] != fmt.Sprintf("metadata must be nested at most %d levels deep", max) {
		t.Errorf("batch results: %s", r.raw)
	}
	// A metadata_filter is counted as stored metadata is.
	if r := e.do("POST", "/v1/memories/search", rw, `{"query":"c","metadata_filter":`+obj(max)+`}`); r.status != 200 {
		t.Errorf("metadata_filter %d levels: %d %.300s", max, r.status, r.raw)
	}
	checkError(t, e.do("POST", "/v1/memories/search", rw, `{"query":"c","metadata_filter":`+obj(max+1)+`}`),
		400, "validation_error", fmt.Sprintf("metadata_filter must be nested at most %d levels deep", max))

	// Any request body: MaxRequestDepth levels are decoded (an unknown
	// field is ignored), one more is refused.
	if r := e.do("POST", "/v1/memories/search", rw, `{"query":"c","ignored":`+obj(httpapi.MaxRequestDepth-1)+`}`); r.status != 200 {
		t.Errorf("body %d levels: %d %.300s", httpapi.MaxRequestDepth, r.status, r.raw)
	}
	for _, body := range []string{`{"query":"c","ignored":` + obj(httpapi.MaxRequestDepth) + `}`, `{"x":` + deep(100_000, false) + `}`} {
		checkError(t, e.do("POST", "/v1/memories/search", rw, body), 400, "validation_error",
			fmt.Sprintf("Request body must be nested at most %d levels deep", httpapi.MaxRequestDepth))
	}
}

// TestDecodeMessages: a value of the wrong JSON type names the type the
// field must have (metadata_filter: [1] said "must be a string"), and a
// number out of range says so, with the range (limit: 1e10 said "must be
// an integer"; a limit over the maximum is clamped, as the contract's
// §1.6 asks of any limit over the maximum).
func TestDecodeMessages(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{RateLimit: 100_000})
	rw, admin := e.keys["rw"], e.keys["admin"]
	for _, c := range []struct {
		method, path, key, body string
		field, msg              string
	}{
		{"POST", "/v1/memories/search", rw, `{"query":"x","metadata_filter":[1]}`, "metadata_filter", "metadata_filter must be an object"},
		{"POST", "/v1/memories/search", rw, `{"query":"x","metadata_filter":"k"}`, "metadata_filter", "metadata_filter must be an object"},
		{"POST", "/v1/memories/search", rw, `{"query":"x","limit":1.5}`, "limit", "limit must be an integer"},
		{"POST", "/v1/memories/search", rw, `{"query":"x","limit":"10"}`, "limit", "limit must be an integer"},
		{"POST", "/v1/memories/search", rw, `{"query":"x","limit":1e-400}`, "limit", "limit must be an integer"},
		{"POST", "/v1/memories/search", rw, `{"query":"x","limit":0.0}`, "limit", "limit must be an integer between 1 and 100"},
		{"POST", "/v1/memories/search", rw, `{"query":"x","limit":-1e10}`, "limit", "limit must be an integer between 1 and 100"},
		{"POST", "/v1/memories/search", rw, `{"query":"x","threshold":1e400}`, "threshold", "threshold is out of range: it must be a number between -1.7976931348623157e+308 and 1.7976931348623157e+308"},
		{"POST", "/v1/memories/search", rw, `{"query":"x","threshold":"high"}`, "threshold", "threshold must be a number"},
		{"POST", "/v1/memories/search", rw, `{"query":"x","include_archived":"yes"}`, "include_archived", "include_archived must be a boolean"},
		{"POST", "/v1/memories/search", rw, `{"query":["x"]}`, "query", "query must be a string"},
		{"POST", "/v1/memories", rw, `{"content":"x","importance":-1e999}`, "importance", "importance is out of range: it must be a number between"},
		{"POST", "/v1/memories", rw, `{"content":{"a":1}}`, "content", "content must be a string"},
		{"POST", "/v2/context", rw, `{"query":"x","exclude_memory_ids":[1]}`, "exclude_memory_ids", "exclude_memory_ids must be an array of strings"},
		{"POST", "/v2/context", rw, `{"query":"x","exclude_memory_ids":"id"}`, "exclude_memory_ids", "exclude_memory_ids must be an array of strings"},
		{"POST", "/v2/context", rw, `{"query":"x","max_memories":1e10}`, "max_memories", "max_memories must be between 1 and 100"},
		{"POST", "/v2/context", rw, `{"query":"x","max_memories":99999999999999999999999}`, "max_memories", "max_memories must be between 1 and 100"},
		{"POST", "/v2/context", rw, `{"query":"x","max_tokens":1e10}`, "max_tokens", "max_tokens must be between 100 and 128000"},
		{"POST", "/v2/context", rw, `{"query":"x","max_tokens":150.5}`, "max_tokens", "max_tokens must be an integer"},
		{"POST", "/v1/memories/context", rw, `{"query":"x","max_tokens":-1e300}`, "max_tokens", "max_tokens must be a positive integer"},
		{"POST", "/v1/memories/batch", rw, `{"memories":{"content":"x"}}`, "memories", "memories must be an array"},
		{"POST", "/v1/keys", admin, `{"name":"k","scopes":"read","metadata":[]}`, "", "scopes must be"},
		{"POST", "/v1/keys/00000000-0000-4000-8000-000000000000/rotate", admin, `{"grace_seconds":1e12}`, "grace_seconds", "grace_seconds must be"},
		{"GET", "/v1/memories?offset=99999999999999999999", rw, "", "offset", "offset must be between 0 and 1000000000"},
		{"GET", "/v1/memories?offset=1000000001", rw, "", "offset", "offset must be between 0 and 1000000000"},
		{"GET", "/v1/agents?offset=-1", rw, "", "offset", "offset must be between 0 and 1000000000"},
		{"GET", "/v1/memories?limit=-99999999999999999999", rw, "", "limit", "limit must be an integer between 1 and 100"},
	} {
		var body any
		if c.body != "" {
			body = c.body
		}
		r := e.do(c.method, c.path, c.key, body)
		checkError(t, r, 400, "validation_error", c.msg)
		if c.field != "" {
			if errs, _ := r.body["errors"].([]any); len(errs) != 1 || errs[0].(map[string]any)["field"] != c.field {
				t.Errorf("%s %s: errors %v, want field %s", c.path, c.body, r.body["errors"], c.field)
			}
		}
	}
	// Over the maximum, however far, a limit is clamped; an offset at the
	// maximum is answered.
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/v1/memories/search", `{"query":"x","limit":1e10}`},
		{"POST", "/v1/memories/search", `{"query":"x","limit":1e400}`},
		{"POST", "/v1/memories/context", `{"query":"x","limit":99999999999999999999}`},
		{"GET", "/v1/memories?limit=99999999999999999999", ""},
		{"GET", "/v1/memories?offset=1000000000", ""},
	} {
		var body any
		if c.body != "" {
			body = c.body
		}
		if r := e.do(c.method, c.path, rw, body); r.status != 200 {
			t.Errorf("%s %s %s: %d %.300s", c.method, c.path, c.body, r.status, r.raw)
		} else if lim, ok := r.body["limit"]; ok && strings.Contains(c.path, "limit") && lim != 100.0 {
			t.Errorf("%s %s: limit %v, want 100", c.method, c.path, lim)
		}
	}
}

// TestInvalidUTF8SameOnCreateAndUpdate: metadata with invalid UTF-8, in a
// key or a value, at the top or nested, is a 400 on create and on update
// alike (update accepted a key that create refused: its decoder replaced
// the bytes); content with invalid UTF-8 is read the same way by both
// (the JSON decoder replaces the bytes with U+FFFD).
func TestInvalidUTF8SameOnCreateAndUpdate(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{RateLimit: 100_000})
	key := e.keys["rw"]
	id := e.createMemory(key, map[string]any{"content": "original", "metadata": map[string]any{"keep": 1}})
	for _, meta := range []string{"{\"\xc3\":1}", "{\"k\":\"\xff\"}", "{\"n\":{\"\xfe\":1}}", "{\"n\":[\"a\xffb\"]}"} {
		checkError(t, e.do("POST", "/v1/memories", key, `{"content":"x","metadata":`+meta+`}`), 400, "validation_error", "metadata must be valid UTF-8")
		checkError(t, e.do("PATCH", "/v1/memories/"+id, key, `{"metadata":`+meta+`}`), 400, "validation_error", "metadata must be valid UTF-8")
		checkError(t, e.do("POST", "/v2/memories", key, `{"content":"x","metadata":`+meta+`}`), 400, "validation_error", "metadata must be valid UTF-8")
		r := e.do("POST", "/v1/memories/batch", key, `{"memories":[{"content":"x","metadata":`+meta+`}]}`)
		if res := r.body["results"].([]any)[0].(map[string]any); res["status"] != "failed" || res["error"] != "metadata must be valid UTF-8" {
			t.Errorf("batch %q: %s", meta, r.raw)
		}
	}
	g := e.do("GET", "/v1/memories/"+id, key, nil)
	if m := g.body["metadata"].(map[string]any); len(m) != 1 || m["keep"] != 1.0 || g.body["content"] != "original" {
		t.Errorf("after the refused updates: %s", g.raw)
	}
	created := e.do("POST", "/v1/memories", key, "{\"content\":\"a\xffb\"}")
	updated := e.do("PATCH", "/v1/memories/"+id, key, "{\"content\":\"a\xffb\"}")
	if created.status != 201 || updated.status != 200 || created.body["content"] != "a\uFFFDb" || updated.body["content"] != created.body["content"] {
		t.Errorf("content with invalid UTF-8: create %d %q, update %d %q", created.status, created.raw, updated.status, updated.raw)
	}
}

// TestForgedCursor: a cursor claiming an offset past memory.MaxOffset
// is a 400 (2^63-1 gave a negative next_cursor); at the maximum it is
// answered and the next cursor is valid.
func TestForgedCursor(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{RateLimit: 100_000})
	key := e.keys["rw"]
	for i := range 3 {
		e.createMemory(key, map[string]any{"content": "m" + strconv.Itoa(i)})
		e.clock.Advance(1e6)
	}
	for _, slug := range []string{"c-1", "c-2", "c-3"} {
		if r := e.do("POST", "/v1/projects", key, map[string]any{"slug": slug, "name": slug}); r.status != 201 {
			t.Fatal(r.status, string(r.raw))
		}
		e.clock.Advance(1e6)
	}
	for _, list := range []string{"/v1/memories", "/v1/projects"} {
		first := e.do("GET", list+"?limit=1", key, nil)
		c, _ := first.body["next_cursor"].(string)
		raw, err := base64.RawURLEncoding.DecodeString(c)
		if err != nil {
			t.Fatalf("%s: cursor %q: %v", list, c, err)
		}
		parts := strings.Split(string(raw), ":") // list:created_at:offset:id
		forge := func(off string) string {
			return base64.RawURLEncoding.EncodeToString([]byte(parts[0] + ":" + parts[1] + ":" + off + ":" + parts[3]))
		}
		for _, off := range []string{"9223372036854775807", strconv.Itoa(memory.MaxOffset + 1), "99999999999999999999", "-1"} {
			checkError(t, e.do("GET", list+"?limit=1&cursor="+forge(off), key, nil), 400, "validation_error", "cursor is not valid")
		}
		r := e.do("GET", list+"?limit=1&cursor="+forge(strconv.Itoa(memory.MaxOffset)), key, nil)
		if r.status != 200 || r.body["offset"] != float64(memory.MaxOffset) {
			t.Fatalf("%s: cursor at the maximum offset: %d %.300s", list, r.status, r.raw)
		}
		next, _ := r.body["next_cursor"].(string)
		if next == "" {
			t.Fatalf("%s: no next_cursor: %s", list, r.raw)
		}
		raw, _ = base64.RawURLEncoding.DecodeString(next)
		parts2 := strings.Split(string(raw), ":")
		if off, err := strconv.Atoi(parts2[2]); len(parts2) != 4 || err != nil || off < 0 || off > memory.MaxOffset {
			t.Errorf("%s: next_cursor %q", list, raw)
		}
		if r := e.do("GET", list+"?limit=1&cursor="+next, key, nil); r.status != 200 || len(r.body["data"].([]any)) != 1 {
			t.Errorf("%s: the next page: %d %.300s", list, r.status, r.raw)
		}
	}
}
