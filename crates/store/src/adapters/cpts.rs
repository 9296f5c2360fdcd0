//! CPTS registry SQL.

use super::{PgStore, SqliteStore, Store, conflict_or, delegate, parse_code, settle};
use crate::model::{AuditEvent, Cpts, CptsId, CptsSummary, NewCpts};
use crate::{CptsStore, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use maillage_core::ids::{Finess, InseeCode};
use sqlx::Row;

fn finess_of<R: Row>(row: &R) -> StoreResult<Option<Finess>>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let text: Option<String> = row.try_get("finess")?;
    text.map(|t| Finess::parse(&t).map_err(|e| StoreError::Corrupt(format!("cpts finess {t:?}: {e}")))).transpose()
}

macro_rules! cpts_sql {
    ($store:ty) => {
        impl CptsStore for $store {
            async fn create_cpts(&self, new: &NewCpts, now: DateTime<Utc>) -> StoreResult<Cpts> {
                let id = crate::model::new_cpts_id();
                let mut tx = self.pool.begin().await?;
                let result = async {
                    sqlx::query("INSERT INTO cpts (id, name, created_at, updated_at) VALUES ($1, $2, $3, $3)")
                        .bind(id.as_str())
                        .bind(new.name.trim())
                        .bind(now)
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| conflict_or(e, &format!("a CPTS named {:?} exists already", new.name.trim())))?;
                    for code in &new.communes {
                        sqlx::query("INSERT INTO cpts_commune (cpts_id, commune_code) VALUES ($1, $2)")
                            .bind(id.as_str())
                            .bind(code.as_str())
                            .execute(&mut *tx)
                            .await
                            .map_err(|e| conflict_or(e, &format!("commune {code} listed twice")))?;
                    }

                    Ok(())
                }
                .await;
                settle(tx, result).await?;
                self.get_cpts(&id).await
            }

            async fn get_cpts(&self, id: &CptsId) -> StoreResult<Cpts> {
                let row = sqlx::query("SELECT id, name, finess, created_at, updated_at FROM cpts WHERE id = $1")
                    .bind(id.as_str())
                    .fetch_optional(&self.pool)
                    .await?
                    .ok_or(StoreError::NotFound)?;
                let codes: Vec<String> = sqlx::query_scalar(
                    "SELECT commune_code FROM cpts_commune WHERE cpts_id = $1 ORDER BY commune_code",
                )
                .bind(id.as_str())
                .fetch_all(&self.pool)
                .await?;
                Ok(Cpts {
                    id: id.clone(),
                    name: row.try_get("name")?,
                    communes: codes.iter().map(|c| parse_code(c)).collect::<StoreResult<_>>()?,
                    finess: finess_of(&row)?,
                    created_at: row.try_get("created_at")?,
                    updated_at: row.try_get("updated_at")?,
                })
            }

            async fn list_cpts(&self) -> StoreResult<Vec<CptsSummary>> {
                let rows = sqlx::query(
                    "SELECT c.id, c.name, (SELECT COUNT(*) FROM cpts_commune m WHERE m.cpts_id = c.id) AS n
                     FROM cpts c ORDER BY lower(c.name), c.id",
                )
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|r| {
                        let id: String = r.try_get("id")?;
                        Ok(CptsSummary {
                            id: CptsId::parse(&id).ok_or(StoreError::NotFound)?,
                            name: r.try_get("name")?,
                            commune_count: r.try_get("n")?,
                        })
                    })
                    .collect()
            }

            async fn list_cpts_full(&self) -> StoreResult<Vec<Cpts>> {
                let rows =
                    sqlx::query("SELECT id, name, finess, created_at, updated_at FROM cpts ORDER BY lower(name), id")
                        .fetch_all(&self.pool)
                        .await?;
                let links =
                    sqlx::query("SELECT cpts_id, commune_code FROM cpts_commune ORDER BY cpts_id, commune_code")
                        .fetch_all(&self.pool)
                        .await?;
                let mut communes: std::collections::HashMap<String, Vec<InseeCode>> = std::collections::HashMap::new();
                for l in &links {
                    let code: String = l.try_get("commune_code")?;
                    communes.entry(l.try_get("cpts_id")?).or_default().push(parse_code(&code)?);
                }
                rows.iter()
                    .map(|r| {
                        let id: String = r.try_get("id")?;
                        Ok(Cpts {
                            id: CptsId::parse(&id).ok_or_else(|| StoreError::Corrupt(format!("cpts id {id:?}")))?,
                            name: r.try_get("name")?,
                            communes: communes.remove(&id).unwrap_or_default(),
                            finess: finess_of(r)?,
                            created_at: r.try_get("created_at")?,
                            updated_at: r.try_get("updated_at")?,
                        })
                    })
                    .collect()
            }

            async fn replace_territory(
                &self,
                id: &CptsId,
                communes: &[InseeCode],
                now: DateTime<Utc>,
            ) -> StoreResult<Cpts> {
                let mut tx = self.pool.begin().await?;
                let result = async {
                    let updated = sqlx::query("UPDATE cpts SET updated_at = $2 WHERE id = $1")
                        .bind(id.as_str())
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    if updated.rows_affected() == 0 {
                        return Err(StoreError::NotFound);
                    }
                    sqlx::query("DELETE FROM cpts_commune WHERE cpts_id = $1")
                        .bind(id.as_str())
                        .execute(&mut *tx)
                        .await?;
                    for code in communes {
                        sqlx::query("INSERT INTO cpts_commune (cpts_id, commune_code) VALUES ($1, $2)")
                            .bind(id.as_str())
                            .bind(code.as_str())
                            .execute(&mut *tx)
                            .await
                            .map_err(|e| conflict_or(e, &format!("commune {code} listed twice")))?;
                    }

                    Ok(())
                }
                .await;
                settle(tx, result).await?;
                self.get_cpts(id).await
            }

            async fn set_finess(
                &self,
                id: &CptsId,
                finess: Option<&Finess>,
                now: DateTime<Utc>,
                audit: &AuditEvent,
            ) -> StoreResult<Cpts> {
                let mut tx = self.pool.begin().await?;
                let result = async {
                    let updated = sqlx::query("UPDATE cpts SET finess = $2, updated_at = $3 WHERE id = $1")
                        .bind(id.as_str())
                        .bind(finess.map(|f| f.as_str().to_owned()))
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    if updated.rows_affected() == 0 {
                        return Err(StoreError::NotFound);
                    }
                    Self::insert_audit(&mut tx, audit).await
                }
                .await;
                settle(tx, result).await?;
                self.get_cpts(id).await
            }

            async fn cpts_of_commune(&self, code: &InseeCode) -> StoreResult<Vec<CptsId>> {
                let ids: Vec<String> =
                    sqlx::query_scalar("SELECT cpts_id FROM cpts_commune WHERE commune_code = $1 ORDER BY cpts_id")
                        .bind(code.as_str())
                        .fetch_all(&self.pool)
                        .await?;
                Ok(ids.iter().filter_map(|s| CptsId::parse(s)).collect())
            }
        }
    };
}

