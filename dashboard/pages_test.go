package dashboard_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/dashboard"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// Hostile text: each would run script if it reached the page as markup.
const (
	scriptContent = `<script>window.__xss=1</script><img src=x onerror="window.__xss=1">`
	attrContent   = `" onmouseover="window.__xss=1" x="`
)

// TestHostileTextIsInert: memory content, metadata, agent names, entity
// names and key names are rendered as text on every page that shows them.
func TestHostileTextIsInert(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	hostileAgent := `agent"><script>window.__xss=1</script>`
	m := e.memory(hostileAgent, scriptContent+" "+attrContent, `{"note": "</pre><script>window.__xss=1</script>", "<b>key</b>": "\" onmouseover=\"x"}`)
	ent, err := e.acct.Entities().Create(ctx, memory.NewEntity{Name: `<svg onload="window.__xss=1">`})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.acct.Entities().Link(ctx, memory.NewEntityLink{EntityID: ent.ID, MemoryID: m.ID}); err != nil {
		t.Fatal(err)
	}
	desc := `<script>window.__xss=1</script>`
	if _, err := e.acct.Agents().Update(ctx, m.AgentID, memory.AgentPatch{Description: &desc}); err != nil {
		t.Fatal(err)
	}
	k, _ := e.key(`<script>window.__xss=1</script>" onmouseover="x`, scopes.Read)

	c := e.client()
	c.signIn()
	pages := []string{
		"/dashboard/memories",
		"/dashboard/memories?q=" + url.QueryEscape("window xss script") + "&mode=keyword",
		"/dashboard/memories?agent=" + url.QueryEscape(m.AgentID),
		"/dashboard/memories/" + m.ID,
		"/dashboard/memories/" + m.ID + "/delete",
		"/dashboard/agents",
		"/dashboard/keys",
		"/dashboard/usage",
		"/dashboard/keys/" + k.ID + "/revoke",
		"/dashboard/keys/" + k.ID + "/rotate",
		// A hostile query is echoed into the form as text too.
		"/dashboard/memories?q=" + url.QueryEscape(`"><script>window.__xss=1</script>`),
	}
	for _, p := range pages {
		r := c.get(p)
		expect(t, r, http.StatusOK)
		for _, bad := range []string{"<script>window", `<img src=x`, `" onmouseover=`, "<svg", "<b>key</b>", `</pre><script>`} {
			if strings.Contains(r.body, bad) {
				t.Errorf("%s: the page holds %q as markup", p, bad)
			}
		}
		if strings.Count(r.body, "<script") != 1 {
			t.Errorf("%s: %d script elements, want only the dashboard's own", p, strings.Count(r.body, "<script"))
		}
	}
	// The text is there, escaped, for people to read.
	expect(t, c.get("/dashboard/memories/"+m.ID), http.StatusOK, "&lt;script&gt;window.__xss=1&lt;/script&gt;", "&#34; onmouseover=&#34;", "&lt;svg onload=")
}

func TestLongContentIsCut(t *testing.T) {
	e := newEnv(t)
	long := strings.Repeat("abcdefghij", 99) + "THE-END"
	m := e.memory("writer", long, "")
	short := e.memory("writer", "short and whole", "")
	c := e.client()
	c.signIn()
	list := c.get("/dashboard/memories")
	expect(t, list, http.StatusOK, long[:280]+"…", "Read all 997 characters", "/dashboard/memories/"+m.ID, "short and whole", "/dashboard/memories/"+short.ID)
	if strings.Contains(list.body, "THE-END") {
		t.Error("the list shows the whole long content")
	}
	expect(t, c.get("/dashboard/memories/"+m.ID), http.StatusOK, long, "997 characters")
}

