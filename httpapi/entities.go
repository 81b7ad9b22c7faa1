package httpapi

// Entities and links: see the API contract §5.4.

type entityService interface{}

func (h *handler) entityRoutes() []route { return nil }
