package memorytest

import (
	"slices"
	"strings"
	"testing"

	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/secret"
)

func testWebhooks(t *testing.T, open Opener) {
	t.Run("Create", func(t *testing.T) { hookCreate(t, open(t)) })
	t.Run("Invalid", func(t *testing.T) { hookInvalid(t, open(t)) })
	t.Run("Update", func(t *testing.T) { hookUpdate(t, open(t)) })
	t.Run("DeleteAndIsolation", func(t *testing.T) { hookDelete(t, open(t)) })
	t.Run("Limit", func(t *testing.T) { hookLimit(t, open(t)) })
}

const hookURL = "https://hooks.example.com/memoryrelay"

// hookCreate: a webhook is created enabled, with every event type when
// none is given, its secret kept but never returned, and it lists and
// reads back as created; a new one has no deliveries.
func hookCreate(t *testing.T, e Env) {
	ctx, c, ws := t.Context(), newClock(), e.Account.Webhooks()
	w := try(ws.Create(ctx, memory.NewWebhook{URL: hookURL, Secret: secret.New("whsec_1"), Description: ptr("prod")})).must(t)
	wantUUID(t, "ID", w.ID)
	c.instant(t, "CreatedAt", w.CreatedAt)
	if w.URL != hookURL || !w.Enabled || !w.HasSecret || w.Description == nil || *w.Description != "prod" ||
		!slices.Equal(w.EventTypes, memory.EventTypes) || !w.UpdatedAt.Equal(w.CreatedAt) {
		t.Errorf("Create: %+v", w)
	}
	wantEqual(t, "Get", try(ws.Get(ctx, w.ID)).must(t), w)
	some := try(ws.Create(ctx, memory.NewWebhook{URL: hookURL + "/2", EventTypes: []string{memory.EventMemoryDeleted, memory.EventMemoryCreated}})).must(t)
	if !slices.Equal(some.EventTypes, []string{memory.EventMemoryCreated, memory.EventMemoryDeleted}) || some.HasSecret {
		t.Errorf("Create with event types: %+v", some)
	}
	pg := try(ws.List(ctx, memory.PageParams{})).must(t)
	ids := []string{}
	for _, x := range pg.Data {
		ids = append(ids, x.ID)
	}
	if pg.Total != 2 || len(pg.Data) != 2 || !slices.Contains(ids, some.ID) || !slices.Contains(ids, w.ID) {
		t.Errorf("List: %+v", pg)
	}
	if ds := try(ws.Deliveries(ctx, w.ID, 0)).must(t); len(ds) != 0 {
		t.Errorf("a new webhook has deliveries: %+v", ds)
	}
}

func hookInvalid(t *testing.T, e Env) {
	ctx, ws := t.Context(), e.Account.Webhooks()
	for _, tc := range []struct {
		name   string
		in     memory.NewWebhook
		fields []string
	}{
		{"no URL", memory.NewWebhook{}, []string{"URL"}},
		{"plain http", memory.NewWebhook{URL: "http://hooks.example.com/x"}, []string{"URL"}},
		{"a loopback address", memory.NewWebhook{URL: "https://127.0.0.1/x"}, []string{"URL"}},
		{"the metadata address", memory.NewWebhook{URL: "https://169.254.169.254/latest"}, []string{"URL"}},
		{"user information", memory.NewWebhook{URL: "https://u:p@hooks.example.com/"}, []string{"URL"}},
		{"URL over 2048 bytes", memory.NewWebhook{URL: hookURL + "/" + strings.Repeat("a", memory.MaxWebhookURL)}, []string{"URL"}},
		{"unknown event type", memory.NewWebhook{URL: hookURL, EventTypes: []string{"memory.created", "memory.exploded"}}, []string{"EventTypes"}},
		{"secret over 256 characters", memory.NewWebhook{URL: hookURL, Secret: secret.New(strings.Repeat("s", memory.MaxWebhookSecret+1))}, []string{"Secret"}},
		{"description over 255 characters", memory.NewWebhook{URL: hookURL, Description: ptr(strings.Repeat("d", memory.MaxWebhookDescription+1))}, []string{"Description"}},
		{"every problem at once", memory.NewWebhook{URL: "ftp://x", EventTypes: []string{"x"}, Description: ptr(strings.Repeat("d", 300))},
			[]string{"URL", "EventTypes", "Description"}},
	} {
		_, err := ws.Create(ctx, tc.in)
		wantInvalid(t, tc.name, err, tc.fields...)
	}
	// At the limits: accepted.
	try(ws.Create(ctx, memory.NewWebhook{URL: hookURL + "/" + strings.Repeat("a", memory.MaxWebhookURL-len(hookURL)-1),
		Secret: secret.New(strings.Repeat("s", memory.MaxWebhookSecret)), Description: ptr(strings.Repeat("d", memory.MaxWebhookDescription))})).must(t)
	if pg := try(ws.List(ctx, memory.PageParams{})).must(t); pg.Total != 1 {
		t.Errorf("after invalid creates the account has %d webhooks, want 1", pg.Total)
	}
}