func TestMemoryPaging(t *testing.T) {
	e := newEnv(t)
	for i := range 45 {
		e.memory("pager", fmt.Sprintf("paged memory number %02d", i), "")
		e.clock.Add(time.Millisecond) // newest first is then 44, 43, …
	}
	e.memory("other", "a memory of another agent", "")
	c := e.client()
	c.signIn()

	first := c.get("/dashboard/memories?agent=pager")
	expect(t, first, http.StatusOK, "Showing 1–20 of 45", `href="/dashboard/memories?agent=pager&amp;offset=20"`, "paged memory number 44")
	if strings.Contains(first.body, "another agent") || strings.Contains(first.body, `rel="prev"`) {
		t.Error("page 1 of agent pager shows another agent or a previous page")
	}
	if n := strings.Count(first.body, `class="memory"`); n != 20 {
		t.Errorf("page 1 has %d memories, want 20", n)
	}
	last := c.get("/dashboard/memories?agent=pager&offset=40")
	expect(t, last, http.StatusOK, "Showing 41–45 of 45", `href="/dashboard/memories?agent=pager&amp;offset=20" rel="prev"`, "paged memory number 00")
	if strings.Contains(last.body, `rel="next"`) {
		t.Error("the last page links to a next page")
	}
	small := c.get("/dashboard/memories?agent=pager&limit=7&offset=7")
	expect(t, small, http.StatusOK, "Showing 8–14 of 45", "limit=7&amp;offset=14", `href="/dashboard/memories?agent=pager&amp;limit=7" rel="prev"`)
	expect(t, c.get("/dashboard/memories?agent=pager&offset=45"), http.StatusOK, "Nothing on this page (45 in all)")
	expect(t, c.get("/dashboard/memories"), http.StatusOK, "Showing 1–20 of 46")

	for _, q := range []string{"offset=-1", "offset=ten", "offset=1000000001", "limit=0", "limit=101", "limit=x"} {
		r := c.get("/dashboard/memories?agent=pager&" + q)
		expect(t, r, http.StatusBadRequest, `role="alert"`, "must be a whole number")
	}
	expect(t, c.get("/dashboard/memories?limit=100"), http.StatusOK)
	expect(t, c.get("/dashboard/memories?offset=1000000000"), http.StatusOK)
	expect(t, c.get("/dashboard/agents?offset=-5"), http.StatusBadRequest, "The page offset must be")
}

func TestSearchMemories(t *testing.T) {
	e := newEnv(t)
	e.memory("alice", "The user prefers TypeScript over JavaScript for new projects.", "")
	e.memory("alice", "Deployments happen on Tuesdays after the standup.", "")
	e.memory("bob", "Bob prefers Rust for systems work.", "")
	c := e.client()
	c.signIn()
	r := c.get("/dashboard/memories?q=" + url.QueryEscape("which language does the user prefer") + "&mode=hybrid")
	expect(t, r, http.StatusOK, "Results", "TypeScript", "score 0.", `<option value="hybrid" selected>`)
	if strings.Index(r.body, "TypeScript") > strings.Index(r.body, "Deployments") && strings.Contains(r.body, "Deployments") {
		t.Error("the best match is not first")
	}
	// The agent filter.
	r = c.get("/dashboard/memories?q=prefers&mode=keyword&agent=bob")
	expect(t, r, http.StatusOK, "Rust")
	if strings.Contains(r.body, "TypeScript") {
		t.Error("the agent filter let another agent's memory through")
	}
	// A threshold above every score leaves nothing.
	expect(t, c.get("/dashboard/memories?q=prefers&mode=keyword&threshold=1"), http.StatusOK, "No memory matches at this threshold")
	for _, tt := range []struct{ q, want string }{
		{"q=x&threshold=high", "Threshold must be a number from 0 to 1"},
		{"q=x&threshold=1.5", "Threshold must be between 0 and 1"},
		{"q=x&mode=fuzzy", "Mode must be hybrid, semantic or keyword"},
		{"q=x&limit=500", "must be a whole number from 1 to 100"},
		{"q=" + strings.Repeat("q", 51201), "Search text"},
	} {
		r := c.get("/dashboard/memories?" + tt.q)
		expect(t, r, http.StatusBadRequest, tt.want, `role="search"`)
	}
	// The agent field suggests the account's agents.
	expect(t, c.get("/dashboard/memories"), http.StatusOK, `<option value="alice">`, `<option value="bob">`)
}

