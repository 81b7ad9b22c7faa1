package sqlite

// migrations[i] moves the schema from user_version i to i+1. Append only:
// never edit a migration that has shipped.
var migrations = []string{
	// 1: accounts, keys, agents, memories, the search index tables.
	`
CREATE TABLE accounts (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	created_at INTEGER NOT NULL
);

CREATE TABLE api_keys (
	id           TEXT PRIMARY KEY,
	account_id   TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	name         TEXT NOT NULL,
	prefix       TEXT NOT NULL,
	scopes       INTEGER NOT NULL,
	metadata     TEXT NOT NULL DEFAULT '{}',
	rate_limit   INTEGER NOT NULL DEFAULT 0,
	created_at   INTEGER NOT NULL,
	expires_at   INTEGER,
	last_used_at INTEGER,
	revoked_at   INTEGER
);
CREATE INDEX api_keys_account ON api_keys(account_id, created_at DESC, id DESC);

-- One row per valid hash of a key: the current one (valid_until NULL) and
-- rotated-out ones during their grace period.
CREATE TABLE api_key_secrets (
	hash        BLOB PRIMARY KEY,
	key_id      TEXT NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
	valid_until INTEGER
) WITHOUT ROWID;
CREATE INDEX api_key_secrets_key ON api_key_secrets(key_id);

CREATE TABLE agents (
	id          TEXT PRIMARY KEY,
	account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	name        TEXT NOT NULL,
	description TEXT,
	config      TEXT NOT NULL DEFAULT '{}',
	metadata    TEXT NOT NULL DEFAULT '{}',
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL,
	UNIQUE (account_id, name)
);
CREATE INDEX agents_account_created ON agents(account_id, created_at DESC, id DESC);

CREATE TABLE memories (
	seq         INTEGER PRIMARY KEY,           -- docid in the search tables
	id          TEXT NOT NULL UNIQUE,
	account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	agent_id    TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
	agent_ref   TEXT NOT NULL,                 -- the agent reference as supplied
	user_id     TEXT,
	content     TEXT NOT NULL,
	metadata    TEXT NOT NULL DEFAULT '{}',
	memory_type TEXT,
	visibility  TEXT NOT NULL DEFAULT 'private',
	importance  REAL NOT NULL DEFAULT 0.5,
	tier        TEXT NOT NULL DEFAULT 'warm',
	scope       TEXT NOT NULL DEFAULT 'long-term',
	session_id  TEXT,
	project     TEXT,
	archived_at INTEGER,
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL
);
CREATE INDEX memories_account_created ON memories(account_id, created_at DESC, id DESC);
CREATE INDEX memories_agent_created ON memories(agent_id, created_at DESC, id DESC);

-- Search index: vectors in sqlite-vec's float32 BLOB format (or, since
-- Options.VectorEncoding, an int8 code behind an 8-byte header) and the
-- normalised terms in FTS4, both keyed by memories.seq.
CREATE TABLE memory_vectors (
	seq       INTEGER PRIMARY KEY REFERENCES memories(seq) ON DELETE CASCADE,
	embedding BLOB NOT NULL
);
CREATE VIRTUAL TABLE memory_fts USING fts4(terms, tokenize=simple);
CREATE TRIGGER memories_fts_delete AFTER DELETE ON memories BEGIN
	DELETE FROM memory_fts WHERE docid = old.seq;
END;

-- Facts about the database itself, such as the embedder it was built with.
CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
`,
	// 2: the rest of the hosted API (sessions, entities, decisions,
	// patterns, projects, v2 jobs, quota) and the change log that keeps
	// in-process vector indexes in step with committed state.
	`
CREATE TABLE projects (
	id          TEXT PRIMARY KEY,
	account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	slug        TEXT NOT NULL,
	name        TEXT NOT NULL,
	description TEXT,
	stack       TEXT,                      -- JSON object or NULL
	repo_url    TEXT,
	metadata    TEXT NOT NULL DEFAULT '{}',
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL,
	UNIQUE (account_id, slug)
);
CREATE INDEX projects_account_created ON projects(account_id, created_at DESC, id DESC);

CREATE TABLE project_relationships (
	id                TEXT PRIMARY KEY,
	account_id        TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	source_project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
	target_project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
	relationship_type TEXT NOT NULL,
	metadata          TEXT NOT NULL DEFAULT '{}',
	created_at        INTEGER NOT NULL
);
CREATE INDEX project_relationships_source ON project_relationships(source_project_id, relationship_type);
CREATE INDEX project_relationships_target ON project_relationships(target_project_id, relationship_type);

CREATE TABLE sessions (
	id          TEXT PRIMARY KEY,
	account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	agent_id    TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
	agent_ref   TEXT NOT NULL,
	external_id TEXT,
	project     TEXT,
	status      TEXT NOT NULL DEFAULT 'active',
	title       TEXT,
	summary     TEXT,
	metadata    TEXT NOT NULL DEFAULT '{}',
	started_at  INTEGER NOT NULL,
	ended_at    INTEGER,
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX sessions_external ON sessions(account_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX sessions_account_started ON sessions(account_id, started_at DESC, id DESC);
CREATE INDEX memories_session ON memories(session_id);
ALTER TABLE memories ADD COLUMN project_id TEXT REFERENCES projects(id) ON DELETE SET NULL;
CREATE INDEX memories_project ON memories(project_id);

CREATE TABLE entities (
	id         TEXT PRIMARY KEY,
	account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	agent_id   TEXT REFERENCES agents(id) ON DELETE CASCADE,
	agent_ref  TEXT,
	name       TEXT NOT NULL,
	type       TEXT NOT NULL DEFAULT 'other',
	metadata   TEXT NOT NULL DEFAULT '{}',
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);
CREATE INDEX entities_account_created ON entities(account_id, created_at DESC, id DESC);

CREATE TABLE entity_links (
	entity_id    TEXT NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
	memory_id    TEXT NOT NULL REFERENCES memories(id) ON DELETE CASCADE,
	relationship TEXT NOT NULL DEFAULT 'mentioned_in',
	created_at   INTEGER NOT NULL,
	PRIMARY KEY (entity_id, memory_id)
) WITHOUT ROWID;
CREATE INDEX entity_links_memory ON entity_links(memory_id, entity_id);

CREATE TABLE decisions (
	id            TEXT PRIMARY KEY,
	account_id    TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	agent_id      TEXT REFERENCES agents(id) ON DELETE SET NULL,
	agent_ref     TEXT,
	session_id    TEXT,
	project_slug  TEXT,
	title         TEXT NOT NULL,
	rationale     TEXT NOT NULL,
	alternatives  TEXT,
	status        TEXT NOT NULL DEFAULT 'active',
	superseded_by TEXT,
	tags          TEXT NOT NULL DEFAULT '[]',  -- JSON array of strings
	metadata      TEXT NOT NULL DEFAULT '{}',
	embedding     BLOB,                        -- sqlite-vec float32, of title + rationale
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL
);
CREATE INDEX decisions_account_created ON decisions(account_id, created_at DESC, id DESC);

CREATE TABLE patterns (
	id                  TEXT PRIMARY KEY,
	account_id          TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	title               TEXT NOT NULL,
	description         TEXT NOT NULL,
	category            TEXT,
	example_code        TEXT,
	scope               TEXT NOT NULL DEFAULT 'global',
	tags                TEXT NOT NULL DEFAULT '[]',
	source_project_id   TEXT REFERENCES projects(id) ON DELETE SET NULL,
	source_project_slug TEXT,
	metadata            TEXT NOT NULL DEFAULT '{}',
	adoption_count      INTEGER NOT NULL DEFAULT 0,
	embedding           BLOB,
	created_at          INTEGER NOT NULL,
	updated_at          INTEGER NOT NULL
);
CREATE INDEX patterns_account_created ON patterns(account_id, created_at DESC, id DESC);

CREATE TABLE pattern_adoptions (
	pattern_id TEXT NOT NULL REFERENCES patterns(id) ON DELETE CASCADE,
	project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (pattern_id, project_id)
) WITHOUT ROWID;
CREATE INDEX pattern_adoptions_project ON pattern_adoptions(project_id);

-- v2 asynchronous ingest: one row per accepted memory.
CREATE TABLE jobs (
	id          TEXT PRIMARY KEY,             -- job_<uuid>
	memory_id   TEXT NOT NULL UNIQUE,         -- the memory the job creates
	account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	status      TEXT NOT NULL,                -- pending, processing, ready, failed
	payload     TEXT NOT NULL,                -- the accepted request, JSON
	error       TEXT,
	webhook_url TEXT,
	attempts    INTEGER NOT NULL DEFAULT 0,
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL
);
CREATE INDEX jobs_status ON jobs(status, created_at);

-- Requests per key per UTC day, for GET /v1/quota.
CREATE TABLE key_usage (
	key_id TEXT NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
	day    TEXT NOT NULL,                     -- YYYY-MM-DD, UTC
	count  INTEGER NOT NULL,
	PRIMARY KEY (key_id, day)
) WITHOUT ROWID;

-- Every change to memory_vectors, in commit order, so that an in-process
-- index (of this or another process) can catch up without a full reload.
CREATE TABLE vector_changes (
	id  INTEGER PRIMARY KEY AUTOINCREMENT,
	seq INTEGER NOT NULL                      -- memories.seq; look it up to see whether it still exists
);
CREATE TRIGGER memory_vectors_log_insert AFTER INSERT ON memory_vectors BEGIN
	INSERT INTO vector_changes(seq) VALUES (new.seq);
END;
CREATE TRIGGER memory_vectors_log_update AFTER UPDATE ON memory_vectors BEGIN
	INSERT INTO vector_changes(seq) VALUES (new.seq);
END;
CREATE TRIGGER memory_vectors_log_delete AFTER DELETE ON memory_vectors BEGIN
	INSERT INTO vector_changes(seq) VALUES (old.seq);
END;
-- Attribute changes that filters read (tier, user, visibility, …) are
-- logged as well, so an index that caches them stays exact.
CREATE TRIGGER memories_log_update AFTER UPDATE ON memories BEGIN
	INSERT INTO vector_changes(seq) VALUES (new.seq);
END;
`,
	// 3: erasure: a deleted memory takes its v2 job (whose payload holds
	// its content) with it.
	`
CREATE TRIGGER memories_jobs_delete AFTER DELETE ON memories BEGIN
	DELETE FROM jobs WHERE memory_id = old.id;
END;
`, // 4: document counts per term, so that a search can leave out terms
	// so common that matching them would score most of the table.
	`
CREATE VIRTUAL TABLE memory_fts_terms USING fts4aux(memory_fts);
`,
	// 5: v2 job leases. A processing job is held by one claim: lease_owner
	// (a random id per open Relay) until lease_expires (Unix ms); once that
	// has passed, any Relay may claim the job again. Jobs left processing
	// by an older binary get 0, an expired lease, and are claimed at once.
	`
ALTER TABLE jobs ADD COLUMN lease_owner TEXT;
ALTER TABLE jobs ADD COLUMN lease_expires INTEGER NOT NULL DEFAULT 0;
`,
	migrationAgentIDs,
	// 7: webhooks and their outbox (API.md §10.3).
	migrationWebhooks,
	// 8: bring-your-own keys of the LLM entity extractor (API.md §10.7).
	migrationExtractionKeys,
	// 9: keys in the hosted shape: rotation time, spend limits and spend (API.md §10.2).
	migrationKeysHosted,
	// 10: entity extraction (API.md §10.6).
	migrationExtraction,
	// 11: slimmer memory indexes.
	migrationMemoryIndexes,
}

