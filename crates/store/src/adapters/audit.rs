//! The append-only audit log.

use super::{PgStore, SqliteStore, Store, delegate};
use crate::model::{AuditEvent, CptsId, Page};
use crate::{AuditStore, StoreError, StoreResult};
use sqlx::Row;

/// Platform-level events are stored under the empty CPTS id, keeping `cpts_id` at the head of
/// the key for every row.
const PLATFORM: &str = "";

macro_rules! audit_sql {
    ($store:ty, $row:ty, $conn:ty) => {
        impl $store {
            /// Appends an event on `conn`: inside a transaction, the event commits with the change
            /// it records, or not at all.
            pub(crate) async fn insert_audit(conn: &mut $conn, e: &AuditEvent) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO audit_event (cpts_id, id, at, account_id, account_label, role, action, object_type,
                                              object_id, request_id, detail)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(e.cpts_id.as_ref().map_or(PLATFORM, CptsId::as_str))
                .bind(&e.id)
                .bind(e.at)
                .bind(e.account_id.as_deref())
                .bind(&e.account_label)
                .bind(&e.role)
                .bind(&e.action)
                .bind(&e.object_type)
                .bind(&e.object_id)
                .bind(&e.request_id)
                .bind(&e.detail)
                .execute(&mut *conn)
                .await?;
                Ok(())
            }

            fn audit_from_row(r: &$row) -> StoreResult<AuditEvent> {
                let cpts: String = r.try_get("cpts_id")?;
                Ok(AuditEvent {
                    cpts_id: if cpts.is_empty() {
                        None
                    } else {
                        Some(CptsId::parse(&cpts).ok_or_else(|| StoreError::Corrupt(format!("cpts id {cpts:?}")))?)
                    },
                    id: r.try_get("id")?,
                    at: r.try_get("at")?,
                    account_id: r.try_get("account_id")?,
                    account_label: r.try_get("account_label")?,
                    role: r.try_get("role")?,
                    action: r.try_get("action")?,
                    object_type: r.try_get("object_type")?,
                    object_id: r.try_get("object_id")?,
                    request_id: r.try_get("request_id")?,
                    detail: r.try_get("detail")?,
                })
            }
        }

        impl AuditStore for $store {
            async fn append_audit(&self, e: &AuditEvent) -> StoreResult<()> {
                let mut conn = self.pool.acquire().await?;
                Self::insert_audit(&mut conn, e).await
            }

            async fn audit_page(&self, cpts: Option<&CptsId>, page: Page) -> StoreResult<Vec<AuditEvent>> {
                let rows = sqlx::query(
                    "SELECT cpts_id, id, at, account_id, account_label, role, action, object_type, object_id,
                            request_id, detail
                     FROM audit_event WHERE ($1 IS NULL OR cpts_id = $1)
                     ORDER BY at DESC, id DESC LIMIT $2 OFFSET $3",
                )
                .bind(cpts.map(CptsId::as_str))
                .bind(i64::from(page.limit))
                .bind(i64::from(page.offset))
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(Self::audit_from_row).collect()
            }

            async fn audit_count(&self, cpts: Option<&CptsId>) -> StoreResult<u64> {
                let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_event WHERE ($1 IS NULL OR cpts_id = $1)")
                    .bind(cpts.map(CptsId::as_str))
                    .fetch_one(&self.pool)
                    .await?;
                Ok(u64::try_from(n).unwrap_or(0))
            }
        }
    };
}

audit_sql!(SqliteStore, sqlx::sqlite::SqliteRow, sqlx::SqliteConnection);
audit_sql!(PgStore, sqlx::postgres::PgRow, sqlx::PgConnection);

impl AuditStore for Store {
    async fn append_audit(&self, event: &AuditEvent) -> StoreResult<()> {
        delegate!(self, s => s.append_audit(event))
    }
    async fn audit_page(&self, cpts: Option<&CptsId>, page: Page) -> StoreResult<Vec<AuditEvent>> {
        delegate!(self, s => s.audit_page(cpts, page))
    }
    async fn audit_count(&self, cpts: Option<&CptsId>) -> StoreResult<u64> {
        delegate!(self, s => s.audit_count(cpts))
    }
}
