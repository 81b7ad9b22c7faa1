// Package valid collects the problems of one input into a
// *memory.ValidationError: every rule the input breaks, one
// [memory.Problem] per field, in the order the fields are checked, each
// named by its Go field (HTTP maps the names to the wire's in
// httpapi/errors.go).
//
// A resource package checks an input by calling the rules of a [Problems]
// one field after the other, then returns [Problems.Err]:
//
//	var p valid.Problems
//	p.Text("Name", in.Name, memory.MaxEntityName)
//	meta := p.Metadata(in.Metadata)
//	if err := p.Err(); err != nil {
//		return memory.Entity{}, err
//	}
//
// The rules hold the checks shared by several resources (text fields, tags,
// stored JSON, agent and project references, limits, thresholds); a rule
// that only one resource has stays with it and reports through
// [Problems.Add].
package valid
