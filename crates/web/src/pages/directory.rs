//! The directory of a CPTS (`/cpts/{id}/annuaire`): a search that works as a plain GET form and
//! that htmx turns into a live search (the same handler answers the results only when htmx asks),
//! the profile of each professional with its local corrections and membership, and the history
//! of the imports.

use super::cpts::ctx;
use super::{Chrome, ErrorPage, capitalised, civility_fr, commune_name, fr_date, fr_int, full_name, is_htmx, render};
use crate::app::directory::{self as uc, Directory, ProfessionCount, Profile, SearchResult};
use crate::auth::{CsrfField, CsrfForm, Principal};
use crate::error::{Failure, PageError};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use maillage_core::directory::model::{
    CorrectableField, ExerciseMode, Membership, MembershipStatus, NationalId, Sourced,
};
use maillage_core::directory::professions::profession;
use maillage_store::{DirectoryRow, ImportRecord};
use serde::Deserialize;

// ---------------------------------------------------------------------------------------------
// Formatting

/// Percent-encodes a query value (RFC 3986 unreserved characters kept).
pub(crate) fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn profession_label(code: &str, label: Option<&str>) -> String {
    profession(code).map(|p| p.label.clone()).or_else(|| label.map(str::to_owned)).unwrap_or_else(|| code.to_owned())
}

fn yes_no(v: Option<bool>) -> String {
    match v {
        Some(true) => "oui".into(),
        Some(false) => "non".into(),
        None => "non renseigné".into(),
    }
}

// ---------------------------------------------------------------------------------------------
// The search

/// The search form's fields, as the GET query carries them (French names: they show in the URL).
#[derive(Deserialize, Default, Clone)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    profession: String,
    #[serde(default)]
    commune: String,
    /// `oui`, `non` or empty (everybody).
    #[serde(default)]
    membre: String,
    /// `oui`, `non` or empty: takes part in same-day care (soins non programmés).
    #[serde(default)]
    snp: String,
    /// `oui` to include the professionals who left the territory.
    #[serde(default)]
    partis: String,
    #[serde(default)]
    page: String,
}

impl SearchQuery {
    fn include_left(&self) -> bool {
        !self.partis.is_empty() && self.partis != "non"
    }

    fn search(&self) -> uc::Search {
        uc::Search {
            text: Some(self.q.clone()),
            profession: Some(self.profession.clone()),
            commune: Some(self.commune.clone()),
            member: match self.membre.as_str() {
                "oui" => Some(true),
                "non" => Some(false),
                _ => None,
            },
            snp: match self.snp.as_str() {
                "oui" => Some(true),
                "non" => Some(false),
                _ => None,
            },
            include_left: self.include_left(),
            page: self.page.trim().parse().unwrap_or(1),
        }
    }

    /// The query string of this search at another page.
    fn at_page(&self, page: u32) -> String {
        let mut parts = Vec::new();
        for (name, value) in [
            ("q", &self.q),
            ("profession", &self.profession),
            ("commune", &self.commune),
            ("membre", &self.membre),
            ("snp", &self.snp),
        ] {
            if !value.trim().is_empty() {
                parts.push(format!("{name}={}", encode(value.trim())));
            }
        }
        if self.include_left() {
            parts.push("partis=oui".into());
        }
        if page > 1 {
            parts.push(format!("page={page}"));
        }
        if parts.is_empty() { String::new() } else { format!("?{}", parts.join("&")) }
    }

    fn filtered(&self) -> bool {
        [&self.q, &self.profession, &self.commune, &self.membre, &self.snp].iter().any(|v| !v.trim().is_empty())
    }
}

pub struct RowView {
    pub href: String,
    pub name: String,
    pub profession: String,
    pub communes: String,
    pub member: bool,
    pub snp: bool,
    pub left: bool,
}

pub struct ResultsView {
    pub rows: Vec<RowView>,
    /// "123 professionnels — page 1 sur 3".
    pub summary: String,
    pub error: Option<String>,
    /// The directory has nobody yet (and the search had no criteria).
    pub empty_directory: bool,
    pub previous: Option<String>,
    pub next: Option<String>,
}

#[derive(Template)]
#[template(path = "directory.html")]
pub struct DirectoryPage {
    pub chrome: Chrome,
    pub cpts_id: String,
    pub cpts_name: String,
    pub form: SearchQuery,
    pub include_left: bool,
    pub professions: Vec<ProfessionCount>,
    pub communes: Vec<(String, String)>,
    pub results: ResultsView,
    pub can_see_imports: bool,
    pub own_href: Option<String>,
}

