package httpapi_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay"
)

var webhookShape = map[string]string{
	"id": "uuid", "object": "=webhook", "url": "string", "event_types": "array", "enabled": "bool", "description": "string?",
	"has_secret": "bool", "created_at": "iso", "updated_at": "iso",
}

// TestWebhooksAPI: /v1/webhooks in the shape of API.md §10.3: create
// (every event type by default, the secret kept and never echoed), list,
// get, patch (disable, remove the secret, every type again), delete; the
// limits at the value and one past it, with the request's field names.
func TestWebhooksAPI(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{})
	admin := e.keys["admin"]
	const sec = "whsec_never_echoed_0123"
	r := e.do("POST", "/v1/webhooks", admin, map[string]any{"url": "https://hooks.example.com/a", "secret": sec, "description": "prod"})
	body := expect(t, r, 201)
	checkKinds(t, "webhook", body, webhookShape)
	if body["enabled"] != true || body["has_secret"] != true || body["description"] != "prod" ||
		string(mustJSON(t, body["event_types"])) != `["memory.created","memory.updated","memory.deleted","embedding.completed"]` {
		t.Errorf("created %s", r.raw)
	}
	id := body["id"].(string)
	var seen []response
	seen = append(seen, r, e.do("GET", "/v1/webhooks/"+id, admin, nil), e.do("GET", "/v1/webhooks", admin, nil))
	p := e.do("PATCH", "/v1/webhooks/"+id, admin, map[string]any{"enabled": false, "event_types": []string{"memory.deleted"}})
	seen = append(seen, p)
	if p.status != 200 || p.body["enabled"] != false || string(mustJSON(t, p.body["event_types"])) != `["memory.deleted"]` ||
		p.body["has_secret"] != true || p.body["updated_at"] == body["updated_at"] {
		t.Fatalf("patch: %s", p.raw)
	}
	for _, s := range seen {
		if strings.Contains(string(s.raw), sec) || strings.Contains(string(s.raw), `"secret"`) {
			t.Fatalf("a response holds the secret: %s", s.raw)
		}
	}
	p = e.do("PATCH", "/v1/webhooks/"+id, admin, map[string]any{"secret": "", "event_types": []string{}, "description": nil})
	if p.body["has_secret"] != false || len(p.body["event_types"].([]any)) != 4 || p.body["description"] != "prod" {
		t.Fatalf("patch: %s", p.raw)
	}
	l := e.do("GET", "/v1/webhooks", admin, nil)
	checkKinds(t, "list", l.body, listShape)
	if items(t, l.body, "data")[0]["id"] != id {
		t.Errorf("list %s", l.raw)
	}
	d := e.do("DELETE", "/v1/webhooks/"+id, admin, nil)
	if d.status != 200 || d.body["success"] != true || d.body["deleted"] != true || d.body["id"] != id {
		t.Fatalf("delete: %s", d.raw)
	}
	checkError(t, e.do("GET", "/v1/webhooks/"+id, admin, nil), 404, "not_found_error", "Webhook not found")
	checkError(t, e.do("DELETE", "/v1/webhooks/"+id, admin, nil), 404, "not_found_error", "Webhook not found")
	checkError(t, e.do("GET", "/v1/webhooks/nope", admin, nil), 404, "not_found_error", "Webhook not found")

	long := func(n int) string {
		return "https://hooks.example.com/" + strings.Repeat("a", n-len("https://hooks.example.com/"))
	}
	for _, c := range []struct {
		name   string
		body   any
		field  string
		prefix string // "" when accepted
	}{
		{"url at 2048 bytes", map[string]any{"url": long(2048)}, "", ""},
		{"url at 2049 bytes", map[string]any{"url": long(2049)}, "url", "url must be an absolute https address of at most 2048 bytes"},
		{"no url", map[string]any{}, "url", "url is required"},
		{"plain http", map[string]any{"url": "http://hooks.example.com/"}, "url", "url must be an absolute https address the server may call (plain http to hooks.example.com is not allowed)"},
		{"loopback", map[string]any{"url": "https://127.0.0.1:8443/"}, "url", "url must be an absolute https address the server may call (loopback address 127.0.0.1 is not allowed)"},
		{"metadata", map[string]any{"url": "https://169.254.169.254/"}, "url", "url must be an absolute https address the server may call (link-local or metadata address"},
		{"url not a string", map[string]any{"url": 5}, "url", "url must be a string"},
		{"event types", map[string]any{"url": "https://h.example.com/", "event_types": []string{"memory.created", "memory.exploded"}}, "event_types", "event_types must be a subset of"},
		{"secret at 256", map[string]any{"url": "https://h.example.com/", "secret": strings.Repeat("s", 256)}, "", ""},
		{"secret at 257", map[string]any{"url": "https://h.example.com/", "secret": strings.Repeat("s", 257)}, "secret", "secret must be at most 256 characters"},
		{"description at 255", map[string]any{"url": "https://h.example.com/", "description": strings.Repeat("d", 255)}, "", ""},
		{"description at 256", map[string]any{"url": "https://h.example.com/", "description": strings.Repeat("d", 256)}, "description", "description must be at most 255 characters"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.do("POST", "/v1/webhooks", admin, c.body)
			if c.prefix == "" {
				expect(t, r, 201)
				return
			}
			checkError(t, r, 400, "validation_error", c.prefix)
			if d := r.body["details"].([]any)[0].(map[string]any); d["field"] != c.field {
				t.Errorf("details %v, want %s", r.body["details"], c.field)
			}
		})
	}
	// Every problem at once.
	r = e.do("POST", "/v1/webhooks", admin, map[string]any{"url": "ftp://x", "event_types": []string{"x"}, "description": strings.Repeat("d", 300)})
	checkError(t, r, 400, "validation_error", "url must be")
	if n := len(r.body["details"].([]any)); n != 3 {
		t.Errorf("details %v, want 3", r.body["details"])
	}
}

