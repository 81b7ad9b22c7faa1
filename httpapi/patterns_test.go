package httpapi_test

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

// patternShape is the Pattern object of the contract §4.5.
var patternShape = map[string]string{
	"id": "uuid", "title": "string", "name": "string", "description": "string", "scope": "string",
	"category": "string?", "tags": "array", "example_code": "string?", "source_project_id": "uuid?",
	"source_project_slug": "string?", "metadata": "object", "adoption_count": "int", "created_at": "iso", "updated_at": "iso",
}

func TestPatternCreate(t *testing.T) {
	e := unlimitedEnv(t)
	rw := e.keys["rw"]
	b := expect(t, e.do("POST", "/v1/patterns", rw, map[string]any{
		"title": "Table-driven tests", "description": "Cases in a table, run with t.Run.", "category": "testing",
		"example_code": "for _, c := range cases { t.Run(c.name, ...) }", "scope": "project", "tags": []string{"go", "tests"},
		"source_project": "core", "metadata": map[string]any{"origin": "review"},
	}), 201)
	checkKinds(t, "pattern", b, patternShape)
	if b["name"] != "Table-driven tests" || b["title"] != b["name"] || b["scope"] != "project" || b["category"] != "testing" ||
		b["source_project_slug"] != "core" || b["source_project_id"] == nil || b["adoption_count"] != 0.0 ||
		string(mustJSON(t, b["tags"])) != `["go","tests"]` || string(mustJSON(t, b["metadata"])) != `{"origin":"review"}` ||
		b["created_at"] != "2026-03-17T09:30:00.000Z" {
		t.Errorf("created %v", b)
	}
	proj := expect(t, e.do("GET", "/v1/projects/core", rw, nil), 200)
	if proj["id"] != b["source_project_id"] {
		t.Errorf("source project %v, pattern %v", proj["id"], b["source_project_id"])
	}

	d := expect(t, e.do("POST", "/v1/patterns", rw, `{"title": "t", "description": "d", "category": null, "tags": null, "scope": null, "metadata": null}`), 201)
	checkKinds(t, "pattern", d, patternShape)
	if d["scope"] != "global" || d["category"] != nil || d["source_project_id"] != nil || len(d["tags"].([]any)) != 0 {
		t.Errorf("defaults %v", d)
	}

	alias := expect(t, e.do("POST", "/v1/patterns", rw, `{"name": "Named", "description": "d", "source_project_slug": "lib"}`), 201)
	if alias["title"] != "Named" || alias["source_project_slug"] != "lib" {
		t.Errorf("aliases %v", alias)
	}

	tags := make([]string, 21)
	runErrCases(t, e, []errCase{
		{"no title", "POST", "/v1/patterns", rw, `{"description": "d"}`, 400, "title", "title is required"},
		{"no description", "POST", "/v1/patterns", rw, `{"title": "t"}`, 400, "description", "description is required"},
		{"title of 501", "POST", "/v1/patterns", rw, map[string]any{"title": strings.Repeat("t", 501), "description": "d"}, 400, "title", "title must be 1-500"},
		{"description of 50001", "POST", "/v1/patterns", rw, map[string]any{"title": "t", "description": strings.Repeat("d", 50_001)}, 400, "description", "description must be 1-50000"},
		{"category of 101", "POST", "/v1/patterns", rw, map[string]any{"title": "t", "description": "d", "category": strings.Repeat("c", 101)}, 400, "category", "category must be at most 100"},
		{"21 tags", "POST", "/v1/patterns", rw, map[string]any{"title": "t", "description": "d", "tags": tags}, 400, "tags", "tags must have at most 20"},
		{"tags not a list", "POST", "/v1/patterns", rw, `{"title": "t", "description": "d", "tags": [1]}`, 400, "tags", "tags must be an array of strings"},
		{"bad scope", "POST", "/v1/patterns", rw, `{"title": "t", "description": "d", "scope": "team"}`, 400, "scope", "scope must be global or project"},
		{"project scope without source", "POST", "/v1/patterns", rw, `{"title": "t", "description": "d", "scope": "project"}`, 400, "source_project", "source_project is required"},
		{"source of 101", "POST", "/v1/patterns", rw, map[string]any{"title": "t", "description": "d", "source_project": strings.Repeat("s", 101)}, 400, "source_project", "source_project must be 1-100"},
		{"read key cannot create", "POST", "/v1/patterns", e.keys["read"], `{"title": "t", "description": "d"}`, 403, "", "Insufficient scope. Required: write"},
	})
}

