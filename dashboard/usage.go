package dashboard

import (
	"net/http"
	"net/url"

	"github.com/memoryrelay/memoryrelay/limiter"
	"github.com/memoryrelay/memoryrelay/memory"
)

// The usage page: per key, the requests of the current UTC day against
// its daily quota, and its rate-limit bucket now.

type usageRow struct {
	Row       keyRow
	Quota     memory.Quota
	Rate      limiter.Decision
	RateKnown bool // the service reports rate-limit state
}

type usageData struct {
	Rows  []usageRow
	Pager pager
}

func (h *handler) usagePage(c *call) {
	offset, err := parseOffset(c.r.URL.Query().Get("offset"))
	if err != nil {
		c.failErr(err)
		return
	}
	page, err := c.account().Keys().List(c.ctx(), memory.PageParams{Limit: KeysPage, Offset: offset})
	if err != nil {
		c.failErr(err)
		return
	}
	rep, canReport := h.svc.(RateLimitReporter)
	d := usageData{Pager: c.pager("/usage", url.Values{}, page.Offset, page.Limit, page.Total, len(page.Data))}
	for _, k := range page.Data {
		row := usageRow{Row: c.keyRow(k)}
		if row.Quota, err = h.svc.AccountFor(k).Usage().Quota(c.ctx()); err != nil {
			c.failErr(err)
			return
		}
		if canReport {
			if row.Rate, err = rep.RateLimitState(c.ctx(), k); err == nil {
				row.RateKnown = true
			}
		}
		d.Rows = append(d.Rows, row)
	}
	c.render(http.StatusOK, "usage", "Usage", view{Data: d})
}
