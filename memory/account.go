package memory

// Account is the API of one account: its resource groups. Both
// implementations (the library in process, the client of a remote
// server) return the same groups; none of their methods takes an account
// id.
type Account interface {
	Memories() Memories
	Agents() Agents
	Entities() Entities
	Sessions() Sessions
	Decisions() Decisions
	Patterns() Patterns
	Projects() Projects
	Contexts() Contexts
	Keys() Keys
	Usage() Usage
	Webhooks() Webhooks
	Extraction() Extraction
}
