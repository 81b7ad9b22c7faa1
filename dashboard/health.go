package dashboard

import (
	"net/http"
	"sort"

	"github.com/memoryrelay/memoryrelay"
)

// The health page: the health object of the service, readable.

type serviceRow struct{ Name, State string }

type healthData struct {
	Health   memoryrelay.Health
	Services []serviceRow // by name
}

func (h *handler) healthPage(c *call) {
	hl := h.svc.Health(c.ctx())
	d := healthData{Health: hl}
	for name, state := range hl.Services {
		d.Services = append(d.Services, serviceRow{name, state})
	}
	sort.Slice(d.Services, func(i, j int) bool { return d.Services[i].Name < d.Services[j].Name })
	c.render(http.StatusOK, "health", "Health", view{Data: d})
}
