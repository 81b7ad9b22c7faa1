package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// Account isolation: every route × every scope combination × the same and
// another account gets the right status, no answer of one account carries
// the other's data, and nothing one account sends changes the other's.

// isoUUID matches the ids the server generates (job ids embed one).
var isoUUID = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// isoCombo is one non-empty subset of the four scopes.
type isoCombo struct {
	name string
	set  scopes.Set
}

// isoCombos returns the 15 non-empty subsets of read, write, delete, admin.
func isoCombos() []isoCombo {
	all := []scopes.Scope{scopes.Read, scopes.Write, scopes.Delete, scopes.Admin}
	var out []isoCombo
	for mask := 1; mask < 1<<len(all); mask++ {
		var picked []scopes.Scope
		var names []string
		for i, sc := range all {
			if mask&(1<<i) != 0 {
				picked = append(picked, sc)
				names = append(names, sc.String())
			}
		}
		out = append(out, isoCombo{name: strings.Join(names, "+"), set: scopes.NewSet(picked...)})
	}
	return out
}

// isoServe sends a request to the handler in-process; body is nil, a
// string sent verbatim, or a value encoded as JSON.
func isoServe(t testing.TB, h http.Handler, method, path, key string, body any) response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req := httptest.NewRequest(method, path, rd)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	out := response{status: rec.Code, header: rec.Header(), raw: rec.Body.Bytes()}
	if err := json.Unmarshal(out.raw, &out.body); err != nil {
		t.Fatalf("%s %s: body is not a JSON object: %v: %q", method, path, err, out.raw)
	}
	return out
}

// isoAccountOf returns the account a raw key belongs to.
func isoAccountOf(t testing.TB, e *env, raw string) string {
	t.Helper()
	// Authorize returns the key with a refusal of rate or scope too.
	a, err := e.relay.Authorize(context.Background(), raw)
	if a.Key.ID == "" {
		t.Fatal(err)
	}
	return a.Key.AccountID
}

// isoKeyID creates a key in the account and returns its id.
func isoKeyID(t testing.TB, e *env, acct, name string, set scopes.Set) string {
	t.Helper()
	k, _, err := e.relay.Account(acct).Keys().Create(context.Background(), memory.NewKey{Name: name, Scopes: set})
	if err != nil {
		t.Fatal(err)
	}
	return k.ID
}

var isoKeyFields = []string{"id", "name", "prefix", "scopes", "metadata", "created_at", "expires_at", "last_used_at", "revoked_at"}

// isoKeyRows are the key-management routes of the contract §9, whose
// fixtures are keys of account acct.
func isoKeyRows(t testing.TB, e *env, acct string) []row {
	fixed := isoKeyID(t, e, acct, "iso-fixed", scopes.NewSet(scopes.Read))
	n := 0
	fresh := func() string {
		n++
		return isoKeyID(t, e, acct, fmt.Sprint("iso-fresh-", n), scopes.NewSet(scopes.Read))
	}
	return []row{
		{"k1", "POST", "admin", 201, append([]string{"key"}, isoKeyFields...), func(*fixtures) (string, any) {
			return "/v1/keys", map[string]any{"name": "made", "scopes": []string{"read"}}
		}},
		{"k2", "GET", "admin", 200, listFields, func(*fixtures) (string, any) { return "/v1/keys", nil }},
		{"k3", "GET", "admin", 200, isoKeyFields, func(*fixtures) (string, any) { return "/v1/keys/" + fixed, nil }},
		{"k4", "DELETE", "admin", 200, append(slices.Clone(ackFields), isoKeyFields...), func(*fixtures) (string, any) { return "/v1/keys/" + fresh(), nil }},
		{"k5", "POST", "admin", 200, append([]string{"key"}, isoKeyFields...), func(*fixtures) (string, any) {
			return "/v1/keys/" + fresh() + "/rotate", map[string]any{"grace_seconds": 0}
		}},
	}
}

// isoAddressed lists the rows (number and method) whose request names an
// object of the fixtures' account by id or slug, in the path, the query or
// the body: from another account they must get 404, as if the object did
// not exist.
var isoAddressed = map[string]bool{
	"4 GET": true, "5 PUT": true, "5 PATCH": true, "6 DELETE": true, "9 PUT": true, "12 GET": true,
	"16 GET": true, "17 DELETE": true, "18 POST": true, "19 GET": true,
	"22 GET": true, "23 PUT": true, "23 PATCH": true, "24 DELETE": true, "25 GET": true,
	"28 PUT": true, "29 GET": true, "33 POST": true, "37 POST": true, "38 GET": true,
	"41 GET": true, "42 GET": true, "43 POST": true, "44 GET": true, "45 GET": true, "46 GET": true,
	"47 POST": true, "48 GET": true,
	"k3 GET": true, "k4 DELETE": true, "k5 POST": true,
	"K3 GET": true, "K4 PATCH": true, "K5 POST": true, "K6 DELETE": true,
	"W3 GET": true, "W4 PATCH": true, "W5 GET": true, "W6 DELETE": true,
	"E3 POST": true, "E5 DELETE": true,
	"x1 GET": true, "x2 GET": true,
}

