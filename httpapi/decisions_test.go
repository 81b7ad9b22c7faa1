package httpapi_test

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

// decisionShape is the Decision object of the contract §4.5.
var decisionShape = map[string]string{
	"id": "uuid", "agent_id": "string?", "session_id": "uuid?", "project_slug": "string?", "title": "string",
	"rationale": "string", "alternatives": "string?", "status": "string", "superseded_by": "uuid?",
	"tags": "array", "metadata": "object", "created_at": "iso", "updated_at": "iso",
}

func TestDecisionCreate(t *testing.T) {
	e := unlimitedEnv(t)
	rw := e.keys["rw"]
	sess := expect(t, e.do("POST", "/v1/sessions", rw, map[string]any{}), 201)["id"].(string)

	b := expect(t, e.do("POST", "/v1/decisions", rw, map[string]any{
		"title": "Use PostgreSQL", "rationale": "JSONB and transactions.", "alternatives": "MySQL, SQLite",
		"project_slug": "billing", "tags": []string{"db", "infra"}, "status": "experimental",
		"metadata": map[string]any{"source": "chat", "confidence": 0.9}, "agent_id": "architect", "session_id": sess,
	}), 201)
	checkKinds(t, "decision", b, decisionShape)
	if b["title"] != "Use PostgreSQL" || b["alternatives"] != "MySQL, SQLite" || b["project_slug"] != "billing" || b["status"] != "experimental" ||
		b["agent_id"] != "architect" || b["session_id"] != sess || b["superseded_by"] != nil || string(mustJSON(t, b["tags"])) != `["db","infra"]` ||
		string(mustJSON(t, b["metadata"])) != `{"confidence":0.9,"source":"chat"}` || b["created_at"] != "2026-03-17T09:30:00.000Z" {
		t.Errorf("created %v", b)
	}
	expect(t, e.do("GET", "/v1/projects/billing", rw, nil), 200)

	for _, c := range []struct {
		name  string
		body  string
		check func(map[string]any) bool
	}{
		{"defaults", `{"title": "t", "rationale": "r"}`, func(b map[string]any) bool {
			return b["status"] == "active" && b["project_slug"] == nil && b["agent_id"] == nil && b["alternatives"] == nil &&
				len(b["tags"].([]any)) == 0 && len(b["metadata"].(map[string]any)) == 0
		}},
		{"nulls are absent", `{"title": "t", "rationale": "r", "tags": null, "status": null, "metadata": null, "project": null, "agent_id": null, "session_id": null, "alternatives": null}`,
			func(b map[string]any) bool { return b["status"] == "active" && len(b["tags"].([]any)) == 0 }},
		{"project alias", `{"title": "t", "rationale": "r", "project": "web"}`, func(b map[string]any) bool { return b["project_slug"] == "web" }},
		{"project_slug wins", `{"title": "t", "rationale": "r", "project": "web", "project_slug": "api"}`, func(b map[string]any) bool { return b["project_slug"] == "api" }},
		{"alternatives as a list", `{"title": "t", "rationale": "r", "alternatives": ["MySQL", "SQLite"]}`, func(b map[string]any) bool { return b["alternatives"] == "MySQL\nSQLite" }},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := expect(t, e.do("POST", "/v1/decisions", rw, c.body), 201)
			checkKinds(t, "decision", b, decisionShape)
			if !c.check(b) {
				t.Errorf("got %v", b)
			}
		})
	}

	runErrCases(t, e, []errCase{
		{"no title", "POST", "/v1/decisions", rw, `{"rationale": "r"}`, 400, "title", "title is required"},
		{"no rationale", "POST", "/v1/decisions", rw, `{"title": "t", "rationale": null}`, 400, "rationale", "rationale is required"},
		{"blank title", "POST", "/v1/decisions", rw, `{"title": " ", "rationale": "r"}`, 400, "title", "title must be 1-500"},
		{"title of 501", "POST", "/v1/decisions", rw, map[string]any{"title": strings.Repeat("t", 501), "rationale": "r"}, 400, "title", "title must be 1-500"},
		{"rationale of 50001", "POST", "/v1/decisions", rw, map[string]any{"title": "t", "rationale": strings.Repeat("r", 50_001)}, 400, "rationale", "rationale must be 1-50000"},
		{"bad status", "POST", "/v1/decisions", rw, `{"title": "t", "rationale": "r", "status": "superseded"}`, 400, "status", "status must be active or experimental"},
		{"tags not a list", "POST", "/v1/decisions", rw, `{"title": "t", "rationale": "r", "tags": "db"}`, 400, "tags", "tags must be an array of strings"},
		{"alternatives not text", "POST", "/v1/decisions", rw, `{"title": "t", "rationale": "r", "alternatives": 3}`, 400, "alternatives", "alternatives must be"},
		{"project of 101", "POST", "/v1/decisions", rw, map[string]any{"title": "t", "rationale": "r", "project": strings.Repeat("p", 101)}, 400, "project_slug", "project_slug must be 1-100"},
		{"unknown session", "POST", "/v1/decisions", rw, `{"title": "t", "rationale": "r", "session_id": "00000000-0000-0000-0000-000000000000"}`, 400, "session_id", "session_id does not name"},
		{"read key cannot create", "POST", "/v1/decisions", e.keys["read"], `{"title": "t", "rationale": "r"}`, 403, "", "Insufficient scope. Required: write"},
	})
}

