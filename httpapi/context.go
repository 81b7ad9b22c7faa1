package httpapi

// Context building: see the API contract §5.2 #10 and §5.3 #13.

type contextService interface{}

func (h *handler) contextRoutes() []route { return nil }