// isoWant is the status a request of the row must get with a key holding
// set (nil: no key), from the fixtures' account or another one.
func isoWant(t testing.TB, rw row, set *scopes.Set, other bool) int {
	if rw.scope == "" {
		return rw.status
	}
	if set == nil {
		return http.StatusUnauthorized
	}
	sc, err := scopes.Parse(rw.scope)
	if err != nil {
		t.Fatal(err)
	}
	if !set.Has(sc) {
		return http.StatusForbidden
	}
	if other && isoAddressed[rw.n+" "+rw.method] {
		return http.StatusNotFound
	}
	return rw.status
}

// isoCase is one prepared request of the matrix.
type isoCase struct {
	name   string
	rw     row
	method string
	path   string
	body   any
	key    string
	want   int
}

// isoCheck sends c and checks its status and, for errors, the body; it
// returns the response.
func isoCheck(t *testing.T, h http.Handler, c isoCase) response {
	t.Helper()
	r := isoServe(t, h, c.method, c.path, c.key, c.body)
	if r.status != c.want {
		t.Fatalf("%s %s: %d, want %d: %s", c.method, c.path, r.status, c.want, r.raw)
	}
	switch c.want {
	case http.StatusUnauthorized:
		checkError(t, r, c.want, "authentication_error", "Invalid API key")
	case http.StatusForbidden:
		checkError(t, r, c.want, "authorization_error", "Insufficient scope. Required: "+c.rw.scope)
	case http.StatusNotFound:
		checkError(t, r, c.want, "not_found_error", "")
		if msg, _ := r.body["message"].(string); !strings.Contains(msg, "not found") {
			t.Errorf("404 message %q lacks \"not found\"", msg)
		}
	default:
		for _, f := range c.rw.fields {
			if _, ok := r.body[f]; !ok {
				t.Errorf("%s %s: no %q in %s", c.method, c.path, f, r.raw)
			}
		}
	}
	if c.key != "" && c.rw.scope != "" && r.header.Get("X-RateLimit-Limit") == "" {
		t.Errorf("%s %s: no rate-limit headers on an authenticated %d", c.method, c.path, r.status)
	}
	return r
}

// isoSnapshot reads everything of the account that its admin key can see
// and returns it by path. Quota is left out: it counts the reads.
func isoSnapshot(t testing.TB, h http.Handler, key string, extra ...string) map[string]string {
	t.Helper()
	snap := map[string]string{}
	get := func(path string) response {
		t.Helper()
		r := isoServe(t, h, "GET", path, key, nil)
		if r.status != http.StatusOK {
			t.Fatalf("snapshot GET %s: %d %s", path, r.status, r.raw)
		}
		snap[path] = string(r.raw)
		return r
	}
	list := func(base string) []map[string]any {
		t.Helper()
		var all []map[string]any
		for off := 0; ; off += 100 {
			r := get(fmt.Sprintf("%s?limit=100&offset=%d", base, off))
			all = append(all, items(t, r.body, "data")...)
			if r.body["has_more"] != true {
				return all
			}
		}
	}
	for _, m := range list("/v1/memories") {
		get("/v1/memories/" + m["id"].(string))
	}
	for _, en := range list("/v1/entities") {
		get("/v1/entities/" + en["id"].(string))
		get("/v1/entities/" + en["id"].(string) + "/neighborhood?depth=3")
	}
	for _, a := range list("/v1/agents") {
		get("/v1/agents/" + a["id"].(string))
		get("/v1/agents/" + a["id"].(string) + "/stats")
	}
	for _, s := range list("/v1/sessions") {
		get("/v1/sessions/" + s["id"].(string))
	}
	list("/v1/decisions")
	for _, p := range list("/v1/projects") {
		slug := url.PathEscape(p["slug"].(string))
		for _, sub := range []string{"", "/context", "/related", "/dependencies", "/dependents"} {
			get("/v1/projects/" + slug + sub)
		}
		get("/v1/patterns/suggest?limit=50&project=" + slug)
	}
	for _, k := range list("/v1/keys") {
		get("/v1/keys/" + k["id"].(string))
	}
	get("/v1/extraction/settings")
	// Not a webhook's /deliveries: the dispatcher writes its attempts in
	// the background, whatever the other account does (B's requests for
	// them are 404s, checked with the rest).
	for _, w := range list("/v1/webhooks") {
		get("/v1/webhooks/" + w["id"].(string))
	}
	get("/v1/patterns/search?limit=50")
	for _, p := range extra {
		get(p)
	}
	return snap
}

// isoCompare reports every path whose answer changed between two
// snapshots.
func isoCompare(t testing.TB, what string, before, after map[string]string) {
	t.Helper()
	union := maps.Clone(before)
	maps.Copy(union, after)
	for _, p := range slices.Sorted(maps.Keys(union)) {
		// A webhook's delivery log grows by the dispatcher's own attempts
		// at A's earlier events, whatever B does: it is read (its ids
		// count as A's) but not compared.
		if strings.HasSuffix(p, "/deliveries") {
			continue
		}
		if before[p] != after[p] {
			t.Errorf("%s: GET %s changed:\nbefore %s\nafter  %s", what, p, before[p], after[p])
		}
	}
}

