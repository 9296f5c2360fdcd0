//! The structures of a CPTS (`/cpts/{id}/structures`): the list with a filter, the structures of
//! the national extract that can be added in one step, a structure's page with the professionals
//! who practise there or are linked to it, its links with other structures and its membership.
//! Every form works without JavaScript; a change shows the page again with its outcome.

use super::cpts::ctx;
use super::directory::{MembershipForm, membership_status_fr};
use super::{Chrome, capitalised, commune_choices, fr_date, render};
use crate::app::structures::{self as uc, StructureFilter, StructurePage};
use crate::auth::{CsrfField, CsrfForm, Principal};
use crate::error::{Failure, PageError};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maillage_core::directory::model::StructureKind;
use maillage_core::directory::structures::{RelationKind, StructureForm};
use serde::Deserialize;

fn kind_fr(code: &str) -> String {
    code.parse::<StructureKind>().map_or_else(|_| code.to_owned(), |k| k.fr().to_owned())
}

fn commune_name(state: &AppState, code: Option<&str>) -> String {
    code.map(|c| super::commune_name(state, c)).unwrap_or_default()
}

/// The kinds a structure may have: (code, French label).
fn kinds() -> Vec<(&'static str, &'static str)> {
    StructureKind::ALL.iter().map(|k| (k.code(), k.fr())).collect()
}

// ---------------------------------------------------------------------------------------------
// The list

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default, rename = "type")]
    kind: String,
}

pub struct RowView {
    pub href: String,
    pub name: String,
    pub kind: &'static str,
    pub commune: String,
    pub identifiers: String,
    pub professionals: u32,
    pub member: Option<&'static str>,
}

pub struct ExtractView {
    pub name: String,
    pub commune: String,
    pub identifiers: String,
    pub professionals: u32,
    pub suggested: String,
    pub add_href: String,
}

#[derive(Template)]
#[template(path = "structures.html")]
pub struct ListPage {
    pub chrome: Chrome,
    pub cpts_id: String,
    pub cpts_name: String,
    pub q: String,
    pub kind: String,
    pub kinds: Vec<(&'static str, &'static str)>,
    pub rows: Vec<RowView>,
    pub total: usize,
    pub can_edit: bool,
    pub from_extract: Vec<ExtractView>,
}

fn identifiers(finess: Option<&str>, siret: Option<&str>) -> String {
    let mut parts = Vec::new();
    if let Some(f) = finess {
        parts.push(format!("FINESS {f}"));
    }
    if let Some(s) = siret {
        parts.push(format!("SIRET {s}"));
    }
    parts.join(" · ")
}

