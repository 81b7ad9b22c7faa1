package httpapi

import (
	"context"
	"net/http"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/scopes"
)

type agentService interface {
	ListAgents(ctx context.Context, accountID string, limit, offset int) (memoryrelay.Page[memoryrelay.Agent], error)
}

func (h *handler) agentRoutes() []route {
	return []route{
		{http.MethodGet, "/v1/agents", true, scopes.Read, h.listAgents},
	}
}

func (h *handler) listAgents(w http.ResponseWriter, r *http.Request) {
	var limit, offset int
	if err := pageParams(r, memoryrelay.MaxPage, &limit, &offset); err != nil {
		h.writeError(w, r, err)
		return
	}
	page, err := h.svc.ListAgents(r.Context(), account(r), limit, offset)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toList(page, toAgent))
}