#[derive(Template)]
#[template(path = "directory_results.html")]
pub struct DirectoryResults {
    pub results: ResultsView,
}

fn row_view(state: &AppState, base: &str, r: &DirectoryRow) -> RowView {
    RowView {
        href: format!("{base}/{}", r.national_id),
        name: format!("{}{} {}", civility_fr(r.civility.as_deref()), r.family_name, r.given_name),
        profession: profession_label(&r.profession_code, r.profession_label.as_deref()),
        communes: r.communes.iter().map(|c| commune_name(state, c)).collect::<Vec<_>>().join(", "),
        member: r.member,
        snp: r.snp,
        left: r.left,
    }
}

fn results_view(state: &AppState, base: &str, q: &SearchQuery, found: Result<SearchResult, Failure>) -> ResultsView {
    match found {
        Ok(r) => {
            let noun = if r.total == 1 { "professionnel" } else { "professionnels" };
            let summary = if r.total == 0 {
                "Aucun professionnel ne correspond à cette recherche.".to_owned()
            } else {
                format!("{} {noun} — page {} sur {}", fr_int(&r.total), r.page.min(r.pages), r.pages)
            };
            ResultsView {
                rows: r.rows.iter().map(|row| row_view(state, base, row)).collect(),
                summary,
                error: None,
                empty_directory: r.total == 0 && !q.filtered() && !q.include_left(),
                previous: (r.page > 1).then(|| format!("{base}{}", q.at_page((r.page - 1).min(r.pages)))),
                next: (r.page < r.pages).then(|| format!("{base}{}", q.at_page(r.page + 1))),
            }
        }
        Err(e) => ResultsView {
            rows: Vec::new(),
            summary: String::new(),
            error: Some(e.fr()),
            empty_directory: false,
            previous: None,
            next: None,
        },
    }
}

