//! Accounts, sessions, throttling, API tokens and pending OpenID logins.

use super::{PgStore, SqliteStore, Store, conflict_or, delegate, settle};
use crate::model::{Account, AccountCredentials, ApiToken, CptsId, NewAccount, PendingOidcLogin, Session};
use crate::{AccountStore, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use maillage_core::access::{Agency, Role, RoleKind};
use sqlx::Row;

const ACCOUNT_COLUMNS: &str = "a.id, a.email, a.display_name, a.role, a.cpts_id, a.region, a.agency, \
                               a.oidc_issuer, a.oidc_subject, a.created_at, a.disabled_at";

/// The stored columns of a role.
fn role_columns(role: &Role) -> (&'static str, Option<&str>, Option<&str>, Option<&'static str>) {
    let agency = role.agency().map(|a| match a {
        Agency::Ars => "ars",
        Agency::Cpam => "cpam",
    });
    (role.kind().as_str(), role.cpts().map(CptsId::as_str), role.region(), agency)
}

fn role_from_columns(
    kind: &str,
    cpts: Option<String>,
    region: Option<String>,
    agency: Option<String>,
) -> StoreResult<Role> {
    let kind = RoleKind::parse(kind).ok_or_else(|| StoreError::Corrupt(format!("role {kind:?}")))?;
    let cpts = match cpts {
        Some(c) => Some(CptsId::parse(&c).ok_or_else(|| StoreError::Corrupt(format!("cpts id {c:?}")))?),
        None => None,
    };
    let agency = match agency.as_deref() {
        Some("ars") => Some(Agency::Ars),
        Some("cpam") => Some(Agency::Cpam),
        None => None,
        Some(other) => return Err(StoreError::Corrupt(format!("agency {other:?}"))),
    };
    Role::from_parts(kind, cpts, region, agency).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// How stale a session's last-seen or a token's last-used time may get before a request
/// refreshes it: reads stay reads (no fsync per GET on SQLite, no row contention on PostgreSQL).
const TOUCH_INTERVAL: chrono::Duration = chrono::Duration::minutes(5);

fn random_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

macro_rules! accounts_sql {
    ($store:ty, $row:ty) => {
        impl $store {
            fn account_from_row(r: &$row) -> StoreResult<Account> {
                let issuer: Option<String> = r.try_get("oidc_issuer")?;
                let subject: Option<String> = r.try_get("oidc_subject")?;
                Ok(Account {
                    id: r.try_get("id")?,
                    email: r.try_get("email")?,
                    display_name: r.try_get("display_name")?,
                    role: role_from_columns(
                        &r.try_get::<String, _>("role")?,
                        r.try_get("cpts_id")?,
                        r.try_get("region")?,
                        r.try_get("agency")?,
                    )?,
                    oidc: issuer.zip(subject),
                    created_at: r.try_get("created_at")?,
                    disabled_at: r.try_get("disabled_at")?,
                })
            }
        }

        impl AccountStore for $store {
            async fn create_account(&self, new: &NewAccount, now: DateTime<Utc>) -> StoreResult<Account> {
                let id = random_id();
                let (role, cpts, region, agency) = role_columns(&new.role);
                sqlx::query(
                    "INSERT INTO account (id, email, display_name, password_hash, role, cpts_id, region, agency, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(&id)
                .bind(new.email.trim())
                .bind(new.display_name.trim())
                .bind(new.password_hash.as_deref())
                .bind(role)
                .bind(cpts)
                .bind(region)
                .bind(agency)
                .bind(now)
                .execute(&self.pool)
                .await
                .map_err(|e| conflict_or(e, &format!("an account with e-mail {} exists already", new.email.trim())))?;
                self.get_account(&id).await
            }

            async fn get_account(&self, id: &str) -> StoreResult<Account> {
                let row = sqlx::query(&format!("SELECT {ACCOUNT_COLUMNS} FROM account a WHERE a.id = $1"))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?
                    .ok_or(StoreError::NotFound)?;
                Self::account_from_row(&row)
            }

            async fn account_credentials(&self, email: &str) -> StoreResult<Option<AccountCredentials>> {
                let row = sqlx::query(&format!(
                    "SELECT {ACCOUNT_COLUMNS}, a.password_hash FROM account a WHERE lower(a.email) = lower($1)"
                ))
                .bind(email.trim())
                .fetch_optional(&self.pool)
                .await?;
                row.map(|r| {
                    Ok(AccountCredentials { account: Self::account_from_row(&r)?, password_hash: r.try_get("password_hash")? })
                })
                .transpose()
            }

            async fn account_by_oidc(&self, issuer: &str, subject: &str) -> StoreResult<Option<Account>> {
                let row = sqlx::query(&format!(
                    "SELECT {ACCOUNT_COLUMNS} FROM account a WHERE a.oidc_issuer = $1 AND a.oidc_subject = $2"
                ))
                .bind(issuer)
                .bind(subject)
                .fetch_optional(&self.pool)
                .await?;
                row.as_ref().map(Self::account_from_row).transpose()
            }

            async fn link_oidc(&self, account_id: &str, issuer: &str, subject: &str) -> StoreResult<()> {
                let done = sqlx::query("UPDATE account SET oidc_issuer = $2, oidc_subject = $3 WHERE id = $1")
                    .bind(account_id)
                    .bind(issuer)
                    .bind(subject)
                    .execute(&self.pool)
                    .await
                    .map_err(|e| conflict_or(e, "this identity is linked to another account"))?;
                if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
            }

            async fn list_accounts(&self, cpts: Option<&CptsId>) -> StoreResult<Vec<Account>> {
                let rows = sqlx::query(&format!(
                    "SELECT {ACCOUNT_COLUMNS} FROM account a WHERE ($1 IS NULL OR a.cpts_id = $1) ORDER BY lower(a.email)"
                ))
                .bind(cpts.map(CptsId::as_str))
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(Self::account_from_row).collect()
            }

            async fn set_role(&self, account_id: &str, role: &Role) -> StoreResult<()> {
                let (kind, cpts, region, agency) = role_columns(role);
                let done = sqlx::query("UPDATE account SET role = $2, cpts_id = $3, region = $4, agency = $5 WHERE id = $1")
                    .bind(account_id)
                    .bind(kind)
                    .bind(cpts)
                    .bind(region)
                    .bind(agency)
                    .execute(&self.pool)
                    .await?;
                if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
            }

            async fn set_password_hash(&self, account_id: &str, hash: &str) -> StoreResult<()> {
                let done = sqlx::query("UPDATE account SET password_hash = $2 WHERE id = $1")
                    .bind(account_id)
                    .bind(hash)
                    .execute(&self.pool)
                    .await?;
                if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
            }

            async fn set_disabled(&self, account_id: &str, at: Option<DateTime<Utc>>) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                let result = async {
                    let done = sqlx::query("UPDATE account SET disabled_at = $2 WHERE id = $1")
                        .bind(account_id)
                        .bind(at)
                        .execute(&mut *tx)
                        .await?;
                    if done.rows_affected() == 0 {
                        return Err(StoreError::NotFound);
                    }
                    if at.is_some() {
                        sqlx::query("DELETE FROM session WHERE account_id = $1").bind(account_id).execute(&mut *tx).await?;
                    }

                    Ok(())
                }
                .await;
                settle(tx, result).await
            }

            async fn create_session(&self, s: &Session, now: DateTime<Utc>) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO session (token_hash, account_id, csrf_token, created_at, expires_at, last_seen_at)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&s.token_hash)
                .bind(&s.account_id)
                .bind(&s.csrf_token)
                .bind(s.created_at)
                .bind(s.expires_at)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn live_session(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<(Session, Account)>> {
                let row = sqlx::query(&format!(
                    "SELECT {ACCOUNT_COLUMNS}, s.token_hash, s.csrf_token, s.created_at AS s_created, s.expires_at,
                            s.last_seen_at
                     FROM session s JOIN account a ON a.id = s.account_id
                     WHERE s.token_hash = $1 AND s.expires_at > $2 AND a.disabled_at IS NULL"
                ))
                .bind(token_hash)
                .bind(now)
                .fetch_optional(&self.pool)
                .await?;
                let Some(r) = row else { return Ok(None) };
                let account = Self::account_from_row(&r)?;
                let session = Session {
                    token_hash: r.try_get("token_hash")?,
                    account_id: account.id.clone(),
                    csrf_token: r.try_get("csrf_token")?,
                    created_at: r.try_get("s_created")?,
                    expires_at: r.try_get("expires_at")?,
                };
                // Reads must not write: last-seen is refreshed at most every few minutes.
                let last_seen: DateTime<Utc> = r.try_get("last_seen_at")?;
                if now - last_seen > TOUCH_INTERVAL {
                    sqlx::query("UPDATE session SET last_seen_at = $2 WHERE token_hash = $1")
                        .bind(token_hash)
                        .bind(now)
                        .execute(&self.pool)
                        .await?;
                }
                Ok(Some((session, account)))
            }

            async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
                sqlx::query("DELETE FROM session WHERE token_hash = $1").bind(token_hash).execute(&self.pool).await?;
                Ok(())
            }

            async fn purge_expired(&self, now: DateTime<Utc>, pending_before: DateTime<Utc>) -> StoreResult<u64> {
                let gone = sqlx::query("DELETE FROM session WHERE expires_at <= $1").bind(now).execute(&self.pool).await?;
                sqlx::query("DELETE FROM oidc_pending WHERE created_at < $1")
                    .bind(pending_before)
                    .execute(&self.pool)
                    .await?;
                Ok(gone.rows_affected())
            }

            async fn record_login_failure(&self, key: &str, now: DateTime<Utc>, window: chrono::Duration) -> StoreResult<u32> {
                let mut tx = self.pool.begin().await?;
                let result = async {
                    // A window that has run out starts again from this failure.
                    sqlx::query("DELETE FROM login_throttle WHERE throttle_key = $1 AND window_start <= $2")
                        .bind(key)
                        .bind(now - window)
                        .execute(&mut *tx)
                        .await?;
                    let failures: i64 = sqlx::query_scalar(
                        "INSERT INTO login_throttle (throttle_key, failures, window_start) VALUES ($1, 1, $2)
                         ON CONFLICT (throttle_key) DO UPDATE SET failures = login_throttle.failures + 1
                         RETURNING failures",
                    )
                    .bind(key)
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await?;

                    Ok(u32::try_from(failures).unwrap_or(u32::MAX))
                }
                .await;
                settle(tx, result).await
            }

            async fn login_failures(&self, key: &str, now: DateTime<Utc>, window: chrono::Duration) -> StoreResult<u32> {
                let failures: Option<i64> = sqlx::query_scalar(
                    "SELECT failures FROM login_throttle WHERE throttle_key = $1 AND window_start > $2",
                )
                .bind(key)
                .bind(now - window)
                .fetch_optional(&self.pool)
                .await?;
                Ok(failures.map_or(0, |f| u32::try_from(f).unwrap_or(u32::MAX)))
            }

            async fn clear_login_failures(&self, key: &str) -> StoreResult<()> {
                sqlx::query("DELETE FROM login_throttle WHERE throttle_key = $1").bind(key).execute(&self.pool).await?;
                Ok(())
            }

            async fn create_api_token(&self, t: &ApiToken, token_hash: &str) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO api_token (id, account_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&t.id)
                .bind(&t.account_id)
                .bind(&t.name)
                .bind(token_hash)
                .bind(t.created_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn account_by_api_token(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<Account>> {
                let row = sqlx::query(&format!(
                    "SELECT {ACCOUNT_COLUMNS}, t.last_used_at FROM api_token t JOIN account a ON a.id = t.account_id
                     WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND a.disabled_at IS NULL"
                ))
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await?;
                let Some(r) = row else { return Ok(None) };
                let last_used: Option<DateTime<Utc>> = r.try_get("last_used_at")?;
                if last_used.is_none_or(|t| now - t > TOUCH_INTERVAL) {
                    sqlx::query("UPDATE api_token SET last_used_at = $2 WHERE token_hash = $1")
                        .bind(token_hash)
                        .bind(now)
                        .execute(&self.pool)
                        .await?;
                }
                Self::account_from_row(&r).map(Some)
            }

            async fn list_api_tokens(&self, account_id: &str) -> StoreResult<Vec<ApiToken>> {
                let rows = sqlx::query(
                    "SELECT id, account_id, name, created_at, last_used_at, revoked_at FROM api_token
                     WHERE account_id = $1 ORDER BY created_at DESC, id",
                )
                .bind(account_id)
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|r| {
                        Ok(ApiToken {
                            id: r.try_get("id")?,
                            account_id: r.try_get("account_id")?,
                            name: r.try_get("name")?,
                            created_at: r.try_get("created_at")?,
                            last_used_at: r.try_get("last_used_at")?,
                            revoked_at: r.try_get("revoked_at")?,
                        })
                    })
                    .collect()
            }

            async fn revoke_api_token(&self, account_id: &str, token_id: &str, now: DateTime<Utc>) -> StoreResult<()> {
                let done = sqlx::query(
                    "UPDATE api_token SET revoked_at = $3 WHERE account_id = $1 AND id = $2 AND revoked_at IS NULL",
                )
                .bind(account_id)
                .bind(token_id)
                .bind(now)
                .execute(&self.pool)
                .await?;
                if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
            }

            async fn put_pending_oidc(&self, p: &PendingOidcLogin) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO oidc_pending (state, issuer, browser_hash, nonce, pkce_verifier, return_to, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&p.state)
                .bind(&p.issuer)
                .bind(&p.browser_hash)
                .bind(&p.nonce)
                .bind(&p.pkce_verifier)
                .bind(&p.return_to)
                .bind(p.created_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn take_pending_oidc(&self, state: &str) -> StoreResult<Option<PendingOidcLogin>> {
                let row = sqlx::query(
                    "DELETE FROM oidc_pending WHERE state = $1
                     RETURNING state, issuer, browser_hash, nonce, pkce_verifier, return_to, created_at",
                )
                .bind(state)
                .fetch_optional(&self.pool)
                .await?;
                row.map(|r| {
                    Ok(PendingOidcLogin {
                        state: r.try_get("state")?,
                        issuer: r.try_get("issuer")?,
                        browser_hash: r.try_get("browser_hash")?,
                        nonce: r.try_get("nonce")?,
                        pkce_verifier: r.try_get("pkce_verifier")?,
                        return_to: r.try_get("return_to")?,
                        created_at: r.try_get("created_at")?,
                    })
                })
                .transpose()
            }
        }
    };
}

accounts_sql!(SqliteStore, sqlx::sqlite::SqliteRow);
accounts_sql!(PgStore, sqlx::postgres::PgRow);

impl AccountStore for Store {
    async fn create_account(&self, new: &NewAccount, now: DateTime<Utc>) -> StoreResult<Account> {
        delegate!(self, s => s.create_account(new, now))
    }
    async fn get_account(&self, id: &str) -> StoreResult<Account> {
        delegate!(self, s => s.get_account(id))
    }
    async fn account_credentials(&self, email: &str) -> StoreResult<Option<AccountCredentials>> {
        delegate!(self, s => s.account_credentials(email))
    }
    async fn account_by_oidc(&self, issuer: &str, subject: &str) -> StoreResult<Option<Account>> {
        delegate!(self, s => s.account_by_oidc(issuer, subject))
    }
    async fn link_oidc(&self, account_id: &str, issuer: &str, subject: &str) -> StoreResult<()> {
        delegate!(self, s => s.link_oidc(account_id, issuer, subject))
    }
    async fn list_accounts(&self, cpts: Option<&CptsId>) -> StoreResult<Vec<Account>> {
        delegate!(self, s => s.list_accounts(cpts))
    }
    async fn set_role(&self, account_id: &str, role: &Role) -> StoreResult<()> {
        delegate!(self, s => s.set_role(account_id, role))
    }
    async fn set_password_hash(&self, account_id: &str, hash: &str) -> StoreResult<()> {
        delegate!(self, s => s.set_password_hash(account_id, hash))
    }
    async fn set_disabled(&self, account_id: &str, at: Option<DateTime<Utc>>) -> StoreResult<()> {
        delegate!(self, s => s.set_disabled(account_id, at))
    }
    async fn create_session(&self, session: &Session, now: DateTime<Utc>) -> StoreResult<()> {
        delegate!(self, s => s.create_session(session, now))
    }
    async fn live_session(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<(Session, Account)>> {
        delegate!(self, s => s.live_session(token_hash, now))
    }
    async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        delegate!(self, s => s.delete_session(token_hash))
    }
    async fn purge_expired(&self, now: DateTime<Utc>, pending_before: DateTime<Utc>) -> StoreResult<u64> {
        delegate!(self, s => s.purge_expired(now, pending_before))
    }
    async fn record_login_failure(&self, key: &str, now: DateTime<Utc>, window: chrono::Duration) -> StoreResult<u32> {
        delegate!(self, s => s.record_login_failure(key, now, window))
    }
    async fn login_failures(&self, key: &str, now: DateTime<Utc>, window: chrono::Duration) -> StoreResult<u32> {
        delegate!(self, s => s.login_failures(key, now, window))
    }
    async fn clear_login_failures(&self, key: &str) -> StoreResult<()> {
        delegate!(self, s => s.clear_login_failures(key))
    }
    async fn create_api_token(&self, token: &ApiToken, token_hash: &str) -> StoreResult<()> {
        delegate!(self, s => s.create_api_token(token, token_hash))
    }
    async fn account_by_api_token(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<Account>> {
        delegate!(self, s => s.account_by_api_token(token_hash, now))
    }
    async fn list_api_tokens(&self, account_id: &str) -> StoreResult<Vec<ApiToken>> {
        delegate!(self, s => s.list_api_tokens(account_id))
    }
    async fn revoke_api_token(&self, account_id: &str, token_id: &str, now: DateTime<Utc>) -> StoreResult<()> {
        delegate!(self, s => s.revoke_api_token(account_id, token_id, now))
    }
    async fn put_pending_oidc(&self, pending: &PendingOidcLogin) -> StoreResult<()> {
        delegate!(self, s => s.put_pending_oidc(pending))
    }
    async fn take_pending_oidc(&self, state: &str) -> StoreResult<Option<PendingOidcLogin>> {
        delegate!(self, s => s.take_pending_oidc(state))
    }
}
