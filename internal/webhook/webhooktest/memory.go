// Package webhooktest holds test helpers for package webhook: Memory, an
// in-memory [webhook.Outbox] that follows the outbox rules, and
// [TestOutbox], the conformance test every Outbox (the fake here, the
// storage's) must pass.
package webhooktest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/webhook"
)

// Memory is an in-memory Outbox for tests. It is safe for concurrent use.
// Its fault hooks, when set, are called (without its lock held) before the
// operation, whose error they can force.
type Memory struct {
	// ClaimErr, when it returns an error, fails Claim with it.
	ClaimErr func() error
	// RecordErr, when it returns an error, fails Record with it before
	// anything is stored.
	RecordErr func(webhook.Attempt) error
	// ReleaseErr, when it returns an error, fails Release with it.
	ReleaseErr func() error

	mu         sync.Mutex
	seq        int
	targets    map[string]*target
	order      []string // target ids, in the order added
	deliveries []*delivery
	attempts   []webhook.Attempt
	changed    chan struct{} // closed and replaced on every change
}

type target struct {
	t       webhook.Target
	enabled bool
}

type delivery struct {
	d          webhook.Delivery
	targetID   string
	state      webhook.Outcome // 0: pending
	nextAt     time.Time
	leaseUntil time.Time
	claims     int
}

// NewMemory returns an empty Memory outbox.
func NewMemory() *Memory {
	return &Memory{targets: map[string]*target{}, changed: make(chan struct{})}
}

func (m *Memory) notify() {
	close(m.changed)
	m.changed = make(chan struct{})
}

// SetTarget adds or replaces a target.
func (m *Memory) SetTarget(_ context.Context, t webhook.Target, enabled bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.targets[t.ID]; !ok {
		m.order = append(m.order, t.ID)
	}
	m.targets[t.ID] = &target{t: t, enabled: enabled}
	m.notify()
	return nil
}

// SetEnabled enables or disables a target; its pending deliveries wait
// while it is disabled.
func (m *Memory) SetEnabled(id string, enabled bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if t, ok := m.targets[id]; ok {
		t.enabled = enabled
	}
	m.notify()
}

// RemoveTarget deletes a target and its deliveries.
func (m *Memory) RemoveTarget(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.targets, id)
	m.order = slices.DeleteFunc(m.order, func(o string) bool { return o == id })
	m.deliveries = slices.DeleteFunc(m.deliveries, func(d *delivery) bool { return d.targetID == id })
	m.notify()
}

// Publish writes one delivery of e per target named, or, with none named,
// per enabled target in the order they were added (as the storage does,
// in the transaction of the change), and returns their ids.
func (m *Memory) Publish(_ context.Context, e webhook.Event, subject string, targetIDs ...string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(targetIDs) == 0 {
		for _, id := range m.order {
			if t := m.targets[id]; t != nil && t.enabled {
				targetIDs = append(targetIDs, id)
			}
		}
	}
	var ids []string
	for _, tid := range targetIDs {
		if _, ok := m.targets[tid]; !ok {
			return nil, fmt.Errorf("webhooktest: unknown target %q", tid)
		}
		m.seq++
		id := fmt.Sprintf("d%06d", m.seq)
		m.deliveries = append(m.deliveries, &delivery{
			d:        webhook.Delivery{ID: id, Event: e, Subject: subject},
			targetID: tid,
		})
		ids = append(ids, id)
	}
	m.notify()
	return ids, nil
}

// Claim implements webhook.Outbox.
func (m *Memory) Claim(ctx context.Context, c webhook.Claim) ([]webhook.Delivery, error) {
	if m.ClaimErr != nil {
		if err := m.ClaimErr(); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	type key struct{ target, subject string }
	head := map[key]bool{} // a pending delivery of this key came earlier
	taken := map[string]int{}
	var out []webhook.Delivery
	for _, d := range m.deliveries {
		if d.state != 0 {
			continue
		}
		k := key{d.targetID, d.d.Subject}
		earlier := d.d.Subject != "" && head[k]
		if d.d.Subject != "" {
			head[k] = true
		}
		t := m.targets[d.targetID]
		switch {
		case earlier, t == nil, !t.enabled, d.nextAt.After(c.Now), d.leaseUntil.After(c.Now):
			continue
		case len(out) >= c.Limit:
			continue
		case c.InFlight[d.targetID]+taken[d.targetID] >= c.PerTarget:
			continue
		}
		taken[d.targetID]++
		d.leaseUntil = c.LeaseUntil
		d.claims++
		cp := d.d
		cp.Target = t.t
		out = append(out, cp)
	}
	if len(out) > 0 {
		m.notify()
	}
	return out, nil
}

// Record implements webhook.Outbox.
func (m *Memory) Record(ctx context.Context, a webhook.Attempt) error {
	if m.RecordErr != nil {
		if err := m.RecordErr(a); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	i := slices.IndexFunc(m.deliveries, func(d *delivery) bool { return d.d.ID == a.DeliveryID })
	if i < 0 {
		return nil
	}
	d := m.deliveries[i]
	m.attempts = append(m.attempts, a)
	d.d.Attempts++
	if d.d.FirstAttemptAt.IsZero() {
		d.d.FirstAttemptAt = a.StartedAt
	}
	d.leaseUntil = time.Time{}
	switch a.Outcome {
	case webhook.Delivered, webhook.Failed:
		d.state = a.Outcome
	default:
		d.nextAt = a.NextAt
	}
	m.notify()
	return nil
}

// Release implements webhook.Outbox.
func (m *Memory) Release(ctx context.Context, deliveryID string) error {
	if m.ReleaseErr != nil {
		if err := m.ReleaseErr(); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, d := range m.deliveries {
		if d.d.ID == deliveryID {
			d.leaseUntil = time.Time{}
		}
	}
	m.notify()
	return nil
}

// Attempts returns the recorded attempts of a target, oldest first.
func (m *Memory) Attempts(targetID string) []webhook.Attempt {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []webhook.Attempt
	for _, a := range m.attempts {
		if a.TargetID == targetID {
			out = append(out, a)
		}
	}
	return out
}

// State returns a delivery's outcome (0 while pending), its attempts and
// how often it was claimed; ok is false for an unknown id.
func (m *Memory) State(deliveryID string) (state webhook.Outcome, attempts, claims int, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, d := range m.deliveries {
		if d.d.ID == deliveryID {
			return d.state, d.d.Attempts, d.claims, true
		}
	}
	return 0, 0, 0, false
}

// Wait waits until cond, called with the lock not held after every change
// (and at once), is true, failing t after timeout.
func (m *Memory) Wait(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		m.mu.Lock()
		ch := m.changed
		m.mu.Unlock()
		if cond() {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
	}
}