// isoIDs returns every UUID in the snapshot.
func isoIDs(snap map[string]string) map[string]bool {
	ids := map[string]bool{}
	for _, raw := range snap {
		for _, id := range isoUUID.FindAllString(raw, -1) {
			ids[id] = true
		}
	}
	return ids
}

// isoWaitJobs waits, through the relay, until the v2 creates are done.
func isoWaitJobs(t testing.TB, e *env, acct string, ids []string) {
	t.Helper()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	deadline := time.After(20 * time.Second)
	for _, id := range ids {
		for {
			st, err := e.relay.Account(acct).Memories().Job(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			if st.Status == memory.JobReady || st.Status == memory.JobFailed {
				break
			}
			select {
			case <-tick.C:
			case <-deadline:
				t.Fatalf("job %s still %s", id, st.Status)
			}
		}
	}
}

// TestIsolationMatrix walks every row of the endpoint index (§5.0) and the
// key routes (§9) with no key and with keys of all 15 scope combinations,
// first of the fixtures' account A, then of another account B addressing
// A's objects. A's data must look exactly the same before and after all
// of B's requests, and no answer to B may carry an id of A's.
func TestIsolationMatrix(t *testing.T) {
	start := time.Now()
	e := newEnv(t, hostedOptions(memoryrelay.Options{RateLimit: 1 << 30}))
	h := e.srv.Config.Handler
	f := newFixtures(e)
	// Address an agent of A's by its server-made UUID: "walker" would find
	// B's own agent once B's writes auto-create it, with that id and name
	// (two accounts may use one agent id, §5.5).
	f.agent = expect(t, e.do("POST", "/v1/agents", e.keys["admin"], map[string]any{"name": "wanderer"}), 201)["id"].(string)
	acctA, acctB := e.acct, isoAccountOf(t, e, e.keys["other"])
	combos := isoCombos()
	keyA, keyB := map[string]string{}, map[string]string{}
	for _, c := range combos {
		keyA[c.name] = e.newKey(acctA, keys.CreateParams{Name: "iso-a-" + c.name, Scopes: c.set})
		keyB[c.name] = e.newKey(acctB, keys.CreateParams{Name: "iso-b-" + c.name, Scopes: c.set})
	}
	all := append(rows(), isoKeyRows(t, e, acctA)...)

	// cases prepares the requests of one account: builders that make
	// fresh fixtures run now, before any request is sent.
	cases := func(ks map[string]string, other bool) []isoCase {
		var out []isoCase
		for _, rw := range all {
			name := rw.n + " " + rw.method
			path, body := rw.req(f)
			out = append(out, isoCase{name: name + " " + path + "/no key", rw: rw, method: rw.method, path: path, body: body, want: isoWant(t, rw, nil, other)})
			for _, c := range combos {
				path, body := rw.req(f)
				out = append(out, isoCase{
					name: name + " " + path + "/" + c.name, rw: rw, method: rw.method, path: path, body: body,
					key: ks[c.name], want: isoWant(t, rw, &c.set, other),
				})
			}
		}
		return out
	}

	// Phase 1: account A on its own objects.
	same := cases(keyA, false)
	var jobs []string
	t.Run("same account", func(t *testing.T) {
		for _, c := range same {
			t.Run(c.name, func(t *testing.T) {
				r := isoCheck(t, h, c)
				if c.rw.n == "11" && r.status == http.StatusAccepted {
					jobs = append(jobs, r.body["id"].(string))
				}
			})
		}
	})
	isoWaitJobs(t, e, acctA, append(jobs, f.v2))

	// Phase 2: account B on A's objects.
	other := cases(keyB, true)
	extra := []string{"/v2/memories/" + f.v2 + "/status", "/v1/projects/shared-patterns?a=alpha&b=beta",
		"/v1/decisions/check?query=TypeScript&include_superseded=true"}
	before := isoSnapshot(t, h, e.keys["admin"], extra...)
	idsA := isoIDs(before)
	idsA[acctA] = true
	if len(idsA) < 50 {
		t.Fatalf("only %d ids of account A in the snapshot", len(idsA))
	}
	var jobsB []string
	t.Run("other account", func(t *testing.T) {
		for _, c := range other {
			t.Run(c.name, func(t *testing.T) {
				r := isoCheck(t, h, c)
				if c.rw.n == "11" && r.status == http.StatusAccepted {
					jobsB = append(jobsB, r.body["id"].(string))
				}
				sent := c.path + string(mustJSON(t, c.body))
				for _, id := range isoUUID.FindAllString(string(r.raw), -1) {
					if idsA[id] && !strings.Contains(sent, id) {
						t.Errorf("%s %s from account B answers with account A's id %s: %s", c.method, c.path, id, r.raw)
					}
				}
				for _, text := range []string{"The user prefers TypeScript", "async memory", "Use TypeScript", "Typed APIs"} {
					if strings.Contains(string(r.raw), text) {
						t.Errorf("%s %s from account B answers with account A's %q: %s", c.method, c.path, text, r.raw)
					}
				}
			})
		}
	})
	isoWaitJobs(t, e, acctB, jobsB)
	after := isoSnapshot(t, h, e.keys["admin"], extra...)
	isoCompare(t, "account A after account B's requests", before, after)

	// B's writes landed in B.
	if r := isoServe(t, h, "GET", "/v1/memories?limit=1", e.keys["other"], nil); r.body["total"].(float64) == 0 {
		t.Errorf("account B has no memories after its writes: %s", r.raw)
	}
	t.Logf("%d routes × (no key + %d scope combinations) × 2 accounts = %d requests in %v",
		len(all), len(combos), len(same)+len(other), time.Since(start).Round(time.Millisecond))
}

// TestIsolationReferences sends account B requests whose bodies or
// filters name account A's objects: they must neither reach nor change
// them.
func TestIsolationReferences(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{RateLimit: 1 << 30})
	h := e.srv.Config.Handler
	f := newFixtures(e)
	// An agent of A's with a server-made UUID id, which B then uses as a
	// reference: B gets its own agent with that id (two accounts may use
	// one id, §5.5), and A's is neither reached nor changed.
	agentA := expect(t, e.do("POST", "/v1/agents", e.keys["admin"], map[string]any{"name": "wanderer"}), 201)["id"].(string)
	b := e.keys["other"]
	memB := expect(t, isoServe(t, h, "POST", "/v1/memories", b, map[string]any{"content": "B's own memory", "agent_id": "walker"}), 201)["id"].(string)
	entB := expect(t, isoServe(t, h, "POST", "/v1/entities", b, map[string]any{"name": "TypeScript"}), 201)["id"].(string)
	extra := []string{"/v2/memories/" + f.v2 + "/status"}
	before := isoSnapshot(t, h, e.keys["admin"], extra...)
	idsA := isoIDs(before)

	cases := []struct {
		name         string
		method, path string
		body         any
		status       int
	}{
		{"memory in A's session", "POST", "/v1/memories", map[string]any{"content": "x", "session_id": f.session}, 400},
		{"decision in A's session", "POST", "/v1/decisions", map[string]any{"title": "t", "rationale": "r", "session_id": f.session}, 400},
		{"link B entity to A memory", "POST", "/v1/entities/links", map[string]any{"entity_id": entB, "memory_id": f.memory}, 404},
		{"link A entity to B memory", "POST", "/v1/entities/links", map[string]any{"entity_id": f.entity, "memory_id": memB}, 404},
		{"link B entity to A memory by path", "POST", "/v1/entities/" + entB + "/link", map[string]any{"memory_id": f.memory}, 404},
		{"link A entity to B memory by path", "POST", "/v1/entities/" + f.entity + "/link", map[string]any{"memory_id": memB}, 404},
		{"memory under A's agent UUID", "POST", "/v1/memories", map[string]any{"content": "under a foreign agent id", "agent_id": agentA}, 201},
		{"batch under A's agent UUID", "POST", "/v1/memories/batch", map[string]any{"agent_id": agentA, "memories": []any{map[string]any{"content": "batched"}}}, 200},
		{"batch item in A's session", "POST", "/v1/memories/batch", map[string]any{"memories": []any{map[string]any{"content": "x", "session_id": f.session}}}, 200},
		{"v2 under A's agent UUID", "POST", "/v2/memories", map[string]any{"content": "async foreign agent", "agent_id": agentA}, 202},
		{"agent with A's agent id", "POST", "/v1/agents", map[string]any{"id": agentA, "name": "impostor"}, 200}, // B's, made by the memory above
		{"agent named by A's agent id", "POST", "/v1/agents", map[string]any{"id": agentA}, 200},
		{"session under A's agent UUID", "POST", "/v1/sessions", map[string]any{"agent_id": agentA, "project": "alpha"}, 201},
		{"get-or-create A's session id as external id", "POST", "/v1/sessions/get-or-create", map[string]any{"external_id": f.session}, 201},
		{"entity under A's agent UUID", "POST", "/v1/entities", map[string]any{"name": "TypeScript", "agent_id": agentA}, 201},
		{"decision under A's agent UUID", "POST", "/v1/decisions", map[string]any{"title": "Use TypeScript", "rationale": "r", "agent_id": agentA, "project_slug": "alpha"}, 201},
		{"pattern sourced from A's slug", "POST", "/v1/patterns", map[string]any{"title": "Typed APIs", "description": "d", "scope": "project", "source_project": "alpha"}, 201},
		{"relationship to A's slugs", "POST", "/v1/projects/beta/relationships", map[string]any{"target_project": "alpha", "relationship_type": "depends_on"}, 404},
		{"search A's session", "POST", "/v1/memories/search?session_id=" + f.session, map[string]any{"query": "TypeScript"}, 200},
		{"search A's agent UUID", "POST", "/v1/memories/search", map[string]any{"query": "TypeScript", "agent_id": agentA}, 200},
		{"list A's agent UUID", "GET", "/v1/memories?agent_id=" + agentA, nil, 200},
		{"entities of A's agent UUID", "GET", "/v1/entities?agent_id=" + agentA, nil, 200},
		{"sessions of A's agent UUID", "GET", "/v1/sessions?agent_id=" + agentA, nil, 200},
		{"context of A's agent UUID", "POST", "/v1/memories/context", map[string]any{"query": "TypeScript", "agent_id": agentA}, 200},
		{"context excluding A's memory", "POST", "/v2/context/build", map[string]any{"query": "TypeScript", "exclude_memory_ids": []string{f.memory}}, 200},
		{"project created in B", "POST", "/v1/projects", map[string]any{"slug": "beta", "name": "B's beta"}, 201},
		{"relationship between B's projects named like A's", "POST", "/v1/projects/beta/relationships", map[string]any{"target_project": "alpha", "relationship_type": "depends_on"}, 201},
		{"B's alpha", "GET", "/v1/projects/alpha", nil, 200},
		{"B's alpha context", "GET", "/v1/projects/alpha/context", nil, 200},
		{"B's alpha dependents", "GET", "/v1/projects/alpha/dependents", nil, 200},
		{"impact on B's alpha", "POST", "/v1/projects/impact-analysis", map[string]any{"project": "alpha", "change_description": "drop TypeScript"}, 200},
		{"B's suggestions for alpha", "GET", "/v1/patterns/suggest?project=alpha", nil, 200},
		{"adopt A's pattern into B's alpha", "POST", "/v1/patterns/" + f.pattern + "/adopt", map[string]any{"project": "alpha"}, 404},
		{"supersede A's decision", "POST", "/v1/decisions/" + f.decision + "/supersede", map[string]any{"title": "t", "rationale": "r"}, 404},
		{"A's job status", "GET", "/v2/memories/" + f.v2 + "/status", nil, 404},
		{"A's v2 memory", "GET", "/v1/memories/" + f.v2, nil, 404},
	}
	var jobs []string
	sent := "" // everything B sent so far: B's objects keep A's ids B gave them
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sent += c.path + string(mustJSON(t, c.body))
			r := isoServe(t, h, c.method, c.path, b, c.body)
			if r.status != c.status {
				t.Fatalf("%s %s: %d, want %d: %s", c.method, c.path, r.status, c.status, r.raw)
			}
			if r.status == http.StatusAccepted {
				jobs = append(jobs, r.body["id"].(string))
			}
			for _, id := range isoUUID.FindAllString(string(r.raw), -1) {
				if idsA[id] && !strings.Contains(sent, id) {
					t.Errorf("answer carries account A's id %s: %s", id, r.raw)
				}
			}
			if c.method == "POST" && (r.status == 201 || r.status == 202) && idsA[fmt.Sprint(r.body["id"])] {
				t.Errorf("B's new object took A's id %v: %s", r.body["id"], r.raw)
			}
			if strings.HasPrefix(c.name, "batch item") {
				if res := items(t, r.body, "results"); len(res) != 1 || res[0]["status"] != "failed" {
					t.Errorf("batch item in a foreign session: %s", r.raw)
				}
			}
			if strings.Contains(string(r.raw), "The user prefers TypeScript") {
				t.Errorf("answer carries account A's memory: %s", r.raw)
			}
		})
	}
	isoWaitJobs(t, e, isoAccountOf(t, e, b), jobs)
	// B's writes under A's agent UUID went to one agent of B's, with that
	// id and name, that B finds by that UUID everywhere.
	ag := expect(t, isoServe(t, h, "GET", "/v1/agents/"+agentA, b, nil), 200)
	if ag["id"] != agentA || ag["name"] != agentA || ag["memory_count"] != 3.0 || ag["session_count"] != 1.0 {
		t.Errorf("B's agent for A's agent UUID: %v", ag)
	}
	if st := expect(t, isoServe(t, h, "GET", "/v1/agents/"+agentA+"/stats", b, nil), 200); st["memory_count"] != 3.0 || st["entity_count"] != 1.0 {
		t.Errorf("B's stats for A's agent UUID: %v", st)
	}
	if l := expect(t, isoServe(t, h, "GET", "/v1/memories?agent_id="+agentA, b, nil), 200); l["total"] != 3.0 {
		t.Errorf("B's memories under A's agent UUID: %v", l)
	}
	if l := expect(t, isoServe(t, h, "GET", "/v1/agents?limit=100", b, nil), 200); l["total"] != 3.0 {
		t.Errorf("B's agents (walker, default, the one with A's agent's id): %v", l)
	}
	isoCompare(t, "account A after account B's references", before, isoSnapshot(t, h, e.keys["admin"], extra...))
}