cpts_sql!(SqliteStore);
cpts_sql!(PgStore);

impl CptsStore for Store {
    async fn create_cpts(&self, new: &NewCpts, now: DateTime<Utc>) -> StoreResult<Cpts> {
        delegate!(self, s => s.create_cpts(new, now))
    }
    async fn get_cpts(&self, id: &CptsId) -> StoreResult<Cpts> {
        delegate!(self, s => s.get_cpts(id))
    }
    async fn list_cpts(&self) -> StoreResult<Vec<CptsSummary>> {
        delegate!(self, s => s.list_cpts())
    }
    async fn list_cpts_full(&self) -> StoreResult<Vec<Cpts>> {
        delegate!(self, s => s.list_cpts_full())
    }
    async fn replace_territory(&self, id: &CptsId, communes: &[InseeCode], now: DateTime<Utc>) -> StoreResult<Cpts> {
        delegate!(self, s => s.replace_territory(id, communes, now))
    }
    async fn set_finess(
        &self,
        id: &CptsId,
        finess: Option<&Finess>,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<Cpts> {
        delegate!(self, s => s.set_finess(id, finess, now, audit))
    }
    async fn cpts_of_commune(&self, code: &InseeCode) -> StoreResult<Vec<CptsId>> {
        delegate!(self, s => s.cpts_of_commune(code))
    }
}