/// `GET /cpts/{id}/annuaire?q=&profession=&commune=&membre=&partis=&page=`: the whole page, or
/// only the results when htmx asks (live search).
pub async fn search(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<SearchQuery>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    let dir = uc::open(&c, &id).await?;
    let base = format!("/cpts/{}/annuaire", dir.cpts.id);
    let found = match uc::search(&c, &dir, &q.search()).await {
        Ok(r) => Ok(r),
        Err(e @ Failure::Invalid { .. }) => Err(e),
        Err(e) => return Err(e.into()),
    };
    let invalid = found.is_err();
    let results = results_view(&state, &base, &q, found);
    let fragment = is_htmx(&headers) && !headers.contains_key("hx-history-restore-request");
    let mut response = if fragment {
        // htmx swaps 2xx answers only: the message must reach the page.
        (StatusCode::OK, Html(render(&DirectoryResults { results }))).into_response()
    } else {
        let chrome =
            Chrome::for_user(&principal, format!("Annuaire — {}", dir.cpts.name), Some(dir.cpts.name.clone()), &base);
        let page = DirectoryPage {
            chrome,
            cpts_id: dir.cpts.id.to_string(),
            cpts_name: dir.cpts.name.clone(),
            include_left: q.include_left(),
            professions: uc::professions_present(&c, &dir).await?,
            communes: uc::territory_communes(&c, &dir),
            results,
            can_see_imports: dir.can_edit,
            own_href: dir.own.as_ref().map(|nid| format!("{base}/{nid}")),
            form: q,
        };
        let status = if invalid { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
        (status, Html(render(&page))).into_response()
    };
    response.headers_mut().insert(header::VARY, HeaderValue::from_static("HX-Request"));
    Ok(response)
}

// ---------------------------------------------------------------------------------------------
// The import history

pub struct ImportView {
    pub date: String,
    pub file_name: String,
    pub source: &'static str,
    pub lines_read: String,
    pub kept: String,
    pub inserted: String,
    pub updated: String,
    pub unchanged: String,
    pub marked_left: String,
    pub returned: String,
}

impl From<&ImportRecord> for ImportView {
    fn from(r: &ImportRecord) -> Self {
        Self {
            date: r.imported_at.format("%d/%m/%Y %H:%M").to_string(),
            file_name: r.file_name.clone(),
            source: if r.source == "annuaire" { "Annuaire Santé" } else { "liste d'adhérents" },
            lines_read: fr_int(&r.lines_read),
            kept: fr_int(&r.kept),
            inserted: fr_int(&r.outcome.inserted),
            updated: fr_int(&r.outcome.updated),
            unchanged: fr_int(&r.outcome.unchanged),
            marked_left: fr_int(&r.outcome.marked_left),
            returned: fr_int(&r.outcome.returned),
        }
    }
}

#[derive(Template)]
#[template(path = "directory_imports.html")]
pub struct ImportsPage {
    pub chrome: Chrome,
    pub cpts_id: String,
    pub cpts_name: String,
    pub imports: Vec<ImportView>,
}

/// `GET /cpts/{id}/annuaire/imports` (coordinator and board)
pub async fn imports(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Html<String>, PageError> {
    let c = ctx(&state, &principal, &headers);
    let (cpts, list) = uc::imports(&c, &id).await?;
    let chrome = Chrome::for_user(
        &principal,
        format!("Imports de l'annuaire — {}", cpts.name),
        Some(cpts.name.clone()),
        &format!("/cpts/{}/annuaire", cpts.id),
    );
    Ok(Html(render(&ImportsPage {
        chrome,
        cpts_id: cpts.id.to_string(),
        cpts_name: cpts.name.clone(),
        imports: list.iter().map(ImportView::from).collect(),
    })))
}

// ---------------------------------------------------------------------------------------------
// A profile

/// One value as shown, and whether a local correction set it.
pub struct ValueView {
    pub label: &'static str,
    pub value: String,
    pub corrected: bool,
}

/// A form to correct one field.
pub struct FieldEdit {
    pub field: &'static str,
    pub label: String,
    pub place: String,
    /// `tel`, `email`, `text`, `mode` (exercise mode), `yesno`.
    pub kind: &'static str,
    pub value: String,
    pub corrected: bool,
    pub dom_id: String,
    pub error: Option<String>,
}

pub struct PlaceView {
    pub title: String,
    pub identifiers: String,
    pub values: Vec<ValueView>,
    pub edits: Vec<FieldEdit>,
    /// The editing panel starts open (a refused correction is shown in it).
    pub open: bool,
}

pub struct MembershipView {
    pub status: &'static str,
    pub joined_on: String,
    pub left_on: Option<String>,
    pub dues_paid_until: Option<String>,
    pub dues_ok: bool,
    pub referent: bool,
    pub board_role: Option<String>,
}

pub struct AccountChoice {
    pub id: String,
    pub label: String,
    pub selected: bool,
}

pub struct OrphanView {
    pub field: &'static str,
    pub label: String,
    pub place: String,
    pub value: String,
}

#[derive(Template)]
#[template(path = "directory_profile.html")]
pub struct ProfilePage {
    pub chrome: Chrome,
    pub cpts_id: String,
    pub base: String,
    pub name: String,
    pub profession: String,
    pub identifier: String,
    pub national_id: String,
    pub left_on: Option<String>,
    pub first_seen: String,
    pub specialties: Vec<String>,
    pub contact: Vec<ValueView>,
    pub contact_edits: Vec<FieldEdit>,
    pub contact_open: bool,
    pub places: Vec<PlaceView>,
    pub orphans: Vec<OrphanView>,
    pub membership: Option<MembershipView>,
    pub can_edit: bool,
    pub can_link: bool,
    pub is_self: bool,
    pub form: MembershipForm,
    pub membership_open: bool,
    pub statuses: Vec<(&'static str, &'static str)>,
    pub linked_account: Option<String>,
    pub account_choices: Vec<AccountChoice>,
}

/// What a refused form typed, to show it again with the reason.
#[derive(Default)]
enum Kept {
    #[default]
    Nothing,
    Correction {
        field: String,
        place: String,
        value: String,
        error: String,
    },
    Membership(MembershipForm),
}

fn sourced_text(label: &'static str, v: &Sourced<Option<String>>) -> ValueView {
    ValueView { label, value: v.value.clone().unwrap_or_else(|| "—".into()), corrected: v.corrected }
}

fn edit_kind(field: CorrectableField) -> &'static str {
    match field {
        CorrectableField::Phone => "tel",
        CorrectableField::Email | CorrectableField::Mssante => "email",
        CorrectableField::ExerciseMode => "mode",
        CorrectableField::SnpParticipant | CorrectableField::AcceptsNewPatients => "yesno",
        _ => "text",
    }
}

fn field_edit(
    field: CorrectableField,
    place: &str,
    index: usize,
    value: String,
    corrected: bool,
    kept: &Kept,
) -> FieldEdit {
    let mut edit = FieldEdit {
        field: field.code(),
        label: capitalised(field.fr()),
        place: place.to_owned(),
        kind: edit_kind(field),
        value,
        corrected,
        dom_id: format!("corr-{}-{index}", field.code()),
        error: None,
    };
    if let Kept::Correction { field: f, place: p, value, error } = kept
        && f == field.code()
        && p == place
    {
        edit.value.clone_from(value);
        edit.error = Some(error.clone());
    }
    edit
}

pub(crate) fn membership_status_fr(s: MembershipStatus) -> &'static str {
    match s {
        MembershipStatus::Active => "active",
        MembershipStatus::Suspended => "suspendue",
        MembershipStatus::Left => "terminée",
    }
}

