package memorytest

import (
	"errors"
	"testing"

	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/secret"
)

func testExtraction(t *testing.T, open Opener) {
	t.Run("OnCreate", func(t *testing.T) { extractOnCreate(t, open(t)) })
	t.Run("Async", func(t *testing.T) { extractAsync(t, open(t)) })
	t.Run("Settings", func(t *testing.T) { extractSettings(t, open(t)) })
}

// entityNames lists a memory's entities as "type:name".
func entityNames(m memory.Memory) map[string]bool {
	out := map[string]bool{}
	for _, e := range m.Entities {
		out[e.Type+":"+e.Value] = true
	}
	return out
}

// extractOnCreate (API.md §10.6): with AutoExtractEntities the entities
// of the content are created and linked, the memory says how; a second
// memory naming one of them (in another case) links the same entity;
// false extracts nothing. The server's default extractor is the built-in
// one (an implementation whose server has another must skip this group).
func extractOnCreate(t *testing.T, e Env) {
	ctx, mem := t.Context(), e.Account.Memories()
	yes, no := true, false
	m := create(t, e.Account, memory.NewMemory{Content: "Sarah Chen from Stripe wants the billing service on PostgreSQL.", AutoExtractEntities: &yes})
	got := entityNames(m)
	for _, want := range []string{"person:Sarah Chen", "organization:Stripe", "technology:PostgreSQL"} {
		if !got[want] {
			t.Errorf("entities %v lack %s", got, want)
		}
	}
	if m.ExtractionStatus == nil || *m.ExtractionStatus != memory.ExtractionCompleted || m.ExtractionMethod == nil || *m.ExtractionMethod != "builtin" ||
		m.ExtractionModel == nil || *m.ExtractionModel == "" {
		t.Errorf("extraction fields %v %v %v", showPtr(m.ExtractionStatus), showPtr(m.ExtractionMethod), showPtr(m.ExtractionModel))
	}
	wantEqual(t, "Get of the extracted memory", try(mem.Get(ctx, m.ID)).must(t), m)
	m2 := create(t, e.Account, memory.NewMemory{Content: "The contract with STRIPE renews in March.", AutoExtractEntities: &yes})
	if !entityNames(m2)["organization:Stripe"] {
		t.Errorf("the second memory's entities %v: want the existing organization:Stripe matched", entityNames(m2))
	}
	var stripe []memory.Entity
	for _, en := range try(e.Account.Entities().List(ctx, memory.EntityListParams{Limit: 100})).must(t).Data {
		if en.Type == "organization" && (en.Name == "Stripe" || en.Name == "STRIPE") {
			stripe = append(stripe, en)
		}
	}
	if len(stripe) != 1 || stripe[0].MemoryCount != 2 {
		t.Errorf("organization Stripe: %+v, want one entity linked to both memories", stripe)
	}
	plain := create(t, e.Account, memory.NewMemory{Content: "Sarah Chen moved to Lisbon.", AutoExtractEntities: &no})
	if len(plain.Entities) != 0 || plain.ExtractionStatus != nil {
		t.Errorf("AutoExtractEntities false: entities %v, status %v", plain.Entities, showPtr(plain.ExtractionStatus))
	}
	// Another account sees none of these entities.
	if pg := try(e.Other.Entities().List(ctx, memory.EntityListParams{})).must(t); pg.Total != 0 {
		t.Errorf("the other account has %d entities", pg.Total)
	}
}

// extractAsync: a v2 create's extraction is pending until its job, which
// links the entities.
func extractAsync(t *testing.T, e Env) {
	ctx, mem := t.Context(), e.Account.Memories()
	yes := true
	j := try(mem.CreateAsync(ctx, memory.NewMemory{Content: "Kenji Watanabe deploys Kubernetes in Tokyo.", AutoExtractEntities: &yes}, memory.AsyncOptions{})).must(t)
	m := try(mem.Get(ctx, j.ID)).must(t)
	if st := m.ExtractionStatus; st == nil || (*st != memory.ExtractionPending && *st != memory.ExtractionCompleted) {
		t.Errorf("right after CreateAsync: extraction status %v", showPtr(st))
	}
	if done := pollJob(t, ctx, mem, j.ID); done.Status != memory.JobReady {
		t.Fatalf("job %+v", done)
	}
	m = try(mem.Get(ctx, j.ID)).must(t)
	got := entityNames(m)
	if m.ExtractionStatus == nil || *m.ExtractionStatus != memory.ExtractionCompleted || !got["person:Kenji Watanabe"] || !got["technology:Kubernetes"] || !got["location:Tokyo"] {
		t.Errorf("after the job: status %v, entities %v", showPtr(m.ExtractionStatus), got)
	}
}

// extractSettings: the settings of an account without keys; without the
// server's secret the key methods are unavailable, with it a key is
// created (masked, never returned), activated and deleted.
func extractSettings(t *testing.T, e Env) {
	ctx, x := t.Context(), e.Account.Extraction()
	s := try(x.Settings(ctx)).must(t)
	if s.Tier != "self-hosted" || s.Extractor != "builtin" || s.BYOKConfigured || s.BYOKActive || len(s.Keys) != 0 || s.MaskedAPIKey != nil {
		t.Errorf("settings %+v", s)
	}
	k, err := x.CreateKey(ctx, memory.NewExtractionKey{Provider: "openai", APIKey: secret.New("sk-test-0123456789abcdef"), Model: "gpt-4o-mini"})
	if !s.BYOKEnabledGlobally {
		if !errors.Is(err, memory.ErrUnavailable) {
			t.Errorf("CreateKey without the server's secret: %v, want ErrUnavailable", err)
		}
		_, err := x.DeactivateKeys(ctx)
		if !errors.Is(err, memory.ErrUnavailable) {
			t.Errorf("DeactivateKeys without the server's secret: %v", err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if !k.Active || k.MaskedKey != "sk-…cdef" || k.Provider != "openai" || k.BaseURL == nil || *k.BaseURL != "https://api.openai.com/v1" {
		t.Errorf("CreateKey: %+v", k)
	}
	s = try(x.Settings(ctx)).must(t)
	if s.Extractor != "byok" || !s.BYOKActive || s.MaskedAPIKey == nil || *s.MaskedAPIKey != "sk-…cdef" || len(s.Keys) != 1 {
		t.Errorf("settings with a key %+v", s)
	}
	if n := try(x.DeactivateKeys(ctx)).must(t); n != 1 {
		t.Errorf("DeactivateKeys = %d", n)
	}
	if k := try(x.ActivateKey(ctx, k.ID)).must(t); !k.Active {
		t.Errorf("ActivateKey: %+v", k)
	}
	_, err = e.Other.Extraction().ActivateKey(ctx, k.ID)
	wantNotFound(t, "ActivateKey of another account's key", err)
	wantNotFound(t, "DeleteKey of another account's key", e.Other.Extraction().DeleteKey(ctx, k.ID))
	if err := x.DeleteKey(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	wantNotFound(t, "DeleteKey twice", x.DeleteKey(ctx, k.ID))
}
