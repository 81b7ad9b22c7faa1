package memoryrelay

import (
	"context"

	"github.com/memoryrelay/memoryrelay/memory"
)

// accountProjects is the memory.Projects of an account (projects.go holds
// the code).
type accountProjects struct{ *account }

func (a accountProjects) Create(ctx context.Context, in memory.NewProject) (memory.Project, error) {
	return call(ctx, a.account, func() (memory.Project, error) { return a.r.createProject(ctx, a.id, in) })
}

func (a accountProjects) Get(ctx context.Context, slug string) (memory.Project, error) {
	return call(ctx, a.account, func() (memory.Project, error) {
		p, err := a.r.getProject(ctx, a.id, slug)
		return projectOf(p), err
	})
}

func (a accountProjects) List(ctx context.Context, p memory.ProjectListParams) (memory.Page[memory.Project], error) {
	return call(ctx, a.account, func() (memory.Page[memory.Project], error) { return a.r.listProjects(ctx, a.id, p) })
}

func (a accountProjects) Relate(ctx context.Context, slug string, in memory.NewProjectRelationship) (memory.ProjectRelationship, bool, error) {
	return call2(ctx, a.account, func() (memory.ProjectRelationship, bool, error) { return a.r.relateProjects(ctx, a.id, slug, in) })
}

func (a accountProjects) Dependencies(ctx context.Context, slug string) ([]memory.ProjectLink, error) {
	return call(ctx, a.account, func() ([]memory.ProjectLink, error) {
		return a.r.projectLinks(ctx, a.id, slug, true, false, dependencyTypes)
	})
}

func (a accountProjects) Dependents(ctx context.Context, slug string) ([]memory.ProjectLink, error) {
	return call(ctx, a.account, func() ([]memory.ProjectLink, error) {
		return a.r.projectLinks(ctx, a.id, slug, false, true, dependencyTypes)
	})
}

func (a accountProjects) Related(ctx context.Context, slug string) ([]memory.ProjectLink, error) {
	return call(ctx, a.account, func() ([]memory.ProjectLink, error) {
		return a.r.projectLinks(ctx, a.id, slug, true, true, nil)
	})
}

func (a accountProjects) Context(ctx context.Context, slug string) (memory.ProjectContext, error) {
	return call(ctx, a.account, func() (memory.ProjectContext, error) { return a.r.projectContext(ctx, a.id, slug) })
}

func (a accountProjects) Impact(ctx context.Context, slug, change string) (memory.Impact, error) {
	return call(ctx, a.account, func() (memory.Impact, error) { return a.r.impactAnalysis(ctx, a.id, slug, change) })
}

func (a accountProjects) SharedPatterns(ctx context.Context, slugA, slugB string) ([]memory.Pattern, error) {
	return call(ctx, a.account, func() ([]memory.Pattern, error) { return a.r.sharedPatterns(ctx, a.id, slugA, slugB) })
}
