package memoryrelay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/memoryrelay/memoryrelay/internal/jobs"
	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/uuid"
	"github.com/memoryrelay/memoryrelay/memory"
)

// asyncMemoryStore is the storage the asynchronous memory writes (v2 jobs)
// use besides memoryStore.
type asyncMemoryStore interface {
	InsertJob(ctx context.Context, j jobs.Job) error
	JobByID(ctx context.Context, accountID, id string) (jobs.Job, error)
	JobByMemory(ctx context.Context, accountID, memoryID string) (jobs.Job, error)
	ResolveAgent(ctx context.Context, accountID, ref string) (string, error)
	SessionExists(ctx context.Context, accountID, sessionID string) (bool, error)
}

// jobPayload is a job's stored request. Memory is NewMemory as
// encoding/json writes it, so fields added to NewMemory travel too.
type jobPayload struct {
	V      int              `json:"v"`
	Memory memory.NewMemory `json:"memory"`
}

// createMemoryAsync validates a memory and queues its creation (API
// contract §5.3 #11): the job is stored durably, a worker embeds and
// stores the memory under the returned ID, and memoryStatus follows it
// from pending through processing to ready or failed. Invalid input, an
// unknown session included, is a *memory.ValidationError at once.
// o.WebhookURL, when not nil or empty, must be an absolute http(s) URL; it
// is called with the final status if Options.Webhooks allows its host.
func (r *Relay) createMemoryAsync(ctx context.Context, accountID string, in memory.NewMemory, o memory.AsyncOptions) (memory.Job, error) {
	webhookURL := o.WebhookURL
	m, err := r.newMemory(accountID, in)
	if err != nil {
		return memory.Job{}, err
	}
	if webhookURL != nil && *webhookURL == "" {
		webhookURL = nil
	}
	if webhookURL != nil {
		if err := checkWebhookURL(*webhookURL); err != nil {
			return memory.Job{}, err
		}
	}
	if m.SessionID != nil {
		ok, err := r.store.SessionExists(ctx, accountID, *m.SessionID)
		if err != nil {
			return memory.Job{}, err
		}
		if !ok {
			return memory.Job{}, errNoSession
		}
	}
	// A known agent travels by its id, which never changes: by its name,
	// a rename before the job runs would create another agent.
	if in.AgentID != "" {
		id, err := r.store.ResolveAgent(ctx, accountID, in.AgentID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return memory.Job{}, fmt.Errorf("memoryrelay: resolve agent: %w", err)
		}
		if err == nil {
			in.AgentID = id
		}
	}
	payload, err := json.Marshal(jobPayload{V: 1, Memory: in})
	if err != nil {
		return memory.Job{}, fmt.Errorf("memoryrelay: encode job: %w", err)
	}
	now := r.now()
	j := jobs.Job{ID: "job_" + uuid.New(), MemoryID: m.ID, AccountID: accountID, Status: jobs.Pending,
		Payload: payload, WebhookURL: webhookURL, CreatedAt: now, UpdatedAt: now}
	if err := r.store.InsertJob(ctx, j); err != nil {
		return memory.Job{}, fmt.Errorf("memoryrelay: queue job: %w", err)
	}
	if r.jobs != nil {
		r.jobs.Signal()
	}
	return jobOf(j), nil
}

// jobOf is a stored job as the API reports it.
func jobOf(j jobs.Job) memory.Job {
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

// memoryStatus returns the status of the account's v2 create (API contract
// §5.3 #12), by the memory's id or the job's id (job_<uuid>). A memory
// created synchronously is reported ready. Anything else is a
// *memory.NotFoundError.
func (r *Relay) memoryStatus(ctx context.Context, accountID, id string) (memory.Job, error) {
	if rest, ok := strings.CutPrefix(id, "job_"); ok {
		u, ok := uuid.Canonical(rest)
		if !ok {
			return memory.Job{}, notFound(kindMemory)
		}
		j, err := r.store.JobByID(ctx, accountID, "job_"+u)
		if err != nil {
			return memory.Job{}, storeErr(err, kindMemory)
		}
		return jobOf(j), nil
	}
	u, ok := uuid.Canonical(id)
	if !ok {
		return memory.Job{}, notFound(kindMemory)
	}
	j, err := r.store.JobByMemory(ctx, accountID, u)
	if err == nil {
		return jobOf(j), nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return memory.Job{}, err
	}
	m, err := r.store.GetMemory(ctx, accountID, u)
	if err != nil {
		return memory.Job{}, storeErr(err, kindMemory)
	}
	return memory.Job{ID: m.ID, Status: memory.JobReady, CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt}, nil
}
