//! The ACI contract of a CPTS (`/cpts/{id}/contrat`) and its spending (`/cpts/{id}/depenses`).
//!
//! Every form carries the contract's revision: a change made on a page that someone else
//! updated meanwhile is refused and nothing is lost silently.

use super::cpts::{csv_response, ctx};
use super::{Chrome, capitalised, fr_date, fr_int, fr_percent, render};
use crate::app::aci::{self as uc, ContractFile, ContractReport};
use crate::app::csv_cell;
use crate::auth::{CsrfField, CsrfForm, Principal};
use crate::error::{Failure, PageError};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use chrono::NaiveDate;
use maillage_core::aci::spending::{Expense, ExpenseCategory, PayeeKind};
use maillage_core::aci::{
    Category, Cents, Contract, CrisisDeclaration, EngagedMission, Indicator, IndicatorKind, IndicatorResult, MissionId,
    PaymentKind, PopulationUpdate, RuleSet,
};
use maillage_store::DateRange;
use serde::Deserialize;
use std::collections::BTreeMap;

// ---------------------------------------------------------------------------------------------
// Views

pub struct YearLink {
    pub n: u8,
    pub period: String,
    pub current: bool,
    pub selected: bool,
}

pub struct EnvelopeRow {
    pub label: String,
    pub fixed: String,
    pub variable: String,
    pub total: String,
    pub achievement: String,
    pub spent: String,
    pub left: String,
    pub over: bool,
    pub explanations: Vec<String>,
}

pub struct IndicatorView {
    pub position: usize,
    pub name: String,
    pub kind: &'static str,
    pub kind_id: &'static str,
    pub baseline: i64,
    pub weight: u32,
    pub target: String,
    pub achieved: String,
    /// 0–100, for the progress bar.
    pub percent: u32,
    pub ratio: String,
    pub evidence: Vec<String>,
    /// Targets of years 1–5 as typed in the edit form.
    pub targets: Vec<(u8, String)>,
    pub achieved_raw: String,
    pub evidence_raw: String,
}

pub struct MissionView {
    pub id: &'static str,
    pub label: String,
    pub category: &'static str,
    pub started_iso: String,
    pub started: String,
    pub deployed_iso: String,
    pub deployed: String,
    pub deadlines: String,
    pub indicators: Vec<IndicatorView>,
    pub is_crisis: bool,
    pub crises: Vec<(String, String)>,
}

pub struct PaymentRow {
    pub date: String,
    pub year: u8,
    pub envelope: String,
    pub kind: &'static str,
    pub amount: String,
    pub paid: bool,
}

pub struct ProjectionRow {
    pub year: u8,
    pub period: String,
    pub size: u8,
    pub total: String,
}