func TestPatternAdoptAndSuggest(t *testing.T) {
	e := unlimitedEnv(t)
	rw := e.keys["rw"]
	mk := func(title, scope string) string {
		t.Helper()
		body := map[string]any{"title": title, "description": "about " + title, "scope": scope}
		if scope == "project" {
			body["source_project"] = "origin"
		}
		id := expect(t, e.do("POST", "/v1/patterns", rw, body), 201)["id"].(string)
		e.clock.Advance(time.Millisecond)
		return id
	}
	g1, g2, p1 := mk("g1", "global"), mk("g2", "global"), mk("p1", "project")
	theirs := expect(t, e.do("POST", "/v1/patterns", e.keys["other"], map[string]any{"title": "t", "description": "d"}), 201)["id"].(string)

	adopt := func(t *testing.T, id, project string) map[string]any {
		t.Helper()
		b := expect(t, e.do("POST", "/v1/patterns/"+id+"/adopt", rw, map[string]any{"project": project}), 200)
		checkKinds(t, "pattern", b, patternShape)
		return b
	}
	if b := adopt(t, g2, "web"); b["adoption_count"] != 1.0 || b["id"] != g2 || b["updated_at"] == b["created_at"] {
		t.Errorf("first adoption %v", b)
	}
	if b := adopt(t, g2, "web"); b["adoption_count"] != 1.0 {
		t.Errorf("same project again %v", b)
	}
	if b := adopt(t, strings.ToUpper(g2), "api"); b["adoption_count"] != 2.0 {
		t.Errorf("second project %v", b)
	}
	adopt(t, p1, "web")
	expect(t, e.do("GET", "/v1/projects/api", rw, nil), 200)
	expect(t, e.do("POST", "/v1/patterns/"+g1+"/adopt", rw, `{"project_slug": "cli"}`), 200)

	suggest := func(t *testing.T, query string) []string {
		t.Helper()
		b := expect(t, e.do("GET", "/v1/patterns/suggest"+query, e.keys["read"], nil), 200)
		checkKinds(t, "suggest", b, map[string]string{"data": "array", "project": "string", "total": "int"})
		var titles []string
		for _, p := range items(t, b, "data") {
			checkKinds(t, "pattern", p, patternShape)
			titles = append(titles, p["title"].(string))
		}
		if b["total"] != float64(len(titles)) {
			t.Errorf("total %v for %d", b["total"], len(titles))
		}
		return titles
	}
	for _, c := range []struct{ name, query, want string }{
		{"adopted excluded", "?project=web", "g1"},
		{"global first, most adopted first", "?project=origin", "g2,g1,p1"},
		{"limit", "?project=origin&limit=1", "g2"},
		{"limit clamped", "?project=origin&limit=5000", "g2,g1,p1"},
	} {
		t.Run("suggest "+c.name, func(t *testing.T) {
			if got := strings.Join(suggest(t, c.query), ","); got != c.want {
				t.Errorf("got %s, want %s", got, c.want)
			}
		})
	}

	runErrCases(t, e, []errCase{
		{"adopt without project", "POST", "/v1/patterns/" + g1 + "/adopt", rw, `{}`, 400, "project", "project is required"},
		{"adopt with an invalid slug", "POST", "/v1/patterns/" + g1 + "/adopt", rw, `{"project": "Web App"}`, 400, "project", "project must be a project slug"},
		{"adopt unknown", "POST", "/v1/patterns/00000000-0000-0000-0000-000000000000/adopt", rw, `{"project": "web"}`, 404, "", "Pattern not found"},
		{"adopt malformed", "POST", "/v1/patterns/p1/adopt", rw, `{"project": "web"}`, 404, "", "Pattern not found"},
		{"adopt other account's", "POST", "/v1/patterns/" + theirs + "/adopt", rw, `{"project": "web"}`, 404, "", "Pattern not found"},
		{"adopt without write scope", "POST", "/v1/patterns/" + g1 + "/adopt", e.keys["read"], `{"project": "web"}`, 403, "", "Insufficient scope. Required: write"},
		{"suggest without project", "GET", "/v1/patterns/suggest", rw, nil, 400, "project", "project is required"},
		{"suggest unknown project", "GET", "/v1/patterns/suggest?project=ghost", rw, nil, 404, "", "Project not found"},
		{"suggest other account's project", "GET", "/v1/patterns/suggest?project=web", e.keys["other"], nil, 404, "", "Project not found"},
		{"suggest limit 0", "GET", "/v1/patterns/suggest?project=web&limit=0", rw, nil, 400, "limit", "limit must be"},
		{"suggest without read scope", "GET", "/v1/patterns/suggest?project=web", e.keys["delete"], nil, 403, "", "Insufficient scope. Required: read"},
		{"wrong method on the literal", "POST", "/v1/patterns/suggest", rw, `{}`, 405, "", "Method not allowed"},
	})
}