/// `GET /cpts/{id}/structures?q=&type=`
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    let filter = StructureFilter { text: q.q.clone(), kind: q.kind.clone() };
    let (listed, flash) = match uc::list(&c, &id, &filter).await {
        Ok(l) => (l, None),
        Err(e @ Failure::Invalid { .. }) => (uc::list(&c, &id, &StructureFilter::default()).await?, Some(e.fr())),
        Err(e) => return Err(e.into()),
    };
    let base = format!("/cpts/{}/structures", listed.cpts.id);
    let from_extract = if listed.can_edit {
        uc::to_add_from_extract(&c, &id)
            .await?
            .into_iter()
            .take(50)
            .map(|s| {
                let key = s.structure.technical_id.clone().unwrap_or_default();
                ExtractView {
                    name: s.structure.name.clone().unwrap_or_else(|| "(sans nom)".into()),
                    commune: s
                        .commune_label
                        .clone()
                        .unwrap_or_else(|| commune_name(&state, s.commune_code.as_ref().map(|c| c.as_str()))),
                    identifiers: identifiers(
                        s.structure.finess.as_ref().map(|f| f.as_str()),
                        s.structure.siret.as_ref().map(|f| f.as_str()),
                    ),
                    professionals: s.professionals,
                    suggested: s.suggested_kind.map(|k| k.fr().to_owned()).unwrap_or_default(),
                    add_href: format!("{base}/nouvelle?depuis={}", super::directory::encode(&key)),
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    let chrome = Chrome::for_user(
        &principal,
        format!("Structures — {}", listed.cpts.name),
        Some(listed.cpts.name.clone()),
        &format!("/cpts/{}/annuaire", listed.cpts.id),
    )
    .with_flash(flash.clone().map(|f| ("erreur", f)));
    let rows = listed
        .rows
        .iter()
        .map(|r| RowView {
            href: format!("{base}/{}", r.structure.id),
            name: r.structure.name.clone(),
            kind: r.structure.kind.fr(),
            commune: commune_name(&state, r.structure.commune_code.as_ref().map(|c| c.as_str())),
            identifiers: identifiers(
                r.structure.finess.as_ref().map(|f| f.as_str()),
                r.structure.siret.as_ref().map(|f| f.as_str()),
            ),
            professionals: r.professionals,
            member: r.membership.as_ref().map(|m| membership_status_fr(m.status)),
        })
        .collect();
    let page = ListPage {
        chrome,
        cpts_id: listed.cpts.id.to_string(),
        cpts_name: listed.cpts.name.clone(),
        q: q.q,
        kind: q.kind,
        kinds: kinds(),
        rows,
        total: listed.total,
        can_edit: listed.can_edit,
        from_extract,
    };
    let status = if flash.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok((status, Html(render(&page))).into_response())
}

// ---------------------------------------------------------------------------------------------
// Creation

#[derive(Deserialize, Default)]
pub struct NewQuery {
    /// The Annuaire Santé technical id of a structure of the extract, to prefill the form.
    #[serde(default)]
    depuis: String,
}

#[derive(Template)]
#[template(path = "structure_new.html")]
pub struct NewPage {
    pub chrome: Chrome,
    pub cpts_id: String,
    pub form: StructureForm,
    pub kinds: Vec<(&'static str, &'static str)>,
    pub communes: Vec<(String, String)>,
}

/// The structure form's fields, with the CSRF token.
#[derive(Deserialize, Default)]
pub struct StructureFields {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    form: StructureForm,
}

impl CsrfField for StructureFields {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

async fn new_page(
    state: &AppState,
    principal: &Principal,
    headers: &HeaderMap,
    id: &str,
    form: StructureForm,
    flash: Option<String>,
) -> Result<NewPage, PageError> {
    let c = ctx(state, principal, headers);
    let cpts = crate::app::load_cpts(&c, id, crate::app::Need::Edit).await?;
    let chrome = Chrome::for_user(
        principal,
        format!("Nouvelle structure — {}", cpts.name),
        Some(cpts.name.clone()),
        &format!("/cpts/{}/annuaire", cpts.id),
    )
    .with_flash(flash.map(|f| ("erreur", f)));
    Ok(NewPage {
        chrome,
        cpts_id: cpts.id.to_string(),
        communes: commune_choices(state, &cpts, &form.commune_code),
        form,
        kinds: kinds(),
    })
}

/// `GET /cpts/{id}/structures/nouvelle[?depuis=TECHNICAL_ID]` (coordinator and board)
pub async fn new_form(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<NewQuery>,
) -> Result<Html<String>, PageError> {
    let c = ctx(&state, &principal, &headers);
    let mut form = StructureForm::default();
    if !q.depuis.trim().is_empty()
        && let Some(s) = uc::to_add_from_extract(&c, &id)
            .await?
            .into_iter()
            .find(|s| s.structure.technical_id.as_deref() == Some(q.depuis.trim()))
    {
        form = StructureForm {
            kind: s.suggested_kind.map(|k| k.code().to_owned()).unwrap_or_default(),
            name: s.structure.name.clone().unwrap_or_default(),
            finess: s.structure.finess.map(|f| f.as_str().to_owned()).unwrap_or_default(),
            siret: s.structure.siret.map(|f| f.as_str().to_owned()).unwrap_or_default(),
            technical_id: s.structure.technical_id.clone().unwrap_or_default(),
            address_line1: s.address_line1.clone().unwrap_or_default(),
            postal_code: s.postal_code.clone().unwrap_or_default(),
            commune_code: s.commune_code.map(|c| c.as_str().to_owned()).unwrap_or_default(),
            ..Default::default()
        };
    }
    Ok(Html(render(&new_page(&state, &principal, &headers, &id, form, None).await?)))
}

/// `POST /cpts/{id}/structures`: creates the structure and shows its page.
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<StructureFields>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    match uc::create(&c, &id, &f.form).await {
        Ok(s) => Ok(Redirect::to(&format!("/cpts/{id}/structures/{}", s.id)).into_response()),
        Err(e @ (Failure::Invalid { .. } | Failure::Conflict { .. })) => {
            let status = e.status();
            let page = new_page(&state, &principal, &headers, &id, f.form, Some(e.fr())).await?;
            Ok((status, Html(render(&page))).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// A structure

pub struct ProfessionalView {
    pub href: String,
    pub national_id: String,
    pub name: String,
    pub profession: String,
    pub how: String,
    pub manual: bool,
    pub left: bool,
}

pub struct RelationView {
    pub text: String,
    pub other_href: String,
    pub other_name: String,
    pub note: String,
    pub from: String,
    pub to: String,
    pub kind: &'static str,
}

pub struct FactView {
    pub label: &'static str,
    pub value: String,
}

#[derive(Template)]
#[template(path = "structure.html")]
pub struct StructureView {
    pub chrome: Chrome,
    pub cpts_id: String,
    pub base: String,
    pub name: String,
    pub kind: String,
    pub facts: Vec<FactView>,
    pub note: Option<String>,
    pub professionals: Vec<ProfessionalView>,
    pub relations: Vec<RelationView>,
    pub membership: Option<(String, String, Option<String>, Option<String>)>,
    pub can_edit: bool,
    pub form: StructureForm,
    pub edit_open: bool,
    pub membership_form: MembershipForm,
    pub membership_open: bool,
    pub statuses: Vec<(&'static str, &'static str)>,
    pub kinds: Vec<(&'static str, &'static str)>,
    pub communes: Vec<(String, String)>,
    pub others: Vec<(String, String)>,
    pub relation_kinds: Vec<(&'static str, String)>,
}

/// What a page shows besides the structure: the outcome of the change just made, and what a
/// refused form typed.
#[derive(Default)]
pub struct Shown {
    flash: Option<(&'static str, String)>,
    status: Option<StatusCode>,
    form: Option<StructureForm>,
    membership: Option<MembershipForm>,
}

fn structure_view(state: &AppState, principal: &Principal, p: StructurePage, shown: Shown) -> StructureView {
    let s = &p.entry.structure;
    let base = format!("/cpts/{}/structures/{}", p.cpts.id, s.id);
    let dir = format!("/cpts/{}/annuaire", p.cpts.id);
    let today = state.now().date_naive();
    let mut facts = Vec::new();
    let mut fact = |label, value: Option<String>| {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            facts.push(FactView { label, value });
        }
    };
    fact("N° FINESS", s.finess.map(|f| f.as_str().to_owned()));
    fact("N° SIRET", s.siret.map(|f| f.as_str().to_owned()));
    fact("Identifiant Annuaire Santé", s.technical_id.clone());
    let place = [
        s.address_line1.clone().unwrap_or_default(),
        s.postal_code.clone().unwrap_or_default(),
        commune_name(state, s.commune_code.as_ref().map(|c| c.as_str())),
    ]
    .into_iter()
    .filter(|v| !v.is_empty())
    .collect::<Vec<_>>()
    .join(" ");
    fact("Adresse", Some(place));
    fact("Téléphone", s.phone.clone());
    fact("Courriel", s.email.clone());
    fact("Messagerie sécurisée (MSSanté)", s.mssante.clone());
    fact("Dans l'annuaire depuis le", Some(fr_date(p.entry.created_at.date_naive())));
    let professionals = p
        .entry
        .professionals
        .iter()
        .map(|l| {
            let mut how = Vec::new();
            if l.practises_there {
                how.push("exerce sur place (Annuaire Santé)".to_owned());
            }
            match &l.manual {
                Some(Some(role)) => how.push(role.clone()),
                Some(None) => how.push("lien ajouté par la coordination".to_owned()),
                None => {}
            }
            ProfessionalView {
                href: format!("{dir}/{}", l.national_id),
                national_id: l.national_id.clone(),
                name: format!("{} {}", l.given_name, l.family_name),
                profession: l.profession_label.clone().unwrap_or_default(),
                how: capitalised(&how.join(" ; ")),
                manual: l.manual.is_some(),
                left: l.left,
            }
        })
        .collect();
    let relations = p
        .entry
        .relations
        .iter()
        .map(|r| RelationView {
            text: if r.outgoing { r.relation.kind.fr() } else { r.relation.kind.fr_reverse() }.to_owned(),
            other_href: format!("/cpts/{}/structures/{}", p.cpts.id, r.other_id),
            other_name: r.other_name.clone(),
            note: r.relation.note.clone().unwrap_or_default(),
            from: r.relation.from.clone(),
            to: r.relation.to.clone(),
            kind: r.relation.kind.code(),
        })
        .collect();
    let membership = p.entry.membership.as_ref().map(|m| {
        (
            membership_status_fr(m.status).to_owned(),
            fr_date(m.joined_on),
            if p.can_edit {
                m.dues_paid_until.map(|d| {
                    let state = uc::DuesState::of(m, today);
                    format!("{} ({})", fr_date(d), state.fr())
                })
            } else {
                None
            },
            m.board_role.clone(),
        )
    });
    let edit_open = shown.form.is_some();
    let form = shown.form.unwrap_or_else(|| StructureForm::of(s));
    let communes = commune_choices(state, &p.cpts, &form.commune_code);
    let membership_open = shown.membership.is_some();
    StructureView {
        chrome: Chrome::for_user(principal, s.name.clone(), Some(p.cpts.name.clone()), &dir).with_flash(shown.flash),
        cpts_id: p.cpts.id.to_string(),
        base,
        name: s.name.clone(),
        kind: s.kind.fr().to_owned(),
        facts,
        note: s.note.clone(),
        professionals,
        relations,
        membership,
        can_edit: p.can_edit,
        form,
        edit_open,
        membership_form: shown
            .membership
            .unwrap_or_else(|| p.entry.membership.as_ref().map_or_else(MembershipForm::default, MembershipForm::of)),
        membership_open,
        statuses: vec![("active", "active"), ("suspended", "suspendue"), ("left", "terminée")],
        kinds: kinds(),
        communes,
        others: p.others,
        relation_kinds: RelationKind::ALL.iter().map(|k| (k.code(), capitalised(k.fr()))).collect(),
    }
}

async fn structure_response(
    state: &AppState,
    principal: &Principal,
    headers: &HeaderMap,
    id: &str,
    structure_id: &str,
    shown: Shown,
) -> Result<Response, PageError> {
    let c = ctx(state, principal, headers);
    let page = uc::entry(&c, id, structure_id).await?;
    let status = shown.status.unwrap_or(StatusCode::OK);
    Ok((status, Html(render(&structure_view(state, principal, page, shown)))).into_response())
}

/// `GET /cpts/{id}/structures/{sid}`
pub async fn show(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((id, sid)): Path<(String, String)>,
) -> Result<Response, PageError> {
    structure_response(&state, &principal, &headers, &id, &sid, Shown::default()).await
}

/// Shows the page again with the outcome of a change: a success message, or the refusal with
/// what was typed (`keep`).
async fn after_change(
    state: &AppState,
    principal: &Principal,
    headers: &HeaderMap,
    id: &str,
    sid: &str,
    outcome: Result<String, Failure>,
    keep: impl FnOnce(&mut Shown),
) -> Result<Response, PageError> {
    let shown = match outcome {
        Ok(message) => Shown { flash: Some(("succes", message)), ..Default::default() },
        Err(f @ (Failure::Invalid { .. } | Failure::Conflict { .. })) => {
            let mut shown = Shown { flash: Some(("erreur", f.fr())), status: Some(f.status()), ..Default::default() };
            keep(&mut shown);
            shown
        }
        Err(other) => return Err(other.into()),
    };
    structure_response(state, principal, headers, id, sid, shown).await
}

/// `POST /cpts/{id}/structures/{sid}`: replaces the structure's fields.
pub async fn update(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((id, sid)): Path<(String, String)>,
    CsrfForm(f): CsrfForm<StructureFields>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    let outcome = uc::update(&c, &id, &sid, &f.form).await.map(|_| "Structure enregistrée.".to_owned());
    after_change(&state, &principal, &headers, &id, &sid, outcome, |s| s.form = Some(f.form)).await
}

#[derive(Deserialize, Default)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

impl CsrfField for CsrfOnly {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /cpts/{id}/structures/{sid}/supprimer`: deletes it and goes back to the list.
pub async fn delete(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((id, sid)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    uc::delete(&c, &id, &sid).await?;
    Ok(Redirect::to(&format!("/cpts/{id}/structures")).into_response())
}

#[derive(Deserialize, Default)]
pub struct LinkForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    national_id: String,
    #[serde(default)]
    role: String,
}

impl CsrfField for LinkForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /cpts/{id}/structures/{sid}/professionnels`: links a professional by hand.
pub async fn link(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((id, sid)): Path<(String, String)>,
    CsrfForm(f): CsrfForm<LinkForm>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    let outcome = uc::link(&c, &id, &sid, &f.national_id, &f.role).await.map(|()| "Professionnel relié.".to_owned());
    after_change(&state, &principal, &headers, &id, &sid, outcome, |_| {}).await
}

/// `POST /cpts/{id}/structures/{sid}/professionnels/retirer`
pub async fn unlink(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((id, sid)): Path<(String, String)>,
    CsrfForm(f): CsrfForm<LinkForm>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    let outcome = uc::unlink(&c, &id, &sid, f.national_id.trim()).await.map(|()| "Lien retiré.".to_owned());
    after_change(&state, &principal, &headers, &id, &sid, outcome, |_| {}).await
}

#[derive(Deserialize, Default)]
pub struct RelationForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    other: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    note: String,
    /// To remove a relation: its two ends.
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

impl CsrfField for RelationForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /cpts/{id}/structures/{sid}/liens`: links this structure to another.
pub async fn relate(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((id, sid)): Path<(String, String)>,
    CsrfForm(f): CsrfForm<RelationForm>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    let outcome = uc::relate(&c, &id, &sid, &f.other, &f.kind, &f.note)
        .await
        .map(|()| "Lien entre structures enregistré.".to_owned());
    after_change(&state, &principal, &headers, &id, &sid, outcome, |_| {}).await
}

/// `POST /cpts/{id}/structures/{sid}/liens/retirer`
pub async fn unrelate(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((id, sid)): Path<(String, String)>,
    CsrfForm(f): CsrfForm<RelationForm>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    let outcome = uc::unrelate(&c, &id, f.from.trim(), f.to.trim(), &f.kind, &sid)
        .await
        .map(|()| "Lien entre structures retiré.".to_owned());
    after_change(&state, &principal, &headers, &id, &sid, outcome, |_| {}).await
}

/// `POST /cpts/{id}/structures/{sid}/adhesion`
pub async fn save_membership(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((id, sid)): Path<(String, String)>,
    CsrfForm(f): CsrfForm<MembershipForm>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    let outcome = async {
        let m = f.membership()?;
        uc::set_membership(&c, &id, &sid, &m).await?;
        Ok(format!("Adhésion enregistrée ({}).", membership_status_fr(m.status)))
    }
    .await;
    after_change(&state, &principal, &headers, &id, &sid, outcome, |s| s.membership = Some(f)).await
}

/// How a kind code reads (for the roll of members).
pub fn structure_kind_fr(code: &str) -> String {
    kind_fr(code)
}
