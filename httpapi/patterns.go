package httpapi

// Patterns: see the API contract §5.8.

type patternService interface{}

func (h *handler) patternRoutes() []route { return nil }
