package httpapi

// Batch, importance, dedup and v2 jobs: see the API contract §5.2 #2
// (deduplicate), #8, #9 and §5.3 #11, #12.

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/memoryrelay/memoryrelay/internal/wire"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
)

func (h *handler) jobRoutes() []route {
	return []route{
		{http.MethodPost, "/v1/memories/batch", true, scopes.Write, h.createBatch},
		{http.MethodPut, "/v1/memories/{id}/importance", true, scopes.Write, h.setImportance},
		{http.MethodPost, "/v2/memories", true, scopes.Write, h.createAsync},
		{http.MethodGet, "/v2/memories/{id}/status", true, scopes.Read, h.memoryStatus},
	}
}

// writeCreated answers memory create: 201 with the new memory, or 200
// with the existing one and is_duplicate true after a dedup hit.
func writeCreated(w http.ResponseWriter, res memory.CreateResult) {
	out := toMemory(res.Memory)
	if res.IsDuplicate {
		out.IsDuplicate = true
		writeJSON(w, http.StatusOK, out)
		return
	}
	writeJSON(w, http.StatusCreated, out)
}

// newMemoryOf converts a create body (content already checked present).
func newMemoryOf(req memoryReq) memory.NewMemory {
	return memory.NewMemory{
		Content:     deref(req.Content),
		AgentID:     deref(req.AgentID),
		UserID:      req.UserID,
		Metadata:    req.Metadata,
		MemoryType:  req.MemoryType,
		Visibility:  deref(req.Visibility),
		Importance:  req.Importance,
		Tier:        deref(req.Tier),
		Scope:       deref(req.Scope),
		SessionID:   req.SessionID,
		Project:     req.Project,
		ProjectID:   req.ProjectID,
		Deduplicate: req.Deduplicate != nil && *req.Deduplicate,

		AutoExtractEntities: req.AutoExtractEntities,
		DedupThreshold:      req.DedupThreshold,
	}
}

type batchReq struct {
	Memories           json.RawMessage `json:"memories"`
	AgentID            *string         `json:"agent_id"`
	ParallelEmbeddings json.RawMessage `json:"parallel_embeddings"` // a hint, of any type; one embedder call either way
}

// batchItemReq is one item of a batch: the create fields and client_id,
// echoed back verbatim.
type batchItemReq struct {
	memoryReq
	ClientID json.RawMessage `json:"client_id"`
}

type batchJSON struct {
	Success   bool              `json:"success"`
	Total     int               `json:"total"`
	Succeeded int               `json:"succeeded"`
	Failed    int               `json:"failed"`
	Skipped   int               `json:"skipped"`
	Results   []batchResultJSON `json:"results"`
	Timing    batchTimingJSON   `json:"timing"`
}

type batchResultJSON struct {
	Index          int             `json:"index"`
	Status         string          `json:"status"`
	Success        bool            `json:"success"`
	MemoryID       *string         `json:"memory_id"`
	Error          *string         `json:"error"`
	ErrorCode      *string         `json:"error_code"`
	ErrorField     *string         `json:"error_field"` // the field a validation_error names; our extension
	ContentPreview string          `json:"content_preview"`
	ClientID       json.RawMessage `json:"client_id"`
}

type batchTimingJSON struct {
	TotalMS        float64 `json:"total_ms"`
	EmbeddingMS    float64 `json:"embedding_ms"`
	DatabaseMS     float64 `json:"database_ms"`
	PerMemoryAvgMS float64 `json:"per_memory_avg_ms"`
	AvgPerItemMS   float64 `json:"avg_per_item_ms"`
}

const previewChars = 100

func preview(s string) string {
	n := 0
	for i := range s {
		if n == previewChars {
			return s[:i]
		}
		n++
	}
	return s
}

