package httpapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/memoryrelay/memoryrelay"
)

const llmKey = "sk-live-0123456789abcdefSECRETKEY"

// fakeLLM is an OpenAI-compatible chat endpoint that answers with the
// entities of its reply, or fails while down is set.
func fakeLLM(t *testing.T, down *atomic.Bool, calls *atomic.Int64) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		io.Copy(io.Discard, r.Body)
		if r.URL.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer "+llmKey {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if down.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		content := `{"entities":[{"type":"person","name":"Sarah Chen","confidence":0.9},{"type":"place","name":"Lisbon"},{"type":"person","name":"Invented Person"}]}`
		json.NewEncoder(w).Encode(map[string]any{"model": "fake-llm-1", "choices": []any{map[string]any{"message": map[string]any{"content": content}}}})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestExtractionKeysAPI (API.md §10.6, §10.7): a bring-your-own key for an
// OpenAI-compatible endpoint (a fake, on loopback, which the operator's
// policy allows) is stored sealed and shown masked, never returned; once
// active it extracts the entities of memories created with
// auto_extract_entities (names not in the text dropped, place stored as
// location), the memory saying how; a failing LLM fails only the
// extraction; deactivating every key brings the built-in extractor back.
func TestExtractionKeysAPI(t *testing.T) {
	var down atomic.Bool
	var calls atomic.Int64
	llmSrv := fakeLLM(t, &down, &calls)
	e, lc := newCheckedEnv(t, memoryrelay.Options{RateLimit: 1_000_000,
		ServerSecret: []byte("an operator secret of at least 32 bytes!"),
		Outbound:     memoryrelay.OutboundPolicy{AllowNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, AllowHTTP: []string{"127.0.0.1"}},
	})
	lc.addSecret(llmKey)
	admin := e.keys["admin"]
	s := e.do("GET", "/v1/extraction/settings", admin, nil)
	if s.status != 200 || s.body["tier"] != "self-hosted" || s.body["extractor"] != "builtin" || s.body["byok_enabled_globally"] != true ||
		s.body["byok_active"] != false || string(mustJSON(t, s.body["plan_limits"])) != "{}" || len(s.body["keys"].([]any)) != 0 {
		t.Fatalf("settings %d %s", s.status, s.raw)
	}
	r := e.do("POST", "/v1/extraction/keys", admin, map[string]any{"provider": "custom", "api_key": llmKey, "model": "fake-llm",
		"label": "mine", "base_url": llmSrv.URL + "/v1"})
	k := expect(t, r, 201)
	checkKinds(t, "extraction key", k, map[string]string{"id": "uuid", "object": "=extraction_key", "provider": "=custom", "label": "=mine",
		"model": "=fake-llm", "base_url": "string", "is_active": "bool", "masked_key": "=sk-…TKEY", "last_validated_at": "iso?",
		"last_used_at": "iso?", "created_at": "iso", "updated_at": "iso"})
	if k["is_active"] != true {
		t.Fatalf("the first key is not active: %s", r.raw)
	}
	id := k["id"].(string)
	s = e.do("GET", "/v1/extraction/settings", admin, nil)
	if s.body["extractor"] != "byok" || s.body["byok_active"] != true || s.body["masked_api_key"] != "sk-…TKEY" || s.body["preferred_model"] != "fake-llm" {
		t.Fatalf("settings with the key %s", s.raw)
	}

	m := expect(t, e.do("POST", "/v1/memories", e.keys["rw"], map[string]any{"content": "Sarah Chen lives in Lisbon.", "auto_extract_entities": true}), 201)
	if m["extraction_status"] != "completed" || m["extraction_method"] != "llm" || m["extraction_model"] != "fake-llm-1" {
		t.Errorf("memory %v", m)
	}
	ents := map[string]bool{}
	for _, en := range m["entities"].([]any) {
		en := en.(map[string]any)
		ents[en["type"].(string)+":"+en["value"].(string)] = true
	}
	if !ents["person:Sarah Chen"] || !ents["location:Lisbon"] || ents["person:Invented Person"] || len(ents) != 2 {
		t.Errorf("entities %v", ents)
	}
	if k := items(t, e.do("GET", "/v1/extraction/settings", admin, nil).body, "keys")[0]; k["last_used_at"] == nil || k["last_validated_at"] == nil {
		t.Errorf("the key's use was not recorded: %v", k)
	}
	// Not asked: no call, no entities.
	before := calls.Load()
	plain := expect(t, e.do("POST", "/v1/memories", e.keys["rw"], map[string]any{"content": "Sarah Chen again."}), 201)
	if calls.Load() != before || plain["extraction_status"] != nil || len(plain["entities"].([]any)) != 0 {
		t.Errorf("a create without auto_extract_entities: %v (%d calls)", plain, calls.Load()-before)
	}
	// A failing LLM fails the extraction only.
	down.Store(true)
	failed := expect(t, e.do("POST", "/v1/memories", e.keys["rw"], map[string]any{"content": "Sarah Chen is away.", "auto_extract_entities": true}), 201)
	if failed["extraction_status"] != "failed" || failed["extraction_method"] != "llm" || len(failed["entities"].([]any)) != 0 {
		t.Errorf("memory with a failing LLM %v", failed)
	}
	if g := e.do("GET", "/v1/memories/"+failed["id"].(string), e.keys["rw"], nil); g.status != 200 {
		t.Errorf("the memory of a failed extraction is not stored: %s", g.raw)
	}
	down.Store(false)
	// Deactivate every key: the built-in extractor runs.
	d := e.do("POST", "/v1/extraction/keys/deactivate-all", admin, nil)
	if d.status != 200 || d.body["deactivated_count"] != 1.0 || d.body["status"] == nil || d.body["message"] == nil {
		t.Fatalf("deactivate-all %s", d.raw)
	}
	b := expect(t, e.do("POST", "/v1/memories", e.keys["rw"], map[string]any{"content": "Kenji uses Kubernetes.", "auto_extract_entities": true}), 201)
	if b["extraction_method"] != "builtin" || b["extraction_model"] != "memoryrelay-builtin-v1" {
		t.Errorf("after deactivate-all: %v", b)
	}
	if a := e.do("POST", "/v1/extraction/keys/"+id+"/activate", admin, nil); a.status != 200 || a.body["is_active"] != true {
		t.Fatalf("activate %s", a.raw)
	}
	// Another account's key is not found; another account's settings are its own.
	checkError(t, e.do("POST", "/v1/extraction/keys/"+id+"/activate", e.keys["other"], nil), 404, "not_found_error", "Extraction key not found")
	checkError(t, e.do("DELETE", "/v1/extraction/keys/"+id, e.keys["other"], nil), 404, "not_found_error", "Extraction key not found")
	if o := e.do("GET", "/v1/extraction/settings", e.keys["other"], nil); o.body["byok_configured"] != false {
		t.Errorf("another account's settings %s", o.raw)
	}
	checkError(t, e.do("GET", "/v1/extraction/settings", e.keys["rw"], nil), 403, "authorization_error", "Insufficient scope. Required: admin")
	for _, c := range []struct {
		body         map[string]any
		field, start string
	}{
		{map[string]any{"provider": "anthropic", "api_key": "k", "model": "m"}, "provider", "provider not supported by this server"},
		{map[string]any{"provider": "openai", "model": "m"}, "api_key", "api_key is required for provider openai"},
		{map[string]any{"provider": "azure", "api_key": "k", "model": "m"}, "base_url", "base_url is required for provider azure"},
		{map[string]any{"provider": "custom", "api_key": "k", "model": "m", "base_url": "https://169.254.169.254/v1"}, "base_url", "base_url must be an address the server may call"},
		{map[string]any{"provider": "openai", "api_key": strings.Repeat("k", 1025), "model": "m"}, "api_key", "api_key must be at most 1024 characters"},
		{map[string]any{"provider": "openai", "api_key": "k", "model": strings.Repeat("m", 201)}, "model", "model must be 1-200 characters"},
		{map[string]any{"api_key": "k", "model": "m"}, "provider", "provider is required"},
	} {
		r := e.do("POST", "/v1/extraction/keys", admin, c.body)
		checkError(t, r, 400, "validation_error", c.start)
		if d := r.body["details"].([]any)[0].(map[string]any); d["field"] != c.field {
			t.Errorf("%v: details %v", c.body, r.body["details"])
		}
	}
	if d := e.do("DELETE", "/v1/extraction/keys/"+id, admin, nil); d.status != 200 || d.body["deleted"] != true {
		t.Fatalf("delete %s", d.raw)
	}
	checkError(t, e.do("DELETE", "/v1/extraction/keys/"+id, admin, nil), 404, "not_found_error", "Extraction key not found")
	// ICM is not served: its capabilities probe answers 404 (API.md §10.7).
	checkError(t, e.do("GET", "/v2/icm/capabilities", admin, nil), 404, "not_found_error", "Route not found")
}

// TestExtractionKeysWithoutSecret: without the server's secret the key
// routes answer 503 with a message that says why, and no Retry-After.
func TestExtractionKeysWithoutSecret(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{})
	admin := e.keys["admin"]
	if s := e.do("GET", "/v1/extraction/settings", admin, nil); s.status != 200 || s.body["byok_enabled_globally"] != false {
		t.Fatalf("settings %s", s.raw)
	}
	for _, c := range [][3]string{{"POST", "/v1/extraction/keys", `{"provider":"openai","api_key":"k","model":"m"}`},
		{"POST", "/v1/extraction/keys/deactivate-all", ""}, {"POST", "/v1/extraction/keys/00000000-0000-4000-8000-000000000000/activate", ""},
		{"DELETE", "/v1/extraction/keys/00000000-0000-4000-8000-000000000000", ""}} {
		r := e.do(c[0], c[1], admin, c[2])
		checkError(t, r, 503, "api_error", "Extraction keys are not available: the server has no secret")
		if r.header.Get("Retry-After") != "" {
			t.Errorf("%s %s: Retry-After %q", c[0], c[1], r.header.Get("Retry-After"))
		}
	}
}
