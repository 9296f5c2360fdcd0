//! Directory SQL: professionals as imported (replaced per import when they change), their
//! places and specialties, local corrections and membership kept apart.

use super::{PgStore, SqliteStore, Store, corrupt, delegate, like, settle};
use crate::model::{
    AnnuaireImport, AuditEvent, CptsId, DirectoryEntry, DirectoryQuery, DirectoryRow, ImportOutcome, ImportRecord,
};
use crate::{DirectoryStore, MembershipOutcome, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use maillage_core::directory::collect::DepartementCounts;
use maillage_core::directory::model::{
    Address, CorrectableField, Correction, ExerciseMode, Membership, MembershipStatus, NationalId, PracticePlace,
    Professional, Specialty, StructureRef,
};
use maillage_core::directory::stats::StatInput;
use maillage_core::ids::{Finess, InseeCode, Siret};
use maillage_core::text::fold_for_search;
use sqlx::Row;
use std::collections::{HashMap, HashSet};

/// FNV-1a of the imported values: equal fingerprints mean nothing to write.
fn fingerprint(p: &Professional) -> String {
    let text = format!("{p:?}");
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// What a search matches: names, profession, communes.
fn search_key(p: &Professional) -> String {
    let mut parts = vec![p.family_name.as_str(), p.given_name.as_str()];
    parts.extend(p.profession_label.as_deref());
    parts.extend(p.places.iter().filter_map(|pl| pl.address.commune_label.as_deref()));
    fold_for_search(&parts.join(" "))
}

pub(super) fn status_str(s: MembershipStatus) -> &'static str {
    match s {
        MembershipStatus::Active => "active",
        MembershipStatus::Suspended => "suspended",
        MembershipStatus::Left => "left",
    }
}

fn status(s: &str) -> StoreResult<MembershipStatus> {
    match s {
        "active" => Ok(MembershipStatus::Active),
        "suspended" => Ok(MembershipStatus::Suspended),
        "left" => Ok(MembershipStatus::Left),
        other => Err(corrupt(format!("membership status {other:?}"))),
    }
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

macro_rules! directory_sql {
    ($store:ty, $row:ty, $conn:ty) => {
        impl $store {
            async fn insert_professional(
                conn: &mut $conn,
                cpts: &str,
                p: &Professional,
                hash: &str,
                import_id: &str,
                now: DateTime<Utc>,
            ) -> StoreResult<()> {
                let nid = p.national_id.to_string();
                sqlx::query(
                    "INSERT INTO dir_professional (cpts_id, national_id, civility, family_name, given_name,
                        profession_code, profession_label, search_key, content_hash, first_seen_at, updated_at,
                        last_import_id, left_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, NULL)",
                )
                .bind(cpts)
                .bind(&nid)
                .bind(p.civility.as_deref())
                .bind(&p.family_name)
                .bind(&p.given_name)
                .bind(&p.profession_code)
                .bind(p.profession_label.as_deref())
                .bind(search_key(p))
                .bind(hash)
                .bind(now)
                .bind(import_id)
                .execute(&mut *conn)
                .await?;
                Self::insert_children(conn, cpts, &nid, p).await
            }

            /// `NotFound` unless the directory of `cpts` has this professional.
            pub(super) async fn ensure_professional(conn: &mut $conn, cpts: &str, national_id: &str) -> StoreResult<()> {
                let known: Option<String> = sqlx::query_scalar(
                    "SELECT national_id FROM dir_professional WHERE cpts_id = $1 AND national_id = $2",
                )
                .bind(cpts)
                .bind(national_id)
                .fetch_optional(&mut *conn)
                .await?;
                known.map(|_| ()).ok_or(StoreError::NotFound)
            }

            async fn insert_children(conn: &mut $conn, cpts: &str, nid: &str, p: &Professional) -> StoreResult<()> {
                for (i, s) in p.specialties.iter().enumerate() {
                    sqlx::query(
                        "INSERT INTO dir_specialty (cpts_id, national_id, position, kind, code, label)
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(cpts)
                    .bind(nid)
                    .bind(count(i))
                    .bind(&s.kind)
                    .bind(&s.code)
                    .bind(&s.label)
                    .execute(&mut *conn)
                    .await?;
                }
                for (i, pl) in p.places.iter().enumerate() {
                    sqlx::query(
                        "INSERT INTO dir_place (cpts_id, national_id, place_key, position, technical_id, siret, finess,
                            structure_name, line1, line2, postal_code, commune_code, commune_label, phone, email,
                            exercise_mode, role, sector)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
                    )
                    .bind(cpts)
                    .bind(nid)
                    .bind(&pl.key)
                    .bind(count(i))
                    .bind(pl.structure.technical_id.as_deref())
                    .bind(pl.structure.siret.as_ref().map(|s| s.as_str().to_owned()))
                    .bind(pl.structure.finess.as_ref().map(|f| f.as_str().to_owned()))
                    .bind(pl.structure.name.as_deref())
                    .bind(pl.address.line1.as_deref())
                    .bind(pl.address.line2.as_deref())
                    .bind(pl.address.postal_code.as_deref())
                    .bind(pl.address.commune_code.as_ref().map(|c| c.as_str().to_owned()))
                    .bind(pl.address.commune_label.as_deref())
                    .bind(pl.phone.as_deref())
                    .bind(pl.email.as_deref())
                    .bind(pl.exercise_mode.code())
                    .bind(pl.role.as_deref())
                    .bind(pl.sector.as_deref())
                    .execute(&mut *conn)
                    .await
                    .map_err(|e| super::conflict_or(e, &format!("place {} of {nid} listed twice", pl.key)))?;
                }
                Ok(())
            }

            async fn professional(&self, cpts: &str, nid: &str) -> StoreResult<(Professional, DateTime<Utc>, Option<DateTime<Utc>>)> {
                let row = sqlx::query(
                    "SELECT civility, family_name, given_name, profession_code, profession_label, first_seen_at, left_at
                     FROM dir_professional WHERE cpts_id = $1 AND national_id = $2",
                )
                .bind(cpts)
                .bind(nid)
                .fetch_optional(&self.pool)
                .await?
                .ok_or(StoreError::NotFound)?;
                let specialties = sqlx::query(
                    "SELECT kind, code, label FROM dir_specialty WHERE cpts_id = $1 AND national_id = $2 ORDER BY position",
                )
                .bind(cpts)
                .bind(nid)
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(Self::specialty_of)
                .collect::<StoreResult<Vec<_>>>()?;
                let places = sqlx::query(
                    "SELECT place_key, technical_id, siret, finess, structure_name, line1, line2, postal_code,
                            commune_code, commune_label, phone, email, exercise_mode, role, sector
                     FROM dir_place WHERE cpts_id = $1 AND national_id = $2 ORDER BY position",
                )
                .bind(cpts)
                .bind(nid)
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(Self::place_of)
                .collect::<StoreResult<Vec<_>>>()?;
                let professional = Self::professional_of(&row, nid, specialties, places)?;
                Ok((professional, row.try_get("first_seen_at")?, row.try_get("left_at")?))
            }

            /// A professional from a `dir_professional` row and its children.
            fn professional_of(
                row: &$row,
                nid: &str,
                specialties: Vec<Specialty>,
                places: Vec<PracticePlace>,
            ) -> StoreResult<Professional> {
                Ok(Professional {
                    national_id: NationalId::parse(nid).map_err(corrupt)?,
                    civility: row.try_get("civility")?,
                    family_name: row.try_get("family_name")?,
                    given_name: row.try_get("given_name")?,
                    profession_code: row.try_get("profession_code")?,
                    profession_label: row.try_get("profession_label")?,
                    specialties,
                    places,
                })
            }

            fn specialty_of(r: &$row) -> StoreResult<Specialty> {
                Ok(Specialty { kind: r.try_get("kind")?, code: r.try_get("code")?, label: r.try_get("label")? })
            }

            pub(super) fn place_of(r: &$row) -> StoreResult<PracticePlace> {
                let siret: Option<String> = r.try_get("siret")?;
                let finess: Option<String> = r.try_get("finess")?;
                let commune: Option<String> = r.try_get("commune_code")?;
                let mode: String = r.try_get("exercise_mode")?;
                Ok(PracticePlace {
                    key: r.try_get("place_key")?,
                    structure: StructureRef {
                        technical_id: r.try_get("technical_id")?,
                        siret: siret.map(|s| Siret::parse(&s)).transpose().map_err(corrupt)?,
                        finess: finess.map(|s| Finess::parse(&s)).transpose().map_err(corrupt)?,
                        name: r.try_get("structure_name")?,
                    },
                    address: Address {
                        line1: r.try_get("line1")?,
                        line2: r.try_get("line2")?,
                        postal_code: r.try_get("postal_code")?,
                        commune_code: commune.map(|c| InseeCode::parse(&c)).transpose().map_err(corrupt)?,
                        commune_label: r.try_get("commune_label")?,
                    },
                    phone: r.try_get("phone")?,
                    email: r.try_get("email")?,
                    exercise_mode: ExerciseMode::from_code(&mode),
                    role: r.try_get("role")?,
                    sector: r.try_get("sector")?,
                })
            }

            fn correction_of(r: &$row) -> StoreResult<Correction> {
                let field: String = r.try_get("field")?;
                let place: String = r.try_get("place_key")?;
                Ok(Correction {
                    field: field.parse().map_err(corrupt)?,
                    place: (!place.is_empty()).then_some(place),
                    value: r.try_get("value")?,
                })
            }

            /// The membership of a row with `status` (NULL: none, as a left join gives it),
            /// `joined_on`, `left_on`, `dues_paid_until`, `profession_referent`, `board_role`.
            pub(super) fn membership_of(r: &$row) -> StoreResult<Option<Membership>> {
                let Some(s) = r.try_get::<Option<String>, _>("status")? else { return Ok(None) };
                Ok(Some(Membership {
                    joined_on: r.try_get("joined_on")?,
                    left_on: r.try_get("left_on")?,
                    status: status(&s)?,
                    dues_paid_until: r.try_get("dues_paid_until")?,
                    profession_referent: r.try_get("profession_referent")?,
                    board_role: r.try_get("board_role")?,
                }))
            }
        }

        impl DirectoryStore for $store {
            async fn apply_import(
                &self,
                cpts: &CptsId,
                import: &AnnuaireImport<'_>,
                now: DateTime<Utc>,
                audit: &AuditEvent,
            ) -> StoreResult<ImportOutcome> {
                let id = cpts.as_str();
                let mut tx = self.pool.begin().await?;
                let result = async {
                    let existing: HashMap<String, (String, bool)> = sqlx::query(
                        "SELECT national_id, content_hash, left_at IS NOT NULL AS gone FROM dir_professional WHERE cpts_id = $1",
                    )
                    .bind(id)
                    .fetch_all(&mut *tx)
                    .await?
                    .iter()
                    .map(|r| Ok((r.try_get("national_id")?, (r.try_get("content_hash")?, r.try_get("gone")?))))
                    .collect::<StoreResult<_>>()?;
                    let mut outcome = ImportOutcome::default();
                    let mut seen = HashSet::with_capacity(import.professionals.len());
                    for p in import.professionals {
                        let nid = p.national_id.to_string();
                        if !seen.insert(nid.clone()) {
                            return Err(StoreError::Conflict(format!("professional {nid} listed twice in the import")));
                        }
                        let hash = fingerprint(p);
                        match existing.get(&nid) {
                            None => {
                                Self::insert_professional(&mut tx, id, p, &hash, &import.id, now).await?;
                                outcome.inserted += 1;
                            }
                            Some((old, gone)) => {
                                if *gone {
                                    outcome.returned += 1;
                                }
                                if *old == hash {
                                    if *gone {
                                        sqlx::query(
                                            "UPDATE dir_professional SET left_at = NULL, updated_at = $3
                                             WHERE cpts_id = $1 AND national_id = $2",
                                        )
                                        .bind(id)
                                        .bind(&nid)
                                        .bind(now)
                                        .execute(&mut *tx)
                                        .await?;
                                    } else {
                                        outcome.unchanged += 1;
                                    }
                                    continue;
                                }
                                sqlx::query(
                                    "UPDATE dir_professional SET civility = $3, family_name = $4, given_name = $5,
                                        profession_code = $6, profession_label = $7, search_key = $8, content_hash = $9,
                                        updated_at = $10, last_import_id = $11, left_at = NULL
                                     WHERE cpts_id = $1 AND national_id = $2",
                                )
                                .bind(id)
                                .bind(&nid)
                                .bind(p.civility.as_deref())
                                .bind(&p.family_name)
                                .bind(&p.given_name)
                                .bind(&p.profession_code)
                                .bind(p.profession_label.as_deref())
                                .bind(search_key(p))
                                .bind(&hash)
                                .bind(now)
                                .bind(&import.id)
                                .execute(&mut *tx)
                                .await?;
                                for table in ["dir_specialty", "dir_place"] {
                                    sqlx::query(&format!("DELETE FROM {table} WHERE cpts_id = $1 AND national_id = $2"))
                                        .bind(id)
                                        .bind(&nid)
                                        .execute(&mut *tx)
                                        .await?;
                                }
                                Self::insert_children(&mut tx, id, &nid, p).await?;
                                outcome.updated += 1;
                            }
                        }
                    }
                    if import.source == "annuaire" {
                        for (nid, (_, gone)) in &existing {
                            if !gone && !seen.contains(nid) {
                                sqlx::query(
                                    "UPDATE dir_professional SET left_at = $3, updated_at = $3
                                     WHERE cpts_id = $1 AND national_id = $2",
                                )
                                .bind(id)
                                .bind(nid)
                                .bind(now)
                                .execute(&mut *tx)
                                .await?;
                                outcome.marked_left += 1;
                            }
                        }
                    }
                    let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
                    sqlx::query(
                        "INSERT INTO dir_import (cpts_id, id, source, file_name, imported_at, lines_read, kept, inserted,
                            updated, unchanged, marked_left, returned)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                    )
                    .bind(id)
                    .bind(&import.id)
                    .bind(import.source)
                    .bind(&import.file_name)
                    .bind(now)
                    .bind(n(import.lines_read))
                    .bind(count(import.professionals.len()))
                    .bind(n(outcome.inserted))
                    .bind(n(outcome.updated))
                    .bind(n(outcome.unchanged))
                    .bind(n(outcome.marked_left))
                    .bind(n(outcome.returned))
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| super::conflict_or(e, "this import was applied already"))?;
                    if let Some(counts) = import.departement_counts {
                        sqlx::query("DELETE FROM dir_departement_count WHERE cpts_id = $1")
                            .bind(id)
                            .execute(&mut *tx)
                            .await?;
                        for (dep, professions) in counts {
                            for (profession, n) in professions {
                                sqlx::query(
                                    "INSERT INTO dir_departement_count (cpts_id, departement, profession_code, professionals,
                                        import_id) VALUES ($1, $2, $3, $4, $5)",
                                )
                                .bind(id)
                                .bind(dep)
                                .bind(profession)
                                .bind(i64::try_from(*n).unwrap_or(i64::MAX))
                                .bind(&import.id)
                                .execute(&mut *tx)
                                .await?;
                            }
                        }
                    }
                    let mut audit = audit.clone();
                    audit.detail = format!(
                        "{} — {} lus, {} retenus : {} ajoutés, {} modifiés, {} inchangés, {} partis, {} revenus",
                        import.file_name,
                        import.lines_read,
                        import.professionals.len(),
                        outcome.inserted,
                        outcome.updated,
                        outcome.unchanged,
                        outcome.marked_left,
                        outcome.returned
                    );
                    Self::insert_audit(&mut tx, &audit).await?;

                    Ok(outcome)
                }
                .await;
                settle(tx, result).await
            }

            async fn departement_counts(&self, cpts: &CptsId) -> StoreResult<DepartementCounts> {
                let rows = sqlx::query(
                    "SELECT departement, profession_code, professionals FROM dir_departement_count WHERE cpts_id = $1",
                )
                .bind(cpts.as_str())
                .fetch_all(&self.pool)
                .await?;
                let mut out = DepartementCounts::new();
                for r in &rows {
                    let n: i64 = r.try_get("professionals")?;
                    out.entry(r.try_get("departement")?)
                        .or_default()
                        .insert(r.try_get("profession_code")?, u64::try_from(n).unwrap_or(0));
                }
                Ok(out)
            }

            async fn stat_inputs(&self, cpts: &CptsId) -> StoreResult<Vec<StatInput>> {
                let id = cpts.as_str();
                let mut inputs: std::collections::BTreeMap<String, StatInput> = std::collections::BTreeMap::new();
                for r in sqlx::query(
                    "SELECT p.national_id, p.profession_code,
                            EXISTS (SELECT 1 FROM dir_membership m WHERE m.cpts_id = p.cpts_id
                                    AND m.national_id = p.national_id AND m.status = 'active') AS member
                     FROM dir_professional p WHERE p.cpts_id = $1 AND p.left_at IS NULL",
                )
                .bind(id)
                .fetch_all(&self.pool)
                .await?
                {
                    inputs.insert(
                        r.try_get("national_id")?,
                        StatInput {
                            profession_code: r.try_get("profession_code")?,
                            specialties: Vec::new(),
                            communes: Vec::new(),
                            member: r.try_get("member")?,
                        },
                    );
                }
                for r in sqlx::query("SELECT national_id, code FROM dir_specialty WHERE cpts_id = $1")
                    .bind(id)
                    .fetch_all(&self.pool)
                    .await?
                {
                    let nid: String = r.try_get("national_id")?;
                    if let Some(i) = inputs.get_mut(&nid) {
                        i.specialties.push(r.try_get("code")?);
                    }
                }
                for r in sqlx::query(
                    "SELECT DISTINCT national_id, commune_code FROM dir_place WHERE cpts_id = $1 AND commune_code IS NOT NULL",
                )
                .bind(id)
                .fetch_all(&self.pool)
                .await?
                {
                    let nid: String = r.try_get("national_id")?;
                    let code: String = r.try_get("commune_code")?;
                    if let Some(i) = inputs.get_mut(&nid) {
                        i.communes.push(InseeCode::parse(&code).map_err(corrupt)?);
                    }
                }
                Ok(inputs.into_values().collect())
            }

            async fn list_imports(&self, cpts: &CptsId) -> StoreResult<Vec<ImportRecord>> {
                let rows = sqlx::query(
                    "SELECT id, source, file_name, imported_at, lines_read, kept, inserted, updated, unchanged,
                            marked_left, returned
                     FROM dir_import WHERE cpts_id = $1 ORDER BY imported_at DESC, id",
                )
                .bind(cpts.as_str())
                .fetch_all(&self.pool)
                .await?;
                let u = |v: i64| u64::try_from(v).unwrap_or(0);
                rows.iter()
                    .map(|r| {
                        Ok(ImportRecord {
                            id: r.try_get("id")?,
                            source: r.try_get("source")?,
                            file_name: r.try_get("file_name")?,
                            imported_at: r.try_get("imported_at")?,
                            lines_read: u(r.try_get("lines_read")?),
                            kept: u(r.try_get("kept")?),
                            outcome: ImportOutcome {
                                inserted: u(r.try_get("inserted")?),
                                updated: u(r.try_get("updated")?),
                                unchanged: u(r.try_get("unchanged")?),
                                marked_left: u(r.try_get("marked_left")?),
                                returned: u(r.try_get("returned")?),
                            },
                        })
                    })
                    .collect()
            }

            async fn directory_entry(&self, cpts: &CptsId, national_id: &str) -> StoreResult<DirectoryEntry> {
                let id = cpts.as_str();
                let (professional, first_seen_at, left_at) = self.professional(id, national_id).await?;
                let corrections = sqlx::query(
                    "SELECT field, place_key, value FROM dir_correction WHERE cpts_id = $1 AND national_id = $2
                     ORDER BY corrected_at, field, place_key",
                )
                .bind(id)
                .bind(national_id)
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(Self::correction_of)
                .collect::<StoreResult<Vec<_>>>()?;
                let membership = sqlx::query(
                    "SELECT joined_on, left_on, status, dues_paid_until, profession_referent, board_role
                     FROM dir_membership WHERE cpts_id = $1 AND national_id = $2",
                )
                .bind(id)
                .bind(national_id)
                .fetch_optional(&self.pool)
                .await?
                .map(|r| Self::membership_of(&r))
                .transpose()?
                .flatten();
                Ok(DirectoryEntry { professional, first_seen_at, left_at, corrections, membership })
            }

            async fn directory_export(&self, cpts: &CptsId, include_left: bool) -> StoreResult<Vec<DirectoryEntry>> {
                let id = cpts.as_str();
                // Four queries whatever the size: the professionals with their membership, then
                // each kind of child row of the same professionals, in order, zipped here.
                let of_listed = |table: &str, columns: &str, order: &str| {
                    format!(
                        "SELECT c.national_id, {columns} FROM {table} c
                         JOIN dir_professional p ON p.cpts_id = c.cpts_id AND p.national_id = c.national_id
                         WHERE c.cpts_id = $1 AND ($2 OR p.left_at IS NULL)
                         ORDER BY c.national_id, {order}"
                    )
                };
                let mut specialties: HashMap<String, Vec<Specialty>> = HashMap::new();
                for r in sqlx::query(&of_listed("dir_specialty", "c.kind, c.code, c.label", "c.position"))
                    .bind(id)
                    .bind(include_left)
                    .fetch_all(&self.pool)
                    .await?
                {
                    specialties.entry(r.try_get("national_id")?).or_default().push(Self::specialty_of(&r)?);
                }
                let mut places: HashMap<String, Vec<PracticePlace>> = HashMap::new();
                let place_columns = "c.place_key, c.technical_id, c.siret, c.finess, c.structure_name, c.line1, c.line2,
                     c.postal_code, c.commune_code, c.commune_label, c.phone, c.email, c.exercise_mode, c.role, c.sector";
                for r in sqlx::query(&of_listed("dir_place", place_columns, "c.position"))
                    .bind(id)
                    .bind(include_left)
                    .fetch_all(&self.pool)
                    .await?
                {
                    places.entry(r.try_get("national_id")?).or_default().push(Self::place_of(&r)?);
                }
                let mut corrections: HashMap<String, Vec<Correction>> = HashMap::new();
                let sql = of_listed("dir_correction", "c.field, c.place_key, c.value", "c.corrected_at, c.field, c.place_key");
                for r in sqlx::query(&sql).bind(id).bind(include_left).fetch_all(&self.pool).await? {
                    corrections.entry(r.try_get("national_id")?).or_default().push(Self::correction_of(&r)?);
                }
                let rows = sqlx::query(
                    "SELECT p.national_id, p.civility, p.family_name, p.given_name, p.profession_code,
                            p.profession_label, p.first_seen_at, p.left_at, m.joined_on, m.left_on, m.status,
                            m.dues_paid_until, m.profession_referent, m.board_role
                     FROM dir_professional p
                     LEFT JOIN dir_membership m ON m.cpts_id = p.cpts_id AND m.national_id = p.national_id
                     WHERE p.cpts_id = $1 AND ($2 OR p.left_at IS NULL)
                     ORDER BY p.family_name, p.given_name, p.national_id",
                )
                .bind(id)
                .bind(include_left)
                .fetch_all(&self.pool)
                .await?;
                let mut out = Vec::with_capacity(rows.len());
                for r in &rows {
                    let nid: String = r.try_get("national_id")?;
                    let professional = Self::professional_of(
                        r,
                        &nid,
                        specialties.remove(&nid).unwrap_or_default(),
                        places.remove(&nid).unwrap_or_default(),
                    )?;
                    out.push(DirectoryEntry {
                        professional,
                        first_seen_at: r.try_get("first_seen_at")?,
                        left_at: r.try_get("left_at")?,
                        corrections: corrections.remove(&nid).unwrap_or_default(),
                        membership: Self::membership_of(r)?,
                    });
                }
                Ok(out)
            }

            async fn search_directory(
                &self,
                cpts: &CptsId,
                q: &DirectoryQuery,
            ) -> StoreResult<(Vec<DirectoryRow>, u64)> {
                let id = cpts.as_str();
                let folded = q.text.as_deref().map(fold_for_search).unwrap_or_default();
                let mut words = folded.split(' ').filter(|w| !w.is_empty()).map(like);
                let (w1, w2, w3) = (words.next(), words.next(), words.next());
                let member_sql = "EXISTS (SELECT 1 FROM dir_membership m WHERE m.cpts_id = p.cpts_id
                                  AND m.national_id = p.national_id AND m.status = 'active')";
                let snp_sql = "EXISTS (SELECT 1 FROM dir_correction c WHERE c.cpts_id = p.cpts_id
                               AND c.national_id = p.national_id AND c.field = 'snp_participant'
                               AND c.place_key = '' AND c.value = 'true')";
                let filter = format!(
                    "FROM dir_professional p
                     WHERE p.cpts_id = $1
                       AND ($2 IS NULL OR p.search_key LIKE $2) AND ($3 IS NULL OR p.search_key LIKE $3)
                       AND ($4 IS NULL OR p.search_key LIKE $4)
                       AND ($5 IS NULL OR p.profession_code = $5)
                       AND ($6 IS NULL OR EXISTS (SELECT 1 FROM dir_place pl WHERE pl.cpts_id = p.cpts_id
                                                  AND pl.national_id = p.national_id AND pl.commune_code = $6))
                       AND ($7 IS NULL OR {member_sql} = $7)
                       AND ($8 OR p.left_at IS NULL)
                       AND ($9 IS NULL OR {snp_sql} = $9)"
                );
                macro_rules! bind_filter {
                    ($query:expr) => {
                        $query
                            .bind(id)
                            .bind(w1.as_deref())
                            .bind(w2.as_deref())
                            .bind(w3.as_deref())
                            .bind(q.profession.as_deref())
                            .bind(q.commune.as_deref())
                            .bind(q.member)
                            .bind(q.include_left)
                            .bind(q.snp)
                    };
                }
                let total: i64 =
                    bind_filter!(sqlx::query_scalar(&format!("SELECT COUNT(*) {filter}"))).fetch_one(&self.pool).await?;
                let rows = bind_filter!(sqlx::query(&format!(
                    "SELECT p.national_id, p.civility, p.family_name, p.given_name, p.profession_code,
                            p.profession_label, p.left_at IS NOT NULL AS gone, {member_sql} AS member, {snp_sql} AS snp {filter}
                     ORDER BY p.family_name, p.given_name, p.national_id LIMIT $10 OFFSET $11"
                )))
                .bind(i64::from(q.limit.clamp(1, 500)))
                .bind(i64::from(q.offset))
                .fetch_all(&self.pool)
                .await?;
                // The communes of the whole page in one query (the live search runs this at
                // every pause in typing).
                let ids: Vec<String> =
                    rows.iter().map(|r| r.try_get::<String, _>("national_id")).collect::<Result<_, _>>()?;
                let mut communes: HashMap<String, Vec<String>> = HashMap::new();
                if !ids.is_empty() {
                    let placeholders: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 2)).collect();
                    let sql = format!(
                        "SELECT DISTINCT national_id, commune_code FROM dir_place
                         WHERE cpts_id = $1 AND commune_code IS NOT NULL AND national_id IN ({})
                         ORDER BY national_id, commune_code",
                        placeholders.join(", ")
                    );
                    let mut query = sqlx::query(&sql).bind(id);
                    for nid in &ids {
                        query = query.bind(nid);
                    }
                    for r in query.fetch_all(&self.pool).await? {
                        communes.entry(r.try_get("national_id")?).or_default().push(r.try_get("commune_code")?);
                    }
                }
                let mut out = Vec::with_capacity(rows.len());
                for (r, nid) in rows.iter().zip(ids) {
                    out.push(DirectoryRow {
                        communes: communes.remove(&nid).unwrap_or_default(),
                        national_id: nid,
                        civility: r.try_get("civility")?,
                        family_name: r.try_get("family_name")?,
                        given_name: r.try_get("given_name")?,
                        profession_code: r.try_get("profession_code")?,
                        profession_label: r.try_get("profession_label")?,
                        member: r.try_get("member")?,
                        snp: r.try_get("snp")?,
                        left: r.try_get("gone")?,
                    });
                }
                Ok((out, u64::try_from(total).unwrap_or(0)))
            }

            async fn put_correction(
                &self,
                cpts: &CptsId,
                national_id: &str,
                c: &Correction,
                by: &str,
                now: DateTime<Utc>,
                audit: &AuditEvent,
            ) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                let result = async {
                    Self::ensure_professional(&mut tx, cpts.as_str(), national_id).await?;
                    sqlx::query(
                        "INSERT INTO dir_correction (cpts_id, national_id, field, place_key, value, corrected_by, corrected_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7)
                         ON CONFLICT (cpts_id, national_id, field, place_key)
                         DO UPDATE SET value = excluded.value, corrected_by = excluded.corrected_by,
                                       corrected_at = excluded.corrected_at",
                    )
                    .bind(cpts.as_str())
                    .bind(national_id)
                    .bind(c.field.code())
                    .bind(c.place.as_deref().unwrap_or(""))
                    .bind(&c.value)
                    .bind(by)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    Self::insert_audit(&mut tx, audit).await?;

                    Ok(())
                }
                .await;
                settle(tx, result).await
            }

            async fn delete_correction(
                &self,
                cpts: &CptsId,
                national_id: &str,
                field: CorrectableField,
                place: Option<&str>,
                audit: &AuditEvent,
            ) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                let result = async {
                    let done = sqlx::query(
                        "DELETE FROM dir_correction WHERE cpts_id = $1 AND national_id = $2 AND field = $3 AND place_key = $4",
                    )
                    .bind(cpts.as_str())
                    .bind(national_id)
                    .bind(field.code())
                    .bind(place.unwrap_or(""))
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

            async fn put_membership(
                &self,
                cpts: &CptsId,
                national_id: &str,
                m: &Membership,
                now: DateTime<Utc>,
                audit: &AuditEvent,
            ) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                let result = async {
                    Self::ensure_professional(&mut tx, cpts.as_str(), national_id).await?;
                    sqlx::query(
                        "INSERT INTO dir_membership (cpts_id, national_id, joined_on, left_on, status, dues_paid_until,
                            profession_referent, board_role, updated_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                         ON CONFLICT (cpts_id, national_id)
                         DO UPDATE SET joined_on = excluded.joined_on, left_on = excluded.left_on, status = excluded.status,
                                       dues_paid_until = excluded.dues_paid_until,
                                       profession_referent = excluded.profession_referent,
                                       board_role = excluded.board_role, updated_at = excluded.updated_at",
                    )
                    .bind(cpts.as_str())
                    .bind(national_id)
                    .bind(m.joined_on)
                    .bind(m.left_on)
                    .bind(status_str(m.status))
                    .bind(m.dues_paid_until)
                    .bind(m.profession_referent)
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

            async fn apply_memberships(
                &self,
                cpts: &CptsId,
                memberships: &[(String, Membership)],
                now: DateTime<Utc>,
                audit: &AuditEvent,
            ) -> StoreResult<MembershipOutcome> {
                let id = cpts.as_str();
                let mut seen = HashSet::with_capacity(memberships.len());
                for (nid, _) in memberships {
                    if !seen.insert(nid.as_str()) {
                        return Err(StoreError::Conflict(format!("professional {nid} listed twice in the member list")));
                    }
                }
                let mut tx = self.pool.begin().await?;
                let result = async {
                    let known: HashSet<String> =
                        sqlx::query_scalar("SELECT national_id FROM dir_professional WHERE cpts_id = $1")
                            .bind(id)
                            .fetch_all(&mut *tx)
                            .await?
                            .into_iter()
                            .collect();
                    let unknown: Vec<String> =
                        memberships.iter().filter(|(nid, _)| !known.contains(nid)).map(|(nid, _)| nid.clone()).collect();
                    if !unknown.is_empty() {
                        return Ok(MembershipOutcome { unknown, ..Default::default() });
                    }
                    let existing: HashMap<String, Membership> = sqlx::query(
                        "SELECT national_id, joined_on, left_on, status, dues_paid_until, profession_referent, board_role
                         FROM dir_membership WHERE cpts_id = $1",
                    )
                    .bind(id)
                    .fetch_all(&mut *tx)
                    .await?
                    .iter()
                    .map(|r| {
                        let s: String = r.try_get("status")?;
                        Ok((
                            r.try_get("national_id")?,
                            Membership {
                                joined_on: r.try_get("joined_on")?,
                                left_on: r.try_get("left_on")?,
                                status: status(&s)?,
                                dues_paid_until: r.try_get("dues_paid_until")?,
                                profession_referent: r.try_get("profession_referent")?,
                                board_role: r.try_get("board_role")?,
                            },
                        ))
                    })
                    .collect::<StoreResult<_>>()?;
                    let mut outcome = MembershipOutcome::default();
                    for (nid, m) in memberships {
                        match existing.get(nid) {
                            Some(old) if old == m => {
                                outcome.unchanged += 1;
                                continue;
                            }
                            Some(_) => outcome.updated += 1,
                            None => outcome.created += 1,
                        }
                        sqlx::query(
                            "INSERT INTO dir_membership (cpts_id, national_id, joined_on, left_on, status, dues_paid_until,
                                profession_referent, board_role, updated_at)
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                             ON CONFLICT (cpts_id, national_id)
                             DO UPDATE SET joined_on = excluded.joined_on, left_on = excluded.left_on,
                                           status = excluded.status, dues_paid_until = excluded.dues_paid_until,
                                           profession_referent = excluded.profession_referent,
                                           board_role = excluded.board_role, updated_at = excluded.updated_at",
                        )
                        .bind(id)
                        .bind(nid)
                        .bind(m.joined_on)
                        .bind(m.left_on)
                        .bind(status_str(m.status))
                        .bind(m.dues_paid_until)
                        .bind(m.profession_referent)
                        .bind(m.board_role.as_deref())
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    }
                    Self::insert_audit(&mut tx, audit).await?;

                    Ok(outcome)
                }
                .await;
                settle(tx, result).await
            }

            async fn directory_professions(&self, cpts: &CptsId) -> StoreResult<Vec<(String, u64)>> {
                let rows = sqlx::query(
                    "SELECT profession_code, COUNT(*) AS n FROM dir_professional
                     WHERE cpts_id = $1 AND left_at IS NULL GROUP BY profession_code ORDER BY profession_code",
                )
                .bind(cpts.as_str())
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|r| {
                        let n: i64 = r.try_get("n")?;
                        Ok((r.try_get("profession_code")?, u64::try_from(n).unwrap_or(0)))
                    })
                    .collect()
            }

            async fn link_account_professional(
                &self,
                cpts: &CptsId,
                account_id: &str,
                national_id: &str,
                audit: &AuditEvent,
            ) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                let result = async {
                    Self::ensure_professional(&mut tx, cpts.as_str(), national_id).await?;
                    let account: Option<String> =
                        sqlx::query_scalar("SELECT id FROM account WHERE id = $1 AND cpts_id = $2")
                            .bind(account_id)
                            .bind(cpts.as_str())
                            .fetch_optional(&mut *tx)
                            .await?;
                    if account.is_none() {
                        return Err(StoreError::NotFound);
                    }
                    sqlx::query(
                        "INSERT INTO account_professional (cpts_id, account_id, national_id) VALUES ($1, $2, $3)
                         ON CONFLICT (cpts_id, account_id) DO UPDATE SET national_id = excluded.national_id",
                    )
                    .bind(cpts.as_str())
                    .bind(account_id)
                    .bind(national_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| super::conflict_or(e, "another account is linked to this professional"))?;
                    Self::insert_audit(&mut tx, audit).await?;

                    Ok(())
                }
                .await;
                settle(tx, result).await
            }

            async fn unlink_account_professional(
                &self,
                cpts: &CptsId,
                account_id: &str,
                audit: &AuditEvent,
            ) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                let result = async {
                    let done = sqlx::query("DELETE FROM account_professional WHERE cpts_id = $1 AND account_id = $2")
                        .bind(cpts.as_str())
                        .bind(account_id)
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

            async fn professional_of_account(&self, cpts: &CptsId, account_id: &str) -> StoreResult<Option<String>> {
                Ok(sqlx::query_scalar(
                    "SELECT national_id FROM account_professional WHERE cpts_id = $1 AND account_id = $2",
                )
                .bind(cpts.as_str())
                .bind(account_id)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn account_of_professional(&self, cpts: &CptsId, national_id: &str) -> StoreResult<Option<String>> {
                Ok(sqlx::query_scalar(
                    "SELECT account_id FROM account_professional WHERE cpts_id = $1 AND national_id = $2",
                )
                .bind(cpts.as_str())
                .bind(national_id)
                .fetch_optional(&self.pool)
                .await?)
            }
        }
    };
}

