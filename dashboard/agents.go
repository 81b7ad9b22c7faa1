package dashboard

import (
	"net/http"
	"net/url"

	"github.com/memoryrelay/memoryrelay/memory"
)

// The agents page: each agent with its counts and stats.

type agentRow struct {
	Agent memory.Agent
	Stats memory.AgentStats
}

type agentsData struct {
	Rows  []agentRow
	Pager pager
}

func (h *handler) agentsPage(c *call) {
	offset, err := parseOffset(c.r.URL.Query().Get("offset"))
	if err != nil {
		c.failErr(err)
		return
	}
	agents := c.account().Agents()
	page, err := agents.List(c.ctx(), memory.PageParams{Limit: AgentsPage, Offset: offset})
	if err != nil {
		c.failErr(err)
		return
	}
	d := agentsData{Pager: c.pager("/agents", url.Values{}, page.Offset, page.Limit, page.Total, len(page.Data))}
	for _, a := range page.Data {
		st, err := agents.Stats(c.ctx(), a.ID)
		if err != nil {
			c.failErr(err)
			return
		}
		d.Rows = append(d.Rows, agentRow{Agent: a, Stats: st})
	}
	c.render(http.StatusOK, "agents", "Agents", view{Data: d})
}
