package httpapi_test

import (
	"encoding/base64"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/memory"
)

// pagedList is a list of the API for the paging tests, and how to add an
// item to it.
type pagedList struct {
	path string
	// add creates an item, i distinguishing it from the others.
	add func(e *env, key string, i int)
	// keyset: a cursor continues after its page's last item (every list
	// but the keys, whose cursor carries an offset).
	keyset bool
}

// pagedLists are every list of the API that pages (API.md §1.6).
var pagedLists = []pagedList{
	{"/v1/memories", func(e *env, key string, i int) {
		e.createMemory(key, map[string]any{"content": "paged memory " + strconv.Itoa(i)})
	}, true},
	{"/v1/projects", func(e *env, key string, i int) {
		create(e, key, "/v1/projects", map[string]any{"slug": "paged-" + strconv.Itoa(i), "name": "p"})
	}, true},
	// Agent ids are the client's: some hold a colon, a slash, non-ASCII.
	{"/v1/agents", func(e *env, key string, i int) {
		create(e, key, "/v1/agents", map[string]any{"id": []string{"a:b", "ü/x", "agent:" + strconv.Itoa(i), "z"}[i%4] + strconv.Itoa(i)})
	}, true},
	{"/v1/entities", func(e *env, key string, i int) {
		create(e, key, "/v1/entities", map[string]any{"name": "paged entity " + strconv.Itoa(i), "type": "concept"})
	}, true},
	{"/v1/sessions", func(e *env, key string, i int) {
		create(e, key, "/v1/sessions", map[string]any{"title": "paged session " + strconv.Itoa(i)})
	}, true},
	{"/v1/decisions", func(e *env, key string, i int) {
		create(e, key, "/v1/decisions", map[string]any{"title": "paged decision " + strconv.Itoa(i), "rationale": "r"})
	}, true},
	{"/v1/keys", func(e *env, key string, i int) {
		create(e, key, "/v1/keys", map[string]any{"name": "paged key " + strconv.Itoa(i), "scopes": []string{"read"}})
	}, false},
}

func create(e *env, key, path string, body map[string]any) {
	e.t.Helper()
	if r := e.do("POST", path, key, body); r.status != 201 {
		e.t.Fatalf("POST %s: %d %s", path, r.status, r.raw)
	}
}

// listIDs returns the ids of a page, and checks its envelope: has_more
// and next_cursor agree, and the offset is where the page starts.
func listIDs(t *testing.T, r response, offset int) []string {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.raw)
	}
	if (r.body["has_more"] == true) != (r.body["next_cursor"] != nil) {
		t.Fatalf("has_more and next_cursor disagree: %s", r.raw)
	}
	if c, ok := r.body["next_cursor"].(string); r.body["next_cursor"] != nil && (!ok || c == "") {
		t.Fatalf("next_cursor is not a string: %s", r.raw)
	}
	if r.body["offset"] != float64(offset) {
		t.Fatalf("offset %v, want %d: %s", r.body["offset"], offset, r.raw)
	}
	var ids []string
	for _, o := range objects(t, r, "data") {
		ids = append(ids, o["id"].(string))
	}
	return ids
}

// walk follows a list's cursors from its first page, limit items a page,
// and returns the ids it saw. Each page but the first is asked with an
// offset the cursor must win over.
func walk(t *testing.T, e *env, key, path string, limit, want int) []string {
	t.Helper()
	var seen []string
	q := "?limit=" + strconv.Itoa(limit)
	for page := 0; page <= want; page++ {
		r := e.do("GET", path+q, key, nil)
		seen = append(seen, listIDs(t, r, page*limit)...)
		more := r.body["has_more"] == true
		if more != (len(seen) < want) {
			t.Fatalf("%s page %d: has_more %v after %d of %d items: %s", path, page, more, len(seen), want, r.raw)
		}
		if !more {
			return seen
		}
		q = "?limit=" + strconv.Itoa(limit) + "&offset=7&cursor=" + url.QueryEscape(r.body["next_cursor"].(string))
	}
	t.Fatalf("%s: the walk did not end", path)
	return nil
}

// TestCursorEveryList: every list answers a next_cursor exactly when
// has_more is true and takes it back (API.md §1.6): walking by cursor
// gives every item once, in order, whatever the page size, ties of the
// timestamp included; a cursor wins over offset; a cursor continues after
// its page even when a newer item arrives (keyset lists).
func TestCursorEveryList(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{RateLimit: 100_000})
	key := e.keys["admin"]
	for _, l := range pagedLists {
		t.Run(strings.TrimPrefix(l.path, "/v1/"), func(t *testing.T) {
			// 7 items: pairs share a timestamp, so their order is by id.
			for i := range 7 {
				if i%2 == 0 {
					e.clock.Advance(time.Second)
				}
				l.add(e, key, i)
			}
			all := e.do("GET", l.path+"?limit=100", key, nil)
			want := listIDs(t, all, 0)
			if len(want) < 7 || all.body["total"] != float64(len(want)) || all.body["next_cursor"] != nil {
				t.Fatalf("the whole list: %s", all.raw)
			}
			for _, limit := range []int{1, 2, 3, len(want)} {
				if got := walk(t, e, key, l.path, limit, len(want)); !slices.Equal(got, want) {
					t.Errorf("limit %d: walk %v, want %v", limit, got, want)
				}
			}
			// The page after a cursor, once a newer item was added.
			first := e.do("GET", l.path+"?limit=2", key, nil)
			listIDs(t, first, 0)
			e.clock.Advance(time.Second)
			l.add(e, key, 100)
			next := e.do("GET", l.path+"?limit=2&cursor="+url.QueryEscape(first.body["next_cursor"].(string)), key, nil)
			got := listIDs(t, next, 2)
			if l.keyset && !slices.Equal(got, want[2:4]) {
				t.Errorf("after a newer item: %v, want %v", got, want[2:4])
			}
			if !l.keyset && !slices.Equal(got, want[1:3]) { // an offset: the new item shifts the list
				t.Errorf("after a newer item: %v, want %v", got, want[1:3])
			}
		})
	}
}

