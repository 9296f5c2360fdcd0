//! Structures SQL: the structures kept by the CPTS, professionals linked by hand, relations
//! between structures, structure memberships, and the roll of members.

use super::directory::status_str;
use super::{PgStore, SqliteStore, Store, conflict_or, corrupt, delegate, settle};
use crate::model::{AuditEvent, CptsId};
use crate::structures::{
    LinkedProfessional, MemberRef, RelatedStructure, RollEntry, StructureEntry, StructureRow, StructureStore,
};
use crate::{StoreError, StoreResult};
use chrono::{DateTime, NaiveDate, Utc};
use maillage_core::directory::model::{Membership, PracticePlace};
use maillage_core::directory::structures::{ProfessionalLink, RelationKind, Structure, StructureRelation};
use maillage_core::ids::{Finess, InseeCode, Siret};
use maillage_core::text::fold_for_search;
use sqlx::Row;
use std::collections::{BTreeMap, HashSet};

const STRUCTURE_COLUMNS: &str = "s.id, s.kind, s.name, s.finess, s.siret, s.technical_id, s.address_line1, \
     s.postal_code, s.commune_code, s.phone, s.email, s.mssante, s.note";

/// Membership columns of `dir_structure_membership m`, named as `membership_of` reads them.
const MEMBERSHIP_COLUMNS: &str = "m.joined_on, m.left_on, m.status, m.dues_paid_until, \
     FALSE AS profession_referent, m.board_role";

const DUPLICATE: &str = "another structure of the CPTS has this FINESS, SIRET or technical id";

