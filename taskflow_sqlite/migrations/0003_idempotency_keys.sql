-- Requests made under an Idempotency-Key, and their answers, one row per key and scope (an
-- actor, or every anonymous caller). status, body and version stay NULL until the request
-- has answered, in the transaction that claimed the key. Timestamps as in the other tables.

CREATE TABLE idempotency_keys (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status INTEGER,
    body BLOB,
    version INTEGER,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    PRIMARY KEY (scope, key)
);

-- Each answered request deletes a few expired rows, found here at once.
CREATE INDEX idempotency_keys_expires_at_index ON idempotency_keys (expires_at);
