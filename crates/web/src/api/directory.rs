//! The directory of a CPTS as JSON: the use cases of the pages `/cpts/{id}/annuaire` (`app::directory`),
//! so the same access rules. Its coordinator, board and member professionals read it
//! (`Action::ViewCptsPersonalData`; the ARS, the CPAM and the national level never do: 403);
//! every profile read is audited. The coordinator and board change corrections and membership; a
//! member professional whose account is linked to her profile corrects her own phone, e-mail,
//! MSSanté address and availability. Another CPTS's directory is "not found".
//!
//! Professionals are named by their national identifier (IDNPS): `8` + RPPS or `0` + ADELI.
//! Every value that a local correction may change comes as `{value, corrected}`.

use crate::app::Ctx;
use crate::app::directory::{self as uc, Profile, SearchResult};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::middleware::request_id;
use crate::state::AppState;
use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, NaiveDate, Utc};
use maillage_core::directory::model::{Membership, MembershipStatus, NationalId, Sourced};
use maillage_store::{DirectoryRow, ImportRecord};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

fn ctx<'a>(state: &'a AppState, principal: &'a Principal, headers: &HeaderMap) -> Ctx<'a> {
    Ctx { state, principal, request_id: request_id(headers) }
}

fn invalid(code: &'static str, en: String, fr: String) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, en, fr)
}

fn bad_body(r: JsonRejection) -> ApiError {
    let text = r.body_text();
    ApiError::new(r.status(), "invalid_body", text.clone(), format!("Le document envoyé n'est pas valide : {text}"))
}

// ---------------------------------------------------------------------------------------------
// Search

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DirectorySearchParams {
    /// Words matched, in any order, against family and given names, profession and communes;
    /// accents and case are ignored.
    q: Option<String>,
    /// A profession code (`10` médecin, `60` infirmier…).
    profession: Option<String>,
    /// An INSEE commune code: professionals with a practice place there.
    commune: Option<String>,
    /// `true`: active members of the CPTS only; `false`: the others. Absent: everybody.
    member: Option<bool>,
    /// `true`: those the CPTS recorded as taking part in same-day care (soins non programmés);
    /// `false`: the others. Absent: everybody.
    snp: Option<bool>,
    /// Also the professionals the latest national extract no longer lists (default `false`).
    include_left: Option<bool>,
    /// From 1 (default 1); 50 professionals a page.
    #[param(minimum = 1)]
    page: Option<u32>,
}

/// One professional of a search.
#[derive(Serialize, ToSchema)]
pub struct DirectoryListItem {
    /// IDNPS: `8` + RPPS or `0` + ADELI.
    national_id: String,
    /// `DR`, `PR`, `M`, `MME`…
    civility: Option<String>,
    family_name: String,
    given_name: String,
    profession_code: String,
    profession_label: Option<String>,
    /// INSEE codes of the communes of the practice places.
    communes: Vec<String>,
    /// An active member of the CPTS.
    member: bool,
    /// Recorded by the CPTS as taking part in same-day care.
    snp: bool,
    /// No longer listed in the national extract.
    left: bool,
}

impl From<DirectoryRow> for DirectoryListItem {
    fn from(r: DirectoryRow) -> Self {
        Self {
            national_id: r.national_id,
            civility: r.civility,
            family_name: r.family_name,
            given_name: r.given_name,
            profession_code: r.profession_code,
            profession_label: r.profession_label,
            communes: r.communes,
            member: r.member,
            snp: r.snp,
            left: r.left,
        }
    }
}

/// A page of a directory search, by family then given name.
#[derive(Serialize, ToSchema)]
pub struct DirectorySearchPage {
    /// Professionals matching, all pages.
    total: u64,
    page: u32,
    pages: u32,
    per_page: u32,
    professionals: Vec<DirectoryListItem>,
}