macro_rules! structures_sql {
    ($store:ty, $row:ty, $conn:ty) => {
        impl $store {
            fn structure_of(r: &$row) -> StoreResult<Structure> {
                let kind: String = r.try_get("kind")?;
                let finess: Option<String> = r.try_get("finess")?;
                let siret: Option<String> = r.try_get("siret")?;
                let commune: Option<String> = r.try_get("commune_code")?;
                Ok(Structure {
                    id: r.try_get("id")?,
                    kind: kind.parse().map_err(corrupt)?,
                    name: r.try_get("name")?,
                    finess: finess.map(|s| Finess::parse(&s)).transpose().map_err(corrupt)?,
                    siret: siret.map(|s| Siret::parse(&s)).transpose().map_err(corrupt)?,
                    technical_id: r.try_get("technical_id")?,
                    address_line1: r.try_get("address_line1")?,
                    postal_code: r.try_get("postal_code")?,
                    commune_code: commune.map(|c| InseeCode::parse(&c)).transpose().map_err(corrupt)?,
                    phone: r.try_get("phone")?,
                    email: r.try_get("email")?,
                    mssante: r.try_get("mssante")?,
                    note: r.try_get("note")?,
                })
            }

            async fn ensure_structure(conn: &mut $conn, cpts: &str, id: &str) -> StoreResult<()> {
                let known: Option<String> =
                    sqlx::query_scalar("SELECT id FROM dir_structure WHERE cpts_id = $1 AND id = $2")
                        .bind(cpts)
                        .bind(id)
                        .fetch_optional(&mut *conn)
                        .await?;
                known.map(|_| ()).ok_or(StoreError::NotFound)
            }

            /// National ids (still listed or not) practising at the structure per the extract.
            async fn practising_at(conn: &mut $conn, cpts: &str, s: &Structure) -> StoreResult<Vec<String>> {
                Ok(sqlx::query_scalar(
                    "SELECT DISTINCT national_id FROM dir_place
                     WHERE cpts_id = $1 AND (technical_id = $2 OR finess = $3 OR siret = $4)",
                )
                .bind(cpts)
                .bind(s.technical_id.as_deref())
                .bind(s.finess.map(|f| f.as_str().to_owned()))
                .bind(s.siret.map(|f| f.as_str().to_owned()))
                .fetch_all(&mut *conn)
                .await?)
            }

            async fn write_structure(
                conn: &mut $conn,
                cpts: &str,
                s: &Structure,
                now: DateTime<Utc>,
                create: bool,
            ) -> StoreResult<u64> {
                let sql = if create {
                    "INSERT INTO dir_structure (cpts_id, id, kind, name, finess, siret, technical_id, address_line1,
                        postal_code, commune_code, phone, email, mssante, note, search_key, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16)"
                } else {
                    "UPDATE dir_structure SET kind = $3, name = $4, finess = $5, siret = $6, technical_id = $7,
                        address_line1 = $8, postal_code = $9, commune_code = $10, phone = $11, email = $12,
                        mssante = $13, note = $14, search_key = $15, updated_at = $16
                     WHERE cpts_id = $1 AND id = $2"
                };
                let done = sqlx::query(sql)
                    .bind(cpts)
                    .bind(&s.id)
                    .bind(s.kind.code())
                    .bind(&s.name)
                    .bind(s.finess.map(|f| f.as_str().to_owned()))
                    .bind(s.siret.map(|f| f.as_str().to_owned()))
                    .bind(s.technical_id.as_deref())
                    .bind(s.address_line1.as_deref())
                    .bind(s.postal_code.as_deref())
                    .bind(s.commune_code.map(|c| c.as_str().to_owned()))
                    .bind(s.phone.as_deref())
                    .bind(s.email.as_deref())
                    .bind(s.mssante.as_deref())
                    .bind(s.note.as_deref())
                    .bind(fold_for_search(&s.name))
                    .bind(now)
                    .execute(&mut *conn)
                    .await
                    .map_err(|e| conflict_or(e, DUPLICATE))?;
                Ok(done.rows_affected())
            }
        }

        impl StructureStore for $store {
            async fn create_structure(
                &self,
                cpts: &CptsId,
                structure: &Structure,
                now: DateTime<Utc>,
                audit: &AuditEvent,
            ) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                let result = async {
                    Self::write_structure(&mut tx, cpts.as_str(), structure, now, true).await?;
                    Self::insert_audit(&mut tx, audit).await?;

                    Ok(())
                }
                .await;
                settle(tx, result).await
            }

            async fn update_structure(
                &self,
                cpts: &CptsId,
                structure: &Structure,
                now: DateTime<Utc>,
                audit: &AuditEvent,
            ) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                let result = async {
                    if Self::write_structure(&mut tx, cpts.as_str(), structure, now, false).await? == 0 {
                        return Err(StoreError::NotFound);
                    }
                    Self::insert_audit(&mut tx, audit).await?;

                    Ok(())
                }
                .await;
                settle(tx, result).await
            }

            async fn delete_structure(&self, cpts: &CptsId, id: &str, audit: &AuditEvent) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                let result = async {
                    let done = sqlx::query("DELETE FROM dir_structure WHERE cpts_id = $1 AND id = $2")
                        .bind(cpts.as_str())
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    if done.rows_affected() == 0 {
                        return Err(StoreError::NotFound);
                    }
                    Self::insert_audit(&mut tx, audit).await?;

                    Ok(())
                }
                .await;
                settle(tx, result).await
            }

            async fn list_structures(&self, cpts: &CptsId) -> StoreResult<Vec<StructureRow>> {
                let id = cpts.as_str();
                let rows = sqlx::query(&format!(
                    "SELECT {STRUCTURE_COLUMNS}, {MEMBERSHIP_COLUMNS}
                     FROM dir_structure s
                     LEFT JOIN dir_structure_membership m ON m.cpts_id = s.cpts_id AND m.structure_id = s.id
                     WHERE s.cpts_id = $1 ORDER BY s.search_key, s.id"
                ))
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
                // Who practises where, per the extract, for those still listed; then the links.
                let places = sqlx::query(
                    "SELECT DISTINCT p.national_id, p.technical_id, p.finess, p.siret FROM dir_place p
                     JOIN dir_professional d ON d.cpts_id = p.cpts_id AND d.national_id = p.national_id
                     WHERE p.cpts_id = $1 AND d.left_at IS NULL",
                )
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
                let links = sqlx::query(
                    "SELECT l.structure_id, l.national_id FROM dir_structure_link l
                     JOIN dir_professional d ON d.cpts_id = l.cpts_id AND d.national_id = l.national_id
                     WHERE l.cpts_id = $1 AND d.left_at IS NULL",
                )
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
                let mut by_identifier: BTreeMap<(u8, String), Vec<String>> = BTreeMap::new();
                for p in &places {
                    let nid: String = p.try_get("national_id")?;
                    for (i, column) in ["technical_id", "finess", "siret"].into_iter().enumerate() {
                        if let Some(v) = p.try_get::<Option<String>, _>(column)? {
                            by_identifier.entry((i as u8, v)).or_default().push(nid.clone());
                        }
                    }
                }
                let mut linked: BTreeMap<String, Vec<String>> = BTreeMap::new();
                for l in &links {
                    linked.entry(l.try_get("structure_id")?).or_default().push(l.try_get("national_id")?);
                }
                rows.iter()
                    .map(|r| {
                        let structure = Self::structure_of(r)?;
                        let mut people: HashSet<&String> = HashSet::new();
                        let identifiers = [
                            structure.technical_id.clone(),
                            structure.finess.map(|f| f.as_str().to_owned()),
                            structure.siret.map(|f| f.as_str().to_owned()),
                        ];
                        for (i, v) in identifiers.into_iter().enumerate() {
                            if let Some(list) = v.and_then(|v| by_identifier.get(&(i as u8, v))) {
                                people.extend(list);
                            }
                        }
                        if let Some(list) = linked.get(&structure.id) {
                            people.extend(list);
                        }
                        Ok(StructureRow {
                            professionals: u32::try_from(people.len()).unwrap_or(u32::MAX),
                            membership: Self::membership_of(r)?,
                            structure,
                        })
                    })
                    .collect()
            }

            async fn structure_entry(&self, cpts: &CptsId, id: &str) -> StoreResult<StructureEntry> {
                let c = cpts.as_str();
                let mut conn = self.pool.acquire().await?;
                let row = sqlx::query(&format!(
                    "SELECT {STRUCTURE_COLUMNS}, s.created_at, s.updated_at, {MEMBERSHIP_COLUMNS}
                     FROM dir_structure s
                     LEFT JOIN dir_structure_membership m ON m.cpts_id = s.cpts_id AND m.structure_id = s.id
                     WHERE s.cpts_id = $1 AND s.id = $2"
                ))
                .bind(c)
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?
                .ok_or(StoreError::NotFound)?;
                let structure = Self::structure_of(&row)?;
                let practising: HashSet<String> =
                    Self::practising_at(&mut conn, c, &structure).await?.into_iter().collect();
                let manual: BTreeMap<String, Option<String>> = sqlx::query(
                    "SELECT national_id, role FROM dir_structure_link WHERE cpts_id = $1 AND structure_id = $2",
                )
                .bind(c)
                .bind(id)
                .fetch_all(&mut *conn)
                .await?
                .iter()
                .map(|r| Ok((r.try_get("national_id")?, r.try_get("role")?)))
                .collect::<StoreResult<_>>()?;
                let mut wanted: Vec<&String> = practising.iter().chain(manual.keys()).collect();
                wanted.sort();
                wanted.dedup();
                let mut professionals = Vec::with_capacity(wanted.len());
                // One query per chunk of ids (a structure has tens of professionals, a hospital
                // a few hundred).
                for chunk in wanted.chunks(200) {
                    let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
                    let sql = format!(
                        "SELECT national_id, family_name, given_name, profession_label, left_at IS NOT NULL AS gone
                         FROM dir_professional WHERE cpts_id = $1 AND national_id IN ({})",
                        marks.join(", ")
                    );
                    let mut q = sqlx::query(&sql).bind(c);
                    for nid in chunk {
                        q = q.bind(nid.as_str());
                    }
                    for r in q.fetch_all(&mut *conn).await? {
                        let nid: String = r.try_get("national_id")?;
                        professionals.push(LinkedProfessional {
                            practises_there: practising.contains(&nid),
                            manual: manual.get(&nid).cloned(),
                            family_name: r.try_get("family_name")?,
                            given_name: r.try_get("given_name")?,
                            profession_label: r.try_get("profession_label")?,
                            left: r.try_get("gone")?,
                            national_id: nid,
                        });
                    }
                }
                professionals.sort_by(|a, b| {
                    (&a.family_name, &a.given_name, &a.national_id).cmp(&(&b.family_name, &b.given_name, &b.national_id))
                });
                let relations = sqlx::query(
                    "SELECT r.from_id, r.to_id, r.kind, r.note, o.id AS other_id, o.name AS other_name
                     FROM dir_structure_relation r
                     JOIN dir_structure o ON o.cpts_id = r.cpts_id
                          AND o.id = CASE WHEN r.from_id = $2 THEN r.to_id ELSE r.from_id END
                     WHERE r.cpts_id = $1 AND (r.from_id = $2 OR r.to_id = $2)
                     ORDER BY o.search_key, o.id, r.kind",
                )
                .bind(c)
                .bind(id)
                .fetch_all(&mut *conn)
                .await?
                .iter()
                .map(|r| {
                    let kind: String = r.try_get("kind")?;
                    let relation = StructureRelation {
                        from: r.try_get("from_id")?,
                        to: r.try_get("to_id")?,
                        kind: kind.parse().map_err(corrupt)?,
                        note: r.try_get("note")?,
                    };
                    Ok(RelatedStructure {
                        outgoing: relation.from == id,
                        relation,
                        other_id: r.try_get("other_id")?,
                        other_name: r.try_get("other_name")?,
                    })
                })
                .collect::<StoreResult<Vec<_>>>()?;
                Ok(StructureEntry {
                    membership: Self::membership_of(&row)?,
                    created_at: row.try_get("created_at")?,
                    updated_at: row.try_get("updated_at")?,
                    structure,
                    professionals,
                    relations,
                })
            }

            async fn listed_places(&self, cpts: &CptsId) -> StoreResult<Vec<(String, PracticePlace)>> {
                sqlx::query(
                    "SELECT p.* FROM dir_place p
                     JOIN dir_professional d ON d.cpts_id = p.cpts_id AND d.national_id = p.national_id
                     WHERE p.cpts_id = $1 AND d.left_at IS NULL
                     ORDER BY p.national_id, p.position",
                )
                .bind(cpts.as_str())
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|r| Ok((r.try_get("national_id")?, Self::place_of(r)?)))
                .collect()
            }

            async fn link_professional(
                &self,
                cpts: &CptsId,
                link: &ProfessionalLink,
                now: DateTime<Utc>,
                audit: &AuditEvent,
            ) -> StoreResult<()> {
                let c = cpts.as_str();
                let mut tx = self.pool.begin().await?;
                let result = async {
                    Self::ensure_structure(&mut tx, c, &link.structure_id).await?;
                    Self::ensure_professional(&mut tx, c, &link.national_id).await?;
                    sqlx::query(
                        "INSERT INTO dir_structure_link (cpts_id, structure_id, national_id, role, created_at)
                         VALUES ($1, $2, $3, $4, $5)
                         ON CONFLICT (cpts_id, structure_id, national_id) DO UPDATE SET role = excluded.role",
                    )
                    .bind(c)
                    .bind(&link.structure_id)
                    .bind(&link.national_id)
                    .bind(link.role.as_deref())
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    Self::insert_audit(&mut tx, audit).await?;

                    Ok(())
                }
                .await;
                settle(tx, result).await
            }

            async fn unlink_professional(
                &self,
                cpts: &CptsId,
                structure_id: &str,
                national_id: &str,
                audit: &AuditEvent,
            ) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                let result = async {
                    let done = sqlx::query(
                        "DELETE FROM dir_structure_link WHERE cpts_id = $1 AND structure_id = $2 AND national_id = $3",
                    )
                    .bind(cpts.as_str())
                    .bind(structure_id)
                    .bind(national_id)
                    .execute(&mut *tx)
                    .await?;
                    if done.rows_affected() == 0 {
                        return Err(StoreError::NotFound);
                    }
                    Self::insert_audit(&mut tx, audit).await?;

                    Ok(())
                }
                .await;
                settle(tx, result).await
            }

            async fn add_relation(&self, cpts: &CptsId, r: &StructureRelation, audit: &AuditEvent) -> StoreResult<()> {
                let c = cpts.as_str();
                if r.from == r.to {
                    return Err(StoreError::Conflict("a structure cannot be linked to itself".into()));
                }
                let mut tx = self.pool.begin().await?;
                let result = async {
                    Self::ensure_structure(&mut tx, c, &r.from).await?;
                    Self::ensure_structure(&mut tx, c, &r.to).await?;
                    sqlx::query(
                        "INSERT INTO dir_structure_relation (cpts_id, from_id, to_id, kind, note) VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(c)
                    .bind(&r.from)
                    .bind(&r.to)
                    .bind(r.kind.code())
                    .bind(r.note.as_deref())
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| conflict_or(e, "these structures already have this link"))?;
                    Self::insert_audit(&mut tx, audit).await?;

                    Ok(())
                }
                .await;
                settle(tx, result).await
            }

            async fn delete_relation(
                &self,
                cpts: &CptsId,
                from: &str,
                to: &str,
                kind: RelationKind,
                audit: &AuditEvent,
            ) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                let result = async {
                    let done = sqlx::query(
                        "DELETE FROM dir_structure_relation WHERE cpts_id = $1 AND from_id = $2 AND to_id = $3 AND kind = $4",
                    )
                    .bind(cpts.as_str())
                    .bind(from)
                    .bind(to)
                    .bind(kind.code())
                    .execute(&mut *tx)
                    .await?;
                    if done.rows_affected() == 0 {
                        return Err(StoreError::NotFound);
                    }
                    Self::insert_audit(&mut tx, audit).await?;

                    Ok(())
                }
                .await;
                settle(tx, result).await
            }

            async fn put_structure_membership(
                &self,
                cpts: &CptsId,
                id: &str,
                m: &Membership,
                now: DateTime<Utc>,
                audit: &AuditEvent,
            ) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                let result = async {
                    Self::ensure_structure(&mut tx, cpts.as_str(), id).await?;
                    sqlx::query(
                        "INSERT INTO dir_structure_membership (cpts_id, structure_id, joined_on, left_on, status,
                            dues_paid_until, board_role, updated_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                         ON CONFLICT (cpts_id, structure_id)
                         DO UPDATE SET joined_on = excluded.joined_on, left_on = excluded.left_on, status = excluded.status,
                                       dues_paid_until = excluded.dues_paid_until, board_role = excluded.board_role,
                                       updated_at = excluded.updated_at",
                    )
                    .bind(cpts.as_str())
                    .bind(id)
                    .bind(m.joined_on)
                    .bind(m.left_on)
                    .bind(status_str(m.status))
                    .bind(m.dues_paid_until)
                    .bind(m.board_role.as_deref())
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    Self::insert_audit(&mut tx, audit).await?;

                    Ok(())
                }
                .await;
                settle(tx, result).await
            }

            async fn member_roll(&self, cpts: &CptsId) -> StoreResult<Vec<RollEntry>> {
                let c = cpts.as_str();
                let people = sqlx::query(
                    "SELECT d.national_id, d.family_name, d.given_name, d.profession_label, d.profession_code,
                            m.joined_on, m.left_on, m.status, m.dues_paid_until, m.profession_referent, m.board_role
                     FROM dir_membership m
                     JOIN dir_professional d ON d.cpts_id = m.cpts_id AND d.national_id = m.national_id
                     WHERE m.cpts_id = $1",
                )
                .bind(c)
                .fetch_all(&self.pool)
                .await?;
                let structures = sqlx::query(&format!(
                    "SELECT s.id, s.name, s.kind, {MEMBERSHIP_COLUMNS}
                     FROM dir_structure_membership m
                     JOIN dir_structure s ON s.cpts_id = m.cpts_id AND s.id = m.structure_id
                     WHERE m.cpts_id = $1"
                ))
                .bind(c)
                .fetch_all(&self.pool)
                .await?;
                let mut roll = Vec::with_capacity(people.len() + structures.len());
                for r in &people {
                    let Some(membership) = Self::membership_of(r)? else { continue };
                    let family: String = r.try_get("family_name")?;
                    let given: String = r.try_get("given_name")?;
                    let label: Option<String> = r.try_get("profession_label")?;
                    roll.push(RollEntry {
                        member: MemberRef::Professional(r.try_get("national_id")?),
                        name: format!("{family} {given}").trim().to_owned(),
                        detail: match label {
                            Some(l) => l,
                            None => r.try_get("profession_code")?,
                        },
                        membership,
                    });
                }
                for r in &structures {
                    let Some(membership) = Self::membership_of(r)? else { continue };
                    roll.push(RollEntry {
                        member: MemberRef::Structure(r.try_get("id")?),
                        name: r.try_get("name")?,
                        detail: r.try_get("kind")?,
                        membership,
                    });
                }
                roll.sort_by(|a, b| {
                    (fold_for_search(&a.name), &a.member).cmp(&(fold_for_search(&b.name), &b.member))
                });
                Ok(roll)
            }

            async fn record_dues(
                &self,
                cpts: &CptsId,
                members: &[MemberRef],
                until: NaiveDate,
                now: DateTime<Utc>,
                audit: &AuditEvent,
            ) -> StoreResult<u64> {
                let mut tx = self.pool.begin().await?;
                let result = async {
                    let mut changed = 0;
                    for member in members {
                        let (sql, id) = match member {
                            MemberRef::Professional(id) => (
                                "UPDATE dir_membership SET dues_paid_until = $3, updated_at = $4
                                 WHERE cpts_id = $1 AND national_id = $2",
                                id,
                            ),
                            MemberRef::Structure(id) => (
                                "UPDATE dir_structure_membership SET dues_paid_until = $3, updated_at = $4
                                 WHERE cpts_id = $1 AND structure_id = $2",
                                id,
                            ),
                        };
                        let done =
                            sqlx::query(sql).bind(cpts.as_str()).bind(id).bind(until).bind(now).execute(&mut *tx).await?;
                        if done.rows_affected() == 0 {
                                return Err(StoreError::NotFound);
                        }
                        changed += done.rows_affected();
                    }
                    Self::insert_audit(&mut tx, audit).await?;

                    Ok(changed)
                }
                .await;
                settle(tx, result).await
            }
        }
    };
}

