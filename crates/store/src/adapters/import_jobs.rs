//! Import jobs started from the browser, and their progress.

use super::{PgStore, SqliteStore, Store, conflict_or, delegate, settle};
use crate::model::{AuditEvent, CptsId};
use crate::{ImportJob, ImportJobState, ImportJobStore, ImportProgress, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use sqlx::Row;

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

macro_rules! import_jobs_sql {
    ($store:ty) => {
        impl $store {
            /// `NotFound` when no running job matched: the job is unknown or already finished.
            fn running_or_not_found(affected: u64) -> StoreResult<()> {
                if affected == 0 { Err(StoreError::NotFound) } else { Ok(()) }
            }
        }

        impl ImportJobStore for $store {
            async fn create_job(&self, job: &ImportJob, audit: &AuditEvent) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                let result = async {
                    let p = &job.progress;
                    sqlx::query(
                        "INSERT INTO dir_import_job (cpts_id, id, file_name, state, bytes_total, bytes_read, lines_read,
                                                     kept, rejected, message, report, started_at, finished_at, started_by)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                    )
                    .bind(job.cpts_id.as_str())
                    .bind(&job.id)
                    .bind(&job.file_name)
                    .bind(job.state.as_str())
                    .bind(to_i64(job.bytes_total))
                    .bind(to_i64(p.bytes_read))
                    .bind(to_i64(p.lines_read))
                    .bind(to_i64(p.kept))
                    .bind(to_i64(p.rejected))
                    .bind(&job.message)
                    .bind(&job.report)
                    .bind(job.started_at)
                    .bind(job.finished_at)
                    .bind(&job.started_by)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| conflict_or(e, &format!("import job {} exists already", job.id)))?;
                    Self::insert_audit(&mut tx, audit).await?;

                    Ok(())
                }
                .await;
                settle(tx, result).await
            }

            async fn update_progress(&self, cpts: &CptsId, id: &str, p: &ImportProgress) -> StoreResult<()> {
                let done = sqlx::query(
                    "UPDATE dir_import_job SET bytes_read = $3, lines_read = $4, kept = $5, rejected = $6
                     WHERE cpts_id = $1 AND id = $2 AND state = 'running'",
                )
                .bind(cpts.as_str())
                .bind(id)
                .bind(to_i64(p.bytes_read))
                .bind(to_i64(p.lines_read))
                .bind(to_i64(p.kept))
                .bind(to_i64(p.rejected))
                .execute(&self.pool)
                .await?;
                Self::running_or_not_found(done.rows_affected())
            }

            async fn finish_job(
                &self,
                cpts: &CptsId,
                id: &str,
                state: ImportJobState,
                p: &ImportProgress,
                message: &str,
                report: &str,
                at: DateTime<Utc>,
            ) -> StoreResult<()> {
                let done = sqlx::query(
                    "UPDATE dir_import_job SET state = $3, bytes_read = $4, lines_read = $5, kept = $6, rejected = $7,
                                               message = $8, report = $9, finished_at = $10
                     WHERE cpts_id = $1 AND id = $2 AND state = 'running'",
                )
                .bind(cpts.as_str())
                .bind(id)
                .bind(state.as_str())
                .bind(to_i64(p.bytes_read))
                .bind(to_i64(p.lines_read))
                .bind(to_i64(p.kept))
                .bind(to_i64(p.rejected))
                .bind(message)
                .bind(report)
                .bind(at)
                .execute(&self.pool)
                .await?;
                Self::running_or_not_found(done.rows_affected())
            }

            async fn get_job(&self, cpts: &CptsId, id: &str) -> StoreResult<ImportJob> {
                let r = sqlx::query(
                    "SELECT file_name, state, bytes_total, bytes_read, lines_read, kept, rejected, message, report,
                            started_at, finished_at, started_by
                     FROM dir_import_job WHERE cpts_id = $1 AND id = $2",
                )
                .bind(cpts.as_str())
                .bind(id)
                .fetch_optional(&self.pool)
                .await?
                .ok_or(StoreError::NotFound)?;
                let state: String = r.try_get("state")?;
                Ok(ImportJob {
                    cpts_id: cpts.clone(),
                    id: id.to_owned(),
                    file_name: r.try_get("file_name")?,
                    state: ImportJobState::parse(&state)
                        .ok_or_else(|| StoreError::Corrupt(format!("import job state {state:?}")))?,
                    bytes_total: to_u64(r.try_get("bytes_total")?),
                    progress: ImportProgress {
                        bytes_read: to_u64(r.try_get("bytes_read")?),
                        lines_read: to_u64(r.try_get("lines_read")?),
                        kept: to_u64(r.try_get("kept")?),
                        rejected: to_u64(r.try_get("rejected")?),
                    },
                    message: r.try_get("message")?,
                    report: r.try_get("report")?,
                    started_at: r.try_get("started_at")?,
                    finished_at: r.try_get("finished_at")?,
                    started_by: r.try_get("started_by")?,
                })
            }
        }
    };
}

import_jobs_sql!(SqliteStore);
import_jobs_sql!(PgStore);

impl ImportJobStore for Store {
    async fn create_job(&self, job: &ImportJob, audit: &AuditEvent) -> StoreResult<()> {
        delegate!(self, s => s.create_job(job, audit))
    }
    async fn update_progress(&self, cpts: &CptsId, id: &str, progress: &ImportProgress) -> StoreResult<()> {
        delegate!(self, s => s.update_progress(cpts, id, progress))
    }
    async fn finish_job(
        &self,
        cpts: &CptsId,
        id: &str,
        state: ImportJobState,
        progress: &ImportProgress,
        message: &str,
        report: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        delegate!(self, s => s.finish_job(cpts, id, state, progress, message, report, at))
    }
    async fn get_job(&self, cpts: &CptsId, id: &str) -> StoreResult<ImportJob> {
        delegate!(self, s => s.get_job(cpts, id))
    }
}