pub struct ContractView {
    pub revision: i64,
    pub signed_on: String,
    pub signed_on_iso: String,
    pub rule_set_id: String,
    pub rule_set_title: String,
    pub population: String,
    pub population_raw: u64,
    pub size_class: u8,
    pub years: Vec<YearLink>,
    pub year: u8,
    pub period: String,
    pub warnings: Vec<String>,
    pub envelopes: Vec<EnvelopeRow>,
    pub total_entitlement: String,
    pub total_spent: String,
    pub total_left: String,
    pub maximum: String,
    pub chart: String,
    pub missions: Vec<MissionView>,
    pub engageable: Vec<(&'static str, String)>,
    pub payments: Vec<PaymentRow>,
    pub payments_total: String,
    pub projection: Vec<ProjectionRow>,
    pub projection_total: String,
    pub population_updates: Vec<(String, String)>,
    pub pass_alerts: Vec<String>,
    pub years_range: Vec<u8>,
}

#[derive(Template)]
#[template(path = "aci_contract.html")]
pub struct ContractPage {
    pub chrome: Chrome,
    pub cpts_id: String,
    pub cpts_name: String,
    pub can_edit: bool,
    pub contract: Option<ContractView>,
    pub population_now: u64,
    pub rule_sets: Vec<(String, String)>,
    pub socle: Vec<(&'static str, &'static str, bool)>,
}

pub struct ExpenseRow {
    pub id: String,
    pub date: String,
    pub date_iso: String,
    pub envelope: String,
    pub envelope_id: &'static str,
    pub category: &'static str,
    pub category_id: &'static str,
    pub payee_kind: &'static str,
    pub payee_kind_id: &'static str,
    pub payee: String,
    pub payee_rpps: String,
    pub amount: String,
    pub amount_raw: String,
    pub receipt: String,
    pub note: String,
}

pub struct AllowanceRow {
    pub year: i32,
    pub payee: String,
    pub total: String,
    pub cap: String,
    pub percent: u32,
    pub over: bool,
}

#[derive(Template)]
#[template(path = "aci_expenses.html")]
pub struct ExpensesPage {
    pub chrome: Chrome,
    pub cpts_id: String,
    pub cpts_name: String,
    pub can_edit: bool,
    pub has_contract: bool,
    pub years: Vec<YearLink>,
    pub year_label: String,
    pub year_query: String,
    pub year_value: String,
    pub envelopes: Vec<EnvelopeRow>,
    pub chart: String,
    pub total_entitlement: String,
    pub total_spent: String,
    pub total_left: String,
    pub expenses: Vec<ExpenseRow>,
    pub expenses_total: String,
    pub allowances: Vec<AllowanceRow>,
    pub pass_alerts: Vec<String>,
    pub envelope_choices: Vec<(&'static str, String)>,
    pub category_choices: Vec<(&'static str, &'static str)>,
    pub payee_choices: Vec<(&'static str, &'static str)>,
    pub today_iso: String,
    pub form: ExpenseForm,
}

// ---------------------------------------------------------------------------------------------
// Formatting

fn fr_opt_date(d: Option<NaiveDate>) -> String {
    d.map_or_else(|| "—".to_owned(), fr_date)
}

fn iso_opt(d: Option<NaiveDate>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

fn kind_fr(kind: IndicatorKind) -> (&'static str, &'static str) {
    match kind {
        IndicatorKind::Action => ("action", "Action"),
        IndicatorKind::Result => ("result", "Résultat"),
    }
}

fn payment_kind_fr(kind: PaymentKind) -> &'static str {
    match kind {
        PaymentKind::AtSignature => "À la signature",
        PaymentKind::Advance => "Avance (75 %)",
        PaymentKind::Balance => "Solde",
        PaymentKind::Variable => "Part variable",
        PaymentKind::CrisisOccurrence => "Crise survenue",
    }
}

fn period_fr(contract: &Contract, year: u8) -> String {
    contract
        .period(year)
        .map_or_else(String::new, |(s, e)| format!("du {} au {}", fr_date(s), fr_date(e.pred_opt().unwrap_or(e))))
}

fn year_links(rules: &RuleSet, contract: &Contract, current: Option<u8>, selected: Option<u8>) -> Vec<YearLink> {
    (1..=rules.contract_years)
        .map(|n| YearLink {
            n,
            period: period_fr(contract, n),
            current: current == Some(n),
            selected: selected == Some(n),
        })
        .collect()
}

fn envelope_rows(report: &ContractReport) -> Vec<EnvelopeRow> {
    report
        .balances
        .envelopes
        .iter()
        .map(|b| {
            let funding = report.funding.envelope(b.mission);
            EnvelopeRow {
                label: capitalised(b.mission.fr()),
                fixed: funding.map_or_else(|| "—".into(), |f| f.fixed.fr_whole()),
                variable: funding.map_or_else(|| "—".into(), |f| f.variable.fr_whole()),
                total: b.entitlement.fr_whole(),
                achievement: funding.and_then(|f| f.achievement).map_or_else(|| "—".into(), |r| fr_percent(r, 2)),
                spent: b.spent.fr_whole(),
                left: b.left.fr_whole(),
                over: b.over,
                explanations: funding.map(|f| f.explanations.iter().map(|e| e.fr()).collect()).unwrap_or_default(),
            }
        })
        .collect()
}

/// Horizontal bars, entitlement against spending per envelope. Server-rendered, no script.
fn spending_chart(rows: &[(String, Cents, Cents)]) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let max = rows.iter().map(|(_, a, b)| a.cents().max(b.cents())).max().unwrap_or(0).max(1);
    let (label_w, bar_w, row_h) = (230i64, 380i64, 46i64);
    let height = row_h * rows.len() as i64 + 34;
    let mut svg = format!(
        "<svg class=\"graphique\" viewBox=\"0 0 {w} {height}\" role=\"img\" aria-labelledby=\"graphique-titre\" \
         xmlns=\"http://www.w3.org/2000/svg\"><title id=\"graphique-titre\">Droits et dépenses par enveloppe</title>",
        w = label_w + bar_w + 110
    );
    for (i, (label, entitled, spent)) in rows.iter().enumerate() {
        let y = i as i64 * row_h;
        let width = |c: Cents| (c.cents().max(0) * bar_w / max).max(if c.cents() > 0 { 1 } else { 0 });
        let over = spent > entitled;
        svg.push_str(&format!(
            "<text x=\"0\" y=\"{ty}\" class=\"etiquette\">{label}</text>\
             <rect x=\"{label_w}\" y=\"{y1}\" width=\"{we}\" height=\"16\" class=\"barre-droit\"><title>Droit : {te}</title></rect>\
             <text x=\"{xe}\" y=\"{ty1}\" class=\"valeur\">{te}</text>\
             <rect x=\"{label_w}\" y=\"{y2}\" width=\"{ws}\" height=\"16\" class=\"{cls}\"><title>Dépensé : {ts}</title></rect>\
             <text x=\"{xs}\" y=\"{ty2}\" class=\"valeur\">{ts}</text>",
            ty = y + 20,
            label = crate::map::escape(label),
            y1 = y + 4,
            we = width(*entitled),
            te = entitled.fr_whole(),
            xe = label_w + width(*entitled) + 6,
            ty1 = y + 17,
            y2 = y + 22,
            ws = width(*spent),
            cls = if over { "barre-depense depasse" } else { "barre-depense" },
            ts = spent.fr_whole(),
            xs = label_w + width(*spent) + 6,
            ty2 = y + 35,
        ));
    }
    let ly = row_h * rows.len() as i64 + 14;
    svg.push_str(&format!(
        "<rect x=\"{label_w}\" y=\"{ly}\" width=\"14\" height=\"10\" class=\"barre-droit\"/>\
         <text x=\"{x1}\" y=\"{ty}\" class=\"valeur\">droit de l'année</text>\
         <rect x=\"{x2}\" y=\"{ly}\" width=\"14\" height=\"10\" class=\"barre-depense\"/>\
         <text x=\"{x3}\" y=\"{ty}\" class=\"valeur\">dépensé</text></svg>",
        x1 = label_w + 20,
        ty = ly + 10,
        x2 = label_w + 150,
        x3 = label_w + 170,
    ));
    svg
}

fn chart_of(report: &ContractReport) -> String {
    let rows: Vec<(String, Cents, Cents)> =
        report.balances.envelopes.iter().map(|b| (capitalised(b.mission.fr()), b.entitlement, b.spent)).collect();
    spending_chart(&rows)
}

fn pass_lines(report: &ContractReport) -> Vec<String> {
    report.pass_alerts.iter().map(|a| a.fr()).collect()
}

fn contract_view(
    file: &ContractFile,
    rules: &RuleSet,
    report: &ContractReport,
    today: NaiveDate,
) -> Result<ContractView, Failure> {
    let Some(stored) = &file.stored else { return Err(Failure::NotFound) };
    let c = &stored.contract;
    let missions = c
        .missions
        .iter()
        .map(|m| {
            let (start_by, deploy_by) = c.deadlines(rules, m.mission);
            let deadlines = match (start_by, deploy_by) {
                (Some(s), Some(d)) => {
                    format!("démarrage au plus tard le {}, déploiement le {}", fr_date(s), fr_date(d))
                }
                (Some(s), None) => format!("démarrage au plus tard le {}", fr_date(s)),
                _ => String::new(),
            };
            let indicators = m
                .indicators
                .iter()
                .enumerate()
                .map(|(position, i)| {
                    let (kind_id, kind) = kind_fr(i.kind);
                    let ratio = i.ratio(report.year);
                    let result = i.results.get(&report.year);
                    IndicatorView {
                        position,
                        name: i.name.clone(),
                        kind,
                        kind_id,
                        baseline: i.baseline,
                        weight: i.weight,
                        target: i.targets.get(&report.year).map_or_else(|| "—".into(), ToString::to_string),
                        achieved: result.map_or_else(|| "non saisi".into(), |r| r.achieved.to_string()),
                        percent: ratio.map_or(0, |r| {
                            u32::try_from(u64::from(r.billionths()) * 100 / 1_000_000_000).unwrap_or(100)
                        }),
                        ratio: ratio.map_or_else(|| "sans cible cette année".into(), |r| fr_percent(r, 2)),
                        evidence: result.map(|r| r.evidence.clone()).unwrap_or_default(),
                        targets: (1..=rules.contract_years)
                            .map(|y| (y, i.targets.get(&y).map(ToString::to_string).unwrap_or_default()))
                            .collect(),
                        achieved_raw: result.map(|r| r.achieved.to_string()).unwrap_or_default(),
                        evidence_raw: result.map(|r| r.evidence.join("\n")).unwrap_or_default(),
                    }
                })
                .collect();
            MissionView {
                id: m.mission.as_str(),
                label: capitalised(m.mission.fr()),
                category: match rules.mission(m.mission).map(|r| r.category) {
                    Some(Category::Socle) => "socle",
                    Some(Category::Optional) => "optionnelle",
                    None => "non financée par ce texte",
                },
                started_iso: iso_opt(m.started_on),
                started: fr_opt_date(m.started_on),
                deployed_iso: iso_opt(m.deployed_on),
                deployed: fr_opt_date(m.deployed_on),
                deadlines,
                indicators,
                is_crisis: m.mission == MissionId::Crise,
                crises: m.crises.iter().map(|k| (fr_date(k.declared_on), k.name.clone())).collect(),
            }
        })
        .collect();
    let engageable = rules
        .missions
        .values()
        .filter(|r| c.engaged(r.mission).is_none())
        .map(|r| (r.mission.as_str(), capitalised(r.mission.fr())))
        .collect();
    let payments = report
        .schedule
        .payments
        .iter()
        .map(|p| PaymentRow {
            date: fr_date(p.date),
            year: p.contract_year,
            envelope: capitalised(p.mission.fr()),
            kind: payment_kind_fr(p.kind),
            amount: p.amount.fr_whole(),
            paid: p.date <= today,
        })
        .collect();
    let projection = report
        .projection
        .years
        .iter()
        .map(|y| ProjectionRow {
            year: y.contract_year,
            period: period_fr(c, y.contract_year),
            size: y.size.number(),
            total: y.total.fr_whole(),
        })
        .collect();
    let envelopes = envelope_rows(report);
    Ok(ContractView {
        revision: stored.revision,
        signed_on: fr_date(c.signed_on),
        signed_on_iso: c.signed_on.to_string(),
        rule_set_id: rules.id.clone(),
        rule_set_title: rules.title.clone(),
        population: fr_int(&c.population_at_signature),
        population_raw: c.population_at_signature,
        size_class: c.size_at_signature(rules).number(),
        years: year_links(rules, c, report.current_year, Some(report.year)),
        year: report.year,
        period: period_fr(c, report.year),
        warnings: report.warnings.iter().map(|w| capitalised(&w.fr)).collect(),
        envelopes,
        total_entitlement: report.balances.entitlement.fr_whole(),
        total_spent: report.balances.spent.fr_whole(),
        total_left: report.balances.left.fr_whole(),
        maximum: report.funding.maximum.fr_whole(),
        chart: chart_of(report),
        missions,
        engageable,
        payments,
        payments_total: report.schedule.total.fr_whole(),
        projection,
        projection_total: report.projection.total.fr_whole(),
        population_updates: c.population_updates.iter().map(|u| (fr_date(u.known_on), fr_int(&u.population))).collect(),
        pass_alerts: pass_lines(report),
        years_range: (1..=rules.contract_years).collect(),
    })
}

// ---------------------------------------------------------------------------------------------
// Contract page

#[derive(Deserialize, Default)]
pub struct YearQuery {
    #[serde(default)]
    annee: Option<String>,
}

fn parse_year(text: Option<&str>) -> Result<Option<u8>, Failure> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => t.parse::<u8>().map(Some).map_err(|_| {
            Failure::invalid(
                "invalid_year",
                format!("« {t} » n'est pas une année du contrat."),
                "invalid contract year",
            )
        }),
    }
}

