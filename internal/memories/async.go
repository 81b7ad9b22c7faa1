package memories

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/memoryrelay/memoryrelay/internal/apierr"
	"github.com/memoryrelay/memoryrelay/internal/convert"
	"github.com/memoryrelay/memoryrelay/internal/jobs"
	"github.com/memoryrelay/memoryrelay/internal/spend"
	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/uuid"
	"github.com/memoryrelay/memoryrelay/internal/valid"
	"github.com/memoryrelay/memoryrelay/internal/wire"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/memory"
)

// The v2 asynchronous creates (API contract §5.3 #11, #12): the request
// is stored as a job at once, a worker of the Relay's job runner makes the
// memory (Work), the queue stores it with the job's completion.

// payload is a job's stored request. Memory is NewMemory as encoding/json
// writes it, so fields added to NewMemory travel too.
type payload struct {
	V      int              `json:"v"`
	Memory memory.NewMemory `json:"memory"`
	// KeyID is the key the job's embedding is charged to (API.md §10.2).
	KeyID string `json:"key_id,omitempty"`
}

// createAsync validates a memory, stores it and queues its embedding, in
// one transaction: the memory is readable and listed at once (API.md
// §10.1), a worker embeds and indexes it, and job follows it from pending
// through processing to ready (searchable) or failed (a duplicate found
// with Deduplicate is deleted then). Invalid input, an unknown session included, is a
// *memory.ValidationError at once. o.WebhookURL, when not nil or empty,
// must be an absolute http(s) URL; it is called with the final status if
// the Relay's webhooks allow its host.
func (s *Service) createAsync(ctx context.Context, accountID string, in memory.NewMemory, o memory.AsyncOptions) (memory.Job, error) {
	webhookURL := o.WebhookURL
	if webhookURL != nil && *webhookURL == "" {
		webhookURL = nil
	}
	m, err := s.newMemoryIn(ctx, accountID, in)
	if m.Project != nil {
		in.Project, in.ProjectID = m.Project, nil // resolved now; the job stores the slug
	}
	if want := s.wantsExtraction(in); want {
		in.AutoExtractEntities = &want // decided now: the job extracts
		m.ExtractionStatus = ptr(memory.ExtractionPending)
	} else {
		in.AutoExtractEntities = &want
	}
	var p valid.Problems
	if err := p.Merge(err); err != nil {
		return memory.Job{}, err
	}
	if webhookURL != nil {
		checkWebhookURL(&p, *webhookURL)
	}
	if err := p.Err(); err != nil {
		return memory.Job{}, err
	}
	if m.SessionID != nil {
		ok, err := s.c.Store.SessionExists(ctx, accountID, *m.SessionID)
		if err != nil {
			return memory.Job{}, err
		}
		if !ok {
			return memory.Job{}, apierr.ErrNoSession
		}
	}
	// A known agent travels by its id, which never changes: by its name,
	// a rename before the job runs would create another agent.
	if in.AgentID != "" {
		id, err := s.c.Store.ResolveAgent(ctx, accountID, in.AgentID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return memory.Job{}, fmt.Errorf("memoryrelay: resolve agent: %w", err)
		}
		if err == nil {
			in.AgentID = id
		}
	}
	raw, err := json.Marshal(payload{V: 1, Memory: in, KeyID: spend.KeyFrom(ctx)})
	if err != nil {
		return memory.Job{}, fmt.Errorf("memoryrelay: encode job: %w", err)
	}
	now := s.c.Now()
	m.CreatedAt, m.UpdatedAt = now, now
	j := jobs.Job{ID: "job_" + uuid.New(), MemoryID: m.ID, AccountID: accountID, Status: jobs.Pending,
		Payload: raw, WebhookURL: webhookURL, CreatedAt: now, UpdatedAt: now}
	err = s.c.Store.InTx(ctx, func(ctx context.Context) error {
		if err := s.c.Store.InsertPendingMemory(ctx, &m); err != nil {
			return apierr.FromStore(err, apierr.Memory)
		}
		if err := s.c.Store.InsertJob(ctx, j); err != nil {
			return fmt.Errorf("memoryrelay: queue job: %w", err)
		}
		if s.c.Events != nil {
			return s.c.Events.Publish(ctx, accountID, memory.EventMemoryCreated, m.ID, wire.MemoryOf(convert.Memory(m)))
		}
		return nil
	})
	if err != nil {
		return memory.Job{}, err
	}
	if s.c.Events != nil {
		s.c.Events.Notify()
	}
	s.c.Queued()
	return JobOf(j), nil
}