func TestPatternSearch(t *testing.T) {
	e := unlimitedEnv(t)
	rw := e.keys["rw"]
	mk := func(title, category, description string) string {
		t.Helper()
		id := expect(t, e.do("POST", "/v1/patterns", rw, map[string]any{"title": title, "category": category, "description": description}), 201)["id"].(string)
		e.clock.Advance(time.Millisecond)
		return id
	}
	retry := mk("Retry with exponential backoff", "resilience", "Retry idempotent network calls with exponential backoff and jitter.")
	breaker := mk("Circuit breaker around flaky dependencies", "resilience", "Stop calling a failing dependency for a while.")
	mk("Table-driven tests", "testing", "Write Go tests as a table of cases.")
	expect(t, e.do("POST", "/v1/patterns/"+breaker+"/adopt", rw, map[string]any{"project": "web"}), 200)
	expect(t, e.do("POST", "/v1/patterns", e.keys["other"], map[string]any{"title": "Retry with exponential backoff", "description": "theirs"}), 201)

	search := func(t *testing.T, query string) (map[string]any, []map[string]any) {
		t.Helper()
		b := expect(t, e.do("GET", "/v1/patterns/search"+query, e.keys["read"], nil), 200)
		checkKinds(t, "search", b, map[string]string{"data": "array", "query": "string", "total": "int"})
		data := items(t, b, "data")
		for _, it := range data {
			checkKinds(t, "search item", it, map[string]string{"pattern": "object", "id": "uuid", "title": "string", "name": "string",
				"category": "string?", "description": "string"})
			p := it["pattern"].(map[string]any)
			checkKinds(t, "pattern", p, patternShape)
			s, ok := it["score"].(float64)
			if !ok || s < 0 || s > 1 || it["id"] != p["id"] || it["title"] != p["title"] || it["name"] != p["title"] ||
				it["category"] != p["category"] || it["description"] != p["description"] {
				t.Errorf("item %v", it)
			}
		}
		if b["total"] != float64(len(data)) {
			t.Errorf("total %v for %d", b["total"], len(data))
		}
		return b, data
	}
	ids := func(data []map[string]any) []any {
		var out []any
		for _, it := range data {
			out = append(out, it["id"])
		}
		return out
	}

	t.Run("no query lists by adoption with score 0", func(t *testing.T) {
		b, data := search(t, "")
		if len(data) != 3 || data[0]["id"] != breaker || b["query"] != "" {
			t.Fatalf("data %v", ids(data))
		}
		for _, it := range data {
			if it["score"] != 0.0 {
				t.Errorf("score %v", it["score"])
			}
		}
	})
	t.Run("no query, filters", func(t *testing.T) {
		if _, data := search(t, "?category=testing"); len(data) != 1 {
			t.Errorf("category: %v", ids(data))
		}
		if _, data := search(t, "?project=web"); len(data) != 1 || data[0]["id"] != breaker {
			t.Errorf("project: %v", ids(data))
		}
		if _, data := search(t, "?limit=2"); len(data) != 2 {
			t.Errorf("limit: %v", ids(data))
		}
	})
	q := url.QueryEscape("Retry with exponential backoff")
	t.Run("verbatim title", func(t *testing.T) {
		b, data := search(t, "?query="+q)
		if len(data) != 1 || data[0]["id"] != retry || data[0]["score"].(float64) < 0.8 || b["query"] != "Retry with exponential backoff" {
			t.Fatalf("data %v", data)
		}
	})
	t.Run("q alias, threshold, min_score", func(t *testing.T) {
		if _, data := search(t, "?q="+q); len(data) != 1 {
			t.Errorf("q: %v", ids(data))
		}
		_, all := search(t, "?threshold=0&query="+q)
		for _, it := range all[1:] {
			if it["score"].(float64) >= 0.3 {
				t.Errorf("weak item %v", it)
			}
		}
		if _, data := search(t, "?min_score=1&query="+url.QueryEscape("retry with backoff")); len(data) != 0 {
			t.Errorf("min_score: %v", ids(data))
		}
	})
	t.Run("category and project filters", func(t *testing.T) {
		if _, data := search(t, "?category=testing&query="+q); len(data) != 0 {
			t.Errorf("category: %v", ids(data))
		}
		if _, data := search(t, "?project=nope&query="+q); len(data) != 0 {
			t.Errorf("project: %v", ids(data))
		}
	})

	runErrCases(t, e, []errCase{
		{"limit 0", "GET", "/v1/patterns/search?query=x&limit=0", rw, nil, 400, "limit", "limit must be"},
		{"limit not an integer", "GET", "/v1/patterns/search?limit=x", rw, nil, 400, "limit", "limit must be"},
		{"threshold above 1", "GET", "/v1/patterns/search?query=x&threshold=3", rw, nil, 400, "threshold", "threshold must be"},
		{"without read scope", "GET", "/v1/patterns/search", e.keys["delete"], nil, 403, "", "Insufficient scope. Required: read"},
		{"wrong method on the literal", "POST", "/v1/patterns/search", rw, `{}`, 405, "", "Method not allowed"},
	})
	t.Run("other account sees only its own", func(t *testing.T) {
		b := expect(t, e.do("GET", "/v1/patterns/search?query="+q, e.keys["other"], nil), 200)
		for _, it := range items(t, b, "data") {
			if it["id"] == retry {
				t.Errorf("saw another account's pattern")
			}
		}
	})
}