// TestBadCursorEveryList: on every list a cursor the list did not make is
// a 400 validation_error naming cursor, never a 500: malformed, forged,
// another list's, offsets out of range.
func TestBadCursorEveryList(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{RateLimit: 100_000})
	key := e.keys["admin"]
	cursors := map[string]string{} // path → a cursor of its second page
	for _, l := range pagedLists {
		for i := range 3 {
			e.clock.Advance(time.Second)
			l.add(e, key, i)
		}
		r := e.do("GET", l.path+"?limit=1", key, nil)
		c, ok := r.body["next_cursor"].(string)
		if !ok {
			t.Fatalf("%s: no next_cursor: %s", l.path, r.raw)
		}
		cursors[l.path] = c
	}
	b64 := base64.RawURLEncoding.EncodeToString
	for _, l := range pagedLists {
		raw, err := base64.RawURLEncoding.DecodeString(cursors[l.path])
		if err != nil {
			t.Fatalf("%s: cursor %q: %v", l.path, cursors[l.path], err)
		}
		bad := []string{"zzz", "not a cursor", "%00", "====", b64([]byte("garbage")), cursors[l.path][1:],
			b64(append(raw, 0xff)), // the id is no longer UTF-8
			b64([]byte(strings.Repeat("x", 300)))}
		for _, other := range pagedLists {
			if other.path != l.path {
				bad = append(bad, cursors[other.path])
			}
		}
		parts := strings.Split(string(raw), ":")
		if l.keyset { // list:created_at:offset:id
			forge := func(at, off, id string) string { return b64([]byte(parts[0] + ":" + at + ":" + off + ":" + id)) }
			id := strings.Join(parts[3:], ":")
			bad = append(bad, forge("x", parts[2], id), forge(parts[1], "x", id), forge(parts[1], parts[2], ""),
				forge(parts[1], parts[2], strings.Repeat("i", 256)), forge("99999999999999999999", parts[2], id))
			for _, off := range []string{"9223372036854775807", strconv.Itoa(memory.MaxOffset + 1), "99999999999999999999", "-1"} {
				bad = append(bad, forge(parts[1], off, id))
			}
		} else { // list:offset
			for _, off := range []string{"9223372036854775807", strconv.Itoa(memory.MaxOffset + 1), "99999999999999999999", "-1", "", "x"} {
				bad = append(bad, b64([]byte(parts[0]+":"+off)))
			}
		}
		for _, c := range bad {
			r := e.do("GET", l.path+"?limit=1&cursor="+url.QueryEscape(c), key, nil)
			if r.status != 400 || r.body["type"] != "validation_error" || r.body["message"] != "cursor is not valid" {
				t.Errorf("%s cursor %q (%q): %d %s", l.path, c, mustDecode(c), r.status, r.raw)
			}
		}
		// An offset at the maximum is answered, and so is the page its
		// next_cursor points at.
		var atMax string
		if l.keyset {
			atMax = b64([]byte(parts[0] + ":" + parts[1] + ":" + strconv.Itoa(memory.MaxOffset) + ":" + strings.Join(parts[3:], ":")))
		} else {
			atMax = b64([]byte(parts[0] + ":" + strconv.Itoa(memory.MaxOffset)))
		}
		r := e.do("GET", l.path+"?limit=1&cursor="+atMax, key, nil)
		if r.status != 200 || r.body["offset"] != float64(memory.MaxOffset) {
			t.Fatalf("%s: a cursor at the maximum offset: %d %.300s", l.path, r.status, r.raw)
		}
		if next, ok := r.body["next_cursor"].(string); ok {
			if r := e.do("GET", l.path+"?limit=1&cursor="+next, key, nil); r.status != 200 || r.body["offset"] != float64(memory.MaxOffset) {
				t.Errorf("%s: the page after the maximum offset: %d %.300s", l.path, r.status, r.raw)
			}
		} else if l.keyset {
			t.Errorf("%s: no next_cursor at the maximum offset: %s", l.path, r.raw)
		}
	}
}

func mustDecode(c string) string {
	raw, _ := base64.RawURLEncoding.DecodeString(c)
	return string(raw)
}
