package dashboard

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/memoryrelay/memoryrelay/memory"
)

// The memories pages: search (mode, agent, threshold; scores shown), a
// list per agent with paging, one memory whole, and delete with a
// confirmation. Content, metadata and names are rendered by html/template
// as text, whatever they hold.

// MaxAgentChoices is how many agents the agent field suggests.
const MaxAgentChoices = 100

type memoriesData struct {
	// The form, as sent.
	Query, Mode, Agent, Threshold, Limit string
	All                                  bool // include confidential and archived
	Modes                                []string
	Agents                               []memory.Agent // suggestions for the agent field

	Searched bool
	Hits     []memory.Hit    // a search's results, best first
	Memories []memory.Memory // a list page, newest first
	Pager    pager
}

func (h *handler) memoriesPage(c *call) {
	q := c.r.URL.Query()
	d := memoriesData{
		Query: q.Get("q"), Mode: q.Get("mode"), Agent: strings.TrimSpace(q.Get("agent")),
		Threshold: q.Get("threshold"), Limit: q.Get("limit"), All: q.Get("all") == "1",
		Modes: []string{memory.ModeHybrid, memory.ModeSemantic, memory.ModeKeyword},
	}
	agents, err := c.account().Agents().List(c.ctx(), memory.PageParams{Limit: MaxAgentChoices})
	if err != nil {
		c.failErr(err)
		return
	}
	d.Agents = agents.Data
	if err := c.listMemories(q, &d); err != nil {
		status, msg := h.describe(err)
		if status >= 500 {
			c.fail(status, msg)
			return
		}
		d.Hits, d.Memories, d.Pager = nil, nil, pager{}
		c.render(status, "memories", "Memories", view{Error: msg, Data: d})
		return
	}
	c.render(http.StatusOK, "memories", "Memories", view{Data: d})
}

// listMemories fills d with a search's hits when the form has a query,
// and with a page of the list otherwise.
func (c *call) listMemories(q url.Values, d *memoriesData) error {
	limit, err := parseLimit(d.Limit, MemoriesPage)
	if err != nil {
		return err
	}
	var agent *string
	if d.Agent != "" {
		agent = &d.Agent
	}
	if strings.TrimSpace(d.Query) != "" {
		d.Searched = true
		p := memory.SearchParams{Query: d.Query, Mode: d.Mode, Limit: limit, AgentID: agent,
			IncludeConfidential: d.All, IncludeArchived: d.All}
		if t := strings.TrimSpace(d.Threshold); t != "" {
			if p.Threshold, err = strconv.ParseFloat(t, 64); err != nil {
				return badInput("Threshold must be a number from 0 to 1, such as 0.3.")
			}
		}
		d.Hits, err = c.account().Memories().Search(c.ctx(), p)
		return err
	}
	offset, err := parseOffset(q.Get("offset"))
	if err != nil {
		return err
	}
	page, err := c.account().Memories().List(c.ctx(), memory.ListParams{Limit: limit, Offset: offset, AgentID: agent})
	if err != nil {
		return err
	}
	d.Memories = page.Data
	keep := url.Values{}
	if d.Agent != "" {
		keep.Set("agent", d.Agent)
	}
	if d.Limit != "" {
		keep.Set("limit", strconv.Itoa(limit))
	}
	d.Pager = c.pager("/memories", keep, page.Offset, page.Limit, page.Total, len(page.Data))
	return nil
}

func (h *handler) memoryPage(c *call) {
	m, err := c.account().Memories().Get(c.ctx(), c.r.PathValue("id"))
	if err != nil {
		c.failErr(err)
		return
	}
	c.render(http.StatusOK, "memory", "Memory", view{Data: m})
}

func (h *handler) deleteMemoryPage(c *call) {
	m, err := c.account().Memories().Get(c.ctx(), c.r.PathValue("id"))
	if err != nil {
		c.failErr(err)
		return
	}
	c.render(http.StatusOK, "delete", "Delete memory", view{Data: m})
}

func (h *handler) deleteMemory(c *call) {
	if err := c.account().Memories().Delete(c.ctx(), c.r.PathValue("id")); err != nil {
		c.failErr(err)
		return
	}
	c.sess.setNotice("The memory was deleted.")
	c.redirect("/memories")
}