impl From<SearchResult> for DirectorySearchPage {
    fn from(r: SearchResult) -> Self {
        Self {
            total: r.total,
            page: r.page,
            pages: r.pages,
            per_page: uc::PAGE_SIZE,
            professionals: r.rows.into_iter().map(DirectoryListItem::from).collect(),
        }
    }
}

/// Searches the directory of a CPTS (its coordinator, board and member professionals).
#[utoipa::path(get, path = "/api/v1/cpts/{id}/directory", tag = "directory", security(("bearer" = [])),
    params(("id" = String, Path, description = "CPTS identifier"), DirectorySearchParams),
    responses(
        (status = 200, body = DirectorySearchPage),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "a role that never reads personal data (ARS, CPAM, national observer)"),
        (status = 404, body = ApiError, description = "unknown CPTS, or another tenant's"),
        (status = 422, body = ApiError, description = "`invalid_profession`, `invalid_commune`, `invalid_text`, `invalid_parameters`"),
    ))]
pub async fn search(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    query: Result<Query<DirectorySearchParams>, QueryRejection>,
) -> Result<Json<DirectorySearchPage>, ApiError> {
    let c = ctx(&state, &principal, &headers);
    let dir = uc::open(&c, &id).await?;
    let Query(q) =
        query.map_err(|e| invalid("invalid_parameters", e.body_text(), format!("Paramètres invalides : {e}")))?;
    let search = uc::Search {
        text: q.q,
        profession: q.profession,
        commune: q.commune,
        member: q.member,
        snp: q.snp,
        include_left: q.include_left.unwrap_or(false),
        page: q.page.unwrap_or(1).max(1),
    };
    Ok(Json(uc::search(&c, &dir, &search).await?.into()))
}

// ---------------------------------------------------------------------------------------------
// A profile

/// A text value and whether a local correction set it (`value: null`: none known, or cleared by
/// a correction).
#[derive(Serialize, ToSchema)]
pub struct DirectoryText {
    value: Option<String>,
    corrected: bool,
}

impl From<&Sourced<Option<String>>> for DirectoryText {
    fn from(s: &Sourced<Option<String>>) -> Self {
        Self { value: s.value.clone(), corrected: s.corrected }
    }
}

/// A yes/no value and whether a local correction set it (`null`: not known).
#[derive(Serialize, ToSchema)]
pub struct DirectoryFlag {
    value: Option<bool>,
    corrected: bool,
}

impl From<&Sourced<Option<bool>>> for DirectoryFlag {
    fn from(s: &Sourced<Option<bool>>) -> Self {
        Self { value: s.value, corrected: s.corrected }
    }
}

#[derive(Serialize, ToSchema)]
pub struct DirectorySpecialty {
    /// `S` specialty, `CAPA` capacity…
    kind: String,
    /// `SM54`…
    code: String,
    label: String,
}

/// The structure a practice place belongs to, as the Annuaire Santé names it.
#[derive(Serialize, ToSchema)]
pub struct DirectoryStructure {
    technical_id: Option<String>,
    siret: Option<String>,
    finess: Option<String>,
    name: Option<String>,
}

/// A practice place with the corrections applied.
#[derive(Serialize, ToSchema)]
pub struct DirectoryPlace {
    /// Key of the place within the professional: the `place` of its corrections.
    key: String,
    structure: DirectoryStructure,
    address_line1: DirectoryText,
    address_line2: DirectoryText,
    postal_code: DirectoryText,
    /// INSEE code.
    commune_code: DirectoryText,
    /// As the extract names the commune (`null` once the commune is corrected).
    commune_label: Option<String>,
    phone: DirectoryText,
    email: DirectoryText,
    /// `L` libéral, `S` salarié, `B` bénévole, `null` unknown.
    exercise_mode: DirectoryText,
    role: Option<String>,
}