// hookUpdate: only the fields given change; an empty secret removes it;
// an empty event type list is every type; updated_at advances.
func hookUpdate(t *testing.T, e Env) {
	ctx, ws := t.Context(), e.Account.Webhooks()
	w := try(ws.Create(ctx, memory.NewWebhook{URL: hookURL, Secret: secret.New("s1"), EventTypes: []string{memory.EventMemoryCreated}})).must(t)
	off := false
	u := try(ws.Update(ctx, w.ID, memory.WebhookPatch{Enabled: &off, Description: ptr("paused")})).must(t)
	if u.Enabled || u.Description == nil || *u.Description != "paused" || u.URL != hookURL || !u.HasSecret ||
		!slices.Equal(u.EventTypes, []string{memory.EventMemoryCreated}) || !u.UpdatedAt.After(w.UpdatedAt) {
		t.Errorf("Update: %+v", u)
	}
	none, all := secret.New(""), []string{}
	u = try(ws.Update(ctx, w.ID, memory.WebhookPatch{URL: ptr(hookURL + "/v2"), Secret: &none, EventTypes: &all})).must(t)
	if u.HasSecret || u.URL != hookURL+"/v2" || !slices.Equal(u.EventTypes, memory.EventTypes) || u.Enabled {
		t.Errorf("Update of URL, secret and types: %+v", u)
	}
	wantEqual(t, "Get after Update", try(ws.Get(ctx, w.ID)).must(t), u)
	_, err := ws.Update(ctx, w.ID, memory.WebhookPatch{URL: ptr("http://hooks.example.com/"), EventTypes: &[]string{"nope"}})
	wantInvalid(t, "Update with a plain http URL and an unknown type", err, "URL", "EventTypes")
	wantEqual(t, "Get after a refused Update", try(ws.Get(ctx, w.ID)).must(t), u)
}

// hookDelete: delete removes a webhook; another account's webhooks are
// not found by any call.
func hookDelete(t *testing.T, e Env) {
	ctx, ws := t.Context(), e.Account.Webhooks()
	theirs := try(e.Other.Webhooks().Create(ctx, memory.NewWebhook{URL: hookURL})).must(t)
	_, err := ws.Get(ctx, theirs.ID)
	wantNotFound(t, "Get of another account's webhook", err)
	_, err = ws.Update(ctx, theirs.ID, memory.WebhookPatch{Description: ptr("mine")})
	wantNotFound(t, "Update of another account's webhook", err)
	wantNotFound(t, "Delete of another account's webhook", ws.Delete(ctx, theirs.ID))
	_, err = ws.Deliveries(ctx, theirs.ID, 0)
	wantNotFound(t, "Deliveries of another account's webhook", err)
	if pg := try(ws.List(ctx, memory.PageParams{})).must(t); pg.Total != 0 {
		t.Errorf("the account lists %d webhooks of another", pg.Total)
	}
	w := try(ws.Create(ctx, memory.NewWebhook{URL: hookURL})).must(t)
	if err := ws.Delete(ctx, w.ID); err != nil {
		t.Fatal(err)
	}
	_, err = ws.Get(ctx, w.ID)
	wantNotFound(t, "Get after Delete", err)
	wantNotFound(t, "Delete twice", ws.Delete(ctx, w.ID))
	_, err = ws.Get(ctx, "not-a-uuid")
	wantNotFound(t, "Get of a malformed id", err)
	if _, err := e.Other.Webhooks().Get(ctx, theirs.ID); err != nil {
		t.Errorf("the other account's webhook is gone: %v", err)
	}
}

// hookLimit: an account has at most memory.MaxWebhooks webhooks.
func hookLimit(t *testing.T, e Env) {
	ctx, ws := t.Context(), e.Account.Webhooks()
	for range memory.MaxWebhooks {
		try(ws.Create(ctx, memory.NewWebhook{URL: hookURL})).must(t)
	}
	_, err := ws.Create(ctx, memory.NewWebhook{URL: hookURL})
	wantInvalid(t, "one webhook past the limit", err)
}