func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// createBatch serves #8. Items that cannot be decoded fail alone; the
// rest go to the core in one call.
func (h *handler) createBatch(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	var req batchReq
	if err := decodeBody(r, &req); err != nil {
		h.writeError(w, r, err)
		return
	}
	raw := bytes.TrimSpace(req.Memories)
	if len(raw) == 0 || string(raw) == "null" {
		h.writeError(w, r, badField("memories", "memories is required"))
		return
	}
	var items []json.RawMessage
	if raw[0] != '[' || json.Unmarshal(raw, &items) != nil {
		h.writeError(w, r, badField("memories", "memories must be an array"))
		return
	}
	if len(items) == 0 || len(items) > memory.MaxBatch {
		h.writeError(w, r, badField("memories", "memories must hold 1-1000 items"))
		return
	}
	results := make([]batchResultJSON, len(items))
	fail := func(i int, err error) {
		names, _ := r.Context().Value(namesKey{}).(map[string]string)
		_, typ, msg, fields := statusOf(err, names)
		results[i].Status, results[i].Error, results[i].ErrorCode = memory.BatchFailed, &msg, &typ
		results[i].ErrorField = firstField(fields)
	}
	var ins []memory.NewMemory
	var at []int // ins[k] is item at[k]
	for i, it := range items {
		results[i].Index = i
		var req batchItemReq
		if err := decodeItem(it, &req); err != nil {
			fail(i, err)
			continue
		}
		results[i].ClientID = req.ClientID
		if !utf8.Valid(req.ClientID) {
			// Echoed verbatim, it would make the response invalid JSON;
			// replace it as the decoder does in string fields.
			results[i].ClientID = bytes.ToValidUTF8(req.ClientID, []byte("\uFFFD"))
		}
		results[i].ContentPreview = preview(deref(req.Content))
		if req.Content == nil {
			fail(i, badField("content", "content is required"))
			continue
		}
		if req.AgentID != nil && *req.AgentID == "" {
			req.AgentID = nil
		}
		ins = append(ins, newMemoryOf(req.memoryReq))
		at = append(at, i)
	}
	var timing memory.BatchTiming
	if len(ins) > 0 {
		p := memory.BatchParams{Memories: ins}
		if req.AgentID != nil {
			p.AgentID = *req.AgentID
		}
		res, err := h.account(r).Memories().CreateBatch(r.Context(), p)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		timing = res.Timing
		for k, it := range res.Items {
			i := at[k]
			switch it.Status {
			case memory.BatchFailed:
				fail(i, it.Err)
			default:
				id := it.MemoryID
				results[i].Status, results[i].MemoryID = it.Status, &id
			}
		}
	}
	out := batchJSON{Total: len(items), Results: results}
	for i := range results {
		switch results[i].Status {
		case memory.BatchSuccess:
			out.Succeeded++
		case memory.BatchSkipped:
			out.Skipped++
		default:
			out.Failed++
		}
		// A skipped item did not fail: its memory exists, under memory_id.
		results[i].Success = results[i].Status != memory.BatchFailed
	}
	out.Success = out.Failed == 0
	total := time.Since(start)
	out.Timing = batchTimingJSON{
		TotalMS:     millis(total),
		EmbeddingMS: millis(timing.Embedding),
		DatabaseMS:  millis(timing.Database),
	}
	out.Timing.PerMemoryAvgMS = out.Timing.TotalMS / float64(len(items))
	out.Timing.AvgPerItemMS = out.Timing.PerMemoryAvgMS
	writeJSON(w, http.StatusOK, out)
}

// decodeItem decodes one batch item like decodeBody decodes a body: it
// must be a JSON object; a field of the wrong type is an error naming it.
func decodeItem(data json.RawMessage, dst any) error {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return badField("", "Each memory must be a JSON object")
	}
	if err := json.Unmarshal(data, dst); err != nil {
		if err := typeError(err, dst); err != nil {
			return err
		}
		return badField("", "Each memory must be a JSON object")
	}
	return nil
}

type importanceReq struct {
	Importance *float64 `json:"importance"`
	Tier       *string  `json:"tier"`
}

// setImportance serves #9.
func (h *handler) setImportance(w http.ResponseWriter, r *http.Request) {
	var req importanceReq
	if err := decodeBody(r, &req); err != nil {
		h.writeError(w, r, err)
		return
	}
	if req.Importance == nil {
		h.writeError(w, r, badField("importance", "importance is required"))
		return
	}
	m, err := h.account(r).Memories().SetImportance(r.Context(), r.PathValue("id"), *req.Importance, req.Tier)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toMemory(m))
}

type asyncReq struct {
	memoryReq
	WebhookURL *string `json:"webhook_url"`
}

// jobAcceptedJSON is the v2 accepted object (§4.5), plus the job's
// instants in epoch ms as the v2 status has them (our extension).
type jobAcceptedJSON struct {
	ID                         string `json:"id"`
	Status                     string `json:"status"`
	JobID                      string `json:"job_id"`
	EstimatedCompletionSeconds int    `json:"estimated_completion_seconds"`
	CreatedAt                  int64  `json:"created_at"`
	UpdatedAt                  int64  `json:"updated_at"`
}

// createAsync serves #11: 202 once the job is stored.
func (h *handler) createAsync(w http.ResponseWriter, r *http.Request) {
	var req asyncReq
	if err := decodeBody(r, &req); err != nil {
		h.writeError(w, r, err)
		return
	}
	if req.Content == nil {
		h.writeError(w, r, badField("content", "content is required"))
		return
	}
	if req.AgentID != nil && *req.AgentID == "" {
		req.AgentID = nil
	}
	st, err := h.account(r).Memories().CreateAsync(r.Context(), newMemoryOf(req.memoryReq), memory.AsyncOptions{WebhookURL: req.WebhookURL})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	est := 1
	if st.Status == memory.JobReady || st.Status == memory.JobFailed {
		est = 0
	}
	writeJSON(w, http.StatusAccepted, jobAcceptedJSON{ID: st.ID, Status: st.Status, JobID: st.JobID, EstimatedCompletionSeconds: est,
		CreatedAt: st.CreatedAt.UnixMilli(), UpdatedAt: st.UpdatedAt.UnixMilli()})
}

// memoryStatus serves #12.
func (h *handler) memoryStatus(w http.ResponseWriter, r *http.Request) {
	st, err := h.account(r).Memories().Job(r.Context(), r.PathValue("id"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, wire.JobStatusOf(st))
}
