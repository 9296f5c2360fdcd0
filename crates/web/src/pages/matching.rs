//! The access-to-care pages around the matching: the registry's settings
//! (`…/acces-soins/reglages`), the run previewed then sent (`…/acces-soins/appariement`), the
//! GP's own patients (`…/acces-soins/mes-patients`) and the indicators with their chart
//! (`…/acces-soins/indicateurs`). Every form works without JavaScript.

use super::cpts::ctx;
use super::patients::{FormErrors, registry_path};
use super::{Chrome, capitalised, commune_name, fr_date, render};
use crate::app::matching as uc;
use crate::auth::{CsrfField, CsrfForm, Principal};
use crate::error::{Failure, PageError};
use crate::map::escape;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use maillage_core::patients::settings::{CLASSES, CRITERIA, criterion_fr};
use maillage_core::patients::{MonthPoint, RegistryIndicators, SettingsForm};
use serde::Deserialize;

fn section_path(cpts: &str, page: &str) -> String {
    format!("/cpts/{cpts}/acces-soins/{page}")
}

/// "12,5 %" from a share.
fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "—".into(), |s| format!("{:.1} %", s * 100.0).replace('.', ","))
}

/// "12" or "12,5" days.
fn days(v: Option<f64>) -> String {
    v.map_or_else(|| "—".into(), |d| format!("{d:.1}").trim_end_matches(".0").replace('.', ","))
}

// ---------------------------------------------------------------------------------------------
// Settings

pub struct CriterionView {
    pub field: String,
    pub label: &'static str,
    pub class: String,
}

#[derive(Template)]
#[template(path = "patients_settings.html")]
struct SettingsPage {
    chrome: Chrome,
    registry_href: String,
    action: String,
    form: SettingsForm,
    criteria: Vec<CriterionView>,
    classes: Vec<u8>,
    errors: FormErrors,
}

