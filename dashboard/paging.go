package dashboard

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/memoryrelay/memoryrelay/memory"
)

// pager is the paging line under a list: which items are shown and the
// links to the pages before and after.
type pager struct {
	From, To, Total int
	Prev, Next      string // URLs; "" when there is none
}

// pager is the pager of a list at path showing n items from offset of
// total, limit per page; q is the list's other query parameters.
func (c *call) pager(path string, q url.Values, offset, limit, total, n int) pager {
	p := pager{Total: total}
	if n > 0 {
		p.From, p.To = offset+1, offset+n
	}
	link := func(off int) string {
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		if off > 0 {
			v.Set("offset", strconv.Itoa(off))
		}
		if len(v) == 0 {
			return c.base + path
		}
		return c.base + path + "?" + v.Encode()
	}
	if offset > 0 {
		p.Prev = link(max(min(offset, total)-limit, 0))
	}
	if offset+n < total {
		p.Next = link(offset + n)
	}
	return p
}

// parseOffset reads ?offset=: a whole number from 0 to
// memory.MaxOffset; empty is 0.
func parseOffset(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > memory.MaxOffset {
		return 0, badInput("The page offset must be a whole number from 0 to " + number(memory.MaxOffset) + ".")
	}
	return n, nil
}

// parseLimit reads ?limit=: 1 to memory.MaxPageLimit; empty is def.
func parseLimit(s string, def int) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > memory.MaxPageLimit {
		return 0, badInput("The number of results must be a whole number from 1 to " + strconv.Itoa(memory.MaxPageLimit) + ".")
	}
	return n, nil
}
