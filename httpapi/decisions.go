package httpapi

// Decisions: see the API contract §5.7.

type decisionService interface{}

func (h *handler) decisionRoutes() []route { return nil }