func TestDecisionListAndSupersede(t *testing.T) {
	e := unlimitedEnv(t)
	rw := e.keys["rw"]
	mk := func(title, project string, tags ...string) string {
		t.Helper()
		body := map[string]any{"title": title, "rationale": "because", "project": project, "tags": tags, "agent_id": "architect"}
		id := expect(t, e.do("POST", "/v1/decisions", rw, body), 201)["id"].(string)
		e.clock.Advance(time.Millisecond)
		return id
	}
	a := mk("a", "web", "db", "infra")
	mk("b", "web", "db")
	mk("c", "api", "infra", "db", "cache")
	theirs := expect(t, e.do("POST", "/v1/decisions", e.keys["other"], map[string]any{"title": "x", "rationale": "y"}), 201)["id"].(string)

	nd := expect(t, e.do("POST", "/v1/decisions/"+a+"/supersede", rw, map[string]any{"title": "d", "rationale": "better", "alternatives": "a"}), 201)
	checkKinds(t, "decision", nd, decisionShape)
	if nd["status"] != "active" || nd["project_slug"] != "web" || nd["agent_id"] != "architect" || string(mustJSON(t, nd["tags"])) != `["db","infra"]` ||
		nd["alternatives"] != "a" || nd["id"] == a {
		t.Errorf("new decision %v", nd)
	}

	list := func(t *testing.T, query string) []string {
		t.Helper()
		b := expect(t, e.do("GET", "/v1/decisions"+query, e.keys["read"], nil), 200)
		checkKinds(t, "list", b, listShape)
		var titles []string
		for _, d := range items(t, b, "data") {
			checkKinds(t, "decision", d, decisionShape)
			titles = append(titles, d["title"].(string))
		}
		if b["total"] != b["total_count"] {
			t.Errorf("total %v total_count %v", b["total"], b["total_count"])
		}
		return titles
	}
	for _, c := range []struct{ name, query, want string }{
		{"all", "", "d,c,b,a"},
		{"limit", "?limit=2&offset=1", "c,b"},
		{"project", "?project=web", "d,b,a"},
		{"project_slug alias", "?project_slug=api", "c"},
		{"status", "?status=superseded", "a"},
		{"every tag", "?tags=" + url.QueryEscape("db, infra"), "d,c,a"},
		{"every tag, narrower", "?tags=cache,db", "c"},
		{"unknown tag", "?tags=db,nope", ""},
	} {
		t.Run("list "+c.name, func(t *testing.T) {
			if got := strings.Join(list(t, c.query), ","); got != c.want {
				t.Errorf("got %s, want %s", got, c.want)
			}
		})
	}
	old := items(t, expect(t, e.do("GET", "/v1/decisions?status=superseded", rw, nil), 200), "data")[0]
	if old["superseded_by"] != nd["id"] || old["updated_at"].(string) <= old["created_at"].(string) {
		t.Errorf("superseded decision %v", old)
	}

	runErrCases(t, e, []errCase{
		{"list limit 0", "GET", "/v1/decisions?limit=0", rw, nil, 400, "limit", "limit must be"},
		{"list bad status", "GET", "/v1/decisions?status=maybe", rw, nil, 400, "status", "status must be one of"},
		{"list negative offset", "GET", "/v1/decisions?offset=-2", rw, nil, 400, "offset", "offset must be"},
		{"list without read scope", "GET", "/v1/decisions", e.keys["delete"], nil, 403, "", "Insufficient scope. Required: read"},
		{"supersede again", "POST", "/v1/decisions/" + a + "/supersede", rw, map[string]any{"title": "t", "rationale": "r"}, 400, "", "Decision is already superseded"},
		{"supersede without rationale", "POST", "/v1/decisions/" + nd["id"].(string) + "/supersede", rw, map[string]any{"title": "t"}, 400, "rationale", "rationale is required"},
		{"supersede without title", "POST", "/v1/decisions/" + nd["id"].(string) + "/supersede", rw, `{"rationale": "r"}`, 400, "title", "title is required"},
		{"supersede unknown", "POST", "/v1/decisions/00000000-0000-0000-0000-000000000000/supersede", rw, map[string]any{"title": "t", "rationale": "r"}, 404, "", "Decision not found"},
		{"supersede malformed", "POST", "/v1/decisions/d1/supersede", rw, map[string]any{"title": "t", "rationale": "r"}, 404, "", "Decision not found"},
		{"supersede other account's", "POST", "/v1/decisions/" + theirs + "/supersede", rw, map[string]any{"title": "t", "rationale": "r"}, 404, "", "Decision not found"},
		{"supersede without write scope", "POST", "/v1/decisions/" + nd["id"].(string) + "/supersede", e.keys["read"], map[string]any{"title": "t", "rationale": "r"}, 403, "", "Insufficient scope. Required: write"},
	})
	if got := list(t, ""); len(got) != 4 {
		t.Errorf("failed supersedes stored decisions: %v", got)
	}
}