func TestMemoryPageAndDelete(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	m := e.memory("alice", "Alice's favourite editor is Helix.", `{"source": "chat", "n": 3}`)
	ent, err := e.acct.Entities().Create(ctx, memory.NewEntity{Name: "Helix"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.acct.Entities().Link(ctx, memory.NewEntityLink{EntityID: ent.ID, MemoryID: m.ID}); err != nil {
		t.Fatal(err)
	}
	c := e.client()
	token := c.signIn()
	page := c.get("/dashboard/memories/" + m.ID)
	expect(t, page, http.StatusOK, "Alice&#39;s favourite editor is Helix.", `&#34;source&#34;: &#34;chat&#34;`, "Linked entities", "<td>Helix</td>", m.ID, "Delete this memory")

	for _, id := range []string{"00000000-0000-4000-8000-000000000000", "nope"} {
		expect(t, c.get("/dashboard/memories/"+id), http.StatusNotFound, "Memory not found.")
	}
	expect(t, c.get("/dashboard/memories/"+m.ID+"/delete"), http.StatusOK, "This cannot be undone", "Delete memory")
	if _, err := e.acct.Memories().Get(ctx, m.ID); err != nil {
		t.Fatal("the confirmation page deleted the memory")
	}
	expectRedirect(t, c.post("/dashboard/memories/"+m.ID+"/delete", url.Values{"csrf": {token}}), "/dashboard/memories")
	expect(t, c.get("/dashboard/memories"), http.StatusOK, "The memory was deleted.")
	if _, err := e.acct.Memories().Get(ctx, m.ID); err == nil {
		t.Error("the memory is still there")
	}
	expect(t, c.get("/dashboard/memories/"+m.ID), http.StatusNotFound, "Memory not found.")
	expect(t, c.post("/dashboard/memories/"+m.ID+"/delete", url.Values{"csrf": {token}}), http.StatusNotFound, "Memory not found.")
}

func TestAgentsUsageHealth(t *testing.T) {
	e := newEnv(t)
	for i := range 3 {
		e.memory("alice", fmt.Sprintf("alice memory %d", i), "")
	}
	e.memory("bob", "bob memory", "")
	reader, readerRaw := e.key("metered", scopes.Read)
	for range 4 {
		if _, err := e.relay.Authorize(context.Background(), readerRaw, scopes.Read); err != nil {
			t.Fatal(err)
		}
	}
	c := e.client()
	c.signIn()
	agents := c.get("/dashboard/agents")
	expect(t, agents, http.StatusOK, `href="/dashboard/memories?agent=alice">alice</a>`, "Showing 1–2 of 2")
	if !strings.Contains(agents.body, `<td class="n">3</td>`) {
		t.Error("the agents page lacks alice's 3 memories")
	}

	usage := c.get("/dashboard/usage")
	expect(t, usage, http.StatusOK, "metered", reader.Prefix, "Requests today", "144,000", "100/min")
	// The reader made 4 requests: 4 today, 96 of 100 available now.
	row := usage.body[strings.Index(usage.body, "metered"):]
	row = row[:strings.Index(row, "</tr>")]
	for _, want := range []string{`<td class="n requests-today">4</td>`, `<td class="n">143,996<br>`, `<td class="n">96`} {
		if !strings.Contains(row, want) {
			t.Errorf("the reader's usage row lacks %q:\n%s", want, row)
		}
	}

	health := c.get("/dashboard/health")
	expect(t, health, http.StatusOK, "database", "embeddings", "vector_store", "Uptime", "dimensions")
	if !strings.Contains(health.body, `id="health-status">healthy<`) && !strings.Contains(health.body, `id="health-status">degraded<`) {
		t.Errorf("no health status:\n%s", health.body)
	}
}

// TestEveryPageNeedsASession: without a session every page and action
// sends to sign-in, and no page shows account data.
func TestEveryPageNeedsASession(t *testing.T) {
	e := newEnv(t)
	m := e.memory("alice", "secret plans", "")
	c := e.client()
	for _, p := range []string{"/dashboard/", "/dashboard/keys", "/dashboard/keys/new", "/dashboard/keys/" + e.admin.ID + "/revoke",
		"/dashboard/keys/" + e.admin.ID + "/rotate", "/dashboard/memories", "/dashboard/memories/" + m.ID,
		"/dashboard/memories/" + m.ID + "/delete", "/dashboard/agents", "/dashboard/usage", "/dashboard/health"} {
		r := c.get(p)
		expectRedirect(t, r, "/dashboard/signin")
		if strings.Contains(r.body, "secret plans") {
			t.Errorf("%s shows data without a session", p)
		}
	}
	for _, p := range []string{"/dashboard/keys", "/dashboard/keys/" + e.admin.ID + "/revoke", "/dashboard/memories/" + m.ID + "/delete", "/dashboard/signout"} {
		expectRedirect(t, c.post(p, nil), "/dashboard/signin")
	}
	if _, err := e.acct.Memories().Get(context.Background(), m.ID); err != nil {
		t.Error("a post without a session deleted the memory")
	}
}

func TestHeadersAndErrors(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	check := func(r response) {
		t.Helper()
		csp := r.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "form-action 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", r.Request.URL.Path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "http") {
			t.Errorf("%s: CSP %q allows more than the dashboard's own files", r.Request.URL.Path, csp)
		}
		if r.Header.Get("X-Content-Type-Options") != "nosniff" || r.Header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: headers %v", r.Request.URL.Path, r.Header)
		}
	}
	check(c.get("/dashboard/signin"))
	check(c.get("/dashboard/keys"))
	css := c.get("/dashboard/assets/style.css")
	check(css)
	if css.StatusCode != 200 || css.Header.Get("Content-Type") != "text/css; charset=utf-8" {
		t.Errorf("style.css: %d %s", css.StatusCode, css.Header.Get("Content-Type"))
	}
	js := c.get("/dashboard/assets/app.js")
	if js.StatusCode != 200 || js.Header.Get("Content-Type") != "text/javascript; charset=utf-8" || !strings.Contains(js.body, "data-copy") {
		t.Errorf("app.js: %d %s", js.StatusCode, js.Header.Get("Content-Type"))
	}
	if r := c.get("/dashboard/assets/nope.js"); r.StatusCode != http.StatusNotFound {
		t.Errorf("unknown asset: %d", r.StatusCode)
	}
	if r := c.get("/dashboard/assets/..%2fdashboard.go"); r.StatusCode != http.StatusNotFound {
		t.Errorf("an asset outside ui/assets: %d", r.StatusCode)
	}
	c.signIn()
	r := c.get("/dashboard/no/such/page")
	check(r)
	expect(t, r, http.StatusNotFound, "There is no such page in the dashboard.", "Back to the dashboard")
	if ct := r.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("error page Content-Type %q", ct)
	}
	// A form past MaxFormBytes is a readable 400; one at the limit is read
	// (and then refused for its CSRF token, not its size).
	at := url.Values{"csrf": {"x"}, "name": {""}}
	at.Set("name", strings.Repeat("n", dashboard.MaxFormBytes-len(at.Encode())))
	if n := len(at.Encode()); n != dashboard.MaxFormBytes {
		t.Fatalf("form of %d bytes", n)
	}
	expect(t, c.post("/dashboard/keys", at), http.StatusForbidden, "This form has expired")
	at.Set("name", at.Get("name")+"n")
	expect(t, c.post("/dashboard/keys", at), http.StatusBadRequest, "could not be read")
}

