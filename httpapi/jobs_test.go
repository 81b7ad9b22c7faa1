package httpapi_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/memory"
)

var (
	jobsUUID  = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	jobsJobID = regexp.MustCompile(`^job_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

// jobsKinds asserts that obj has every field of kinds, each of its kind:
// uuid, string, bool, number, int, ms (epoch milliseconds), object, array,
// null; "a|b" allows either.
func jobsKinds(t testing.TB, what string, obj map[string]any, kinds map[string]string) {
	t.Helper()
	for field, kind := range kinds {
		v, present := obj[field]
		if !present {
			t.Errorf("%s: no field %s", what, field)
			continue
		}
		good := false
		for _, k := range strings.Split(kind, "|") {
			switch k {
			case "null":
				good = good || v == nil
			case "uuid":
				s, ok := v.(string)
				good = good || (ok && jobsUUID.MatchString(s))
			case "string":
				_, ok := v.(string)
				good = good || ok
			case "bool":
				_, ok := v.(bool)
				good = good || ok
			case "number":
				_, ok := v.(float64)
				good = good || ok
			case "int", "ms":
				f, ok := v.(float64)
				good = good || (ok && f == float64(int64(f)) && (k == "int" || f > 1e12))
			case "object":
				_, ok := v.(map[string]any)
				good = good || ok
			case "array":
				_, ok := v.([]any)
				good = good || ok
			default:
				t.Fatalf("unknown kind %q", k)
			}
		}
		if !good {
			t.Errorf("%s: %s = %#v, want %s", what, field, v, kind)
		}
	}
}

// jobsMemoryKinds is the Memory object of contract §4.1.
var jobsMemoryKinds = map[string]string{
	"id": "uuid", "object": "string", "content": "string", "agent_id": "string", "user_id": "string|null",
	"metadata": "object", "entities": "array", "memory_type": "string|null", "visibility": "string",
	"importance": "number", "salience_score": "number|null", "tier": "string", "scope": "string",
	"is_duplicate": "bool", "session_id": "uuid|null", "project_id": "uuid|null", "project": "string|null",
	"extraction_model": "string|null", "extraction_method": "string|null", "extraction_status": "string|null",
	"archived_at": "ms|null", "created_at": "ms", "updated_at": "ms",
}

const (
	jobsText    = "The user prefers dark mode in every editor."
	jobsUnknown = "00000000-0000-4000-8000-000000000000"
)

func TestCreateDeduplicate(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{})
	key := e.keys["rw"]
	first := e.do("POST", "/v1/memories", key, map[string]any{"content": jobsText, "agent_id": "bot"})
	if first.status != 201 || first.body["is_duplicate"] != false {
		t.Fatalf("%d %s", first.status, first.raw)
	}
	id := first.body["id"].(string)
	// Another account's memory is never a duplicate of ours.
	if r := e.do("POST", "/v1/memories", e.keys["other"], map[string]any{"content": jobsText, "agent_id": "bot", "deduplicate": true}); r.status != 201 || r.body["id"] == id {
		t.Fatalf("other account: %d %s", r.status, r.raw)
	}
	for _, c := range []struct {
		name   string
		body   map[string]any
		status int
		dup    bool
	}{
		{"duplicate", map[string]any{"content": jobsText, "agent_id": "bot", "deduplicate": true}, 200, true},
		{"duplicate at threshold 1", map[string]any{"content": jobsText, "agent_id": "bot", "deduplicate": true, "dedup_threshold": 1}, 200, true},
		{"no dedup asked", map[string]any{"content": jobsText, "agent_id": "bot", "deduplicate": false}, 201, false},
		{"null dedup", map[string]any{"content": jobsText, "agent_id": "bot", "deduplicate": nil, "dedup_threshold": nil}, 201, false},
		{"other agent", map[string]any{"content": jobsText, "agent_id": "someone-else", "deduplicate": true}, 201, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.do("POST", "/v1/memories", key, c.body)
			if r.status != c.status || r.body["is_duplicate"] != c.dup || (r.body["id"] == id) != c.dup {
				t.Fatalf("%d %s", r.status, r.raw)
			}
			jobsKinds(t, "memory", r.body, jobsMemoryKinds)
		})
	}
	for _, bad := range []any{0.49, 1.01, -1, "high", true} {
		r := e.do("POST", "/v1/memories", key, map[string]any{"content": "x", "deduplicate": true, "dedup_threshold": bad})
		checkError(t, r, 400, "validation_error", "dedup_threshold")
	}
	checkError(t, e.do("POST", "/v1/memories", key, map[string]any{"content": "x", "deduplicate": "yes"}), 400, "validation_error", "deduplicate")
}

// batchItem finds result i of a batch response.
func jobsBatchItem(t testing.TB, r response, i int) map[string]any {
	t.Helper()
	results, ok := r.body["results"].([]any)
	if !ok || i >= len(results) {
		t.Fatalf("no result %d: %s", i, r.raw)
	}
	return results[i].(map[string]any)
}

var jobsBatchResultKinds = map[string]string{
	"index": "int", "status": "string", "success": "bool", "memory_id": "uuid|null", "error": "string|null",
	"error_code": "string|null", "content_preview": "string",
}

func TestMemoryBatch(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{})
	key := e.keys["rw"]
	existing := e.createMemory(key, map[string]any{"content": jobsText, "agent_id": "bot"})
	e.createMemory(e.keys["other"], map[string]any{"content": "Only the other account knows this.", "agent_id": "bot"})
	long := strings.Repeat("é", 99) + "ß" + strings.Repeat("z", 50) // 150 characters, multi-byte
	r := e.do("POST", "/v1/memories/batch", key, map[string]any{
		"agent_id": "bot", "parallel_embeddings": true, "unknown": 1,
		"memories": []any{
			0:  map[string]any{"content": long, "metadata": map[string]any{"k": "v"}, "client_id": "c-0"},
			1:  map[string]any{"content": 123, "client_id": 7},
			2:  map[string]any{"metadata": map[string]any{}},
			3:  "not an object",
			4:  map[string]any{"content": "In a session nobody has.", "session_id": jobsUnknown},
			5:  map[string]any{"content": jobsText, "deduplicate": true},
			6:  map[string]any{"content": "Only the other account knows this.", "deduplicate": true},
			7:  map[string]any{"content": "For its own agent.", "agent_id": "own", "user_id": nil, "importance": 0.9},
			8:  map[string]any{"content": "bad importance", "importance": 3},
			9:  map[string]any{"content": "bad threshold", "dedup_threshold": 2},
			10: map[string]any{"content": nil},
			11: map[string]any{"content": "   "},
		},
	})
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	jobsKinds(t, "batch", r.body, map[string]string{"success": "bool", "total": "int", "succeeded": "int", "failed": "int",
		"skipped": "int", "results": "array", "timing": "object"})
	timing := r.body["timing"].(map[string]any)
	jobsKinds(t, "timing", timing, map[string]string{"total_ms": "number", "embedding_ms": "number", "database_ms": "number",
		"per_memory_avg_ms": "number", "avg_per_item_ms": "number"})
	if timing["total_ms"].(float64) <= 0 || timing["database_ms"].(float64) <= 0 || timing["embedding_ms"].(float64) <= 0 ||
		timing["total_ms"].(float64) < timing["database_ms"].(float64) {
		t.Errorf("timing %v", timing)
	}
	want := []struct {
		status, code, preview string
		clientID              any
	}{
		0:  {"success", "", long[:len(long)-50], "c-0"},
		1:  {"failed", "validation_error", "", nil},
		2:  {"failed", "validation_error", "", nil},
		3:  {"failed", "validation_error", "", nil},
		4:  {"failed", "validation_error", "In a session nobody has.", nil},
		5:  {"skipped", "", jobsText, nil},
		6:  {"success", "", "Only the other account knows this.", nil},
		7:  {"success", "", "For its own agent.", nil},
		8:  {"failed", "validation_error", "bad importance", nil},
		9:  {"failed", "validation_error", "bad threshold", nil},
		10: {"failed", "validation_error", "", nil},
		11: {"failed", "validation_error", "   ", nil},
	}
	for i, w := range want {
		it := jobsBatchItem(t, r, i)
		jobsKinds(t, fmt.Sprint("result ", i), it, jobsBatchResultKinds)
		if it["index"] != float64(i) || it["status"] != w.status || it["content_preview"] != w.preview {
			t.Errorf("result %d: %v", i, it)
		}
		if w.clientID != nil && it["client_id"] != w.clientID {
			t.Errorf("result %d: client_id %v", i, it["client_id"])
		}
		if w.status == "failed" {
			if it["success"] != false || it["memory_id"] != nil || it["error_code"] != w.code || it["error"] == nil || it["error"] == "" {
				t.Errorf("result %d: %v", i, it)
			}
		} else if it["success"] != true || it["memory_id"] == nil || it["error"] != nil || it["error_code"] != nil {
			t.Errorf("result %d: %v", i, it)
		}
	}
	if jobsBatchItem(t, r, 5)["memory_id"] != existing {
		t.Errorf("skipped item names %v, want %s", jobsBatchItem(t, r, 5)["memory_id"], existing)
	}
	if msg := jobsBatchItem(t, r, 1)["error"].(string); msg != "content must be a string" {
		t.Errorf("type error message %q", msg)
	}
	for field, n := range map[string]float64{"total": 12, "succeeded": 3, "failed": 8, "skipped": 1} {
		if r.body[field] != n {
			t.Errorf("%s = %v, want %v", field, r.body[field], n)
		}
	}
	if r.body["success"] != false {
		t.Error("success with failures")
	}
	// Stored items are readable by their account only, with their agents.
	for i, agent := range map[int]string{0: "bot", 7: "own"} {
		id := jobsBatchItem(t, r, i)["memory_id"].(string)
		got := e.do("GET", "/v1/memories/"+id, key, nil)
		if got.status != 200 || got.body["agent_id"] != agent {
			t.Errorf("item %d: %d %s", i, got.status, got.raw)
		}
		jobsKinds(t, "batch memory", got.body, jobsMemoryKinds)
		checkError(t, e.do("GET", "/v1/memories/"+id, e.keys["other"], nil), 404, "not_found_error", "Memory not found")
	}
	if got := e.do("GET", "/v1/memories/"+jobsBatchItem(t, r, 7)["memory_id"].(string), key, nil); got.body["tier"] != "hot" {
		t.Errorf("item 7 tier %v", got.body["tier"])
	}

	// A clean batch of 100 succeeds, with the default agent.
	items := make([]any, 100)
	for i := range items {
		items[i] = map[string]any{"content": fmt.Sprintf("batch memory %d", i)}
	}
	r = e.do("POST", "/v1/memories/batch", key, map[string]any{"memories": items})
	if r.status != 200 || r.body["success"] != true || r.body["succeeded"] != 100.0 || r.body["total"] != 100.0 {
		t.Fatalf("%d %.300s", r.status, r.raw)
	}
	if got := e.do("GET", "/v1/memories/"+jobsBatchItem(t, r, 99)["memory_id"].(string), key, nil); got.body["agent_id"] != "default" {
		t.Errorf("default agent: %s", got.raw)
	}
}

func TestMemoryBatchErrors(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{})
	key := e.keys["rw"]
	tooMany := make([]any, memory.MaxBatch+1)
	for i := range tooMany {
		tooMany[i] = map[string]any{"content": "x"}
	}
	for _, c := range []struct {
		name string
		body any
		msg  string
	}{
		{"empty body", nil, "memories is required"},
		{"null", map[string]any{"memories": nil}, "memories is required"},
		{"empty array", map[string]any{"memories": []any{}}, "memories must hold 1-1000 items"},
		{"too many", map[string]any{"memories": tooMany}, "memories must hold 1-1000 items"},
		{"object", map[string]any{"memories": map[string]any{"content": "x"}}, "memories must be an array"},
		{"string", map[string]any{"memories": "x"}, "memories must be an array"},
		{"body is an array", `[{"content":"x"}]`, "Request body must be a JSON object"},
		{"bad agent type", map[string]any{"memories": []any{map[string]any{"content": "x"}}, "agent_id": 5}, "agent_id"},
	} {
		t.Run(c.name, func(t *testing.T) {
			checkError(t, e.do("POST", "/v1/memories/batch", key, c.body), 400, "validation_error", c.msg)
		})
	}
	body := map[string]any{"memories": []any{map[string]any{"content": "x"}}}
	checkError(t, e.do("POST", "/v1/memories/batch", e.keys["read"], body), 403, "authorization_error", "Insufficient scope. Required: write")
	checkError(t, e.do("POST", "/v1/memories/batch", e.keys["delete"], body), 403, "authorization_error", "Insufficient scope. Required: write")
	checkError(t, e.do("POST", "/v1/memories/batch", "", body), 401, "authentication_error", "Invalid API key")
	if r := e.do("GET", "/v1/memories/batch", key, nil); r.status != 404 && r.status != 405 {
		t.Errorf("GET batch: %d", r.status)
	}
}

func TestMemoryImportance(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{})
	key := e.keys["rw"]
	id := e.createMemory(key, map[string]any{"content": "How important is this?", "tier": "cold"})
	path := "/v1/memories/" + id + "/importance"
	created := float64(e.clock.Now().UnixMilli())
	for _, c := range []struct {
		body       map[string]any
		importance float64
		tier       string
	}{
		{map[string]any{"importance": 0.9}, 0.9, "hot"},
		{map[string]any{"importance": 0.3, "tier": "cold"}, 0.3, "cold"},
		{map[string]any{"importance": 0.5, "tier": nil}, 0.5, "warm"},
		{map[string]any{"importance": 1, "unknown": true}, 1, "hot"},
		{map[string]any{"importance": 0}, 0, "warm"},
	} {
		e.clock.Advance(time.Second)
		r := e.do("PUT", path, key, c.body)
		if r.status != 200 || r.body["importance"] != c.importance || r.body["tier"] != c.tier || r.body["id"] != id {
			t.Fatalf("%v: %d %s", c.body, r.status, r.raw)
		}
		jobsKinds(t, "memory", r.body, jobsMemoryKinds)
		if r.body["updated_at"].(float64) <= created || r.body["created_at"] != created {
			t.Errorf("timestamps %v %v", r.body["created_at"], r.body["updated_at"])
		}
	}
	for _, c := range []struct {
		body any
		msg  string
	}{
		{nil, "importance is required"},
		{map[string]any{"importance": nil}, "importance is required"},
		{map[string]any{"tier": "hot"}, "importance is required"},
		{map[string]any{"importance": 1.2}, "importance must be between 0 and 1"},
		{map[string]any{"importance": -0.1}, "importance must be between 0 and 1"},
		{map[string]any{"importance": "high"}, "importance must be a number"},
		{map[string]any{"importance": 0.5, "tier": "lukewarm"}, "tier must be hot, warm or cold"},
		{"[]", "Request body must be a JSON object"},
	} {
		checkError(t, e.do("PUT", path, key, c.body), 400, "validation_error", c.msg)
	}
	body := map[string]any{"importance": 0.5}
	for _, p := range []string{"/v1/memories/not-a-uuid/importance", "/v1/memories/" + jobsUnknown + "/importance"} {
		checkError(t, e.do("PUT", p, key, body), 404, "not_found_error", "Memory not found")
	}
	checkError(t, e.do("PUT", path, e.keys["other"], body), 404, "not_found_error", "Memory not found")
	checkError(t, e.do("PUT", path, e.keys["read"], body), 403, "authorization_error", "Insufficient scope. Required: write")
	if r := e.do("PATCH", path, key, body); r.status != 405 || r.header.Get("Allow") != "PUT" {
		t.Errorf("PATCH: %d %q", r.status, r.header.Get("Allow"))
	}
}

// waitReady waits, through the relay, for a v2 create to finish.
func jobsWaitReady(t testing.TB, e *env, acct, id string) {
	t.Helper()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for {
		st, err := e.relay.Account(acct).Memories().Job(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if st.Status == memory.JobReady || st.Status == memory.JobFailed {
			return
		}
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("job %s still %s", id, st.Status)
		}
	}
}

var jobsStatusKinds = map[string]string{"id": "uuid", "status": "string", "created_at": "ms", "updated_at": "ms", "error": "string|null"}

func TestV2Memories(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{})
	key := e.keys["rw"]
	r := e.do("POST", "/v2/memories", key, map[string]any{
		"content": "Queued for later.", "agent_id": "bot", "metadata": nil, "user_id": nil, "importance": 0.85,
		"webhook_url": "https://example.com/hook", "unknown": "ignored",
	})
	if r.status != 202 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	jobsKinds(t, "accepted", r.body, map[string]string{"id": "uuid", "status": "string", "job_id": "string", "estimated_completion_seconds": "int"})
	id := r.body["id"].(string)
	if r.body["status"] != "pending" || !jobsJobID.MatchString(r.body["job_id"].(string)) {
		t.Errorf("accepted %s", r.raw)
	}
	jobsWaitReady(t, e, e.acct, id)
	st := e.do("GET", "/v2/memories/"+id+"/status", e.keys["read"], nil)
	if st.status != 200 || st.body["id"] != id || st.body["status"] != "ready" || st.body["error"] != nil {
		t.Fatalf("status %d %s", st.status, st.raw)
	}
	jobsKinds(t, "status", st.body, jobsStatusKinds)
	if st.body["created_at"] != float64(e.clock.Now().UnixMilli()) || st.body["updated_at"].(float64) < st.body["created_at"].(float64) {
		t.Errorf("status timestamps %s", st.raw)
	}
	m := e.do("GET", "/v1/memories/"+id, key, nil)
	if m.status != 200 || m.body["content"] != "Queued for later." || m.body["agent_id"] != "bot" || m.body["tier"] != "hot" ||
		m.body["created_at"] != st.body["created_at"] {
		t.Fatalf("memory %d %s", m.status, m.raw)
	}
	jobsKinds(t, "memory", m.body, jobsMemoryKinds)

	// A failed job: error is a string.
	r = e.do("POST", "/v2/memories", key, map[string]any{"content": "Queued for later.", "agent_id": "bot", "deduplicate": true})
	if r.status != 202 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	dupID := r.body["id"].(string)
	jobsWaitReady(t, e, e.acct, dupID)
	st = e.do("GET", "/v2/memories/"+dupID+"/status", key, nil)
	if st.body["status"] != "failed" || !strings.Contains(fmt.Sprint(st.body["error"]), id) {
		t.Errorf("duplicate job: %s", st.raw)
	}
	jobsKinds(t, "failed status", st.body, jobsStatusKinds)
	checkError(t, e.do("GET", "/v1/memories/"+dupID, key, nil), 404, "not_found_error", "Memory not found")

	// Not found: other accounts, unknown and malformed ids.
	for _, c := range []struct{ path, key string }{
		{"/v2/memories/" + id + "/status", e.keys["other"]},
		{"/v2/memories/" + jobsUnknown + "/status", key},
		{"/v2/memories/not-a-uuid/status", key},
	} {
		checkError(t, e.do("GET", c.path, c.key, nil), 404, "not_found_error", "Memory not found")
	}
	checkError(t, e.do("GET", "/v2/memories/"+id+"/status", e.keys["delete"], nil), 403, "authorization_error", "Insufficient scope. Required: read")
	checkError(t, e.do("POST", "/v2/memories", e.keys["read"], map[string]any{"content": "x"}), 403, "authorization_error", "Insufficient scope. Required: write")
}

func TestV2MemoriesInvalid(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{})
	key := e.keys["rw"]
	for _, c := range []struct {
		name string
		body any
		msg  string
	}{
		{"no content", map[string]any{"agent_id": "bot"}, "content is required"},
		{"blank content", map[string]any{"content": "  "}, "content must be"},
		{"too long", map[string]any{"content": strings.Repeat("x", memory.MaxContentChars+1)}, "content must be"},
		{"content type", map[string]any{"content": 5}, "content must be a string"},
		{"metadata", map[string]any{"content": "x", "metadata": []any{1}}, "metadata must be a JSON object"},
		{"unknown session", map[string]any{"content": "x", "session_id": jobsUnknown}, "session_id"},
		{"importance", map[string]any{"content": "x", "importance": 2}, "importance must be between 0 and 1"},
		{"memory type", map[string]any{"content": "x", "memory_type": "dream"}, "memory_type"},
		{"dedup threshold", map[string]any{"content": "x", "dedup_threshold": 0.1}, "dedup_threshold"},
		{"webhook scheme", map[string]any{"content": "x", "webhook_url": "ftp://example.com/x"}, "webhook_url"},
		{"webhook relative", map[string]any{"content": "x", "webhook_url": "/hook"}, "webhook_url"},
		{"webhook type", map[string]any{"content": "x", "webhook_url": 1}, "webhook_url"},
		{"not an object", `"x"`, "Request body must be a JSON object"},
	} {
		t.Run(c.name, func(t *testing.T) {
			checkError(t, e.do("POST", "/v2/memories", key, c.body), 400, "validation_error", c.msg)
		})
	}
	// An empty webhook_url is absent.
	if r := e.do("POST", "/v2/memories", key, map[string]any{"content": "x", "webhook_url": ""}); r.status != 202 {
		t.Errorf("empty webhook_url: %d %s", r.status, r.raw)
	}
}

// BenchmarkMemoryBatch posts batches of 100 memories of ~100 characters
// through the handler, end to end over HTTP.
func BenchmarkMemoryBatch(b *testing.B) {
	e := newEnv(b, memoryrelay.Options{RateLimit: 1 << 30})
	key := e.keys["rw"]
	items := make([]any, 100)
	round := 0
	for b.Loop() {
		for i := range items {
			items[i] = map[string]any{"content": fmt.Sprintf("Memory %d/%d: the user mentioned that project %d ships on day %d and prefers terse reviews.", round, i, i%97, i%31)}
		}
		round++
		if r := e.do("POST", "/v1/memories/batch", key, map[string]any{"memories": items, "agent_id": "bench"}); r.status != 200 || r.body["succeeded"] != 100.0 {
			b.Fatalf("%d %.200s", r.status, r.raw)
		}
	}
}