pub(crate) fn status_code(s: MembershipStatus) -> &'static str {
    match s {
        MembershipStatus::Active => "active",
        MembershipStatus::Suspended => "suspended",
        MembershipStatus::Left => "left",
    }
}

fn profile_page(state: &AppState, principal: &Principal, p: &Profile, kept: &Kept) -> ProfilePage {
    let dir: &Directory = &p.dir;
    let nid = p.national_id.as_str();
    let v = &p.view;
    let base = format!("/cpts/{}/annuaire/{nid}", dir.cpts.id);
    let today = state.now().date_naive();
    let identifier = match v.national_id {
        NationalId::Rpps(r) => format!("RPPS {}", r.as_str()),
        NationalId::Adeli(a) => format!("ADELI {}", a.as_str()),
    };
    let may = |field| dir.may_correct(nid, field);
    let contact = vec![
        sourced_text("Messagerie sécurisée (MSSanté)", &v.mssante),
        ValueView {
            label: "Participe aux soins non programmés",
            value: yes_no(v.snp_participant.value),
            corrected: v.snp_participant.corrected,
        },
        ValueView {
            label: "Accepte de nouveaux patients",
            value: yes_no(v.accepts_new_patients.value),
            corrected: v.accepts_new_patients.corrected,
        },
    ];
    let bool_raw = |b: Option<bool>| match b {
        Some(true) => "oui".to_owned(),
        Some(false) => "non".to_owned(),
        None => String::new(),
    };
    let contact_edits: Vec<FieldEdit> = [
        (CorrectableField::Mssante, v.mssante.value.clone().unwrap_or_default(), v.mssante.corrected),
        (CorrectableField::SnpParticipant, bool_raw(v.snp_participant.value), v.snp_participant.corrected),
        (
            CorrectableField::AcceptsNewPatients,
            bool_raw(v.accepts_new_patients.value),
            v.accepts_new_patients.corrected,
        ),
    ]
    .into_iter()
    .filter(|(f, _, _)| may(*f))
    .map(|(f, value, corrected)| field_edit(f, "", 0, value, corrected, kept))
    .collect();
    let contact_open = contact_edits.iter().any(|e| e.error.is_some());
    let places = v
        .places
        .iter()
        .enumerate()
        .map(|(i, pl)| {
            let commune = match (&pl.commune_code.value, &pl.commune_label) {
                (Some(code), Some(label)) => format!("{label} ({code})"),
                (Some(code), None) => format!("{} ({code})", commune_name(state, code.as_str())),
                (None, Some(label)) => label.clone(),
                (None, None) => "—".into(),
            };
            let values = vec![
                sourced_text("Adresse", &pl.address_line1),
                sourced_text("Complément d'adresse", &pl.address_line2),
                sourced_text("Code postal", &pl.postal_code),
                ValueView { label: "Commune", value: commune, corrected: pl.commune_code.corrected },
                sourced_text("Téléphone", &pl.phone),
                sourced_text("Courriel", &pl.email),
                ValueView {
                    label: "Mode d'exercice",
                    value: pl.exercise_mode.value.fr().to_owned(),
                    corrected: pl.exercise_mode.corrected,
                },
            ];
            let raw = |s: &Sourced<Option<String>>| s.value.clone().unwrap_or_default();
            let edits: Vec<FieldEdit> = [
                (CorrectableField::Phone, raw(&pl.phone), pl.phone.corrected),
                (CorrectableField::Email, raw(&pl.email), pl.email.corrected),
                (CorrectableField::AddressLine1, raw(&pl.address_line1), pl.address_line1.corrected),
                (CorrectableField::AddressLine2, raw(&pl.address_line2), pl.address_line2.corrected),
                (CorrectableField::PostalCode, raw(&pl.postal_code), pl.postal_code.corrected),
                (
                    CorrectableField::CommuneCode,
                    pl.commune_code.value.map(|c| c.as_str().to_owned()).unwrap_or_default(),
                    pl.commune_code.corrected,
                ),
                (CorrectableField::ExerciseMode, pl.exercise_mode.value.code().to_owned(), pl.exercise_mode.corrected),
            ]
            .into_iter()
            .filter(|(f, _, _)| may(*f))
            .map(|(f, value, corrected)| field_edit(f, &pl.key, i + 1, value, corrected, kept))
            .collect();
            let s = &pl.structure;
            let mut ids = Vec::new();
            if let Some(siret) = &s.siret {
                ids.push(format!("SIRET {}", siret.as_str()));
            }
            if let Some(finess) = &s.finess {
                ids.push(format!("FINESS {}", finess.as_str()));
            }
            if let Some(role) = &pl.role {
                ids.push(role.clone());
            }
            PlaceView {
                title: s.name.clone().unwrap_or_else(|| format!("Lieu d'exercice {}", i + 1)),
                identifiers: ids.join(" · "),
                values,
                open: edits.iter().any(|e| e.error.is_some()),
                edits,
            }
        })
        .collect();
    let orphans = if dir.can_edit {
        v.orphaned
            .iter()
            .map(|c| OrphanView {
                field: c.field.code(),
                label: capitalised(c.field.fr()),
                place: c.place.clone().unwrap_or_default(),
                value: c.value.clone(),
            })
            .collect()
    } else {
        Vec::new()
    };
    let membership = p.entry.membership.as_ref().map(|m| MembershipView {
        status: membership_status_fr(m.status),
        joined_on: fr_date(m.joined_on),
        left_on: m.left_on.map(fr_date),
        // Dues are the association's bookkeeping: coordination and board only.
        dues_paid_until: if dir.can_edit { m.dues_paid_until.map(fr_date) } else { None },
        dues_ok: m.dues_paid_on(today),
        referent: m.profession_referent,
        board_role: m.board_role.clone(),
    });
    let (form, membership_open) = match kept {
        Kept::Membership(f) => (f.clone(), true),
        _ => (p.entry.membership.as_ref().map_or_else(MembershipForm::default, MembershipForm::of), false),
    };
    let linked_id = p.linked_account.as_ref().map(|a| a.id.clone());
    ProfilePage {
        chrome: Chrome::for_user(
            principal,
            full_name(v.civility.as_deref(), &v.given_name, &v.family_name),
            Some(dir.cpts.name.clone()),
            &format!("/cpts/{}/annuaire", dir.cpts.id),
        ),
        cpts_id: dir.cpts.id.to_string(),
        base,
        name: full_name(v.civility.as_deref(), &v.given_name, &v.family_name),
        profession: profession_label(&v.profession_code, v.profession_label.as_deref()),
        identifier,
        national_id: nid.to_owned(),
        left_on: p.entry.left_at.map(|d| fr_date(d.date_naive())),
        first_seen: fr_date(p.entry.first_seen_at.date_naive()),
        specialties: v.specialties.iter().map(|s| s.label.clone()).filter(|l| !l.is_empty()).collect(),
        contact,
        contact_edits,
        contact_open,
        places,
        orphans,
        membership,
        can_edit: dir.can_edit,
        can_link: dir.can_link,
        is_self: p.is_self,
        form,
        membership_open,
        statuses: vec![("active", "active"), ("suspended", "suspendue"), ("left", "terminée")],
        linked_account: p.linked_account.as_ref().map(|a| format!("{} <{}>", a.display_name, a.email)),
        account_choices: p
            .member_accounts
            .iter()
            .map(|a| AccountChoice {
                id: a.id.clone(),
                label: format!("{} <{}>", a.display_name, a.email),
                selected: linked_id.as_deref() == Some(a.id.as_str()),
            })
            .collect(),
    }
}

