package httpapi

// Quota and embed: see the API contract §5.10.

type usageService interface{}

func (h *handler) usageRoutes() []route { return nil }