/// A local correction as stored.
#[derive(Serialize, ToSchema)]
pub struct DirectoryCorrection {
    /// `phone`, `email`, `address_line1`, `address_line2`, `postal_code`, `commune_code`,
    /// `exercise_mode` (per place); `mssante`, `snp_participant`, `accepts_new_patients`.
    field: String,
    /// The place's key for per-place fields.
    place: Option<String>,
    /// Normalized; empty clears the imported value; `true`/`false` for yes/no fields.
    value: String,
    /// Its place is no longer in the imported data: kept, not applied.
    orphaned: bool,
}

/// Membership of the professional in the CPTS association.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct DirectoryMembership {
    joined_on: NaiveDate,
    /// Set exactly when `status` is `left`.
    #[serde(default)]
    left_on: Option<NaiveDate>,
    /// `active`, `suspended` or `left`.
    status: String,
    /// Last day covered by the dues paid. Read only by the coordinator and board (absent for
    /// member professionals).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dues_paid_until: Option<NaiveDate>,
    /// Référent of their profession within the CPTS.
    #[serde(default)]
    profession_referent: bool,
    /// Role in the board ("présidente", "trésorier"…).
    #[serde(default)]
    board_role: Option<String>,
}

fn status_code(s: MembershipStatus) -> &'static str {
    match s {
        MembershipStatus::Active => "active",
        MembershipStatus::Suspended => "suspended",
        MembershipStatus::Left => "left",
    }
}

impl DirectoryMembership {
    fn of(m: &Membership, with_dues: bool) -> Self {
        Self {
            joined_on: m.joined_on,
            left_on: m.left_on,
            status: status_code(m.status).to_owned(),
            dues_paid_until: if with_dues { m.dues_paid_until } else { None },
            profession_referent: m.profession_referent,
            board_role: m.board_role.clone(),
        }
    }

    fn to_domain(&self) -> Result<Membership, ApiError> {
        let status = match self.status.trim() {
            "active" => MembershipStatus::Active,
            "suspended" => MembershipStatus::Suspended,
            "left" => MembershipStatus::Left,
            other => {
                return Err(invalid(
                    "invalid_membership",
                    format!("status `{other}` is not active, suspended or left"),
                    format!("Adhésion non enregistrée : état inconnu « {other} »."),
                ));
            }
        };
        Ok(Membership {
            joined_on: self.joined_on,
            left_on: self.left_on,
            status,
            dues_paid_until: self.dues_paid_until,
            profession_referent: self.profession_referent,
            board_role: self.board_role.as_deref().map(str::trim).filter(|r| !r.is_empty()).map(str::to_owned),
        })
    }
}

/// A professional of the directory: the imported values with the local corrections applied,
/// the corrections themselves, and the membership.
#[derive(Serialize, ToSchema)]
pub struct DirectoryProfile {
    /// IDNPS: `8` + RPPS or `0` + ADELI.
    national_id: String,
    /// `rpps` or `adeli`.
    identifier_kind: String,
    /// The RPPS (11 digits) or ADELI (9 characters) number.
    identifier: String,
    civility: Option<String>,
    family_name: String,
    given_name: String,
    profession_code: String,
    profession_label: Option<String>,
    specialties: Vec<DirectorySpecialty>,
    places: Vec<DirectoryPlace>,
    /// MSSanté secure-messaging address.
    mssante: DirectoryText,
    /// Takes part in same-day care (soins non programmés).
    snp_participant: DirectoryFlag,
    accepts_new_patients: DirectoryFlag,
    corrections: Vec<DirectoryCorrection>,
    membership: Option<DirectoryMembership>,
    first_seen_at: DateTime<Utc>,
    /// When an import of the national extract stopped listing the professional.
    left_at: Option<DateTime<Utc>>,
    /// The caller may change every correctable field and the membership (coordinator, board).
    can_edit: bool,
    /// This is the caller's own profile: she may correct her phone, e-mail, MSSanté address,
    /// same-day care participation and new patients.
    is_self: bool,
}