// isoOwner is one account of the randomized test, with everything it
// created.
type isoOwner struct {
	name   string // "A" or "B"
	key    string // admin key
	marker string // a word in every text the account writes
	ids    map[string]bool
	mem    []string // memory ids
	ent    []string // entity ids
	ses    []string // session ids
	dec    []string // decision ids
	pat    []string // pattern ids
}

// isoSeed fills the account with the same data as its twin, but for the
// marker word, and collects every id the answers carry.
func isoSeed(t *testing.T, h http.Handler, e *env, o *isoOwner) {
	t.Helper()
	mk := o.marker
	post := func(path string, body map[string]any, status int) map[string]any {
		t.Helper()
		r := isoServe(t, h, "POST", path, o.key, body)
		if r.status != status {
			t.Fatalf("%s seed POST %s: %d %s", o.name, path, r.status, r.raw)
		}
		for _, id := range isoUUID.FindAllString(string(r.raw), -1) {
			o.ids[id] = true
		}
		return r.body
	}
	for _, p := range []string{"alpha", "beta", "gamma", "delta"} {
		post("/v1/projects", map[string]any{"slug": p, "name": "Project " + p + " " + mk, "description": "the " + p + " service of " + mk}, 201)
	}
	post("/v1/projects/beta/relationships", map[string]any{"target_project": "alpha", "relationship_type": "depends_on", "metadata": map[string]any{"note": mk}}, 201)
	post("/v1/projects/gamma/relationships", map[string]any{"target_project": "beta", "relationship_type": "api_consumer"}, 201)
	post("/v1/projects/delta/relationships", map[string]any{"target_project": "alpha", "relationship_type": "shares_schema"}, 201)
	for _, a := range []string{"planner", "coder", "reviewer"} {
		post("/v1/agents", map[string]any{"name": a, "description": "the " + a + " of " + mk}, 201)
	}
	for i, ext := range []string{"ws-1", "ws-2", "auto:main:2026-03-17"} {
		s := post("/v1/sessions/get-or-create", map[string]any{"external_id": ext, "agent_id": []string{"planner", "coder"}[i%2],
			"title": "session " + ext + " " + mk, "project": "alpha"}, 201)
		o.ses = append(o.ses, s["id"].(string))
	}
	texts := []string{
		"The user prefers TypeScript over JavaScript for new projects",
		"Deployments run every Friday at 5pm from the release branch",
		"The database is Postgres 16 with logical replication",
		"Kubernetes clusters are managed with Terraform",
		"The user's dog is called Biscuit and loves long walks",
		"Code review needs two approvals before merging",
		"The API gateway rate limits to 100 requests per minute",
		"Lunch is at noon on Tuesdays with the platform team",
		"TypeScript strict mode is enabled in every repository",
		"Backups are taken hourly and kept for thirty days",
		"The mobile app uses React Native and Expo",
		"Incidents are tracked in the on-call runbook",
	}
	agents := []string{"planner", "coder", "reviewer"}
	projects := []string{"alpha", "beta", "gamma", "delta"}
	for i, text := range texts {
		body := map[string]any{
			"content": text + " (" + mk + ")", "agent_id": agents[i%3], "project": projects[i%4],
			"importance": float64(i%10) / 10, "metadata": map[string]any{"topic": []string{"lang", "ops", "life"}[i%3], "owner": mk},
			"user_id": "user-" + fmt.Sprint(i%2),
		}
		if i%4 == 0 {
			body["session_id"] = o.ses[i%len(o.ses)]
			body["scope"] = "session"
		}
		if i == 5 {
			body["visibility"] = "confidential"
		}
		o.mem = append(o.mem, post("/v1/memories", body, 201)["id"].(string))
	}
	post("/v1/memories/batch", map[string]any{"agent_id": "coder", "memories": []any{
		map[string]any{"content": "Batch: the linter is golangci-lint (" + mk + ")"},
		map[string]any{"content": "Batch: releases are tagged semver (" + mk + ")", "agent_id": "reviewer"},
	}}, 200)
	v2 := post("/v2/memories", map[string]any{"content": "Async: the cache is Redis (" + mk + ")", "agent_id": "planner", "project": "beta"}, 202)["id"].(string)
	isoWaitJobs(t, e, isoAccountOf(t, e, o.key), []string{v2})
	o.mem = append(o.mem, v2)
	for i, name := range []string{"TypeScript", "Postgres", "Kubernetes", "Biscuit"} {
		en := post("/v1/entities", map[string]any{"name": name, "type": "concept", "agent_id": agents[i%3], "metadata": map[string]any{"owner": mk}}, 201)["id"].(string)
		o.ent = append(o.ent, en)
		for j, m := range o.mem {
			if j%4 == i || j%3 == i {
				post("/v1/entities/links", map[string]any{"entity_id": en, "memory_id": m, "relationship": "about"}, 201)
			}
		}
	}
	for i, title := range []string{"Use TypeScript", "Adopt Postgres", "Deploy on Kubernetes"} {
		d := post("/v1/decisions", map[string]any{"title": title, "rationale": "because " + mk + " said so", "project_slug": projects[i],
			"tags": []string{"arch", mk}, "agent_id": agents[i], "session_id": o.ses[0]}, 201)
		o.dec = append(o.dec, d["id"].(string))
	}
	o.dec = append(o.dec, post("/v1/decisions/"+o.dec[0]+"/supersede", map[string]any{"title": "Use TypeScript strictly", "rationale": "stricter " + mk}, 201)["id"].(string))
	for i, title := range []string{"Typed APIs", "Small PRs", "Feature flags"} {
		body := map[string]any{"title": title, "description": "a pattern of " + mk, "category": "practice", "tags": []string{mk}}
		if i == 2 {
			body["scope"], body["source_project"] = "project", "gamma"
		}
		p := post("/v1/patterns", body, 201)["id"].(string)
		o.pat = append(o.pat, p)
		for _, proj := range projects[:i+1] {
			post("/v1/patterns/"+p+"/adopt", map[string]any{"project": proj}, 200)
		}
	}
	put := isoServe(t, h, "PUT", "/v1/sessions/"+o.ses[1]+"/end", o.key, map[string]any{"summary": "ended by " + mk})
	expect(t, put, 200)
	// Every id the account can see, lists and gets included.
	for id := range isoIDs(isoSnapshot(t, h, o.key)) {
		o.ids[id] = true
	}
	o.ids[isoAccountOf(t, e, o.key)] = true
}