// TestWebhookDeliveriesAPI: a real receiver on loopback (allowed by the
// operator's policy) gets a memory's event after a refused first attempt;
// GET /deliveries lists both attempts, newest first, with their status,
// error and timestamps.
func TestWebhookDeliveriesAPI(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if n.Add(1) == 1 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	e := newEnv(t, memoryrelay.Options{RateLimit: 1_000_000,
		Outbound: memoryrelay.OutboundPolicy{AllowNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, AllowHTTP: []string{"127.0.0.1"}},
		Webhooks: memoryrelay.WebhookOptions{PollInterval: 5 * time.Millisecond, MinBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond},
	})
	admin := e.keys["admin"]
	id := expect(t, e.do("POST", "/v1/webhooks", admin, map[string]any{"url": srv.URL + "/hook"}), 201)["id"].(string)
	e.createMemory(e.keys["rw"], map[string]any{"content": "announced"})
	deadline := time.Now().Add(15 * time.Second)
	var ds []map[string]any
	for {
		r := e.do("GET", "/v1/webhooks/"+id+"/deliveries", admin, nil)
		checkKinds(t, "list", r.body, listShape)
		ds = items(t, r.body, "data")
		if len(ds) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries %s", r.raw)
		}
		e.clock.Advance(time.Second)      // the relay's clock: the retry comes due
		time.Sleep(10 * time.Millisecond) // the dispatcher runs in the background
	}
	last, first := ds[0], ds[1]
	if last["outcome"] != "delivered" || last["status_code"] != 200.0 || last["attempt"] != 2.0 || last["error"] != nil ||
		last["event_type"] != "memory.created" || last["event_id"] != first["event_id"] || last["id"] != first["id"] {
		t.Errorf("last attempt %v", last)
	}
	if first["outcome"] != "retrying" || first["status_code"] != 500.0 || first["error"] != "receiver answered 500" || first["next_attempt_at"] == nil {
		t.Errorf("first attempt %v", first)
	}
	for _, a := range ds {
		checkKinds(t, "delivery", a, map[string]string{"started_at": "iso", "finished_at": "iso", "event_id": "uuid"})
	}
	if r := e.do("GET", "/v1/webhooks/"+id+"/deliveries?limit=1", admin, nil); len(items(t, r.body, "data")) != 1 {
		t.Errorf("limit=1: %s", r.raw)
	}
	checkError(t, e.do("GET", "/v1/webhooks/"+id+"/deliveries?limit=0", admin, nil), 400, "validation_error", "limit must be")
	checkError(t, e.do("GET", "/v1/webhooks/"+id+"/deliveries", e.keys["other"], nil), 404, "not_found_error", "Webhook not found")
}
