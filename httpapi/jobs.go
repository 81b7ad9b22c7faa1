package httpapi

// Batch, importance and v2 jobs: see the API contract §5.2 #8, #9 and §5.3.

type jobService interface{}

func (h *handler) jobRoutes() []route { return nil }