// checkWebhookURL accepts an absolute http or https URL with a host, of
// at most memory.MaxWebhookURL bytes.
func checkWebhookURL(p *valid.Problems, raw string) {
	u, err := url.Parse(raw)
	if len(raw) > memory.MaxWebhookURL || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		p.Add("WebhookURL", "WebhookURL must be an absolute http or https URL of at most %d bytes", memory.MaxWebhookURL)
	}
}

// JobOf is a stored job as the API reports it (and as its webhook
// delivers it).
func JobOf(j jobs.Job) memory.Job {
	st := memory.Job{ID: j.MemoryID, JobID: j.ID, Status: j.Status, CreatedAt: j.CreatedAt, UpdatedAt: j.UpdatedAt}
	if j.Status == jobs.Failed {
		msg := "Processing failed"
		if j.Error != nil {
			msg = *j.Error
		}
		st.Error = &msg
	}
	return st
}

// job returns the status of the account's v2 create, by the memory's id
// or the job's id (job_<uuid>). A memory created synchronously is reported
// ready. Anything else is a *memory.NotFoundError.
func (s *Service) job(ctx context.Context, accountID, id string) (memory.Job, error) {
	if rest, ok := strings.CutPrefix(id, "job_"); ok {
		u, ok := uuid.Canonical(rest)
		if !ok {
			return memory.Job{}, apierr.NotFound(apierr.Memory)
		}
		j, err := s.c.Store.JobByID(ctx, accountID, "job_"+u)
		if err != nil {
			return memory.Job{}, apierr.FromStore(err, apierr.Memory)
		}
		return JobOf(j), nil
	}
	u, ok := uuid.Canonical(id)
	if !ok {
		return memory.Job{}, apierr.NotFound(apierr.Memory)
	}
	j, err := s.c.Store.JobByMemory(ctx, accountID, u)
	if err == nil {
		return JobOf(j), nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return memory.Job{}, err
	}
	m, err := s.c.Store.GetMemory(ctx, accountID, u)
	if err != nil {
		return memory.Job{}, apierr.FromStore(err, apierr.Memory)
	}
	return memory.Job{ID: m.ID, Status: memory.JobReady, CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt}, nil
}

// Work is the work of a claimed v2 job (the Relay's job runner calls it):
// the memory it creates, validated and embedded, for the queue to store
// with the job's completion. A *jobs.Failure fails the job with its
// message; a cancelled ctx hands the job back.
func (s *Service) Work(ctx context.Context, j jobs.Job) (store.BatchItem, error) {
	var p payload
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		s.c.Logger.Error("memoryrelay: job payload", "job_id", j.ID, "err", err)
		return store.BatchItem{}, &jobs.Failure{Message: "Internal error: the job's request could not be read"}
	}
	m, err := s.newMemory(j.AccountID, p.Memory)
	if err != nil {
		return store.BatchItem{}, &jobs.Failure{Message: err.Error()}
	}
	m.ID, m.CreatedAt, m.UpdatedAt = j.MemoryID, j.CreatedAt, j.CreatedAt
	if p.KeyID != "" {
		ctx = spend.WithKey(ctx, p.KeyID)
	}
	idx, err := s.c.Index.Index(ctx, m.Content)
	if err != nil {
		if ctx.Err() != nil {
			return store.BatchItem{}, err // cancelled: the job goes back
		}
		if errors.Is(err, keys.ErrSpendLimit) {
			return store.BatchItem{}, &jobs.Failure{Message: "Spend limit exceeded"}
		}
		s.c.Logger.Error("memoryrelay: job embedding", "job_id", j.ID, "err", err)
		return store.BatchItem{}, &jobs.Failure{Message: "Embedding failed"}
	}
	item := store.BatchItem{Memory: &m, Index: idx, Dedup: p.Memory.Deduplicate, DedupThreshold: threshold(p.Memory)}
	if s.wantsExtraction(p.Memory) {
		x := s.extract(ctx, j.AccountID, m.Content)
		if ctx.Err() != nil {
			return store.BatchItem{}, ctx.Err() // cancelled: the job goes back
		}
		x.apply(&m)
		item.Extracted = x.entities
	}
	return item, nil
}

// Explain is the error text of a job whose memory was not stored.
func Explain(o store.BatchOutcome) string {
	if o.DuplicateID != "" {
		return "Duplicate of memory " + o.DuplicateID + "; nothing was stored"
	}
	if errors.Is(o.Err, store.ErrSessionNotFound) {
		return apierr.ErrNoSession.Error()
	}
	return "Processing failed"
}