// isoPick returns one element of xs.
func isoPick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

// isoRead builds a random read of the account's data: the method, the path
// and the body.
func isoRead(rng *rand.Rand, o, y *isoOwner) (string, string, any, int) {
	queries := []string{"TypeScript", "what language does the user prefer", "Postgres database", "deploy Kubernetes",
		"dog", "release", "Redis cache", "approvals", o.marker, y.marker, "the", "API gateway rate limits"}
	q := isoPick(rng, queries)
	agents := []string{"planner", "coder", "reviewer", "nobody"}
	projects := []string{"alpha", "beta", "gamma", "delta"}
	maybe := func(m map[string]any, k string, v any) {
		if rng.IntN(2) == 0 {
			m[k] = v
		}
	}
	switch rng.IntN(24) {
	case 0, 1, 2:
		body := map[string]any{"query": q, "search_mode": isoPick(rng, []string{"hybrid", "semantic", "keyword"}), "limit": 1 + rng.IntN(100)}
		maybe(body, "agent_id", isoPick(rng, agents))
		maybe(body, "project", isoPick(rng, projects))
		maybe(body, "tier", isoPick(rng, []string{"hot", "warm", "cold"}))
		maybe(body, "min_importance", rng.Float64())
		maybe(body, "threshold", rng.Float64()/2)
		maybe(body, "metadata_filter", map[string]any{"topic": isoPick(rng, []string{"lang", "ops", "life"})})
		maybe(body, "include_confidential", true)
		maybe(body, "include_archived", true)
		maybe(body, "user_id", "user-1")
		path := "/v1/memories/search"
		switch rng.IntN(4) {
		case 0:
			path += "?session_id=" + isoPick(rng, o.ses)
		case 1:
			path += "?scope=" + isoPick(rng, []string{"session", "long-term", "all"})
		case 2:
			path += "?namespace=" + o.marker
		}
		return "POST", path, body, 200
	case 3, 4:
		v := url.Values{"limit": {fmt.Sprint(1 + rng.IntN(100))}, "offset": {fmt.Sprint(rng.IntN(10))}}
		if rng.IntN(2) == 0 {
			v.Set("agent_id", isoPick(rng, agents))
		}
		if rng.IntN(2) == 0 {
			v.Set("scope", isoPick(rng, []string{"session", "long-term", "all"}))
		}
		if rng.IntN(3) == 0 {
			v.Set("user_id", "user-0")
		}
		return "GET", "/v1/memories?" + v.Encode(), nil, 200
	case 5, 6:
		body := map[string]any{"query": q, "limit": 1 + rng.IntN(50)}
		maybe(body, "agent_id", isoPick(rng, agents))
		maybe(body, "project", isoPick(rng, projects))
		maybe(body, "max_tokens", 50+rng.IntN(2000))
		return "POST", "/v1/memories/context", body, 200
	case 7, 8:
		body := map[string]any{"query": q, "max_memories": 1 + rng.IntN(100), "search_mode": isoPick(rng, []string{"hybrid", "semantic", "keyword"})}
		maybe(body, "agent_id", isoPick(rng, agents))
		maybe(body, "max_tokens", 100+rng.IntN(4000))
		maybe(body, "exclude_memory_ids", []string{isoPick(rng, o.mem)})
		return "POST", isoPick(rng, []string{"/v2/context/build", "/v2/context"}), body, 200
	case 9:
		v := url.Values{"limit": {fmt.Sprint(1 + rng.IntN(100))}}
		if rng.IntN(2) == 0 {
			v.Set("agent_id", isoPick(rng, agents))
		}
		if rng.IntN(2) == 0 {
			v.Set("entity_type", "concept")
		}
		return "GET", "/v1/entities?" + v.Encode(), nil, 200
	case 10:
		return "GET", fmt.Sprintf("/v1/entities/%s/neighborhood?depth=%d&max_neighbors=%d", isoPick(rng, o.ent), 1+rng.IntN(5), 1+rng.IntN(100)), nil, 200
	case 11:
		a := isoPick(rng, agents[:3])
		return "GET", isoPick(rng, []string{"/v1/agents?limit=50", "/v1/agents/" + a, "/v1/agents/" + a + "/stats"}), nil, 200
	case 12:
		v := url.Values{}
		if rng.IntN(2) == 0 {
			v.Set("agent_id", isoPick(rng, agents))
		}
		if rng.IntN(2) == 0 {
			v.Set("status", isoPick(rng, []string{"active", "ended"}))
		}
		if rng.IntN(2) == 0 {
			v.Set("project", "alpha")
		}
		return "GET", "/v1/sessions?" + v.Encode(), nil, 200
	case 13:
		return "GET", "/v1/sessions/" + isoPick(rng, o.ses), nil, 200
	case 14:
		v := url.Values{}
		if rng.IntN(2) == 0 {
			v.Set("project", isoPick(rng, projects))
		}
		if rng.IntN(2) == 0 {
			v.Set("tags", "arch")
		}
		if rng.IntN(3) == 0 {
			v.Set("status", isoPick(rng, []string{"active", "superseded"}))
		}
		return "GET", "/v1/decisions?" + v.Encode(), nil, 200
	case 15:
		v := url.Values{"query": {q}, "threshold": {fmt.Sprint(rng.Float64() / 2)}}
		if rng.IntN(2) == 0 {
			v.Set("project", isoPick(rng, projects))
		}
		if rng.IntN(2) == 0 {
			v.Set("include_superseded", "true")
		}
		return "GET", "/v1/decisions/check?" + v.Encode(), nil, 200
	case 16:
		v := url.Values{"threshold": {"0"}}
		if rng.IntN(3) != 0 {
			v.Set("query", q)
		}
		if rng.IntN(2) == 0 {
			v.Set("project", isoPick(rng, projects))
		}
		return "GET", "/v1/patterns/search?" + v.Encode(), nil, 200
	case 17:
		return "GET", "/v1/patterns/suggest?project=" + isoPick(rng, projects), nil, 200
	case 18:
		return "GET", isoPick(rng, []string{"/v1/projects", "/v1/projects?limit=2"}), nil, 200
	case 19:
		p := isoPick(rng, projects)
		return "GET", "/v1/projects/" + p + isoPick(rng, []string{"", "/context", "/related", "/dependencies", "/dependents"}), nil, 200
	case 20:
		return "POST", "/v1/projects/impact-analysis", map[string]any{"project": isoPick(rng, projects), "change_description": q}, 200
	case 21:
		return "GET", "/v1/projects/shared-patterns?a=" + isoPick(rng, projects) + "&b=" + isoPick(rng, projects), nil, 200
	case 22:
		return "GET", "/v1/quota", nil, 200
	default:
		// A probe of one of the other account's objects: as if it did not
		// exist.
		switch rng.IntN(7) {
		case 0:
			return "GET", "/v1/memories/" + isoPick(rng, y.mem), nil, 404
		case 1:
			return "GET", "/v1/entities/" + isoPick(rng, y.ent) + "/neighborhood", nil, 404
		case 2:
			return "GET", "/v1/sessions/" + isoPick(rng, y.ses), nil, 404
		case 3:
			return "GET", "/v2/memories/" + isoPick(rng, y.mem) + "/status", nil, 404
		case 4:
			return "POST", "/v1/memories/search?session_id=" + isoPick(rng, y.ses), map[string]any{"query": q}, 200
		case 5:
			return "POST", "/v2/context/build", map[string]any{"query": q, "exclude_memory_ids": []string{isoPick(rng, y.mem)}}, 200
		default:
			return "GET", "/v1/entities/" + isoPick(rng, y.ent), nil, 404
		}
	}
}