async fn settings_response(
    state: &AppState,
    principal: &Principal,
    headers: &HeaderMap,
    id: &str,
    shown: Option<(SettingsForm, FormErrors)>,
    flash: Option<(&'static str, String)>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let c = ctx(state, principal, headers);
    let (cpts, settings) = uc::settings(&c, id).await?;
    let (form, errors) = shown.unwrap_or_else(|| (SettingsForm::of(&settings), FormErrors::default()));
    let registry_href = registry_path(cpts.id.as_str());
    let criteria = CRITERIA
        .into_iter()
        .map(|k| CriterionView {
            field: format!("{k}_class"),
            label: criterion_fr(k),
            class: form.class_of(k).to_owned(),
        })
        .collect();
    let page = SettingsPage {
        chrome: Chrome::for_user(
            principal,
            format!("Réglages de l'accès aux soins — {}", cpts.name),
            Some(cpts.name.clone()),
            &registry_href,
        )
        .with_flash(flash),
        action: section_path(cpts.id.as_str(), "reglages"),
        registry_href,
        form,
        criteria,
        classes: CLASSES.collect(),
        errors,
    };
    Ok((status, Html(render(&page))).into_response())
}

/// `GET /cpts/{id}/acces-soins/reglages`
pub async fn settings(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    settings_response(&state, &principal, &headers, &id, None, None, StatusCode::OK).await
}

#[derive(Deserialize, Default)]
pub struct SettingsFields {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    form: SettingsForm,
}

impl CsrfField for SettingsFields {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /cpts/{id}/acces-soins/reglages`
pub async fn save_settings(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<SettingsFields>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    match uc::put_settings(&c, &id, &f.form).await {
        Ok(_) => {
            let flash = Some(("succes", "Réglages enregistrés : ils valent pour le prochain appariement.".to_owned()));
            settings_response(&state, &principal, &headers, &id, None, flash, StatusCode::OK).await
        }
        Err(e @ Failure::Invalid { .. }) => {
            let flash = Some(("erreur", "Les réglages ne sont pas enregistrés : corrigez les champs signalés.".into()));
            let shown = Some((f.form, FormErrors::of(&e)));
            settings_response(&state, &principal, &headers, &id, shown, flash, e.status()).await
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// The run

pub struct ProposalRow {
    pub href: String,
    pub patient: String,
    pub commune: String,
    pub doctor: String,
    pub km: String,
    pub class: u8,
    pub explanation: String,
}

pub struct WaitingRow {
    pub href: String,
    pub patient: String,
    pub commune: String,
    pub class: u8,
    pub explanation: String,
}

pub struct ClassCount {
    pub class: u8,
    pub matched: u64,
    pub all: u64,
}

#[derive(Template)]
#[template(path = "patients_matching.html")]
struct MatchingPage {
    chrome: Chrome,
    registry_href: String,
    doctors_href: String,
    settings_href: String,
    action: String,
    max_km: String,
    proposals: Vec<ProposalRow>,
    waiting: Vec<WaitingRow>,
    by_class: Vec<ClassCount>,
    total_km: String,
    doctors_with_room: usize,
    doctors_left_out: Vec<(String, &'static str)>,
    fingerprint: String,
}

async fn matching_response(
    state: &AppState,
    principal: &Principal,
    headers: &HeaderMap,
    id: &str,
    flash: Option<(&'static str, String)>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let c = ctx(state, principal, headers);
    let run = uc::preview(&c, id).await?;
    let cid = run.cpts.id.to_string();
    let registry_href = registry_path(&cid);
    let km = |m: u64| format!("{:.1}", m as f64 / 1000.0).replace('.', ",");
    let page = MatchingPage {
        chrome: Chrome::for_user(
            principal,
            format!("Appariement — {}", run.cpts.name),
            Some(run.cpts.name.clone()),
            &registry_href,
        )
        .with_flash(flash),
        doctors_href: section_path(&cid, "medecins"),
        settings_href: section_path(&cid, "reglages"),
        action: section_path(&cid, "appariement"),
        max_km: km(u64::from(run.matching.max_m)),
        proposals: run
            .proposals
            .iter()
            .map(|p| ProposalRow {
                href: format!("{registry_href}/{}", p.assignment.patient),
                patient: p.patient.clone(),
                commune: p.commune.clone(),
                doctor: p.doctor.clone(),
                km: km(u64::from(p.assignment.metres)),
                class: p.assignment.class,
                explanation: capitalised(&p.explanation),
            })
            .collect(),
        waiting: run
            .waiting
            .iter()
            .map(|w| WaitingRow {
                href: format!("{registry_href}/{}", w.waiting.patient),
                patient: w.patient.clone(),
                commune: w.commune.clone(),
                class: w.waiting.class,
                explanation: capitalised(&w.explanation),
            })
            .collect(),
        by_class: run
            .matching
            .patients_by_class
            .iter()
            .map(|(&class, &all)| ClassCount {
                class,
                all,
                matched: run.matching.matched_by_class.get(&class).copied().unwrap_or(0),
            })
            .collect(),
        total_km: km(run.matching.total_m),
        doctors_with_room: run.doctors_with_room,
        doctors_left_out: run.doctors_left_out,
        fingerprint: run.fingerprint,
        registry_href,
    };
    Ok((status, Html(render(&page))).into_response())
}

/// `GET /cpts/{id}/acces-soins/appariement`: the run as it would be now (nothing written).
pub async fn preview(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    matching_response(&state, &principal, &headers, &id, None, StatusCode::OK).await
}

#[derive(Deserialize, Default)]
pub struct SendForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    apercu: String,
}

impl CsrfField for SendForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /cpts/{id}/acces-soins/appariement`: sends the proposals previewed.
pub async fn send(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<SendForm>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    let (flash, status) = match uc::send(&c, &id, &f.apercu).await {
        Ok(run) => (
            (
                "succes",
                format!(
                    "{} proposition(s) envoyée(s) aux médecins : elles apparaissent dans leur liste « Mes patients proposés ».",
                    run.proposals.len()
                ),
            ),
            StatusCode::OK,
        ),
        Err(e @ (Failure::Invalid { .. } | Failure::Conflict { .. })) => (("erreur", e.fr()), e.status()),
        Err(e) => return Err(e.into()),
    };
    matching_response(&state, &principal, &headers, &id, Some(flash), status).await
}

// ---------------------------------------------------------------------------------------------
// The GP's own patients

pub struct OwnRow {
    pub id: String,
    pub name: String,
    pub age: u16,
    pub commune: String,
    pub phone: String,
    pub email: String,
    pub class: u8,
    pub because: String,
    pub note: String,
    pub since: String,
    pub revision: i64,
}

#[derive(Template)]
#[template(path = "patients_own.html")]
struct OwnPage {
    chrome: Chrome,
    action: String,
    /// Empty when the account is not linked to a GP profile.
    doctor: String,
    capacity_href: String,
    register_href: String,
    proposed: Vec<OwnRow>,
    accepted: Vec<OwnRow>,
}

async fn own_response(
    state: &AppState,
    principal: &Principal,
    headers: &HeaderMap,
    id: &str,
    flash: Option<(&'static str, String)>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let c = ctx(state, principal, headers);
    let own = uc::own_patients(&c, id).await?;
    let cid = own.cpts.id.to_string();
    let today = state.now().date_naive();
    let rows = |list: &[uc::OwnPatient]| -> Vec<OwnRow> {
        list.iter()
            .map(|p| {
                let r = &p.row.request;
                OwnRow {
                    id: r.id.clone(),
                    name: r.display_name(),
                    age: r.age_on(today),
                    commune: commune_name(state, r.commune.as_str()),
                    phone: r.phone.clone().unwrap_or_default(),
                    email: r.email.clone().unwrap_or_default(),
                    class: p.class,
                    because: p.because.clone(),
                    note: r.other_fragility.clone().unwrap_or_default(),
                    since: fr_date(p.row.since.date_naive()),
                    revision: p.revision,
                }
            })
            .collect()
    };
    let here = section_path(&cid, "mes-patients");
    let page = OwnPage {
        chrome: Chrome::for_user(principal, "Mes patients proposés".to_owned(), Some(own.cpts.name.clone()), &here)
            .with_flash(flash),
        action: here,
        doctor: own.doctor.map(|d| d.1).unwrap_or_default(),
        capacity_href: section_path(&cid, "medecins"),
        register_href: format!("{}/nouvelle", registry_path(&cid)),
        proposed: rows(&own.proposed),
        accepted: rows(&own.accepted),
    };
    Ok((status, Html(render(&page))).into_response())
}

/// `GET /cpts/{id}/acces-soins/mes-patients` (a GP; each patient shown is audited)
pub async fn own_patients(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    own_response(&state, &principal, &headers, &id, None, StatusCode::OK).await
}

#[derive(Deserialize, Default)]
pub struct AnswerForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reponse: String,
    #[serde(default)]
    motif: String,
    #[serde(default)]
    revision: String,
}

impl CsrfField for AnswerForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /cpts/{id}/acces-soins/mes-patients/{rid}`: the GP accepts, declines or records the
/// declaration.
pub async fn answer(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((id, rid)): Path<(String, String)>,
    CsrfForm(f): CsrfForm<AnswerForm>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    let (flash, status) = match uc::answer(&c, &id, &rid, &f.reponse, &f.motif, &f.revision).await {
        Ok(to) => {
            let message = match to {
                maillage_core::patients::RequestStatus::Accepted => {
                    "Patient accepté : la CPTS le prévient ; enregistrez la déclaration une fois faite."
                }
                maillage_core::patients::RequestStatus::Declared => "Déclaration de médecin traitant enregistrée.",
                _ => "Refus enregistré : ce patient ne vous sera plus proposé.",
            };
            (("succes", message.to_owned()), StatusCode::OK)
        }
        Err(e @ (Failure::Invalid { .. } | Failure::Conflict { .. })) => (("erreur", e.fr()), e.status()),
        Err(e) => return Err(e.into()),
    };
    own_response(&state, &principal, &headers, &id, Some(flash), status).await
}

// ---------------------------------------------------------------------------------------------
// Indicators

pub struct IndicatorRow {
    pub label: String,
    pub registered: u32,
    pub waiting: u32,
    pub proposed: u32,
    pub accepted: u32,
    pub declared: u32,
    pub closed: u32,
    pub matched: u32,
}

pub struct MonthRow {
    pub month: String,
    pub registered: u32,
    pub declared: u32,
    pub open_at_end: u32,
}

#[derive(Template)]
#[template(path = "patients_indicators.html")]
struct IndicatorsPage {
    chrome: Chrome,
    registry_href: String,
    today: String,
    rows: Vec<IndicatorRow>,
    median_declaration: String,
    median_wait: String,
    ald_share: String,
    ald_open: u32,
    ald_registered: u32,
    chart: String,
    months: Vec<MonthRow>,
    rule: String,
}

const MONTHS_FR: [&str; 12] =
    ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."];

fn month_label(p: &MonthPoint) -> String {
    use chrono::Datelike;
    format!("{} {}", MONTHS_FR[p.month.month0() as usize], p.month.year())
}

/// Registered and declared per month as bars, open requests at the end of each month as a line.
fn monthly_chart(points: &[MonthPoint]) -> String {
    if points.is_empty() {
        return String::new();
    }
    let (left, top, plot_h, col_w) = (40u32, 10u32, 180u32, 56u32);
    let max = points.iter().flat_map(|p| [p.registered, p.declared, p.open_at_end]).max().unwrap_or(0).max(1);
    let y = |v: u32| top + plot_h - v * plot_h / max;
    let width = left + col_w * points.len() as u32 + 10;
    let height = top + plot_h + 60;
    let mut svg = format!(
        "<svg class=\"graphique\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-labelledby=\"titre-graphique-acces\" \
         xmlns=\"http://www.w3.org/2000/svg\"><title id=\"titre-graphique-acces\">Demandes inscrites et déclarations \
         par mois, demandes ouvertes en fin de mois</title>\
         <text x=\"0\" y=\"{ty}\" class=\"valeur\">{max}</text>\
         <line x1=\"{left}\" y1=\"{base}\" x2=\"{width}\" y2=\"{base}\" class=\"axe\"/>",
        ty = top + 8,
        base = top + plot_h,
    );
    let mut line = Vec::with_capacity(points.len());
    for (i, p) in points.iter().enumerate() {
        let x = left + i as u32 * col_w;
        let label = month_label(p);
        svg.push_str(&format!(
            "<rect x=\"{x1}\" y=\"{yr}\" width=\"20\" height=\"{hr}\" class=\"barre-droit\"><title>{label} : {r} inscrite(s)</title></rect>\
             <rect x=\"{x2}\" y=\"{yd}\" width=\"20\" height=\"{hd}\" class=\"barre-depense\"><title>{label} : {d} déclarée(s)</title></rect>\
             <text x=\"{x1}\" y=\"{tl}\" class=\"etiquette\">{label}</text>",
            x1 = x + 6,
            x2 = x + 28,
            yr = y(p.registered),
            hr = top + plot_h - y(p.registered),
            yd = y(p.declared),
            hd = top + plot_h - y(p.declared),
            r = p.registered,
            d = p.declared,
            tl = top + plot_h + 16,
            label = escape(&label),
        ));
        line.push(format!("{},{}", x + 28, y(p.open_at_end)));
    }
    svg.push_str(&format!("<polyline points=\"{}\" class=\"courbe\"/>", line.join(" ")));
    for (i, p) in points.iter().enumerate() {
        svg.push_str(&format!(
            "<circle cx=\"{}\" cy=\"{}\" r=\"3\" class=\"point\"><title>{} : {} ouverte(s) en fin de mois</title></circle>",
            left + i as u32 * col_w + 28,
            y(p.open_at_end),
            escape(&month_label(p)),
            p.open_at_end
        ));
    }
    let ly = top + plot_h + 34;
    svg.push_str(&format!(
        "<rect x=\"{left}\" y=\"{ly}\" width=\"14\" height=\"10\" class=\"barre-droit\"/>\
         <text x=\"{x1}\" y=\"{ty}\" class=\"valeur\">inscrites</text>\
         <rect x=\"{x2}\" y=\"{ly}\" width=\"14\" height=\"10\" class=\"barre-depense\"/>\
         <text x=\"{x3}\" y=\"{ty}\" class=\"valeur\">déclarées</text>\
         <circle cx=\"{x4}\" cy=\"{cy}\" r=\"4\" class=\"point\"/>\
         <text x=\"{x5}\" y=\"{ty}\" class=\"valeur\">ouvertes en fin de mois</text></svg>",
        x1 = left + 20,
        x2 = left + 100,
        x3 = left + 120,
        x4 = left + 207,
        x5 = left + 216,
        cy = ly + 5,
        ty = ly + 10,
    ));
    svg
}

fn indicator_row(label: String, c: &maillage_core::patients::StatusCounts) -> IndicatorRow {
    IndicatorRow {
        label,
        registered: c.registered,
        waiting: c.waiting,
        proposed: c.proposed,
        accepted: c.accepted,
        declared: c.declared,
        closed: c.closed,
        matched: c.matched,
    }
}

fn indicators_view(i: &RegistryIndicators) -> (Vec<IndicatorRow>, Vec<MonthRow>) {
    let mut rows = vec![indicator_row("Toutes les demandes".into(), &i.overall)];
    rows.extend(i.by_class.iter().map(|(class, c)| indicator_row(format!("Priorité {class}"), c)));
    let months = i
        .monthly
        .iter()
        .map(|p| MonthRow {
            month: month_label(p),
            registered: p.registered,
            declared: p.declared,
            open_at_end: p.open_at_end,
        })
        .collect();
    (rows, months)
}

/// `GET /cpts/{id}/acces-soins/indicateurs`
pub async fn indicators(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    let (cpts, settings, i) = uc::indicators(&c, &id).await?;
    let registry_href = registry_path(cpts.id.as_str());
    let (rows, months) = indicators_view(&i);
    let rule = settings
        .priority
        .rules
        .iter()
        .map(|r| format!("priorité {} : {}", r.class, condition_fr(&r.when)))
        .chain(std::iter::once(format!("priorité {} : les autres", settings.priority.default_class)))
        .collect::<Vec<_>>()
        .join(" ; ");
    let page = IndicatorsPage {
        chrome: Chrome::for_user(
            &principal,
            format!("Indicateurs de l'accès aux soins — {}", cpts.name),
            Some(cpts.name.clone()),
            &registry_href,
        ),
        registry_href,
        today: fr_date(i.today),
        median_declaration: days(i.median_days_to_declaration),
        median_wait: days(i.median_current_wait_days),
        ald_share: percent(i.ald_open_share),
        ald_open: i.ald_open,
        ald_registered: i.ald_registered,
        chart: monthly_chart(&i.monthly),
        rows,
        months,
        rule,
    };
    Ok(Html(render(&page)).into_response())
}

/// A rule's condition in French: « ALD ou 70 ans ou plus ou précarité ».
fn condition_fr(c: &maillage_core::matching::Condition) -> String {
    use maillage_core::matching::{Condition, Reason};
    match c {
        Condition::Ald => Reason::Ald.fr(),
        Condition::AgeAtLeast { years } => Reason::AgeAtLeast { years: *years }.fr(),
        Condition::Precarity => Reason::Precarity.fr(),
        Condition::Flag { name, label } => label.clone().unwrap_or_else(|| name.clone()),
        Condition::AnyOf { conditions } => conditions.iter().map(condition_fr).collect::<Vec<_>>().join(" ou "),
        Condition::AllOf { conditions } => conditions.iter().map(condition_fr).collect::<Vec<_>>().join(" et "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn the_chart_scales_escapes_and_has_no_style() {
        let points: Vec<MonthPoint> = (1..=3)
            .map(|m| MonthPoint {
                month: NaiveDate::from_ymd_opt(2026, m, 1).unwrap(),
                registered: m * 10,
                declared: m,
                open_at_end: 30 - m,
            })
            .collect();
        let svg = monthly_chart(&points);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("class=\"barre-droit\"><title>").count(), 3);
        // The tallest bar (30 registered in March) spans the whole plot.
        assert!(svg.contains("<rect x=\"158\" y=\"10\" width=\"20\" height=\"180\" class=\"barre-droit\"><title>mars 2026 : 30 inscrite(s)"));
        assert!(!svg.contains("style="));
    }
}