func TestDecisionCheck(t *testing.T) {
	e := unlimitedEnv(t)
	rw := e.keys["rw"]
	pg := expect(t, e.do("POST", "/v1/decisions", rw, map[string]any{"title": "Use PostgreSQL for the primary datastore", "project": "shop",
		"rationale": "We need transactions, JSONB support and mature tooling; managed offerings exist everywhere."}), 201)["id"].(string)
	grpc := expect(t, e.do("POST", "/v1/decisions", rw, map[string]any{"title": "Adopt gRPC for internal service communication",
		"rationale": "Strong typing via protobuf and generated clients."}), 201)["id"].(string)
	expect(t, e.do("POST", "/v1/decisions", e.keys["other"], map[string]any{"title": "Use PostgreSQL for the primary datastore", "rationale": "theirs"}), 201)

	check := func(t *testing.T, query string) []map[string]any {
		t.Helper()
		b := expect(t, e.do("GET", "/v1/decisions/check"+query, e.keys["read"], nil), 200)
		checkKinds(t, "check", b, map[string]string{"data": "array", "query": "string", "total": "int"})
		data := items(t, b, "data")
		if b["total"] != float64(len(data)) {
			t.Errorf("total %v for %d items", b["total"], len(data))
		}
		for _, it := range data {
			checkKinds(t, "check item", it, map[string]string{"decision": "object", "id": "uuid", "title": "string", "rationale": "string", "status": "string"})
			d := it["decision"].(map[string]any)
			checkKinds(t, "decision", d, decisionShape)
			s, ok := it["score"].(float64)
			if !ok || s < 0 || s > 1 || it["id"] != d["id"] || it["title"] != d["title"] || it["rationale"] != d["rationale"] || it["status"] != d["status"] {
				t.Errorf("item %v", it)
			}
		}
		return data
	}
	title := url.QueryEscape("Use PostgreSQL for the primary datastore")
	t.Run("verbatim title", func(t *testing.T) {
		data := check(t, "?query="+title)
		if len(data) != 1 || data[0]["id"] != pg || data[0]["score"].(float64) < 0.8 {
			t.Fatalf("data %v", data)
		}
	})
	t.Run("q alias and echo", func(t *testing.T) {
		b := expect(t, e.do("GET", "/v1/decisions/check?q="+title, rw, nil), 200)
		if b["query"] != "Use PostgreSQL for the primary datastore" || len(items(t, b, "data")) != 1 {
			t.Errorf("body %v", b)
		}
	})
	t.Run("unrelated scores below 0.3", func(t *testing.T) {
		for _, it := range check(t, "?threshold=0&query="+url.QueryEscape("the cat sat on the mat")) {
			if it["score"].(float64) >= 0.3 {
				t.Errorf("unrelated item %v", it)
			}
		}
		if data := check(t, "?query="+url.QueryEscape("the cat sat on the mat")); len(data) != 0 {
			t.Errorf("default threshold kept %v", data)
		}
	})
	t.Run("min_score alias", func(t *testing.T) {
		if data := check(t, "?min_score=0.99&query="+url.QueryEscape("Adopt gRPC for internal service calls")); len(data) != 0 {
			t.Errorf("data %v", data)
		}
		if data := check(t, "?min_score=0.5&query="+url.QueryEscape("Adopt gRPC for internal service calls")); len(data) != 1 || data[0]["id"] != grpc {
			t.Errorf("data %v", data)
		}
	})
	t.Run("project and limit", func(t *testing.T) {
		q := "?threshold=0&query=" + url.QueryEscape("use postgresql or grpc")
		if data := check(t, q); len(data) != 2 {
			t.Errorf("data %v", data)
		}
		if data := check(t, q+"&limit=1"); len(data) != 1 || data[0]["id"] != pg {
			t.Errorf("limit 1: %v", data)
		}
		if data := check(t, q+"&limit=500"); len(data) != 2 {
			t.Errorf("limit clamped: %v", data)
		}
		if data := check(t, q+"&project=shop"); len(data) != 1 || data[0]["id"] != pg {
			t.Errorf("project: %v", data)
		}
	})
	t.Run("include_superseded", func(t *testing.T) {
		expect(t, e.do("POST", "/v1/decisions/"+grpc+"/supersede", rw, map[string]any{"title": "Use REST", "rationale": "Simpler."}), 201)
		q := "?query=" + url.QueryEscape("Adopt gRPC for internal service communication")
		if data := check(t, q); len(data) != 0 {
			t.Errorf("superseded decision returned: %v", data)
		}
		data := check(t, q+"&include_superseded=true")
		if len(data) != 1 || data[0]["id"] != grpc || data[0]["status"] != "superseded" {
			t.Errorf("include_superseded: %v", data)
		}
	})

	runErrCases(t, e, []errCase{
		{"no query", "GET", "/v1/decisions/check", rw, nil, 400, "query", "query is required"},
		{"blank query", "GET", "/v1/decisions/check?query=%20", rw, nil, 400, "query", "query is required"},
		{"limit 0", "GET", "/v1/decisions/check?query=x&limit=0", rw, nil, 400, "limit", "limit must be"},
		{"threshold above 1", "GET", "/v1/decisions/check?query=x&threshold=1.5", rw, nil, 400, "threshold", "threshold must be"},
		{"threshold not a number", "GET", "/v1/decisions/check?query=x&threshold=high", rw, nil, 400, "threshold", "threshold must be"},
		{"include_superseded not a boolean", "GET", "/v1/decisions/check?query=x&include_superseded=maybe", rw, nil, 400, "include_superseded", "include_superseded must be"},
		{"without read scope", "GET", "/v1/decisions/check?query=x", e.keys["delete"], nil, 403, "", "Insufficient scope. Required: read"},
		{"wrong method on the literal", "POST", "/v1/decisions/check", rw, `{}`, 405, "", "Method not allowed"},
	})
	t.Run("other account sees only its own", func(t *testing.T) {
		b := expect(t, e.do("GET", "/v1/decisions/check?query="+title, e.keys["other"], nil), 200)
		for _, it := range items(t, b, "data") {
			if it["id"] == pg {
				t.Errorf("saw another account's decision")
			}
		}
	})
}