/// What a profile page shows besides the profile: the outcome of the change just made.
struct Shown {
    flash: Option<(&'static str, String)>,
    status: StatusCode,
    kept: Kept,
}

impl Shown {
    fn nothing() -> Self {
        Self { flash: None, status: StatusCode::OK, kept: Kept::Nothing }
    }
}

async fn profile_response(
    state: &AppState,
    principal: &Principal,
    headers: &HeaderMap,
    id: &str,
    national_id: &str,
    shown: Shown,
) -> Result<Response, PageError> {
    let c = ctx(state, principal, headers);
    let p = uc::profile(&c, id, national_id).await?;
    let mut page = profile_page(state, principal, &p, &shown.kept);
    page.chrome = page.chrome.with_flash(shown.flash);
    Ok((shown.status, Html(render(&page))).into_response())
}

/// `GET /cpts/{id}/annuaire/{national_id}` (the read is audited)
pub async fn profile(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((id, national_id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    profile_response(&state, &principal, &headers, &id, &national_id, Shown::nothing()).await
}

/// `GET /cpts/{id}/annuaire/moi`: the caller's own profile, when her account is linked to one.
pub async fn me(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    let dir = uc::open(&c, &id).await?;
    match &dir.own {
        Some(nid) => Ok(Redirect::to(&format!("/cpts/{}/annuaire/{nid}", dir.cpts.id)).into_response()),
        None => {
            let page = ErrorPage {
                chrome: Chrome::for_user(
                    &principal,
                    "Ma fiche dans l'annuaire",
                    Some(dir.cpts.name.clone()),
                    &format!("/cpts/{}/annuaire", dir.cpts.id),
                ),
                status: 404,
                message: "Votre compte n'est relié à aucune fiche de l'annuaire : demandez à la coordination de \
                          la CPTS de le relier à la vôtre."
                    .into(),
            };
            Ok((StatusCode::NOT_FOUND, Html(render(&page))).into_response())
        }
    }
}

/// The outcome of a change: the profile with the message, or with the refusal (422 or 409) and
/// what was typed.
async fn after_change(
    state: &AppState,
    principal: &Principal,
    headers: &HeaderMap,
    id: &str,
    national_id: &str,
    outcome: Result<String, Failure>,
    kept: impl FnOnce(String) -> Kept,
) -> Result<Response, PageError> {
    let shown = match outcome {
        Ok(message) => Shown { flash: Some(("succes", message)), status: StatusCode::OK, kept: Kept::Nothing },
        Err(f @ (Failure::Invalid { .. } | Failure::Conflict { .. })) => {
            let message = f.fr();
            Shown { flash: Some(("erreur", message.clone())), status: f.status(), kept: kept(message) }
        }
        Err(other) => return Err(other.into()),
    };
    profile_response(state, principal, headers, id, national_id, shown).await
}

#[derive(Deserialize, Default)]
pub struct CorrectionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    field: String,
    #[serde(default)]
    place: String,
    #[serde(default)]
    value: String,
}

impl CsrfField for CorrectionForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /cpts/{id}/annuaire/{national_id}/corrections`: sets a local correction.
pub async fn save_correction(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((id, national_id)): Path<(String, String)>,
    CsrfForm(f): CsrfForm<CorrectionForm>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    let outcome = async {
        let field = uc::field(&f.field)?;
        let stored = uc::set_correction(&c, &id, &national_id, field, Some(&f.place), &f.value).await?;
        Ok(if stored.value.is_empty() {
            format!("{} effacé localement.", capitalised(field.fr()))
        } else {
            format!("{} corrigé localement.", capitalised(field.fr()))
        })
    }
    .await;
    let CorrectionForm { field, place, value, .. } = f;
    after_change(&state, &principal, &headers, &id, &national_id, outcome, |error| Kept::Correction {
        field,
        place,
        value,
        error,
    })
    .await
}

/// `POST /cpts/{id}/annuaire/{national_id}/corrections/supprimer`: back to the imported value.
pub async fn delete_correction(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((id, national_id)): Path<(String, String)>,
    CsrfForm(f): CsrfForm<CorrectionForm>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    let outcome = async {
        let field = uc::field(&f.field)?;
        uc::remove_correction(&c, &id, &national_id, field, Some(&f.place)).await?;
        Ok(format!("Correction retirée : {} revient à la valeur importée.", field.fr()))
    }
    .await;
    after_change(&state, &principal, &headers, &id, &national_id, outcome, |_| Kept::Nothing).await
}

#[derive(Deserialize, Default, Clone)]
pub struct MembershipForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    pub joined_on: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub left_on: String,
    #[serde(default)]
    pub dues_paid_until: String,
    /// A checkbox: present (`oui`) or absent.
    #[serde(default)]
    pub profession_referent: String,
    #[serde(default)]
    pub board_role: String,
}

impl CsrfField for MembershipForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

pub(crate) fn form_date(text: &str, label: &str) -> Result<Option<NaiveDate>, Failure> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d").or_else(|_| NaiveDate::parse_from_str(t, "%d/%m/%Y")).map(Some).map_err(
        |_| {
            Failure::invalid(
                "invalid_date",
                format!("{label} : « {t} » n'est pas une date (jj/mm/aaaa)."),
                format!("{label}: {t:?} is not a date"),
            )
        },
    )
}

impl MembershipForm {
    /// The form showing a recorded membership.
    pub(crate) fn of(m: &Membership) -> Self {
        Self {
            csrf: String::new(),
            joined_on: m.joined_on.to_string(),
            status: status_code(m.status).to_owned(),
            left_on: m.left_on.map(|d| d.to_string()).unwrap_or_default(),
            dues_paid_until: m.dues_paid_until.map(|d| d.to_string()).unwrap_or_default(),
            profession_referent: if m.profession_referent { "oui".into() } else { String::new() },
            board_role: m.board_role.clone().unwrap_or_default(),
        }
    }

    pub(crate) fn membership(&self) -> Result<Membership, Failure> {
        let joined_on = form_date(&self.joined_on, "Date d'adhésion")?.ok_or_else(|| {
            Failure::invalid(
                "invalid_membership",
                "Adhésion non enregistrée : la date d'adhésion est obligatoire.",
                "joining date is required",
            )
        })?;
        let status = match self.status.trim() {
            "active" | "" => MembershipStatus::Active,
            "suspended" => MembershipStatus::Suspended,
            "left" => MembershipStatus::Left,
            other => {
                return Err(Failure::invalid(
                    "invalid_membership",
                    format!("Adhésion non enregistrée : état inconnu « {other} »."),
                    format!("unknown membership status {other:?}"),
                ));
            }
        };
        let role = self.board_role.trim();
        Ok(Membership {
            joined_on,
            left_on: form_date(&self.left_on, "Date de fin")?,
            status,
            dues_paid_until: form_date(&self.dues_paid_until, "Cotisation payée jusqu'au")?,
            profession_referent: !self.profession_referent.is_empty() && self.profession_referent != "non",
            board_role: (!role.is_empty()).then(|| role.to_owned()),
        })
    }
}

/// `POST /cpts/{id}/annuaire/{national_id}/adhesion` (coordinator and board)
pub async fn save_membership(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((id, national_id)): Path<(String, String)>,
    CsrfForm(f): CsrfForm<MembershipForm>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    let outcome = async {
        let m = f.membership()?;
        uc::set_membership(&c, &id, &national_id, &m).await?;
        Ok(format!("Adhésion enregistrée ({}).", membership_status_fr(m.status)))
    }
    .await;
    after_change(&state, &principal, &headers, &id, &national_id, outcome, |_| Kept::Membership(f)).await
}

#[derive(Deserialize, Default)]
pub struct LinkForm {
    #[serde(default)]
    csrf: String,
    /// The account to link; empty to remove the link.
    #[serde(default)]
    account: String,
}

impl CsrfField for LinkForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /cpts/{id}/annuaire/{national_id}/compte` (coordinator): links a member professional's
/// account to this profile, or removes the link.
pub async fn save_link(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((id, national_id)): Path<(String, String)>,
    CsrfForm(f): CsrfForm<LinkForm>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    let outcome = async {
        Ok(match uc::link_account(&c, &id, &national_id, Some(&f.account)).await? {
            Some(a) => format!("Le compte de {} est relié à cette fiche.", a.display_name),
            None => "Le compte n'est plus relié à cette fiche.".to_owned(),
        })
    }
    .await;
    after_change(&state, &principal, &headers, &id, &national_id, outcome, |_| Kept::Nothing).await
}

/// The exercise modes a correction may choose: (code, French label).
pub fn mode_choices() -> [(&'static str, &'static str); 3] {
    [
        (ExerciseMode::Liberal.code(), ExerciseMode::Liberal.fr()),
        (ExerciseMode::Salarie.code(), ExerciseMode::Salarie.fr()),
        (ExerciseMode::Benevole.code(), ExerciseMode::Benevole.fr()),
    ]
}