impl From<&Profile> for DirectoryProfile {
    fn from(p: &Profile) -> Self {
        let v = &p.view;
        let (kind, number) = match v.national_id {
            NationalId::Rpps(r) => ("rpps", r.as_str().to_owned()),
            NationalId::Adeli(a) => ("adeli", a.as_str().to_owned()),
        };
        let orphaned = |c: &maillage_core::directory::model::Correction| v.orphaned.contains(c);
        Self {
            national_id: p.national_id.clone(),
            identifier_kind: kind.to_owned(),
            identifier: number,
            civility: v.civility.clone(),
            family_name: v.family_name.clone(),
            given_name: v.given_name.clone(),
            profession_code: v.profession_code.clone(),
            profession_label: v.profession_label.clone(),
            specialties: v
                .specialties
                .iter()
                .map(|s| DirectorySpecialty { kind: s.kind.clone(), code: s.code.clone(), label: s.label.clone() })
                .collect(),
            places: v
                .places
                .iter()
                .map(|pl| DirectoryPlace {
                    key: pl.key.clone(),
                    structure: DirectoryStructure {
                        technical_id: pl.structure.technical_id.clone(),
                        siret: pl.structure.siret.as_ref().map(|s| s.as_str().to_owned()),
                        finess: pl.structure.finess.as_ref().map(|f| f.as_str().to_owned()),
                        name: pl.structure.name.clone(),
                    },
                    address_line1: (&pl.address_line1).into(),
                    address_line2: (&pl.address_line2).into(),
                    postal_code: (&pl.postal_code).into(),
                    commune_code: DirectoryText {
                        value: pl.commune_code.value.map(|c| c.as_str().to_owned()),
                        corrected: pl.commune_code.corrected,
                    },
                    commune_label: pl.commune_label.clone(),
                    phone: (&pl.phone).into(),
                    email: (&pl.email).into(),
                    exercise_mode: DirectoryText {
                        value: Some(pl.exercise_mode.value.code().to_owned()).filter(|c| !c.is_empty()),
                        corrected: pl.exercise_mode.corrected,
                    },
                    role: pl.role.clone(),
                })
                .collect(),
            mssante: (&v.mssante).into(),
            snp_participant: (&v.snp_participant).into(),
            accepts_new_patients: (&v.accepts_new_patients).into(),
            corrections: p
                .entry
                .corrections
                .iter()
                .map(|c| DirectoryCorrection {
                    field: c.field.code().to_owned(),
                    place: c.place.clone(),
                    value: c.value.clone(),
                    orphaned: orphaned(c),
                })
                .collect(),
            membership: p.entry.membership.as_ref().map(|m| DirectoryMembership::of(m, p.dir.can_edit)),
            first_seen_at: p.entry.first_seen_at,
            left_at: p.entry.left_at,
            can_edit: p.dir.can_edit,
            is_self: p.is_self,
        }
    }
}

/// One professional of the directory: the effective values (imported, with the local
/// corrections applied and marked), the corrections, the membership. The read is audited.
#[utoipa::path(get, path = "/api/v1/cpts/{id}/directory/{national_id}", tag = "directory", security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "CPTS identifier"),
        ("national_id" = String, Path, description = "IDNPS: `8` + RPPS or `0` + ADELI"),
    ),
    responses(
        (status = 200, body = DirectoryProfile),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "ARS, CPAM, national observer"),
        (status = 404, body = ApiError, description = "unknown CPTS or professional, or another tenant's"),
    ))]