// migrationMemoryIndexes makes the memories' indexes smaller: about a
// third of their size at 100k memories, and the database 1,316 → 1,167
// bytes a memory at a million (BENCHMARKS.md, "Disk"). The account
// and agent indexes no longer carry the 36-character id after created_at:
// a list still orders by created_at then id, and sorts only the rows that
// share a created_at (SQLite's sort of the right part of an ORDER BY),
// which are those written in the same millisecond, as a batch's are. The
// session and project indexes leave out the memories without one, most
// of them: the lookups by session or project (and the foreign key's SET
// NULL of a deleted project) ask for a value, which such a partial index
// answers.
const migrationMemoryIndexes = `
DROP INDEX memories_account_created;
CREATE INDEX memories_account_created ON memories(account_id, created_at DESC);
DROP INDEX memories_agent_created;
CREATE INDEX memories_agent_created ON memories(agent_id, created_at DESC);
DROP INDEX memories_session;
CREATE INDEX memories_session ON memories(session_id) WHERE session_id IS NOT NULL;
DROP INDEX memories_project;
CREATE INDEX memories_project ON memories(project_id) WHERE project_id IS NOT NULL;
`

// migrationAgentIDs gives agents the id a client chose (API contract
// §5.5): agents.id stays the row key that memories, sessions, entities and
// decisions reference, and public_id is the agent's id as the API shows it,
// unique per account (two accounts may use one id). Agents made before it
// keep their ids: public_id = id.
const migrationAgentIDs = `
ALTER TABLE agents ADD COLUMN public_id TEXT NOT NULL DEFAULT '';
UPDATE agents SET public_id = id;
CREATE UNIQUE INDEX agents_public_id ON agents(account_id, public_id);
DROP INDEX agents_account_created;
CREATE INDEX agents_account_created ON agents(account_id, created_at DESC, public_id DESC);
`