// TestMountedAtRoot: served without a prefix, links and cookies are at /.
func TestMountedAtRoot(t *testing.T) {
	e := newEnv(t)
	h, err := newDashboard(e)
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(t, h)
	c := e.client()
	c.e = &env{t: t, srv: srv, adminRaw: e.adminRaw}
	page := c.get("/signin")
	expect(t, page, http.StatusOK, `href="/assets/style.css"`, `action="/signin"`)
	if ck := setCookie(page, "memoryrelay_signin"); ck == nil || ck.Path != "/" {
		t.Errorf("cookie at root: %+v", ck)
	}
	r := c.post("/signin", url.Values{"csrf": {csrf(t, page.body)}, "key": {e.adminRaw}})
	expectRedirect(t, r, "/keys")
	expect(t, c.get("/keys"), http.StatusOK, `href="/memories"`)
}

// plainService is a Service that reports no rate-limit state: the
// Relay's methods, without RateLimitState.
type plainService struct{ dashboard.Service }

func TestUsageWithoutRateLimitState(t *testing.T) {
	e := newEnv(t)
	h, err := dashboard.New(plainService{e.relay}, dashboard.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/dashboard/", http.StripPrefix("/dashboard", h))
	c := e.client()
	c.e = &env{t: t, srv: newServer(t, mux), adminRaw: e.adminRaw}
	c.signIn()
	expect(t, c.get("/dashboard/usage"), http.StatusOK, "not reported by this server's rate limiter", "bootstrap-admin")
}

func TestKeysPaging(t *testing.T) {
	e := newEnv(t)
	for i := range dashboard.KeysPage + 5 {
		e.key(fmt.Sprintf("key-%02d", i), scopes.Read)
		e.clock.Add(time.Millisecond)
	}
	c := e.client()
	c.signIn()
	first := c.get("/dashboard/keys")
	expect(t, first, http.StatusOK, "Showing 1–50 of 56", `href="/dashboard/keys?offset=50" rel="next"`, "key-54")
	if n := strings.Count(first.body, "data-key-id="); n != dashboard.KeysPage {
		t.Errorf("%d keys on the first page, want %d", n, dashboard.KeysPage)
	}
	rest := c.get("/dashboard/keys?offset=50")
	expect(t, rest, http.StatusOK, "Showing 51–56 of 56", "bootstrap-admin", `href="/dashboard/keys" rel="prev"`)
	expect(t, c.get("/dashboard/usage?offset=50"), http.StatusOK, "Showing 51–56 of 56")
}