pub async fn profile(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((id, national_id)): Path<(String, String)>,
) -> Result<Json<DirectoryProfile>, ApiError> {
    let c = ctx(&state, &principal, &headers);
    let p = uc::profile(&c, &id, &national_id).await?;
    Ok(Json(DirectoryProfile::from(&p)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PlaceParam {
    /// The place's `key`, for per-place fields (phone, e-mail, address, commune, exercise mode).
    place: Option<String>,
}

/// The value of a correction.
#[derive(Deserialize, ToSchema)]
pub struct DirectoryCorrectionBody {
    /// Phone numbers keep their digits (and a leading `+`); e-mails are lower-cased; an MSSanté
    /// address is on a `…mssante.fr` domain; postal codes are 5 digits; communes INSEE codes;
    /// exercise modes `L`, `S` or `B`; yes/no fields `true`/`false` (or `oui`/`non`). An empty
    /// value clears the imported phone, e-mail, address complement or MSSanté address.
    value: String,
}

/// Sets (or replaces) a local correction of one field. The coordinator and board correct any
/// field; a member professional her own phone, e-mail, MSSanté address and availability. An
/// import never overwrites a correction. Answers the profile as `GET` does.
#[utoipa::path(put, path = "/api/v1/cpts/{id}/directory/{national_id}/corrections/{field}", tag = "directory",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "CPTS identifier"),
        ("national_id" = String, Path, description = "IDNPS"),
        ("field" = String, Path, description = "`phone`, `email`, `address_line1`, `address_line2`, `postal_code`, `commune_code`, `exercise_mode` (with `place`); `mssante`, `snp_participant`, `accepts_new_patients`"),
        PlaceParam,
    ),
    request_body = DirectoryCorrectionBody,
    responses(
        (status = 200, body = DirectoryProfile),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "a field the caller may not correct (a member: someone else's profile, or a field other than her contact details)"),
        (status = 404, body = ApiError, description = "unknown CPTS or professional"),
        (status = 422, body = ApiError, description = "`invalid_correction` (value, or place missing / not expected), `unknown_place`, `unknown_field`, `invalid_body`"),
    ))]
pub async fn put_correction(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((id, national_id, field)): Path<(String, String, String)>,
    Query(place): Query<PlaceParam>,
    body: Result<Json<DirectoryCorrectionBody>, JsonRejection>,
) -> Result<Json<DirectoryProfile>, ApiError> {
    let Json(body) = body.map_err(bad_body)?;
    let c = ctx(&state, &principal, &headers);
    let field = uc::field(&field)?;
    uc::set_correction(&c, &id, &national_id, field, place.place.as_deref(), &body.value).await?;
    let p = uc::profile(&c, &id, &national_id).await?;
    Ok(Json(DirectoryProfile::from(&p)))
}

/// Removes a local correction: the imported value shows again.
#[utoipa::path(delete, path = "/api/v1/cpts/{id}/directory/{national_id}/corrections/{field}", tag = "directory",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "CPTS identifier"),
        ("national_id" = String, Path, description = "IDNPS"),
        ("field" = String, Path, description = "the corrected field"),
        PlaceParam,
    ),
    responses(
        (status = 204, description = "removed"),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError),
        (status = 404, body = ApiError, description = "unknown CPTS or professional, or no such correction"),
        (status = 422, body = ApiError, description = "`unknown_field`, `unknown_place`"),
    ))]
pub async fn delete_correction(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((id, national_id, field)): Path<(String, String, String)>,
    Query(place): Query<PlaceParam>,
) -> Result<StatusCode, ApiError> {
    let c = ctx(&state, &principal, &headers);
    let field = uc::field(&field)?;
    uc::remove_correction(&c, &id, &national_id, field, place.place.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Records (or replaces) the membership of a professional in the CPTS (coordinator and board).
#[utoipa::path(put, path = "/api/v1/cpts/{id}/directory/{national_id}/membership", tag = "directory",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "CPTS identifier"), ("national_id" = String, Path, description = "IDNPS")),
    request_body = DirectoryMembership,
    responses(
        (status = 200, body = DirectoryMembership),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "member professionals, observers"),
        (status = 404, body = ApiError, description = "unknown CPTS or professional"),
        (status = 422, body = ApiError, description = "`invalid_membership` (a member who left has a leaving date and only they do, not before joining…), `invalid_body`"),
    ))]