// TestIsolationRandomized fills two accounts with the same memories,
// agents, entities, projects, sessions, decisions and patterns, differing
// only in a marker word, then makes a seeded random sequence of reads from
// both: no answer to one may carry an id or the marker of the other.
func TestIsolationRandomized(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{RateLimit: 1 << 30})
	h := e.srv.Config.Handler
	a := &isoOwner{name: "A", key: e.keys["admin"], marker: "quokka", ids: map[string]bool{}}
	b := &isoOwner{name: "B", key: e.keys["other"], marker: "narwhal", ids: map[string]bool{}}
	isoSeed(t, h, e, a)
	isoSeed(t, h, e, b)
	for id := range a.ids {
		if b.ids[id] {
			t.Fatalf("id %s is seen by both accounts", id)
		}
	}

	const seed, steps = 20260317, 1500
	rng := rand.New(rand.NewPCG(seed, seed))
	ownMarker := map[string]int{}
	for i := 0; i < steps; i++ {
		x, y := a, b
		if rng.IntN(2) == 1 {
			x, y = b, a
		}
		method, path, body, status := isoRead(rng, x, y)
		r := isoServe(t, h, method, path, x.key, body)
		if r.status != status {
			t.Fatalf("seed %d step %d: account %s %s %s: %d, want %d: %s", seed, i, x.name, method, path, r.status, status, r.raw)
		}
		// The answer without the echo of the request's own text.
		echo := maps.Clone(r.body)
		for _, k := range []string{"query", "change_description"} {
			delete(echo, k)
		}
		text := string(mustJSON(t, echo))
		sent := path + string(mustJSON(t, body))
		for _, id := range isoUUID.FindAllString(text, -1) {
			if y.ids[id] && !strings.Contains(sent, id) {
				t.Errorf("seed %d step %d: account %s %s %s carries account %s's id %s: %s", seed, i, x.name, method, path, y.name, id, r.raw)
			}
		}
		if strings.Contains(text, y.marker) {
			t.Errorf("seed %d step %d: account %s %s %s carries account %s's marker %q: %s", seed, i, x.name, method, path, y.name, y.marker, r.raw)
		}
		if strings.Contains(text, x.marker) {
			ownMarker[strings.SplitN(strings.SplitN(path, "?", 2)[0], "/", 4)[2]]++
		}
		if t.Failed() {
			t.FailNow()
		}
	}
	// The reads did see each account's own data, family by family.
	for _, fam := range []string{"memories", "entities", "agents", "sessions", "decisions", "patterns", "projects", "context"} {
		if ownMarker[fam] == 0 {
			t.Errorf("no %s read carried the account's own data: %v", fam, ownMarker)
		}
	}
	t.Logf("seed %d: %d reads; answers carrying the reader's own marker, by family: %v", seed, steps, ownMarker)
}
