package postgres

// feedLock is the key of the transaction-level advisory lock that orders
// the change feed: see memory_change() below.
const feedLock = 0x6d656d6368616e67 // "memchang"

// migrations[i] moves the schema from version i to i+1 (the row of
// schema_version). Append only: never edit a migration that has shipped.
//
// Migration 1 is the SQLite schema after its six migrations, in
// PostgreSQL's types: ids and JSON as text (stored verbatim, as SQLite
// does), instants as bigint epoch milliseconds, vectors as bytea (float32
// little-endian, the bytes SQLite stores), the terms of the lexical
// search as text (the in-process lexical index reads them; there is no
// FTS table). SQLite's triggers become foreign keys where they only
// cascade a delete, and a deferred trigger for the change feed.
var migrations = []string{
	`
CREATE TABLE accounts (
	id         text PRIMARY KEY,
	name       text NOT NULL,
	created_at bigint NOT NULL
);

CREATE TABLE api_keys (
	id           text PRIMARY KEY,
	account_id   text NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	name         text NOT NULL,
	prefix       text NOT NULL,
	scopes       integer NOT NULL,
	metadata     text NOT NULL DEFAULT '{}',
	rate_limit   integer NOT NULL DEFAULT 0,
	created_at   bigint NOT NULL,
	expires_at   bigint,
	last_used_at bigint,
	revoked_at   bigint
);
CREATE INDEX api_keys_account ON api_keys(account_id, created_at DESC, id DESC);

-- One row per valid hash of a key: the current one (valid_until NULL) and
-- rotated-out ones during their grace period.
CREATE TABLE api_key_secrets (
	hash        bytea PRIMARY KEY,
	key_id      text NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
	valid_until bigint
);
CREATE INDEX api_key_secrets_key ON api_key_secrets(key_id);

-- id is the row key that memories, sessions, entities and decisions
-- reference; public_id is the agent's id as the API shows it, unique per
-- account.
CREATE TABLE agents (
	id          text PRIMARY KEY,
	account_id  text NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	public_id   text NOT NULL,
	name        text NOT NULL,
	description text,
	config      text NOT NULL DEFAULT '{}',
	metadata    text NOT NULL DEFAULT '{}',
	created_at  bigint NOT NULL,
	updated_at  bigint NOT NULL,
	UNIQUE (account_id, name),
	UNIQUE (account_id, public_id)
);
CREATE INDEX agents_account_created ON agents(account_id, created_at DESC, public_id DESC);

CREATE TABLE projects (
	id          text PRIMARY KEY,
	account_id  text NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	slug        text NOT NULL,
	name        text NOT NULL,
	description text,
	stack       text,                      -- JSON object or NULL
	repo_url    text,
	metadata    text NOT NULL DEFAULT '{}',
	created_at  bigint NOT NULL,
	updated_at  bigint NOT NULL,
	UNIQUE (account_id, slug)
);
CREATE INDEX projects_account_created ON projects(account_id, created_at DESC, id DESC);

CREATE TABLE project_relationships (
	id                text PRIMARY KEY,
	account_id        text NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	source_project_id text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
	target_project_id text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
	relationship_type text NOT NULL,
	metadata          text NOT NULL DEFAULT '{}',
	created_at        bigint NOT NULL
);
CREATE INDEX project_relationships_source ON project_relationships(source_project_id, relationship_type);
CREATE INDEX project_relationships_target ON project_relationships(target_project_id, relationship_type);

CREATE TABLE memories (
	seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- the row id of the search indexes and the feed
	id          text NOT NULL UNIQUE,
	account_id  text NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	agent_id    text NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
	agent_ref   text NOT NULL,                 -- the agent reference as supplied
	user_id     text,
	content     text NOT NULL,
	metadata    text NOT NULL DEFAULT '{}',
	memory_type text,
	visibility  text NOT NULL DEFAULT 'private',
	importance  double precision NOT NULL DEFAULT 0.5,
	tier        text NOT NULL DEFAULT 'warm',
	scope       text NOT NULL DEFAULT 'long-term',
	session_id  text,
	project     text,
	project_id  text REFERENCES projects(id) ON DELETE SET NULL,
	archived_at bigint,
	created_at  bigint NOT NULL,
	updated_at  bigint NOT NULL
);
CREATE INDEX memories_account_created ON memories(account_id, created_at DESC, id DESC);
CREATE INDEX memories_agent_created ON memories(agent_id, created_at DESC, id DESC);
CREATE INDEX memories_session ON memories(session_id);
CREATE INDEX memories_project ON memories(project_id);

-- What the search indexes are built from: the embedding (float32
-- little-endian) and the normalised terms, space-joined.
CREATE TABLE memory_vectors (
	seq       bigint PRIMARY KEY REFERENCES memories(seq) ON DELETE CASCADE,
	embedding bytea NOT NULL
);
CREATE TABLE memory_terms (
	seq   bigint PRIMARY KEY REFERENCES memories(seq) ON DELETE CASCADE,
	terms text NOT NULL
);

-- Facts about the database itself, such as the embedder it was built with.
CREATE TABLE meta (
	key   text PRIMARY KEY,
	value text NOT NULL
);

CREATE TABLE sessions (
	id          text PRIMARY KEY,
	account_id  text NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	agent_id    text NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
	agent_ref   text NOT NULL,
	external_id text,
	project     text,
	status      text NOT NULL DEFAULT 'active',
	title       text,
	summary     text,
	metadata    text NOT NULL DEFAULT '{}',
	started_at  bigint NOT NULL,
	ended_at    bigint,
	created_at  bigint NOT NULL,
	updated_at  bigint NOT NULL
);
CREATE UNIQUE INDEX sessions_external ON sessions(account_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX sessions_account_started ON sessions(account_id, started_at DESC, id DESC);

CREATE TABLE entities (
	id         text PRIMARY KEY,
	account_id text NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	agent_id   text REFERENCES agents(id) ON DELETE CASCADE,
	agent_ref  text,
	name       text NOT NULL,
	type       text NOT NULL DEFAULT 'other',
	metadata   text NOT NULL DEFAULT '{}',
	created_at bigint NOT NULL,
	updated_at bigint NOT NULL
);
CREATE INDEX entities_account_created ON entities(account_id, created_at DESC, id DESC);

CREATE TABLE entity_links (
	entity_id    text NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
	memory_id    text NOT NULL REFERENCES memories(id) ON DELETE CASCADE,
	relationship text NOT NULL DEFAULT 'mentioned_in',
	created_at   bigint NOT NULL,
	PRIMARY KEY (entity_id, memory_id)
);
CREATE INDEX entity_links_memory ON entity_links(memory_id, entity_id);

CREATE TABLE decisions (
	id            text PRIMARY KEY,
	account_id    text NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	agent_id      text REFERENCES agents(id) ON DELETE SET NULL,
	agent_ref     text,
	session_id    text,
	project_slug  text,
	title         text NOT NULL,
	rationale     text NOT NULL,
	alternatives  text,
	status        text NOT NULL DEFAULT 'active',
	superseded_by text,
	tags          text NOT NULL DEFAULT '[]',  -- JSON array of strings
	metadata      text NOT NULL DEFAULT '{}',
	embedding     bytea,                       -- float32 little-endian, of title + rationale
	created_at    bigint NOT NULL,
	updated_at    bigint NOT NULL
);
CREATE INDEX decisions_account_created ON decisions(account_id, created_at DESC, id DESC);

CREATE TABLE patterns (
	id                  text PRIMARY KEY,
	account_id          text NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	title               text NOT NULL,
	description         text NOT NULL,
	category            text,
	example_code        text,
	scope               text NOT NULL DEFAULT 'global',
	tags                text NOT NULL DEFAULT '[]',
	source_project_id   text REFERENCES projects(id) ON DELETE SET NULL,
	source_project_slug text,
	metadata            text NOT NULL DEFAULT '{}',
	adoption_count      integer NOT NULL DEFAULT 0,
	embedding           bytea,
	created_at          bigint NOT NULL,
	updated_at          bigint NOT NULL
);
CREATE INDEX patterns_account_created ON patterns(account_id, created_at DESC, id DESC);

CREATE TABLE pattern_adoptions (
	pattern_id text NOT NULL REFERENCES patterns(id) ON DELETE CASCADE,
	project_id text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
	created_at bigint NOT NULL,
	PRIMARY KEY (pattern_id, project_id)
);
CREATE INDEX pattern_adoptions_project ON pattern_adoptions(project_id);

-- v2 asynchronous ingest: one row per accepted memory. A processing job
-- is held by one claim: lease_owner (a random id per open store) until
-- lease_expires (epoch ms); once that has passed, any node may claim it.
CREATE TABLE jobs (
	id            text PRIMARY KEY,             -- job_<uuid>
	memory_id     text NOT NULL UNIQUE,         -- the memory the job creates
	account_id    text NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	status        text NOT NULL,                -- pending, processing, ready, failed
	payload       text NOT NULL,                -- the accepted request, JSON
	error         text,
	webhook_url   text,
	attempts      integer NOT NULL DEFAULT 0,
	lease_owner   text,
	lease_expires bigint NOT NULL DEFAULT 0,
	created_at    bigint NOT NULL,
	updated_at    bigint NOT NULL
);
CREATE INDEX jobs_status ON jobs(status, created_at);

-- Erasure: a deleted memory takes its v2 job (whose payload holds its
-- content) with it. (No foreign key: the job exists before its memory.)
CREATE FUNCTION memories_jobs_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM jobs WHERE memory_id = OLD.id;
	RETURN NULL;
END $$;
CREATE TRIGGER memories_jobs_delete AFTER DELETE ON memories
	FOR EACH ROW EXECUTE FUNCTION memories_jobs_delete();

-- Requests per key per UTC day, for GET /v1/quota.
CREATE TABLE key_usage (
	key_id text NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
	day    text NOT NULL,                     -- YYYY-MM-DD, UTC
	count  bigint NOT NULL,
	PRIMARY KEY (key_id, day)
);

-- The change feed: every committed change to a memory's vector or to its
-- row, in commit order, so that every node's in-process indexes can catch
-- up without a full reload. Positions are assigned at commit: the
-- trigger is deferred to the end of the transaction and first takes the
-- feed's advisory lock, which is held until the transaction's commit is
-- visible, so a change is never given a position below one already
-- visible (a reader that has read up to position p has missed nothing
-- below p). Writers of memories are serialised only for that last step.
-- Each commit that logs changes notifies the channel memoryrelay_changes.
CREATE TABLE memory_changes (
	id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	seq bigint NOT NULL                       -- memories.seq; look it up to see whether it still exists
);
CREATE FUNCTION memory_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_advisory_xact_lock(` + feedLockSQL + `);
	IF TG_OP = 'DELETE' THEN
		INSERT INTO memory_changes(seq) VALUES (OLD.seq);
	ELSE
		INSERT INTO memory_changes(seq) VALUES (NEW.seq);
	END IF;
	PERFORM pg_notify('memoryrelay_changes', '');
	RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER memory_vectors_change AFTER INSERT OR UPDATE OR DELETE ON memory_vectors
	DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION memory_change();
-- Attribute changes that filters read (tier, user, visibility, …) are
-- logged as well, so an index that caches them stays exact.
CREATE CONSTRAINT TRIGGER memories_change AFTER UPDATE ON memories
	DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION memory_change();
`,
	// Migration 2: what the methods of the domain need besides migration
	// 1's tables.
	`
-- The lexical side of search. lexemes is the terms as an array, which a
-- GIN index serves (lexemes && the query's terms: the candidates), and
-- term_stats and corpus_stats are the counts BM25 needs of the whole
-- table (FTS4 keeps them in SQLite): per term, the rows that hold it and
-- its occurrences; in all, the rows and their total length. A deferred
-- trigger keeps them at commit, under the feed's lock, so that the
-- updates of the counts of common terms are serialised (no deadlock
-- between writers) and no row lock on them is held through a
-- transaction.
ALTER TABLE memory_terms ADD COLUMN lexemes text[]
	GENERATED ALWAYS AS (array_remove(string_to_array(terms, ' '), '')) STORED;
CREATE INDEX memory_terms_lexemes ON memory_terms USING gin (lexemes);
CREATE TABLE term_stats (
	term text PRIMARY KEY,
	docs bigint NOT NULL,                     -- rows of memory_terms holding it
	hits bigint NOT NULL                      -- its occurrences in them
);
CREATE TABLE corpus_stats (
	one    boolean PRIMARY KEY DEFAULT true CHECK (one),
	docs   bigint NOT NULL,                   -- rows of memory_terms
	length bigint NOT NULL                    -- their lexemes, in all
);
INSERT INTO corpus_stats(docs, length) SELECT count(*), coalesce(sum(cardinality(lexemes)), 0) FROM memory_terms;
INSERT INTO term_stats(term, docs, hits) SELECT e, count(DISTINCT t.seq), count(*) FROM memory_terms t, unnest(t.lexemes) e GROUP BY e;
CREATE FUNCTION memory_terms_stats() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_advisory_xact_lock(` + feedLockSQL + `);
	IF TG_OP <> 'INSERT' THEN
		UPDATE term_stats s SET docs = s.docs - 1, hits = s.hits - c.n
			FROM (SELECT e, count(*) AS n FROM unnest(OLD.lexemes) e GROUP BY e) c WHERE s.term = c.e;
		DELETE FROM term_stats WHERE term = ANY(OLD.lexemes) AND docs <= 0;
		UPDATE corpus_stats SET docs = docs - 1, length = length - cardinality(OLD.lexemes);
	END IF;
	IF TG_OP <> 'DELETE' THEN
		INSERT INTO term_stats(term, docs, hits) SELECT e, 1, count(*) FROM unnest(NEW.lexemes) e GROUP BY e ORDER BY e
			ON CONFLICT (term) DO UPDATE SET docs = term_stats.docs + 1, hits = term_stats.hits + excluded.hits;
		UPDATE corpus_stats SET docs = docs + 1, length = length + cardinality(NEW.lexemes);
	END IF;
	RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER memory_terms_stats AFTER INSERT OR UPDATE OR DELETE ON memory_terms
	DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION memory_terms_stats();

-- The newest position Prune deleted, so that Bounds knows the newest
-- position when the feed is empty.
CREATE TABLE feed_state (
	one    boolean PRIMARY KEY DEFAULT true CHECK (one),
	pruned bigint NOT NULL
);
INSERT INTO feed_state(pruned) SELECT coalesce(max(id), 0) FROM memory_changes;

-- Row numbers in insertion order, as SQLite's rowid: the walk of a
-- re-embedding (decisions, patterns) and the claim order of jobs.
ALTER TABLE decisions ADD COLUMN rowid bigint GENERATED ALWAYS AS IDENTITY;
CREATE UNIQUE INDEX decisions_rowid ON decisions(rowid);
ALTER TABLE patterns ADD COLUMN rowid bigint GENERATED ALWAYS AS IDENTITY;
CREATE UNIQUE INDEX patterns_rowid ON patterns(rowid);
ALTER TABLE jobs ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY;
DROP INDEX jobs_status;
CREATE INDEX jobs_status ON jobs(status, created_at, seq);

-- Text that orders lists is compared byte by byte, as SQLite does, whatever
-- the database's collation: ids (ties of the newest-first lists), names
-- and slugs (neighbourhoods, dependents, a memory's entities), and the
-- types of edges.
ALTER TABLE memories ALTER COLUMN id TYPE text COLLATE "C";
ALTER TABLE agents ALTER COLUMN public_id TYPE text COLLATE "C";
ALTER TABLE entities ALTER COLUMN id TYPE text COLLATE "C";
ALTER TABLE entities ALTER COLUMN name TYPE text COLLATE "C";
ALTER TABLE entity_links ALTER COLUMN memory_id TYPE text COLLATE "C";
ALTER TABLE decisions ALTER COLUMN id TYPE text COLLATE "C";
ALTER TABLE sessions ALTER COLUMN id TYPE text COLLATE "C";
ALTER TABLE projects ALTER COLUMN id TYPE text COLLATE "C";
ALTER TABLE projects ALTER COLUMN slug TYPE text COLLATE "C";
ALTER TABLE project_relationships ALTER COLUMN relationship_type TYPE text COLLATE "C";
ALTER TABLE api_keys ALTER COLUMN id TYPE text COLLATE "C";
ALTER TABLE patterns ALTER COLUMN id TYPE text COLLATE "C";

-- One edge per source, target and type, whichever node stores it.
CREATE UNIQUE INDEX project_relationships_edge ON project_relationships(source_project_id, target_project_id, relationship_type);
CREATE INDEX decisions_agent ON decisions(agent_id);
CREATE INDEX entities_agent ON entities(agent_id);
CREATE INDEX sessions_agent ON sessions(agent_id);
CREATE INDEX patterns_source ON patterns(source_project_id);
`,
	// Migration 3: keys in the hosted shape (API.md §10.2), as SQLite's migration 9:
	// the rotation's time, spend limits (nano-USD; NULL unlimited) and the
	// spend of the current day and month.
	`
ALTER TABLE api_keys ADD COLUMN rotated_at bigint;
ALTER TABLE api_keys ADD COLUMN daily_spend_limit bigint;
ALTER TABLE api_keys ADD COLUMN monthly_spend_limit bigint;
ALTER TABLE api_keys ADD COLUMN spend_day text NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN spend_day_nano bigint NOT NULL DEFAULT 0;
ALTER TABLE api_keys ADD COLUMN spend_month text NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN spend_month_nano bigint NOT NULL DEFAULT 0;
`,
	migrationHosted,
}

// feedLockSQL is feedLock as an SQL literal.
const feedLockSQL = "7882826996502326887"
