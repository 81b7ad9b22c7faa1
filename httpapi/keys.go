package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// Key management (API contract §9, our extension), admin scope only. The
// raw key appears in the create and rotate responses and nowhere else.

func (h *handler) keyRoutes() []route {
	return []route{
		{http.MethodPost, "/v1/keys", true, scopes.Admin, h.createKey},
		{http.MethodGet, "/v1/keys", true, scopes.Admin, h.listKeys},
		{http.MethodGet, "/v1/keys/{id}", true, scopes.Admin, h.getKey},
		{http.MethodDelete, "/v1/keys/{id}", true, scopes.Admin, h.revokeKey},
		{http.MethodPost, "/v1/keys/{id}/rotate", true, scopes.Admin, h.rotateKey},
	}
}

type keyJSON struct {
	ID         string          `json:"id"`
	Name       string          `json:"name"`
	Prefix     string          `json:"prefix"`
	Scopes     []string        `json:"scopes"`
	Metadata   json.RawMessage `json:"metadata"`
	RateLimit  *int            `json:"rate_limit"`
	CreatedAt  string          `json:"created_at"`
	ExpiresAt  *string         `json:"expires_at"`
	LastUsedAt *string         `json:"last_used_at"`
	RevokedAt  *string         `json:"revoked_at"`
}

// keyWithSecretJSON is a Key plus its raw secret: create and rotate only.
type keyWithSecretJSON struct {
	keyJSON
	Key string `json:"key"`
}

func toKey(k keys.Key) keyJSON {
	out := keyJSON{
		ID: k.ID, Name: k.Name, Prefix: k.Prefix, Scopes: k.Scopes.Strings(), Metadata: objectOrEmpty(k.Metadata),
		CreatedAt: isoTime(k.CreatedAt), ExpiresAt: isoPtr(k.ExpiresAt), LastUsedAt: isoPtr(k.LastUsedAt), RevokedAt: isoPtr(k.RevokedAt),
	}
	if k.RateLimit > 0 {
		out.RateLimit = &k.RateLimit
	}
	return out
}

type createKeyReq struct {
	Name      *string         `json:"name"`
	Scopes    []string        `json:"scopes"`
	ExpiresAt *string         `json:"expires_at"`
	RateLimit optInt          `json:"rate_limit"`
	Metadata  json.RawMessage `json:"metadata"`
}

func (h *handler) createKey(w http.ResponseWriter, r *http.Request) {
	var req createKeyReq
	if err := decodeBody(r, &req); err != nil {
		h.writeError(w, r, err)
		return
	}
	if req.Name == nil {
		h.writeError(w, r, badField("name", "name is required"))
		return
	}
	// Only what the body's shape decides is checked here; the key store
	// checks the fields (an empty scope list included) for every path.
	set, err := scopes.ParseSet(req.Scopes)
	if err != nil {
		h.writeError(w, r, badField("scopes", "scopes must be a non-empty list of read, write, delete, admin"))
		return
	}
	in := memory.NewKey{Name: *req.Name, Scopes: set, RateLimit: req.RateLimit.v, Metadata: req.Metadata}
	if req.ExpiresAt != nil {
		t, err := time.Parse(time.RFC3339Nano, *req.ExpiresAt)
		if err != nil {
			h.writeError(w, r, badField("expires_at", "expires_at must be an ISO-8601 date-time such as 2026-12-31T23:59:59Z"))
			return
		}
		in.ExpiresAt = &t
	}
	k, tok, err := h.account(r).Keys().Create(r.Context(), in)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, keyWithSecretJSON{keyJSON: toKey(k), Key: tok.Reveal()})
}

func (h *handler) listKeys(w http.ResponseWriter, r *http.Request) {
	var p memory.PageParams
	if err := pageParams(r, memory.MaxPageLimit, &p.Limit, &p.Offset, &p.Cursor); err != nil {
		h.writeError(w, r, err)
		return
	}
	page, err := h.account(r).Keys().List(r.Context(), p)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toList(page, toKey))
}

func (h *handler) getKey(w http.ResponseWriter, r *http.Request) {
	k, err := h.account(r).Keys().Get(r.Context(), r.PathValue("id"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toKey(k))
}

// keyAckJSON answers a revoke: the delete ack and the revoked Key (our
// extension: the Key's fields beside the ack's).
type keyAckJSON struct {
	Success bool `json:"success"`
	Deleted bool `json:"deleted"`
	keyJSON
}

func (h *handler) revokeKey(w http.ResponseWriter, r *http.Request) {
	k, err := h.account(r).Keys().Revoke(r.Context(), r.PathValue("id"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, keyAckJSON{Success: true, Deleted: true, keyJSON: toKey(k)})
}

type rotateKeyReq struct {
	GraceSeconds optInt `json:"grace_seconds"`
}

func (h *handler) rotateKey(w http.ResponseWriter, r *http.Request) {
	var req rotateKeyReq
	if err := decodeBody(r, &req); err != nil {
		h.writeError(w, r, err)
		return
	}
	// Seconds beyond the range are passed on just outside it, so that the
	// key store refuses them (after the id is checked, as ever) and no
	// count of seconds overflows a time.Duration.
	maxGrace := int(keys.MaxGrace / time.Second)
	grace := time.Duration(min(max(req.GraceSeconds.v, -1), maxGrace+1)) * time.Second
	k, tok, err := h.account(r).Keys().Rotate(r.Context(), r.PathValue("id"), grace)
	var verr *memory.ValidationError
	if errors.As(err, &verr) && verr.Field() == "grace" {
		// The range in the request's unit.
		err = badField("grace_seconds", "grace_seconds must be between 0 and "+strconv.Itoa(maxGrace))
	}
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, keyWithSecretJSON{keyJSON: toKey(k), Key: tok.Reveal()})
}