pub async fn put_membership(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((id, national_id)): Path<(String, String)>,
    body: Result<Json<DirectoryMembership>, JsonRejection>,
) -> Result<Json<DirectoryMembership>, ApiError> {
    let Json(body) = body.map_err(bad_body)?;
    let membership = body.to_domain()?;
    let c = ctx(&state, &principal, &headers);
    uc::set_membership(&c, &id, &national_id, &membership).await?;
    Ok(Json(DirectoryMembership::of(&membership, true)))
}

/// One import of the national extract into the directory.
#[derive(Serialize, ToSchema)]
pub struct DirectoryImport {
    id: String,
    /// `annuaire` (the national extract) or `members` (a member list).
    source: String,
    file_name: String,
    imported_at: DateTime<Utc>,
    lines_read: u64,
    /// Professionals of the territory found in the file.
    kept: u64,
    inserted: u64,
    updated: u64,
    unchanged: u64,
    /// Listed before, absent from this extract: marked as having left (never deleted).
    marked_left: u64,
    /// Marked as having left before, listed again.
    returned: u64,
}

impl From<ImportRecord> for DirectoryImport {
    fn from(r: ImportRecord) -> Self {
        Self {
            id: r.id,
            source: r.source,
            file_name: r.file_name,
            imported_at: r.imported_at,
            lines_read: r.lines_read,
            kept: r.kept,
            inserted: r.outcome.inserted,
            updated: r.outcome.updated,
            unchanged: r.outcome.unchanged,
            marked_left: r.outcome.marked_left,
            returned: r.outcome.returned,
        }
    }
}

/// The imports of the national extract into the directory, newest first (coordinator and board).
#[utoipa::path(get, path = "/api/v1/cpts/{id}/directory/imports", tag = "directory", security(("bearer" = [])),
    params(("id" = String, Path, description = "CPTS identifier")),
    responses(
        (status = 200, body = [DirectoryImport]),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError),
        (status = 404, body = ApiError),
    ))]
pub async fn imports(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Vec<DirectoryImport>>, ApiError> {
    let c = ctx(&state, &principal, &headers);
    let (_, list) = uc::imports(&c, &id).await?;
    Ok(Json(list.into_iter().map(DirectoryImport::from).collect()))
}

// ---------------------------------------------------------------------------------------------
// Export

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DirectoryExportParams {
    /// `csv` (one line per practice place, UTF-8 with BOM), `xlsx` (the same rows), `vcard`
    /// (one vCard 4.0 per professional) or `fhir` (a FHIR R4 Bundle of type collection).
    format: String,
    /// Also the professionals the latest national extract no longer lists (default `false`).
    include_left: Option<bool>,
}

/// The directory of a CPTS as a file (coordinator and board): effective values (imported, with
/// the local corrections applied), by family then given name. Every export is audited.
#[utoipa::path(get, path = "/api/v1/cpts/{id}/directory/export", tag = "directory", security(("bearer" = [])),
    params(("id" = String, Path, description = "CPTS identifier"), DirectoryExportParams),
    responses(
        (status = 200, description = "The file, as an attachment (`Content-Disposition`)", content(
            (String = "text/csv; charset=utf-8"),
            (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (String = "text/vcard; charset=utf-8"),
            (String = "application/fhir+json"),
        )),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "not the coordinator or the board of this CPTS"),
        (status = 404, body = ApiError, description = "unknown CPTS, or another tenant's"),
        (status = 422, body = ApiError, description = "`invalid_format`, `invalid_parameters`"),
    ))]
pub async fn export(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    query: Result<Query<DirectoryExportParams>, QueryRejection>,
) -> Result<axum::response::Response, ApiError> {
    let c = ctx(&state, &principal, &headers);
    // Access first: a forbidden caller learns nothing of the parameters.
    crate::app::load_cpts(&c, &id, crate::app::Need::Edit).await?;
    let Query(q) =
        query.map_err(|e| invalid("invalid_parameters", e.body_text(), format!("Paramètres invalides : {e}")))?;
    let file = crate::app::directory_files::export(&c, &id, &q.format, q.include_left.unwrap_or(false)).await?;
    Ok(crate::pages::directory_files::download(file))
}
