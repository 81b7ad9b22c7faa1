package sqlite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/outbound"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/webhook"
	"github.com/memoryrelay/memoryrelay/internal/webhook/webhooktest"
)

// webhookHarness is the SQLite store under the Outbox conformance test:
// its targets are webhooks of one account.
type webhookHarness struct {
	webhook.Outbox
	st   *Store
	acct string
}

func (h webhookHarness) SetTarget(ctx context.Context, t webhook.Target, enabled bool) error {
	now := time.Now()
	_, err := h.st.UpdateWebhook(ctx, h.acct, t.ID, func(w *store.Webhook) error {
		w.URL, w.Secret, w.Enabled, w.UpdatedAt = t.URL, []byte(t.Secret.Reveal()), enabled, now
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		err = h.st.CreateWebhook(ctx, store.Webhook{ID: t.ID, AccountID: h.acct, URL: t.URL, Secret: []byte(t.Secret.Reveal()),
			Enabled: enabled, CreatedAt: now, UpdatedAt: now}, 0)
		time.Sleep(time.Millisecond) // distinct created_at: targets in the order added
	}
	return err
}

func (h webhookHarness) Publish(ctx context.Context, e webhook.Event, subject string) ([]string, error) {
	var ids []string
	err := h.st.InTx(ctx, func(ctx context.Context) error {
		before, err := queryAll(ctx, h.st.q(ctx), scanValue[string], "SELECT id FROM webhook_deliveries")
		if err != nil {
			return err
		}
		seen := map[string]bool{}
		for _, id := range before {
			seen[id] = true
		}
		if _, err := h.st.PublishWebhookEvent(ctx, h.acct, store.WebhookEvent{ID: e.ID, Type: e.Type, Bit: uint(webhook.Bit(e.Type)),
			Subject: subject, CreatedAt: e.CreatedAt, Data: e.Data}); err != nil {
			return err
		}
		after, err := queryAll(ctx, h.st.q(ctx), scanValue[string], "SELECT id FROM webhook_deliveries ORDER BY seq")
		for _, id := range after {
			if !seen[id] {
				ids = append(ids, id)
			}
		}
		return err
	})
	return ids, err
}

func newWebhookHarness(t *testing.T) webhooktest.Harness {
	st := testStore(t)
	a, err := st.CreateAccount(context.Background(), "a", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return webhookHarness{Outbox: st.WebhookOutbox(), st: st, acct: a.ID}
}

// TestWebhookOutboxConformance: the SQLite outbox keeps the rules of
// webhook.Outbox (webhooktest.TestOutbox).
func TestWebhookOutboxConformance(t *testing.T) {
	webhooktest.TestOutbox(t, newWebhookHarness)
}

// TestWebhookEventsCommitWithTheChange: an event published inside InTx is
// queued only if the transaction commits; the account's other webhooks
// and types are honoured.
func TestWebhookEventsCommitWithTheChange(t *testing.T) {
	ctx := context.Background()
	st := testStore(t)
	now := time.Now()
	a, _ := st.CreateAccount(ctx, "a", now)
	b, _ := st.CreateAccount(ctx, "b", now)
	mask, _ := webhook.MaskOf([]string{webhook.EventMemoryDeleted})
	for _, w := range []store.Webhook{
		{ID: "all", AccountID: a.ID, URL: "https://a/1", Enabled: true},
		{ID: "deletes", AccountID: a.ID, URL: "https://a/2", EventTypes: uint(mask), Enabled: true},
		{ID: "off", AccountID: a.ID, URL: "https://a/3", Enabled: false},
		{ID: "other", AccountID: b.ID, URL: "https://b/1", Enabled: true},
	} {
		w.CreatedAt, w.UpdatedAt = now, now
		if err := st.CreateWebhook(ctx, w, 0); err != nil {
			t.Fatal(err)
		}
	}
	ev := func(id, typ string) store.WebhookEvent {
		return store.WebhookEvent{ID: id, Type: typ, Bit: uint(webhook.Bit(typ)), Subject: "m1", CreatedAt: now, Data: json.RawMessage(`{"id":"m1"}`)}
	}
	boom := errors.New("the change failed")
	err := st.InTx(ctx, func(ctx context.Context) error {
		if _, err := st.PublishWebhookEvent(ctx, a.ID, ev("e1", webhook.EventMemoryCreated)); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if n, _ := queryValue[int](ctx, st.q(ctx), "SELECT count(*) FROM webhook_deliveries"); n != 0 {
		t.Fatalf("%d deliveries after a rolled-back change", n)
	}
	n, err := st.PublishWebhookEvent(ctx, a.ID, ev("e2", webhook.EventMemoryCreated))
	if err != nil || n != 1 {
		t.Fatalf("created: %d deliveries, %v; want 1 (all)", n, err)
	}
	if n, _ := st.PublishWebhookEvent(ctx, a.ID, ev("e3", webhook.EventMemoryDeleted)); n != 2 {
		t.Fatalf("deleted: %d deliveries, want 2 (all, deletes)", n)
	}
	// An event no webhook receives writes nothing.
	c, _ := st.CreateAccount(ctx, "c", now)
	if n, _ := st.PublishWebhookEvent(ctx, c.ID, ev("e4", webhook.EventMemoryCreated)); n != 0 {
		t.Fatal("an account without webhooks queued a delivery")
	}
	if n, _ := queryValue[int](ctx, st.q(ctx), "SELECT count(*) FROM webhook_events WHERE id = 'e4'"); n != 0 {
		t.Fatal("an event nobody receives was stored")
	}
	// A v2 webhook_url receives the event as well.
	e := ev("e5", webhook.EventEmbeddingCompleted)
	e.URL, e.Receiver = "https://hooks.example/v2", "url:hooks.example"
	if n, _ := st.PublishWebhookEvent(ctx, c.ID, e); n != 1 {
		t.Fatal("a webhook_url delivery was not queued")
	}
	ds, err := st.WebhookOutbox().Claim(ctx, webhook.Claim{Now: now, LeaseUntil: now.Add(time.Minute), Limit: 10, PerTarget: 10})
	if err != nil {
		t.Fatal(err)
	}
	var urlSeen bool
	for _, d := range ds {
		if d.Target.ID == "url:hooks.example" && d.Target.URL == "https://hooks.example/v2" && d.Event.Type == webhook.EventEmbeddingCompleted {
			urlSeen = true
		}
		if d.Target.ID == "other" || d.Target.ID == "off" {
			t.Errorf("claimed %+v", d)
		}
	}
	// all: e2 (its e3 waits behind it, same subject); deletes: e3; the url.
	if !urlSeen || len(ds) != 3 {
		t.Fatalf("claimed %d deliveries (%+v), want 3 with the webhook_url", len(ds), ds)
	}
}

// TestWebhookCRUDAndLog: webhooks of one account are invisible to
// another; attempts are listed newest first; delete takes the queue and
// the log; prune keeps what is pending.
func TestWebhookCRUDAndLog(t *testing.T) {
	ctx := context.Background()
	st := testStore(t)
	now := time.Date(2026, 3, 17, 9, 30, 0, 0, time.UTC)
	a, _ := st.CreateAccount(ctx, "a", now)
	b, _ := st.CreateAccount(ctx, "b", now)
	desc := "prod"
	w := store.Webhook{ID: "w1", AccountID: a.ID, URL: "https://x/h", EventTypes: 3, Secret: []byte("s"), Description: &desc, Enabled: true, CreatedAt: now, UpdatedAt: now}
	if err := st.CreateWebhook(ctx, w, 0); err != nil {
		t.Fatal(err)
	}
	w2 := w
	w2.ID = "w2"
	if err := st.CreateWebhook(ctx, w2, 1); !errors.Is(err, store.ErrTooMany) {
		t.Fatalf("a second webhook past a limit of 1: %v", err)
	}
	got, err := st.Webhook(ctx, a.ID, "w1")
	if err != nil || got.URL != w.URL || got.EventTypes != 3 || string(got.Secret) != "s" || *got.Description != "prod" || !got.Enabled || !got.CreatedAt.Equal(now) {
		t.Fatalf("Webhook = %+v, %v", got, err)
	}
	for _, f := range []func() error{
		func() error { _, err := st.Webhook(ctx, b.ID, "w1"); return err },
		func() error {
			_, err := st.UpdateWebhook(ctx, b.ID, "w1", func(*store.Webhook) error { return nil })
			return err
		},
		func() error { return st.DeleteWebhook(ctx, b.ID, "w1") },
		func() error { _, err := st.WebhookAttempts(ctx, b.ID, "w1", 10); return err },
	} {
		if err := f(); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("another account's webhook: %v", err)
		}
	}
	if ws, total, err := st.Webhooks(ctx, b.ID, 10, 0); err != nil || total != 0 || len(ws) != 0 {
		t.Fatalf("another account lists %d", total)
	}
	up, err := st.UpdateWebhook(ctx, a.ID, "w1", func(w *store.Webhook) error {
		w.Enabled, w.Description, w.UpdatedAt = false, nil, now.Add(time.Second)
		return nil
	})
	if err != nil || up.Enabled || up.Description != nil {
		t.Fatalf("Update = %+v, %v", up, err)
	}
	if n, _ := st.CountWebhooks(ctx, a.ID); n != 1 {
		t.Fatalf("CountWebhooks = %d", n)
	}
	st.UpdateWebhook(ctx, a.ID, "w1", func(w *store.Webhook) error { w.Enabled = true; return nil })
	if _, err := st.PublishWebhookEvent(ctx, a.ID, store.WebhookEvent{ID: "e1", Type: webhook.EventMemoryCreated, Bit: 1, CreatedAt: now, Data: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	ob := st.WebhookOutbox()
	ds, _ := ob.Claim(ctx, webhook.Claim{Now: now, LeaseUntil: now.Add(time.Minute), Limit: 1, PerTarget: 1})
	if len(ds) != 1 {
		t.Fatalf("claimed %d", len(ds))
	}
	for i, o := range []webhook.Outcome{webhook.Retry, webhook.Delivered} {
		a := webhook.Attempt{DeliveryID: ds[0].ID, TargetID: "w1", EventID: "e1", EventType: webhook.EventMemoryCreated, N: i + 1,
			StartedAt: now.Add(time.Duration(i) * time.Minute), FinishedAt: now.Add(time.Duration(i)*time.Minute + time.Second),
			StatusCode: 500 - 300*i, Outcome: o, NextAt: now.Add(time.Minute)}
		if o == webhook.Retry {
			a.Error = "receiver answered 500"
		}
		if err := ob.Record(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	log, err := st.WebhookAttempts(ctx, a.ID, "w1", 10)
	if err != nil || len(log) != 2 || log[0].N != 2 || log[0].Outcome != webhook.Delivered || log[0].StatusCode != 200 ||
		log[1].Error != "receiver answered 500" || !log[1].NextAt.Equal(now.Add(time.Minute)) || log[1].EventID != "e1" {
		t.Fatalf("attempts %+v, %v", log, err)
	}
	// Prune: ended deliveries, their events and old attempts go.
	if n, err := st.PruneWebhookLog(ctx, now.Add(time.Hour)); err != nil || n != 2 {
		t.Fatalf("PruneWebhookLog = %d, %v", n, err)
	}
	if n, _ := queryValue[int](ctx, st.q(ctx), "SELECT count(*) FROM webhook_events"); n != 0 {
		t.Fatalf("%d events left", n)
	}
	// Delete takes the webhook's queue; recording for it is no error.
	st.PublishWebhookEvent(ctx, a.ID, store.WebhookEvent{ID: "e2", Type: webhook.EventMemoryCreated, Bit: 1, CreatedAt: now, Data: []byte(`{}`)})
	ds, _ = ob.Claim(ctx, webhook.Claim{Now: now, LeaseUntil: now.Add(time.Minute), Limit: 1, PerTarget: 1})
	if err := st.DeleteWebhook(ctx, a.ID, "w1"); err != nil {
		t.Fatal(err)
	}
	if err := ob.Record(ctx, webhook.Attempt{DeliveryID: ds[0].ID, TargetID: "w1", N: 1, Outcome: webhook.Delivered, StartedAt: now, FinishedAt: now}); err != nil {
		t.Fatal(err)
	}
	if n, _ := queryValue[int](ctx, st.q(ctx), "SELECT count(*) FROM webhook_deliveries"); n != 0 {
		t.Fatalf("%d deliveries left after delete", n)
	}
}

// TestDispatcherOverSQLite: the dispatcher delivers from the SQLite
// outbox in order per subject, and a retry scheduled before the store was
// closed is made after it is opened again (restart mid-retry).
func TestDispatcherOverSQLite(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "store.db")
	st, err := Open(ctx, Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	a, _ := st.CreateAccount(ctx, "a", now)
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, r.Header.Get(webhook.EventHeader))
		if len(got) == 1 {
			w.WriteHeader(503) // the first attempt fails
			return
		}
		w.WriteHeader(204)
	}))
	defer srv.Close()
	if err := st.CreateWebhook(ctx, store.Webhook{ID: "w", AccountID: a.ID, URL: srv.URL, Enabled: true, CreatedAt: now, UpdatedAt: now}, 0); err != nil {
		t.Fatal(err)
	}
	for i, typ := range []string{webhook.EventMemoryCreated, webhook.EventMemoryUpdated} {
		if _, err := st.PublishWebhookEvent(ctx, a.ID, store.WebhookEvent{ID: fmt.Sprint("e", i), Type: typ, Bit: uint(webhook.Bit(typ)),
			Subject: "m1", CreatedAt: now, Data: []byte(`{"id":"m1"}`)}); err != nil {
			t.Fatal(err)
		}
	}
	policy := outbound.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, AllowHTTP: []string{"127.0.0.1"}}
	opts := webhook.DispatcherOptions{Outbox: st.WebhookOutbox(), Policy: policy, PollInterval: 5 * time.Millisecond,
		Timeout: time.Second, MinBackoff: 300 * time.Millisecond, MaxBackoff: 300 * time.Millisecond}
	d, err := webhook.NewDispatcher(opts)
	if err != nil {
		t.Fatal(err)
	}
	waitFor := func(st *Store, what string, cond func([]webhook.Attempt) bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			log, err := st.WebhookAttempts(ctx, a.ID, "w", 10)
			if err == nil && cond(log) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s: %+v", what, log)
			}
			time.Sleep(10 * time.Millisecond) // polling the database, as the dispatcher does
		}
	}
	waitFor(st, "the failed first attempt", func(l []webhook.Attempt) bool { return len(l) == 1 })
	d.Close()
	st.Close()

	st2, err := Open(ctx, Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	opts.Outbox = st2.WebhookOutbox()
	d2, err := webhook.NewDispatcher(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	waitFor(st2, "both delivered", func(l []webhook.Attempt) bool {
		return len(l) == 3 && l[0].Outcome == webhook.Delivered && l[1].Outcome == webhook.Delivered
	})
	mu.Lock()
	defer mu.Unlock()
	if want := []string{webhook.EventMemoryCreated, webhook.EventMemoryCreated, webhook.EventMemoryUpdated}; !slices.Equal(got, want) {
		t.Fatalf("received %v, want %v", got, want)
	}
}