directory_sql!(SqliteStore, sqlx::sqlite::SqliteRow, sqlx::SqliteConnection);
directory_sql!(PgStore, sqlx::postgres::PgRow, sqlx::PgConnection);

impl DirectoryStore for Store {
    async fn apply_import(
        &self,
        cpts: &CptsId,
        import: &AnnuaireImport<'_>,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<ImportOutcome> {
        delegate!(self, s => s.apply_import(cpts, import, now, audit))
    }
    async fn list_imports(&self, cpts: &CptsId) -> StoreResult<Vec<ImportRecord>> {
        delegate!(self, s => s.list_imports(cpts))
    }
    async fn departement_counts(&self, cpts: &CptsId) -> StoreResult<DepartementCounts> {
        delegate!(self, s => s.departement_counts(cpts))
    }
    async fn stat_inputs(&self, cpts: &CptsId) -> StoreResult<Vec<StatInput>> {
        delegate!(self, s => s.stat_inputs(cpts))
    }
    async fn directory_entry(&self, cpts: &CptsId, national_id: &str) -> StoreResult<DirectoryEntry> {
        delegate!(self, s => s.directory_entry(cpts, national_id))
    }
    async fn directory_export(&self, cpts: &CptsId, include_left: bool) -> StoreResult<Vec<DirectoryEntry>> {
        delegate!(self, s => s.directory_export(cpts, include_left))
    }
    async fn search_directory(&self, cpts: &CptsId, query: &DirectoryQuery) -> StoreResult<(Vec<DirectoryRow>, u64)> {
        delegate!(self, s => s.search_directory(cpts, query))
    }
    async fn put_correction(
        &self,
        cpts: &CptsId,
        national_id: &str,
        correction: &Correction,
        by: &str,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        delegate!(self, s => s.put_correction(cpts, national_id, correction, by, now, audit))
    }
    async fn delete_correction(
        &self,
        cpts: &CptsId,
        national_id: &str,
        field: CorrectableField,
        place: Option<&str>,
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        delegate!(self, s => s.delete_correction(cpts, national_id, field, place, audit))
    }
    async fn put_membership(
        &self,
        cpts: &CptsId,
        national_id: &str,
        membership: &Membership,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        delegate!(self, s => s.put_membership(cpts, national_id, membership, now, audit))
    }
    async fn apply_memberships(
        &self,
        cpts: &CptsId,
        memberships: &[(String, Membership)],
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<MembershipOutcome> {
        delegate!(self, s => s.apply_memberships(cpts, memberships, now, audit))
    }
    async fn directory_professions(&self, cpts: &CptsId) -> StoreResult<Vec<(String, u64)>> {
        delegate!(self, s => s.directory_professions(cpts))
    }
    async fn link_account_professional(
        &self,
        cpts: &CptsId,
        account_id: &str,
        national_id: &str,
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        delegate!(self, s => s.link_account_professional(cpts, account_id, national_id, audit))
    }
    async fn unlink_account_professional(
        &self,
        cpts: &CptsId,
        account_id: &str,
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        delegate!(self, s => s.unlink_account_professional(cpts, account_id, audit))
    }
    async fn professional_of_account(&self, cpts: &CptsId, account_id: &str) -> StoreResult<Option<String>> {
        delegate!(self, s => s.professional_of_account(cpts, account_id))
    }
    async fn account_of_professional(&self, cpts: &CptsId, national_id: &str) -> StoreResult<Option<String>> {
        delegate!(self, s => s.account_of_professional(cpts, national_id))
    }
}
