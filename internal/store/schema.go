package store

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

-- Search index: vectors in sqlite-vec's float32 BLOB format and the
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
}