/// `GET /cpts/{id}/contrat?annee=N`
pub async fn contract(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<YearQuery>,
) -> Result<Response, PageError> {
    let year = parse_year(q.annee.as_deref())?;
    contract_page(&state, &principal, &headers, &id, year, None).await
}

async fn contract_page(
    state: &AppState,
    principal: &Principal,
    headers: &HeaderMap,
    id: &str,
    year: Option<u8>,
    flash: Option<(&'static str, String)>,
) -> Result<Response, PageError> {
    let c = ctx(state, principal, headers);
    let file = uc::open(&c, id).await?;
    let today = uc::today(&c);
    let error = flash.as_ref().is_some_and(|(kind, _)| *kind == "erreur");
    let view = match (&file.stored, file.rules()?) {
        (Some(stored), Some(rules)) => {
            let expenses = uc::expenses(&c, id, DateRange::default()).await?;
            let report = uc::report(rules, &stored.contract, &expenses, today, year)?;
            Some(contract_view(&file, rules, &report, today)?)
        }
        _ => None,
    };
    let rule_sets = uc::rule_sets()?;
    let newest = rule_sets.last();
    let chrome = Chrome::for_user(
        principal,
        format!("Contrat ACI — {}", file.cpts.name),
        Some(file.cpts.name.clone()),
        &format!("/cpts/{}/contrat", file.cpts.id),
    )
    .with_flash(flash);
    let page = ContractPage {
        chrome,
        cpts_id: file.cpts.id.to_string(),
        cpts_name: file.cpts.name.clone(),
        can_edit: file.can_edit,
        contract: view,
        population_now: file.population_now,
        rule_sets: rule_sets.iter().rev().map(|r| (r.id.clone(), r.title.clone())).collect(),
        socle: newest
            .map(|r| {
                r.missions
                    .values()
                    .map(|m| (m.mission.as_str(), m.mission.fr(), m.category == Category::Socle))
                    .collect()
            })
            .unwrap_or_default(),
    };
    let status = if error { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok((status, Html(render(&page))).into_response())
}

/// After a change: the page with the outcome (422 and the reason when refused, 409 when stale).
async fn after_change(
    state: &AppState,
    principal: &Principal,
    headers: &HeaderMap,
    id: &str,
    year: Option<u8>,
    outcome: Result<String, Failure>,
) -> Result<Response, PageError> {
    match outcome {
        Ok(message) => contract_page(state, principal, headers, id, year, Some(("succes", message))).await,
        Err(f @ (Failure::Invalid { .. } | Failure::Conflict { .. })) => {
            let status = f.status();
            let page = contract_page(state, principal, headers, id, year, Some(("erreur", f.fr()))).await?;
            let (mut parts, body) = page.into_parts();
            parts.status = status;
            Ok(Response::from_parts(parts, body))
        }
        Err(other) => Err(other.into()),
    }
}

fn field_date(text: &str, label: &str) -> Result<NaiveDate, Failure> {
    let t = text.trim();
    NaiveDate::parse_from_str(t, "%Y-%m-%d").or_else(|_| NaiveDate::parse_from_str(t, "%d/%m/%Y")).map_err(|_| {
        Failure::invalid(
            "invalid_date",
            format!("{label} : « {t} » n'est pas une date (jj/mm/aaaa)."),
            format!("{label}: {t:?} is not a date"),
        )
    })
}

fn field_opt_date(text: &str, label: &str) -> Result<Option<NaiveDate>, Failure> {
    if text.trim().is_empty() { Ok(None) } else { field_date(text, label).map(Some) }
}

fn field_int<T: std::str::FromStr>(text: &str, label: &str) -> Result<T, Failure> {
    let t: String = text.trim().chars().filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}')).collect();
    t.parse().map_err(|_| {
        Failure::invalid(
            "invalid_number",
            format!("{label} : « {} » n'est pas un nombre entier valide.", text.trim()),
            format!("{label}: {:?} is not a valid integer", text.trim()),
        )
    })
}

fn field_revision(text: &str) -> Result<i64, Failure> {
    field_int(text, "Révision")
}

fn field_mission(text: &str) -> Result<MissionId, Failure> {
    text.parse().map_err(|e: maillage_core::aci::UnknownMission| {
        Failure::invalid("unknown_mission", format!("Mission inconnue : « {} ».", text.trim()), e.to_string())
    })
}

macro_rules! csrf_form {
    ($name:ident { $($field:ident),* $(,)? }) => {
        #[derive(Deserialize, Default)]
        pub struct $name {
            #[serde(default)]
            csrf: String,
            $(#[serde(default)] $field: String,)*
        }
        impl CsrfField for $name {
            fn csrf(&self) -> &str {
                &self.csrf
            }
        }
    };
}

csrf_form!(HeaderForm {
    revision,
    signed_on,
    rule_set,
    population,
    annee,
    m_acces,
    m_parcours,
    m_prevention,
    m_crise,
    m_qualite,
    m_accompagnement
});
csrf_form!(MissionForm { revision, mission, started_on, deployed_on, annee });
csrf_form!(RevisionForm { revision, annee });
csrf_form!(IndicatorForm {
    revision,
    position,
    name,
    kind,
    baseline,
    weight,
    target_1,
    target_2,
    target_3,
    target_4,
    target_5,
    annee
});
csrf_form!(ResultForm { revision, year, achieved, evidence, annee });
csrf_form!(CrisisForm { revision, declared_on, name, annee });
csrf_form!(PopulationForm { revision, known_on, population, annee });

/// `POST /cpts/{id}/contrat`: creates the contract, or changes its signature, text, population.
pub async fn save_header(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<HeaderForm>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    let year = parse_year(Some(&f.annee)).unwrap_or(None);
    let outcome = async {
        let signed_on = field_date(&f.signed_on, "Date de signature")?;
        let rules = uc::rule_set(f.rule_set.trim())?;
        let population: u64 = field_int(&f.population, "Population à la signature")?;
        if f.revision.trim().is_empty() {
            let mut contract = Contract::new(id.clone(), signed_on, rules, population);
            let chosen = [
                (MissionId::Acces, &f.m_acces),
                (MissionId::Parcours, &f.m_parcours),
                (MissionId::Prevention, &f.m_prevention),
                (MissionId::Crise, &f.m_crise),
                (MissionId::Qualite, &f.m_qualite),
                (MissionId::Accompagnement, &f.m_accompagnement),
            ];
            contract.missions = chosen
                .into_iter()
                .filter(|(m, on)| !on.is_empty() && rules.mission(*m).is_some())
                .map(|(mission, _)| EngagedMission {
                    mission,
                    started_on: None,
                    deployed_on: None,
                    indicators: Vec::new(),
                    crises: Vec::new(),
                })
                .collect();
            uc::save_contract(&c, &id, contract, None, "contrat saisi").await?;
            Ok("Contrat enregistré. Indiquez maintenant la date de démarrage de chaque mission et ses indicateurs."
                .to_owned())
        } else {
            let revision = field_revision(&f.revision)?;
            uc::edit_contract(&c, &id, revision, "signature, texte ou population", |contract| {
                contract.signed_on = signed_on;
                contract.rule_set = rules.id.clone();
                contract.population_at_signature = population;
                Ok(())
            })
            .await?;
            Ok("Contrat mis à jour.".to_owned())
        }
    }
    .await;
    after_change(&state, &principal, &headers, &id, year, outcome).await
}

/// `POST /cpts/{id}/contrat/missions`: engages a mission or changes its dates.
pub async fn save_mission(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<MissionForm>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    let year = parse_year(Some(&f.annee)).unwrap_or(None);
    let outcome = async {
        let revision = field_revision(&f.revision)?;
        let mission = field_mission(&f.mission)?;
        let started_on = field_opt_date(&f.started_on, "Date de démarrage")?;
        let deployed_on = field_opt_date(&f.deployed_on, "Date de déploiement")?;
        let mut engaged_now = false;
        uc::edit_contract(&c, &id, revision, &format!("mission {mission}"), |contract| {
            match contract.missions.iter_mut().find(|m| m.mission == mission) {
                Some(m) => {
                    m.started_on = started_on;
                    m.deployed_on = deployed_on;
                }
                None => {
                    engaged_now = true;
                    contract.missions.push(EngagedMission {
                        mission,
                        started_on,
                        deployed_on,
                        indicators: Vec::new(),
                        crises: Vec::new(),
                    });
                    contract.missions.sort_by_key(|m| m.mission);
                }
            }
            Ok(())
        })
        .await?;
        Ok(if engaged_now {
            format!("Mission « {} » engagée.", mission.fr())
        } else {
            format!("Dates de la mission « {} » enregistrées.", mission.fr())
        })
    }
    .await;
    after_change(&state, &principal, &headers, &id, year, outcome).await
}

/// `POST /cpts/{id}/contrat/missions/{mission}/retirer`
pub async fn remove_mission(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((id, mission)): Path<(String, String)>,
    CsrfForm(f): CsrfForm<RevisionForm>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    let year = parse_year(Some(&f.annee)).unwrap_or(None);
    let outcome = async {
        let revision = field_revision(&f.revision)?;
        let mission = field_mission(&mission)?;
        uc::edit_contract(&c, &id, revision, &format!("mission {mission} retirée"), |contract| {
            let before = contract.missions.len();
            contract.missions.retain(|m| m.mission != mission);
            if contract.missions.len() == before { Err(Failure::NotFound) } else { Ok(()) }
        })
        .await?;
        Ok(format!("Mission « {} » retirée du contrat.", mission.fr()))
    }
    .await;
    after_change(&state, &principal, &headers, &id, year, outcome).await
}

fn mission_mut(contract: &mut Contract, mission: MissionId) -> Result<&mut EngagedMission, Failure> {
    contract.missions.iter_mut().find(|m| m.mission == mission).ok_or_else(|| {
        Failure::invalid(
            "mission_not_engaged",
            format!("La mission « {} » n'est pas engagée.", mission.fr()),
            format!("mission {mission} is not engaged"),
        )
    })
}

fn indicator_mut(m: &mut EngagedMission, position: usize) -> Result<&mut Indicator, Failure> {
    m.indicators.get_mut(position).ok_or(Failure::NotFound)
}

/// `POST /cpts/{id}/contrat/missions/{mission}/indicateurs`: adds an indicator, or changes the
/// one at `position`.
pub async fn save_indicator(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((id, mission)): Path<(String, String)>,
    CsrfForm(f): CsrfForm<IndicatorForm>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    let year = parse_year(Some(&f.annee)).unwrap_or(None);
    let outcome = async {
        let revision = field_revision(&f.revision)?;
        let mission = field_mission(&mission)?;
        let kind = match f.kind.trim() {
            "action" => IndicatorKind::Action,
            "result" | "" => IndicatorKind::Result,
            other => {
                return Err(Failure::invalid(
                    "invalid_kind",
                    format!("Type d'indicateur inconnu : « {other} »."),
                    "unknown indicator kind",
                ));
            }
        };
        let baseline: i64 = field_int(&f.baseline, "Valeur de départ")?;
        let weight: u32 = if f.weight.trim().is_empty() { 1 } else { field_int(&f.weight, "Poids")? };
        let mut targets = BTreeMap::new();
        for (y, text) in [(1u8, &f.target_1), (2, &f.target_2), (3, &f.target_3), (4, &f.target_4), (5, &f.target_5)] {
            if !text.trim().is_empty() {
                targets.insert(y, field_int::<i64>(text, &format!("Cible de l'année {y}"))?);
            }
        }
        let position =
            if f.position.trim().is_empty() { None } else { Some(field_int::<usize>(&f.position, "Position")?) };
        let name = f.name.trim().to_owned();
        uc::edit_contract(&c, &id, revision, &format!("indicateur « {name} » ({mission})"), |contract| {
            let m = mission_mut(contract, mission)?;
            match position {
                Some(p) => {
                    let i = indicator_mut(m, p)?;
                    i.name = name.clone();
                    i.kind = kind;
                    i.baseline = baseline;
                    i.weight = weight;
                    i.targets = targets;
                }
                None => m.indicators.push(Indicator {
                    name: name.clone(),
                    kind,
                    baseline,
                    targets,
                    weight,
                    results: BTreeMap::new(),
                }),
            }
            Ok(())
        })
        .await?;
        Ok(format!("Indicateur « {name} » enregistré."))
    }
    .await;
    after_change(&state, &principal, &headers, &id, year, outcome).await
}

/// `POST /cpts/{id}/contrat/missions/{mission}/indicateurs/{n}/resultat`
pub async fn save_result(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((id, mission, position)): Path<(String, String, usize)>,
    CsrfForm(f): CsrfForm<ResultForm>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    let shown = parse_year(Some(&f.annee)).unwrap_or(None);
    let outcome = async {
        let revision = field_revision(&f.revision)?;
        let mission = field_mission(&mission)?;
        let year: u8 = field_int(&f.year, "Année du contrat")?;
        let achieved = f.achieved.trim();
        let evidence: Vec<String> =
            f.evidence.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect();
        let value: Option<i64> = if achieved.is_empty() { None } else { Some(field_int(achieved, "Valeur atteinte")?) };
        let mut name = String::new();
        uc::edit_contract(&c, &id, revision, &format!("résultat année {year} ({mission})"), |contract| {
            let i = indicator_mut(mission_mut(contract, mission)?, position)?;
            name = i.name.clone();
            match value {
                Some(achieved) => {
                    i.results.insert(year, IndicatorResult { achieved, evidence });
                }
                None => {
                    i.results.remove(&year);
                }
            }
            Ok(())
        })
        .await?;
        Ok(format!("Résultat de l'année {year} enregistré pour « {name} »."))
    }
    .await;
    after_change(&state, &principal, &headers, &id, shown, outcome).await
}

/// `POST /cpts/{id}/contrat/missions/{mission}/indicateurs/{n}/supprimer`
pub async fn delete_indicator(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((id, mission, position)): Path<(String, String, usize)>,
    CsrfForm(f): CsrfForm<RevisionForm>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    let year = parse_year(Some(&f.annee)).unwrap_or(None);
    let outcome = async {
        let revision = field_revision(&f.revision)?;
        let mission = field_mission(&mission)?;
        let mut name = String::new();
        uc::edit_contract(&c, &id, revision, &format!("indicateur supprimé ({mission})"), |contract| {
            let m = mission_mut(contract, mission)?;
            if position >= m.indicators.len() {
                return Err(Failure::NotFound);
            }
            name = m.indicators.remove(position).name;
            Ok(())
        })
        .await?;
        Ok(format!("Indicateur « {name} » supprimé."))
    }
    .await;
    after_change(&state, &principal, &headers, &id, year, outcome).await
}

/// `POST /cpts/{id}/contrat/crises`: declares a serious health crisis.
pub async fn declare_crisis(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<CrisisForm>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    let year = parse_year(Some(&f.annee)).unwrap_or(None);
    let outcome = async {
        let revision = field_revision(&f.revision)?;
        let declared_on = field_date(&f.declared_on, "Date de la crise")?;
        let name = f.name.trim().to_owned();
        uc::edit_contract(&c, &id, revision, &format!("crise déclarée : {name}"), |contract| {
            mission_mut(contract, MissionId::Crise)?.crises.push(CrisisDeclaration { declared_on, name: name.clone() });
            Ok(())
        })
        .await?;
        Ok(format!("Crise « {name} » déclarée le {}.", fr_date(declared_on)))
    }
    .await;
    after_change(&state, &principal, &headers, &id, year, outcome).await
}

/// `POST /cpts/{id}/contrat/population`: records a newly published population.
pub async fn add_population(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<PopulationForm>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    let year = parse_year(Some(&f.annee)).unwrap_or(None);
    let outcome = async {
        let revision = field_revision(&f.revision)?;
        let known_on = field_date(&f.known_on, "Date de publication")?;
        let population: u64 = field_int(&f.population, "Population")?;
        uc::edit_contract(&c, &id, revision, &format!("population {population} connue le {known_on}"), |contract| {
            contract.population_updates.retain(|u| u.known_on != known_on);
            contract.population_updates.push(PopulationUpdate { known_on, population });
            contract.population_updates.sort_by_key(|u| u.known_on);
            Ok(())
        })
        .await?;
        Ok(format!("Population de {} habitants enregistrée au {}.", fr_int(&population), fr_date(known_on)))
    }
    .await;
    after_change(&state, &principal, &headers, &id, year, outcome).await
}

// ---------------------------------------------------------------------------------------------
// Spending page

csrf_form!(ExpenseForm {
    id,
    spent_on,
    envelope,
    category,
    payee_kind,
    payee,
    payee_rpps,
    amount,
    receipt,
    note,
    annee
});

fn expense_row(e: &Expense) -> ExpenseRow {
    ExpenseRow {
        id: e.id.clone(),
        date: fr_date(e.spent_on),
        date_iso: e.spent_on.to_string(),
        envelope: capitalised(e.envelope.fr()),
        envelope_id: e.envelope.as_str(),
        category: e.category.fr(),
        category_id: e.category.as_str(),
        payee_kind: e.payee_kind.fr(),
        payee_kind_id: e.payee_kind.as_str(),
        payee: e.payee.clone(),
        payee_rpps: e.payee_rpps.clone().unwrap_or_default(),
        amount: e.amount.fr(),
        amount_raw: e.amount.euros_decimal().replace('.', ","),
        receipt: e.receipt.clone(),
        note: e.note.clone(),
    }
}

/// `GET /cpts/{id}/depenses?annee=N`
pub async fn expenses(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<YearQuery>,
) -> Result<Response, PageError> {
    let year = parse_year(q.annee.as_deref())?;
    expenses_page(&state, &principal, &headers, &id, year, None, ExpenseForm::default()).await
}

async fn expenses_page(
    state: &AppState,
    principal: &Principal,
    headers: &HeaderMap,
    id: &str,
    year: Option<u8>,
    flash: Option<(&'static str, String)>,
    form: ExpenseForm,
) -> Result<Response, PageError> {
    let c = ctx(state, principal, headers);
    let file = uc::open(&c, id).await?;
    let today = uc::today(&c);
    let all = uc::expenses(&c, id, DateRange::default()).await?;
    let error = flash.as_ref().is_some_and(|(kind, _)| *kind == "erreur");
    let mut page = ExpensesPage {
        chrome: Chrome::for_user(
            principal,
            format!("Dépenses — {}", file.cpts.name),
            Some(file.cpts.name.clone()),
            &format!("/cpts/{}/contrat", file.cpts.id),
        )
        .with_flash(flash),
        cpts_id: file.cpts.id.to_string(),
        cpts_name: file.cpts.name.clone(),
        can_edit: file.can_edit,
        has_contract: false,
        years: Vec::new(),
        year_label: "toutes les dépenses".into(),
        year_query: String::new(),
        year_value: String::new(),
        envelopes: Vec::new(),
        chart: String::new(),
        total_entitlement: String::new(),
        total_spent: String::new(),
        total_left: String::new(),
        expenses: Vec::new(),
        expenses_total: String::new(),
        allowances: Vec::new(),
        pass_alerts: Vec::new(),
        envelope_choices: MissionId::ALL.iter().map(|m| (m.as_str(), capitalised(m.fr()))).collect(),
        category_choices: ExpenseCategory::ALL.iter().map(|k| (k.as_str(), k.fr())).collect(),
        payee_choices: PayeeKind::ALL.iter().map(|k| (k.as_str(), k.fr())).collect(),
        today_iso: today.to_string(),
        form,
    };
    let shown: Vec<Expense> = match (&file.stored, file.rules()?) {
        (Some(stored), Some(rules)) => {
            let report = uc::report(rules, &stored.contract, &all, today, year)?;
            page.has_contract = true;
            page.years = year_links(rules, &stored.contract, report.current_year, Some(report.year));
            page.year_label =
                format!("année {} du contrat ({})", report.year, period_fr(&stored.contract, report.year));
            page.year_query = format!("?annee={}", report.year);
            page.year_value = report.year.to_string();
            page.envelopes = envelope_rows(&report);
            page.chart = chart_of(&report);
            page.total_entitlement = report.balances.entitlement.fr_whole();
            page.total_spent = report.balances.spent.fr_whole();
            page.total_left = report.balances.left.fr_whole();
            page.pass_alerts = pass_lines(&report);
            report.expenses
        }
        _ => all.clone(),
    };
    let table = uc::pass_table()?;
    page.allowances = maillage_core::aci::spending::allowances_by_professional(&all, table)
        .into_iter()
        .map(|a| AllowanceRow {
            year: a.year,
            payee: a.payee.clone(),
            total: a.total.fr(),
            cap: a.cap.map_or_else(|| "inconnu".into(), Cents::fr_whole),
            percent: a
                .share_of_cap
                .map_or(0, |r| u32::try_from(u64::from(r.billionths()) * 100 / 1_000_000_000).unwrap_or(100)),
            over: a.is_over(),
        })
        .collect();
    page.expenses_total = shown.iter().map(|e| e.amount).sum::<Cents>().fr();
    page.expenses = shown.iter().map(expense_row).collect();
    let status = if error { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok((status, Html(render(&page))).into_response())
}

fn expense_from_form(f: &ExpenseForm) -> Result<Expense, Failure> {
    let envelope = field_mission(&f.envelope)?;
    let category: ExpenseCategory =
        f.category.trim().parse().map_err(|e: maillage_core::aci::spending::UnknownExpenseCategory| {
            Failure::invalid(
                "unknown_category",
                format!("Catégorie inconnue : « {} ».", f.category.trim()),
                e.to_string(),
            )
        })?;
    let payee_kind: PayeeKind =
        f.payee_kind.trim().parse().map_err(|e: maillage_core::aci::spending::UnknownPayeeKind| {
            Failure::invalid(
                "unknown_payee_kind",
                format!("Bénéficiaire inconnu : « {} ».", f.payee_kind.trim()),
                e.to_string(),
            )
        })?;
    let amount = Cents::parse_euros(&f.amount)
        .map_err(|e| Failure::invalid("invalid_amount", format!("Montant : {}.", e.fr()), e.to_string()))?;
    let rpps = f.payee_rpps.trim();
    Ok(Expense {
        id: f.id.trim().to_owned(),
        spent_on: field_date(&f.spent_on, "Date de la dépense")?,
        envelope,
        category,
        payee_kind,
        payee: f.payee.trim().to_owned(),
        payee_rpps: (!rpps.is_empty()).then(|| rpps.to_owned()),
        amount,
        receipt: f.receipt.trim().to_owned(),
        note: f.note.trim().to_owned(),
    })
}

/// `POST /cpts/{id}/depenses`: records an expense, or corrects the one named by `id`.
pub async fn save_expense(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<ExpenseForm>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    let year = parse_year(Some(&f.annee)).unwrap_or(None);
    let outcome = async {
        let expense = expense_from_form(&f)?;
        let message = format!("Dépense de {} enregistrée.", expense.amount.fr());
        if expense.id.is_empty() {
            uc::add_expense(&c, &id, expense).await?;
        } else {
            uc::update_expense(&c, &id, expense).await?;
        }
        Ok::<_, Failure>(message)
    }
    .await;
    match outcome {
        Ok(message) => {
            expenses_page(&state, &principal, &headers, &id, year, Some(("succes", message)), ExpenseForm::default())
                .await
        }
        Err(f2 @ Failure::Invalid { .. }) => {
            // The form comes back filled in, with the reason.
            expenses_page(&state, &principal, &headers, &id, year, Some(("erreur", f2.fr())), f).await
        }
        Err(other) => Err(other.into()),
    }
}

/// `POST /cpts/{id}/depenses/{expense}/supprimer`
pub async fn delete_expense(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((id, expense)): Path<(String, String)>,
    CsrfForm(f): CsrfForm<RevisionForm>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    let year = parse_year(Some(&f.annee)).unwrap_or(None);
    uc::delete_expense(&c, &id, &expense).await?;
    expenses_page(
        &state,
        &principal,
        &headers,
        &id,
        year,
        Some(("succes", "Dépense supprimée.".into())),
        ExpenseForm::default(),
    )
    .await
}

/// `GET /cpts/{id}/depenses.csv`: every expense, for the accountant.
pub async fn expenses_csv(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    let all = uc::expenses(&c, &id, DateRange::default()).await?;
    let mut out = String::from(
        "\u{feff}date,enveloppe,categorie,type_beneficiaire,beneficiaire,rpps,montant_eur,justificatif,note\r\n",
    );
    for e in &all {
        let row = [
            e.spent_on.to_string(),
            e.envelope.as_str().to_owned(),
            e.category.as_str().to_owned(),
            e.payee_kind.as_str().to_owned(),
            e.payee.clone(),
            e.payee_rpps.clone().unwrap_or_default(),
            e.amount.euros_decimal(),
            e.receipt.clone(),
            e.note.clone(),
        ];
        out.push_str(&row.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    Ok(csv_response(out, "depenses.csv"))
}
