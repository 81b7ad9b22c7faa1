package httpapi

// Sessions: see the API contract §5.6.

type sessionService interface{}

func (h *handler) sessionRoutes() []route { return nil }
