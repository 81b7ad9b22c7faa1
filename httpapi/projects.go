package httpapi

// Projects: see the API contract §5.9.

type projectService interface{}

func (h *handler) projectRoutes() []route { return nil }