structures_sql!(SqliteStore, sqlx::sqlite::SqliteRow, sqlx::SqliteConnection);
structures_sql!(PgStore, sqlx::postgres::PgRow, sqlx::PgConnection);

impl StructureStore for Store {
    async fn create_structure(
        &self,
        cpts: &CptsId,
        structure: &Structure,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        delegate!(self, s => s.create_structure(cpts, structure, now, audit))
    }
    async fn update_structure(
        &self,
        cpts: &CptsId,
        structure: &Structure,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        delegate!(self, s => s.update_structure(cpts, structure, now, audit))
    }
    async fn delete_structure(&self, cpts: &CptsId, id: &str, audit: &AuditEvent) -> StoreResult<()> {
        delegate!(self, s => s.delete_structure(cpts, id, audit))
    }
    async fn list_structures(&self, cpts: &CptsId) -> StoreResult<Vec<StructureRow>> {
        delegate!(self, s => s.list_structures(cpts))
    }
    async fn structure_entry(&self, cpts: &CptsId, id: &str) -> StoreResult<StructureEntry> {
        delegate!(self, s => s.structure_entry(cpts, id))
    }
    async fn listed_places(&self, cpts: &CptsId) -> StoreResult<Vec<(String, PracticePlace)>> {
        delegate!(self, s => s.listed_places(cpts))
    }
    async fn link_professional(
        &self,
        cpts: &CptsId,
        link: &ProfessionalLink,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        delegate!(self, s => s.link_professional(cpts, link, now, audit))
    }
    async fn unlink_professional(
        &self,
        cpts: &CptsId,
        structure_id: &str,
        national_id: &str,
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        delegate!(self, s => s.unlink_professional(cpts, structure_id, national_id, audit))
    }
    async fn add_relation(&self, cpts: &CptsId, relation: &StructureRelation, audit: &AuditEvent) -> StoreResult<()> {
        delegate!(self, s => s.add_relation(cpts, relation, audit))
    }
    async fn delete_relation(
        &self,
        cpts: &CptsId,
        from: &str,
        to: &str,
        kind: RelationKind,
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        delegate!(self, s => s.delete_relation(cpts, from, to, kind, audit))
    }
    async fn put_structure_membership(
        &self,
        cpts: &CptsId,
        id: &str,
        membership: &Membership,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        delegate!(self, s => s.put_structure_membership(cpts, id, membership, now, audit))
    }
    async fn member_roll(&self, cpts: &CptsId) -> StoreResult<Vec<RollEntry>> {
        delegate!(self, s => s.member_roll(cpts))
    }
    async fn record_dues(
        &self,
        cpts: &CptsId,
        members: &[MemberRef],
        until: NaiveDate,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<u64> {
        delegate!(self, s => s.record_dues(cpts, members, until, now, audit))
    }
}
