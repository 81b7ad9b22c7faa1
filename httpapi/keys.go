package httpapi

// Key management (our extension): see the API contract §9.

type keyService interface{}

func (h *handler) keyRoutes() []route { return nil }
