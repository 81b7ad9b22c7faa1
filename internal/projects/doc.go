// Package projects holds the rules of an account's projects, the named
// groups of its memories, decisions and patterns addressed by slug, and
// implements memory.Projects over the storage interface [Store] it
// defines: projects and the typed edges between them, the context an agent
// loads about one (with its Markdown digest), the patterns two share, and
// impact analysis, which ranks the decisions (package decisions) and
// searches the memories (package memories) of the projects that depend on
// a changed one (API contract §5.9).
//
// The HTTP handler of projects is httpapi/projects.go; their rows are
// internal/store's projects.go, their SQL internal/store/sqlite's.
package projects
