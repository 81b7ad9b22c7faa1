package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/pgtest"
	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/webhook"
	"github.com/memoryrelay/memoryrelay/internal/webhook/webhooktest"
)

// webhookHarness is the PostgreSQL store under the Outbox conformance
// test: its targets are webhooks of one account.
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

func openInternal(t *testing.T, url string) *Store {
	t.Helper()
	st, err := Open(context.Background(), Options{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newWebhookHarness(t *testing.T) webhooktest.Harness {
	st := openInternal(t, pgtest.NewDatabase(t))
	a, err := st.CreateAccount(context.Background(), "a", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return webhookHarness{Outbox: st.WebhookOutbox(), st: st, acct: a.ID}
}

// TestWebhookOutboxConformance: the PostgreSQL outbox keeps the rules of
// webhook.Outbox (webhooktest.TestOutbox), as SQLite's does.
func TestWebhookOutboxConformance(t *testing.T) {
	webhooktest.TestOutbox(t, newWebhookHarness)
}

// TestWebhookClaimsAcrossNodes: nodes (stores on one database) claiming
// at once never take one delivery twice, and together take them all.
func TestWebhookClaimsAcrossNodes(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	nodes := []*Store{openInternal(t, url), openInternal(t, url), openInternal(t, url)}
	h := newHarnessOn(t, nodes[0])
	for i := range 4 {
		if err := h.SetTarget(ctx, webhook.Target{ID: fmt.Sprintf("w%d", i), URL: "https://example.com/hook"}, true); err != nil {
			t.Fatal(err)
		}
	}
	const events = 30
	for i := range events {
		e := webhook.Event{ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), Type: webhook.EventMemoryCreated, CreatedAt: time.Now(), Data: []byte(`{}`)}
		if _, err := h.Publish(ctx, e, ""); err != nil { // no subject: no order between them
			t.Fatal(err)
		}
	}
	now := time.Now()
	var mu sync.Mutex
	taken := map[string]int{}
	var wg sync.WaitGroup
	errs := make(chan error, len(nodes)*50)
	for _, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := n.WebhookOutbox()
			for range 50 {
				ds, err := o.Claim(ctx, webhook.Claim{Now: now, LeaseUntil: now.Add(time.Hour), Limit: 7, PerTarget: 1000})
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				for _, d := range ds {
					taken[d.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(taken) != events*4 {
		t.Fatalf("%d deliveries claimed; want %d", len(taken), events*4)
	}
	for id, n := range taken {
		if n != 1 {
			t.Fatalf("delivery %s claimed %d times", id, n)
		}
	}
}

func newHarnessOn(t *testing.T, st *Store) webhookHarness {
	a, err := st.CreateAccount(context.Background(), "a", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return webhookHarness{Outbox: st.WebhookOutbox(), st: st, acct: a.ID}
}

// TestCreateWebhookLimitAcrossNodes: nodes creating webhooks of one
// account at once stop at the limit exactly.
func TestCreateWebhookLimitAcrossNodes(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	nodes := []*Store{openInternal(t, url), openInternal(t, url), openInternal(t, url)}
	a, err := nodes[0].CreateAccount(ctx, "a", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	const limit = 5
	var wg sync.WaitGroup
	var mu sync.Mutex
	created, tooMany := 0, 0
	for i := range 15 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			now := time.Now()
			err := nodes[i%len(nodes)].CreateWebhook(ctx, store.Webhook{ID: fmt.Sprintf("w%d", i), AccountID: a.ID, URL: "https://example.com/",
				Enabled: true, CreatedAt: now, UpdatedAt: now}, limit)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				created++
			case errors.Is(err, store.ErrTooMany):
				tooMany++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if created != limit || tooMany != 15-limit {
		t.Fatalf("created %d, refused %d; want %d and %d", created, tooMany, limit, 15-limit)
	}
	if n, _ := nodes[1].CountWebhooks(ctx, a.ID); n != limit {
		t.Fatalf("CountWebhooks %d", n)
	}
}
