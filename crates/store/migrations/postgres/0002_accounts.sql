-- Accounts, sessions, login throttling, API tokens, pending OpenID Connect logins, audit log.
-- Everything the server knows between two requests lives here: servers keep no state.

CREATE TABLE account (
    id             TEXT PRIMARY KEY,
    email          TEXT NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    display_name   TEXT NOT NULL CHECK (length(trim(display_name)) > 0),
    -- argon2id PHC string; NULL for accounts that log in through OpenID Connect only.
    password_hash  TEXT,
    role           TEXT NOT NULL,
    cpts_id        TEXT REFERENCES cpts (id),
    region         TEXT,
    agency         TEXT,
    oidc_issuer    TEXT,
    oidc_subject   TEXT,
    created_at     TIMESTAMPTZ NOT NULL,
    disabled_at    TIMESTAMPTZ
);
CREATE UNIQUE INDEX account_email_unique ON account (lower(email));
CREATE UNIQUE INDEX account_oidc_unique ON account (oidc_issuer, oidc_subject);
CREATE INDEX account_by_cpts ON account (cpts_id, id);

-- The cookie carries a random token; only its SHA-256 is stored, so a copy of the database
-- does not hand out live sessions.
CREATE TABLE session (
    token_hash     TEXT PRIMARY KEY,
    account_id     TEXT NOT NULL REFERENCES account (id) ON DELETE CASCADE,
    csrf_token     TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    expires_at     TIMESTAMPTZ NOT NULL,
    last_seen_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX session_by_account ON session (account_id);
CREATE INDEX session_by_expiry ON session (expires_at);

CREATE TABLE login_throttle (
    throttle_key   TEXT PRIMARY KEY,
    failures       BIGINT NOT NULL,
    window_start   TIMESTAMPTZ NOT NULL
);

CREATE TABLE api_token (
    id             TEXT PRIMARY KEY,
    account_id     TEXT NOT NULL REFERENCES account (id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    token_hash     TEXT NOT NULL UNIQUE,
    created_at     TIMESTAMPTZ NOT NULL,
    last_used_at   TIMESTAMPTZ,
    revoked_at     TIMESTAMPTZ
);
CREATE INDEX api_token_by_account ON api_token (account_id);

CREATE TABLE oidc_pending (
    state          TEXT PRIMARY KEY,
    issuer         TEXT NOT NULL,
    -- SHA-256 of a random cookie given to the browser that started the login.
    browser_hash   TEXT NOT NULL,
    nonce          TEXT NOT NULL,
    pkce_verifier  TEXT NOT NULL,
    return_to      TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL
);

-- Append-only record of every read and change of personal data, and of security events.
-- cpts_id is '' for platform-level events.
CREATE TABLE audit_event (
    cpts_id        TEXT NOT NULL,
    id             TEXT NOT NULL,
    at             TIMESTAMPTZ NOT NULL,
    account_id     TEXT,
    account_label  TEXT NOT NULL,
    role           TEXT NOT NULL,
    action         TEXT NOT NULL,
    object_type    TEXT NOT NULL,
    object_id      TEXT NOT NULL,
    request_id     TEXT NOT NULL,
    detail         TEXT NOT NULL,
    PRIMARY KEY (cpts_id, id)
);
CREATE INDEX audit_event_by_time ON audit_event (cpts_id, at, id);

CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_event is append-only';
END;
$$;
CREATE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON audit_event
FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();
