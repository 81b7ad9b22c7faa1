package postgres

import (
	"cmp"
	"context"
	"errors"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/uuid"
)

// entityColumns reads an Entity; e.agent_id is the agent's row key, and
// the agent's id is read from its row.
const entityColumns = `e.id, e.account_id, (SELECT ag.public_id FROM agents ag WHERE ag.id = e.agent_id), e.agent_ref, e.name, e.type, e.metadata, e.created_at, e.updated_at,
	(SELECT count(*) FROM entity_links l WHERE l.entity_id = e.id)`

func scanEntity(r rowScanner) (store.Entity, error) {
	var e store.Entity
	var meta string
	var created, updated int64
	var links int
	if err := r.Scan(&e.ID, &e.AccountID, &e.AgentID, &e.AgentRef, &e.Name, &e.Type, &meta, &created, &updated, &links); err != nil {
		return store.Entity{}, err
	}
	e.Metadata = fromJSONObject(meta)
	e.MemoryCount, e.RelationshipCount = links, links
	e.CreatedAt, e.UpdatedAt = fromMS(created), fromMS(updated)
	return e, nil
}

// InsertEntity stores e, creating its agent (e.AgentRef, when set) if the
// account has none by that reference. e.ID, e.AccountID and the timestamps
// must be set; e.AgentID is filled in.
func (s *Store) InsertEntity(ctx context.Context, e *store.Entity) error {
	return s.write(ctx, func(tx pgx.Tx) error {
		e.AgentID = nil
		var key *string
		if e.AgentRef != nil {
			agent, err := findAgent(ctx, tx, e.AccountID, *e.AgentRef, true, e.CreatedAt)
			if err != nil {
				return err
			}
			e.AgentID, key = &agent.id, &agent.key
		}
		_, err := tx.Exec(ctx, `INSERT INTO entities(id, account_id, agent_id, agent_ref, name, type, metadata, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			e.ID, e.AccountID, key, e.AgentRef, e.Name, e.Type, jsonOrEmpty(e.Metadata), ms(e.CreatedAt), ms(e.UpdatedAt))
		return err
	})
}

// GetEntity returns the account's entity with the id, or ErrNotFound.
func (s *Store) GetEntity(ctx context.Context, accountID, id string) (store.Entity, error) {
	var e store.Entity
	err := s.do(ctx, func(q querier) error {
		var err error
		e, err = queryOne(ctx, q, scanEntity, "SELECT "+entityColumns+" FROM entities e WHERE e.account_id = $1 AND e.id = $2", accountID, id)
		return err
	})
	return e, err
}

// ListEntities returns a page of the entities matching f, newest first
// (created_at, then id, descending), and the total that match. after, when
// not nil, starts the page after that position instead of at offset.
func (s *Store) ListEntities(ctx context.Context, f store.EntityFilter, limit, offset int, after *store.Position) ([]store.Entity, int, error) {
	var out []store.Entity
	var total int
	err := s.read(ctx, func(tx pgx.Tx) error {
		var p params
		cond := "e.account_id = " + p.add(f.AccountID)
		if f.AgentRef != nil {
			id, err := resolveAgent(ctx, tx, f.AccountID, *f.AgentRef, false, time.Time{})
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			cond += " AND e.agent_id = " + p.add(id)
		}
		if f.Type != nil {
			cond += " AND e.type = " + p.add(*f.Type)
		}
		l := listQuery{columns: entityColumns, from: "entities e", cond: cond, at: "e.created_at", id: "e.id"}
		var err error
		out, total, err = queryPage(ctx, tx, scanEntity, l, p, limit, offset, after)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// DeleteEntity removes the account's entity and its links.
func (s *Store) DeleteEntity(ctx context.Context, accountID, id string) error {
	return s.write(ctx, func(tx pgx.Tx) error {
		// The links go by ON DELETE CASCADE.
		n, err := affected(tx.Exec(ctx, "DELETE FROM entities WHERE account_id = $1 AND id = $2", accountID, id))
		if err == nil && n == 0 {
			return store.ErrNotFound
		}
		return err
	})
}

// LinkEntity links the account's entity l.EntityID to its memory
// l.MemoryID. A new link is stored as given and created is true; when the
// pair is linked already, l is set to the existing link and created is
// false. A missing entity is ErrEntityNotFound, a missing memory
// ErrMemoryNotFound (both match ErrNotFound).
func (s *Store) LinkEntity(ctx context.Context, accountID string, l *store.EntityLink) (created bool, err error) {
	err = s.write(ctx, func(tx pgx.Tx) error {
		// The entity's row is locked: its counts change with the link.
		if ok, err := exists(ctx, tx, "SELECT 1 FROM entities WHERE account_id = $1 AND id = $2 FOR UPDATE", accountID, l.EntityID); err != nil || !ok {
			return cmp.Or(err, store.ErrEntityNotFound)
		}
		if ok, err := exists(ctx, tx, "SELECT 1 FROM memories WHERE account_id = $1 AND id = $2 FOR SHARE", accountID, l.MemoryID); err != nil || !ok {
			return cmp.Or(err, store.ErrMemoryNotFound)
		}
		n, err := affected(tx.Exec(ctx, `INSERT INTO entity_links(entity_id, memory_id, relationship, created_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (entity_id, memory_id) DO NOTHING`, l.EntityID, l.MemoryID, l.Relationship, ms(l.CreatedAt)))
		if err != nil {
			return err
		}
		if n == 1 {
			created = true
			// The entity's counts changed: that is a mutation of it.
			_, err = tx.Exec(ctx, "UPDATE entities SET updated_at = greatest(updated_at + 1, $1) WHERE id = $2", ms(l.CreatedAt), l.EntityID)
			return err
		}
		var at int64
		if err := tx.QueryRow(ctx, "SELECT relationship, created_at FROM entity_links WHERE entity_id = $1 AND memory_id = $2",
			l.EntityID, l.MemoryID).Scan(&l.Relationship, &at); err != nil {
			return err
		}
		l.CreatedAt = fromMS(at)
		return nil
	})
	return created, err
}

// Neighborhood returns the account's entity with the id and the entities
// reached from it over shared memories, breadth first: depth 1 shares a
// memory with it, depth 2 with a depth-1 entity, and so on up to depth.
// At most maxNeighbors are returned, nearest first (then by name); where a
// level holds more than fit, those sharing the most memories with the
// level before are kept. Relationship is that of the neighbour's link to
// a memory by which it was reached (the one with the lowest id).
//
// The walk visits each entity and each memory at most once, level by
// level in one read snapshot, and reads at most budget link rows in all
// (LIMIT on each statement). When the budget runs out it stops and
// reports Truncated; every level before the last one read is complete, so
// each depth returned is the shortest.
func (s *Store) Neighborhood(ctx context.Context, accountID, id string, depth, maxNeighbors, budget int) (store.Entity, []store.Neighbor, store.NeighborhoodStats, error) {
	var st store.NeighborhoodStats
	var e store.Entity
	out := []store.Neighbor{}
	err := s.read(ctx, func(tx pgx.Tx) error {
		var err error
		e, err = queryOne(ctx, tx, scanEntity, "SELECT "+entityColumns+" FROM entities e WHERE e.account_id = $1 AND e.id = $2", accountID, id)
		if err != nil {
			return err
		}
		seenEntity := map[string]bool{e.ID: true}
		seenMemory := map[string]bool{}
		frontier := []string{e.ID}
		var via [][2]string // per neighbour: its id and the memory it was reached by
		for d := 1; d <= depth && len(frontier) > 0 && len(out) < maxNeighbors && !st.Truncated; d++ {
			// The frontier's memories not seen before.
			var mems []string
			err := queryEach(ctx, tx, func(r rowScanner) error {
				var m string
				if err := r.Scan(&m); err != nil {
					return err
				}
				if st.LinksRead == budget {
					st.Truncated = true
					return errStop
				}
				st.LinksRead++
				if !seenMemory[m] {
					seenMemory[m] = true
					mems = append(mems, m)
				}
				return nil
			}, `SELECT memory_id FROM entity_links WHERE entity_id = ANY($1::text[]) LIMIT $2`, frontier, budget-st.LinksRead+1)
			if err != nil {
				return err
			}
			if len(mems) == 0 || st.LinksRead == budget {
				st.Truncated = st.Truncated || len(mems) > 0
				break
			}
			// Their entities not seen before, with the number of those
			// memories each is linked to and the first of them (by id).
			remaining := budget - st.LinksRead
			type cand struct {
				id, via string
				shared  int
			}
			var cands []cand
			read := 0
			err = queryEach(ctx, tx, func(r rowScanner) error {
				var c cand
				if err := r.Scan(&c.id, &c.shared, &c.via); err != nil {
					return err
				}
				read += c.shared
				if !seenEntity[c.id] {
					cands = append(cands, c)
				}
				return nil
			}, `SELECT entity_id, count(*), min(memory_id) FROM (
				SELECT entity_id, memory_id FROM entity_links WHERE memory_id = ANY($1::text[]) LIMIT $2) l
				GROUP BY entity_id`, mems, remaining+1)
			if err != nil {
				return err
			}
			if read > remaining { // the LIMIT cut the level short
				read, st.Truncated = remaining, true
			}
			st.LinksRead += read
			sort.Slice(cands, func(i, j int) bool {
				if cands[i].shared != cands[j].shared {
					return cands[i].shared > cands[j].shared
				}
				return cands[i].id < cands[j].id
			})
			if n := maxNeighbors - len(out); len(cands) > n {
				cands = cands[:n]
			}
			frontier = frontier[:0]
			for _, c := range cands {
				seenEntity[c.id] = true
				frontier = append(frontier, c.id)
				out = append(out, store.Neighbor{ID: c.id, Depth: d})
				via = append(via, [2]string{c.id, c.via})
			}
		}
		if len(out) == 0 {
			return nil
		}
		// Names, types and the relationship of the link by which each was
		// reached, of the account's entities only.
		at := make(map[string]int, len(out))
		for i, n := range out {
			at[n.ID] = i
		}
		ids, mids := make([]string, len(via)), make([]string, len(via))
		for i, v := range via {
			ids[i], mids[i] = v[0], v[1]
		}
		found := make([]bool, len(out))
		err = queryEach(ctx, tx, func(r rowScanner) error {
			var id, name, typ, rel string
			if err := r.Scan(&id, &name, &typ, &rel); err != nil {
				return err
			}
			if i, ok := at[id]; ok {
				out[i].Name, out[i].Type, out[i].Relationship, found[i] = name, typ, rel, true
			}
			return nil
		}, `SELECT e.id, e.name, e.type, l.relationship FROM unnest($1::text[], $2::text[]) AS j(entity_id, memory_id)
			JOIN entities e ON e.id = j.entity_id AND e.account_id = $3
			JOIN entity_links l ON l.entity_id = e.id AND l.memory_id = j.memory_id`, ids, mids, accountID)
		if err != nil {
			return err
		}
		kept := out[:0]
		for i, n := range out {
			if found[i] {
				kept = append(kept, n)
			}
		}
		out = kept
		sort.Slice(out, func(i, j int) bool {
			a, b := out[i], out[j]
			if a.Depth != b.Depth {
				return a.Depth < b.Depth
			}
			if a.Name != b.Name {
				return a.Name < b.Name
			}
			return a.ID < b.ID
		})
		return nil
	})
	if err != nil {
		return store.Entity{}, nil, st, err
	}
	return e, out, st, nil
}

// fillEntities sets the Entities of each memory from its entity links, in
// one query for all of them, at most MaxMemoryEntities per memory.
func fillEntities(ctx context.Context, q querier, ms []store.Memory) error {
	if len(ms) == 0 {
		return nil
	}
	ids := make([]string, len(ms))
	at := make(map[string][]int, len(ms))
	for i := range ms {
		ms[i].Entities = []store.EntityRef{}
		ids[i] = ms[i].ID
		at[ms[i].ID] = append(at[ms[i].ID], i)
	}
	return queryEach(ctx, q, func(r rowScanner) error {
		var memID string
		var ref store.EntityRef
		if err := r.Scan(&memID, &ref.Type, &ref.Value, &ref.Confidence); err != nil {
			return err
		}
		for _, i := range at[memID] {
			ms[i].Entities = append(ms[i].Entities, ref)
		}
		return nil
	}, `SELECT memory_id, type, name, confidence FROM (
		SELECT l.memory_id, e.type, e.name, l.confidence, l.created_at, e.id,
			row_number() OVER (PARTITION BY l.memory_id ORDER BY l.created_at, e.name, e.id) AS n
		FROM entity_links l
		JOIN memories m ON m.id = l.memory_id
		JOIN entities e ON e.id = l.entity_id AND e.account_id = m.account_id
		WHERE l.memory_id = ANY($1::text[])) x
		WHERE n <= $2
		ORDER BY memory_id, created_at, name, id`, ids, store.MaxMemoryEntities)
}

// LinkExtracted links the entities an extractor found to the account's
// memory (API.md §10.6): each is matched with an entity of the account of
// the same type and name (ASCII case-insensitively: lower of a "C"
// collated text), created (without an agent) when there is none, and
// linked as mentioned_in with its confidence; a link already there is
// kept. Called with the ctx of an InTx, it joins the write's transaction.
func (s *Store) LinkExtracted(ctx context.Context, accountID, memoryID string, es []store.ExtractedEntity, now time.Time) error {
	if len(es) == 0 {
		return nil
	}
	return s.write(ctx, func(tx pgx.Tx) error { return linkExtracted(ctx, tx, accountID, memoryID, es, now) })
}

func linkExtracted(ctx context.Context, tx pgx.Tx, accountID, memoryID string, es []store.ExtractedEntity, now time.Time) error {
	for _, e := range es {
		id, err := queryValue[string](ctx, tx, `SELECT id FROM entities WHERE account_id = $1 AND type = $2 AND lower(name) = lower($3 COLLATE "C")
			ORDER BY created_at, id LIMIT 1`, accountID, e.Type, e.Name)
		if errors.Is(err, store.ErrNotFound) {
			id = uuid.New()
			if _, err = tx.Exec(ctx, `INSERT INTO entities(id, account_id, name, type, metadata, created_at, updated_at)
				VALUES ($1, $2, $3, $4, '{}', $5, $6)`, id, accountID, e.Name, e.Type, ms(now), ms(now)); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO entity_links(entity_id, memory_id, relationship, created_at, confidence)
			VALUES ($1, $2, 'mentioned_in', $3, $4) ON CONFLICT DO NOTHING`, id, memoryID, ms(now), e.Confidence); err != nil {
			return err
		}
	}
	return nil
}
