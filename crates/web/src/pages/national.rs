//! The observatory of the national plan: the nation (`/national`), a région (`/region/{code}`)
//! with its coverage map and zones blanches, a zone blanche with its task force and the
//! extension what-if (`/region/{code}/zones/{key}`), and the registry's exports. Aggregates
//! only; every form works without JavaScript.

use super::cpts::ctx;
use super::{Chrome, commune_name, fr_date, render};
use crate::app::national::{self as uc, ActionForm, Outcome, ZoneView};
use crate::app::{self, CptsRow};
use crate::auth::{CsrfField, CsrfForm, Principal};
use crate::error::{Failure, PageError};
use crate::map::{Categories, Category, Fill, MapOptions, categories_legend_html, territory_svg};
use crate::sheet::{Sheet, SheetFormat};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use maillage_core::aci::{Cents, Rate};
use maillage_core::national::compare::{Published, PublishedRegistry, SMALL_COUNT_MAX};
use maillage_core::national::{Area, CptsState, Stage, StageCounts};
use maillage_core::refdata::Commune;
use serde::Deserialize;
use std::collections::HashMap;

/// The coverage categories of the maps, in legend order (colours repeated in `maillage.css`).
pub const COVERAGE: [Category; 6] = [
    Category { class: "categorie-signee", label: "ACI signé", fill: "#004375", stroke: "#ffffff" },
    Category { class: "categorie-valide", label: "projet de santé validé", fill: "#376c97", stroke: "#ffffff" },
    Category { class: "categorie-construction", label: "projet en construction", fill: "#a7c3dc", stroke: "#1e2a3a" },
    Category { class: "categorie-demarrage", label: "début de projet", fill: "#e1f1ff", stroke: "#1e2a3a" },
    Category {
        class: "categorie-chevauchement",
        label: "revendiquée par plusieurs CPTS",
        fill: "#7a3e9d",
        stroke: "#ffffff",
    },
    Category { class: "categorie-blanche", label: "zone blanche", fill: "#f6c8a8", stroke: "#5a2d0c" },
];

fn category_of(best: Option<CptsState>, claims: u16) -> usize {
    match (claims, best) {
        (0, _) | (_, None) => 5,
        (2.., _) => 4,
        (_, Some(CptsState::AciSigne)) => 0,
        (_, Some(CptsState::ProjetValide)) => 1,
        (_, Some(CptsState::ProjetEnConstruction)) => 2,
        (_, Some(_)) => 3,
    }
}

#[derive(Deserialize, Default)]
pub struct DateQuery {
    #[serde(default)]
    date: String,
}

pub struct AreaRow {
    pub href: String,
    pub name: String,
    pub population: String,
    pub covered: String,
    pub signed: String,
    pub blank: String,
    pub cpts: String,
}

fn area_row(a: &Area, href: String) -> AreaRow {
    AreaRow {
        href,
        name: a.name.clone(),
        population: super::fr_int(&a.population),
        covered: a.covered_share().fr(),
        signed: a.signed_share().fr(),
        blank: super::fr_int(&a.blank()),
        cpts: stage_line(&a.cpts),
    }
}

fn stage_line(c: &StageCounts) -> String {
    format!("{} / {} / {} / {}", c.signed, c.project, c.building, c.starting)
}

pub struct StageRow {
    pub label: &'static str,
    pub count: usize,
    pub share: String,
}

pub struct ZoneRow {
    pub href: String,
    pub name: String,
    pub departements: String,
    pub population: String,
    pub communes: usize,
    pub task_force: String,
    pub overdue: bool,
}

#[derive(Template)]
#[template(path = "national.html")]
struct NationalPage {
    chrome: Chrome,
    heading: String,
    date: String,
    on: String,
    counted: usize,
    covered: String,
    signed: String,
    blank: String,
    zones_count: usize,
    overlaps: usize,
    stages: Vec<StageRow>,
    areas_caption: String,
    areas: Vec<AreaRow>,
    /// The CPTS counted in a département (its page only).
    cpts: Vec<CptsLine>,
    zones: Vec<ZoneRow>,
    map: String,
    legend: String,
    export_href: String,
    tables_href: String,
    compare_href: String,
    can_manage: bool,
    /// `None` on a département's page.
    tenants: Option<Vec<CptsRow>>,
    is_region: bool,
}

pub struct CptsLine {
    pub name: String,
    pub state: &'static str,
    pub population: String,
    pub size: u8,
    pub communes: usize,
}

fn stages(c: &maillage_core::national::Coverage) -> Vec<StageRow> {
    Stage::ALL
        .iter()
        .map(|&s| StageRow { label: s.fr(), count: c.states.stages.get(s), share: c.states.stages.share(s).fr() })
        .collect()
}

fn date_of(q: &DateQuery) -> Result<Option<chrono::NaiveDate>, Failure> {
    uc::parse_date(&q.date)
}

/// `GET /national[?date=AAAA-MM-JJ]`
pub async fn national(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Query(q): Query<DateQuery>,
) -> Result<Html<String>, PageError> {
    let c = ctx(&state, &principal, &headers);
    let o = uc::nation(&c, date_of(&q)?).await?;
    let cov = &o.coverage;
    let zones = cov
        .zones
        .iter()
        .take(20)
        .map(|z| {
            let region = z
                .departements
                .first()
                .and_then(|d| state.reference.departement(d))
                .map(|d| d.region.clone())
                .unwrap_or_default();
            ZoneRow {
                href: format!("/region/{region}/zones/{}", z.key),
                name: commune_name(&state, z.key.as_str()),
                departements: z.departements.join(", "),
                population: super::fr_int(&z.population),
                communes: z.communes.len(),
                task_force: String::new(),
                overdue: false,
            }
        })
        .collect();
    let drawn = state
        .national
        .map(o.revision, format!("national:{}", o.on), || (national_map(&state, cov), national_legend(cov)));
    let page = NationalPage {
        chrome: Chrome::for_user(&principal, "Observatoire national", None, "/national"),
        heading: "Observatoire national des CPTS".into(),
        date: q.date.clone(),
        on: fr_date(o.on),
        counted: cov.states.total(),
        covered: cov.nation.covered_share().fr(),
        signed: cov.nation.signed_share().fr(),
        blank: super::fr_int(&cov.nation.blank()),
        zones_count: cov.zones.len(),
        overlaps: cov.overlaps.len(),
        stages: stages(cov),
        areas_caption: "Couverture par région".into(),
        areas: cov.regions.iter().map(|a| area_row(a, format!("/region/{}", a.code))).collect(),
        cpts: Vec::new(),
        zones,
        map: drawn.0.clone(),
        legend: drawn.1.clone(),
        export_href: "/national/registre.csv".into(),
        tables_href: "/national/tableaux".into(),
        compare_href: "/national/indicateurs".into(),
        can_manage: c.allow(maillage_core::access::Action::ManageNationalRegistry).is_ok(),
        tenants: Some(app::visible_cpts(&c).await?),
        is_region: false,
    };
    Ok(Html(render(&page)))
}

/// Classes of the national map: the covered share, in per mille.
const NATIONAL_BREAKS: [u64; 4] = [700, 800, 900, 970];
const NATIONAL_LABELS: [&str; 5] =
    ["moins de 70 %", "de 70 à moins de 80 %", "de 80 à moins de 90 %", "de 90 à moins de 97 %", "97 % ou plus"];

fn national_class(a: &Area) -> usize {
    NATIONAL_BREAKS.iter().filter(|&&b| a.covered_share().per_mille() >= b).count()
}

/// Metropolitan départements coloured by the share of their population covered, each a link
/// to its région.
fn national_map(state: &AppState, cov: &maillage_core::national::Coverage) -> String {
    let fills: HashMap<String, (&'static str, &'static str, String)> = cov
        .departements
        .iter()
        .map(|d| {
            let (fill, stroke) = crate::map::PALETTE[national_class(d)];
            (d.code.clone(), (fill, stroke, format!("couverte à {}", d.covered_share().fr())))
        })
        .collect();
    crate::map::departements_svg(
        crate::map::departement_outlines(state.reference),
        &fills,
        |code| state.reference.departement(code).map(|d| format!("/region/{}", d.region)),
        "Part de la population couverte par une CPTS ou un projet, par département",
        "carte-nationale",
    )
}

fn national_legend(cov: &maillage_core::national::Coverage) -> String {
    let mut counts = [0usize; 5];
    for d in cov.departements.iter().filter(|d| !d.code.starts_with("97")) {
        counts[national_class(d)] += 1;
    }
    let mut out = String::from(
        "<div class=\"legende-carte\">\n<p class=\"legende-titre\">Population couverte (France métropolitaine)</p>\n<ul>\n",
    );
    for (i, label) in NATIONAL_LABELS.iter().enumerate() {
        let (fill, stroke) = crate::map::PALETTE[i];
        out.push_str(&format!(
            "<li><svg class=\"case\" viewBox=\"0 0 16 16\" aria-hidden=\"true\" focusable=\"false\"><rect x=\"1\" y=\"1\" \
             width=\"14\" height=\"14\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"2\"/></svg> {label} \
             <span class=\"effectif\">({} département{})</span></li>\n",
            counts[i],
            if counts[i] > 1 { "s" } else { "" }
        ));
    }
    out.push_str("</ul>\n</div>\n");
    out
}

/// The communes of a région or a département as reference rows (the arrondissements rather
/// than Paris, Lyon and Marseille).
fn local_communes<'r>(state: &'r AppState, in_scope: &impl Fn(&Commune) -> bool) -> Vec<&'r Commune> {
    state
        .reference
        .communes()
        .iter()
        .filter(|c| in_scope(c) && !matches!(c.code.as_str(), "75056" | "69123" | "13055"))
        .collect()
}

fn coverage_categories(state: &AppState, cov: &maillage_core::national::Coverage, members: &[&Commune]) -> Categories {
    let mut of = HashMap::with_capacity(members.len());
    for m in members {
        if let Some(row) = state.reference.index_of(m.code.as_str())
            && let Some(cc) = cov.commune(row)
        {
            of.insert(m.code.as_str().to_owned(), category_of(cc.best, cc.claims));
        }
    }
    Categories { of, classes: COVERAGE.to_vec(), label: "Couverture".into() }
}

/// `GET /region/{code}[?date=AAAA-MM-JJ]`
pub async fn region(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(code): Path<String>,
    Query(q): Query<DateQuery>,
) -> Result<Html<String>, PageError> {
    local(&state, &principal, &headers, &code, None, &q).await
}

/// `GET /region/{code}/departements/{dep}[?date=AAAA-MM-JJ]`: one département of the région,
/// its communes on the map and the CPTS counted there.
pub async fn departement(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((code, dep)): Path<(String, String)>,
    Query(q): Query<DateQuery>,
) -> Result<Html<String>, PageError> {
    local(&state, &principal, &headers, &code, Some(&dep), &q).await
}

fn task_force_line(t: &maillage_store::StoredTaskForce) -> String {
    match t.task_force.next_step() {
        Some((step, Some(on))) => format!("{} — prochaine étape : {step} ({})", t.task_force.status.fr(), fr_date(on)),
        Some((step, None)) => format!("{} — prochaine étape : {step}", t.task_force.status.fr()),
        None => t.task_force.status.fr().to_owned(),
    }
}

/// A région, or one of its départements (`dep`): the same page at two scales.
async fn local(
    state: &AppState,
    principal: &Principal,
    headers: &HeaderMap,
    code: &str,
    dep: Option<&str>,
    q: &DateQuery,
) -> Result<Html<String>, PageError> {
    let c = ctx(state, principal, headers);
    let v = uc::region(&c, code, date_of(q)?).await?;
    let cov = &v.observed.coverage;
    let today = state.now().date_naive();
    let dep = match dep {
        Some(d) => Some(state.reference.departement(d).filter(|x| x.region == v.code).ok_or(Failure::NotFound)?),
        None => None,
    };
    let in_scope = |commune: &Commune| match dep {
        Some(d) => commune.departement == d.code,
        None => commune.region == v.code,
    };
    let area = match dep {
        Some(d) => cov.departements.iter().find(|a| a.code == d.code),
        None => cov.regions.iter().find(|a| a.code == v.code),
    }
    .cloned()
    .ok_or(Failure::NotFound)?;
    let (scope_key, scope_name, path) = match dep {
        Some(d) => (
            format!("departement:{}", d.code),
            format!("{} ({})", d.name, d.code),
            format!("/region/{}/departements/{}", v.code, d.code),
        ),
        None => (format!("region:{}", v.code), v.name.clone(), format!("/region/{}", v.code)),
    };
    // The map of the communes (about 20 ms for a région's 1,800) is drawn once per registry
    // revision and date.
    let drawn = state.national.map(v.observed.revision, format!("{scope_key}:{}", v.observed.on), || {
        let members = local_communes(state, &in_scope);
        let categories = coverage_categories(state, cov, &members);
        let legend = categories_legend_html(&members, &categories);
        let map = territory_svg(
            state.reference,
            &members,
            &[],
            &MapOptions {
                title: format!("Couverture par les CPTS — {scope_name}"),
                id: if dep.is_some() { "carte-departement" } else { "carte-region" }.into(),
                fill: Fill::ByCategory(categories),
                size: 800,
            },
        );
        (map, legend)
    });
    let zones = v
        .zones
        .iter()
        .map(|&z| &cov.zones[z])
        .filter(|z| dep.is_none_or(|d| z.departements.contains(&d.code)))
        .map(|z| {
            let tf = v.task_forces.iter().find(|t| t.task_force.zone_key == z.key);
            ZoneRow {
                href: format!("/region/{}/zones/{}", v.code, z.key),
                name: commune_name(state, z.key.as_str()),
                departements: z.departements.join(", "),
                population: super::fr_int(&z.population),
                communes: z.communes.len(),
                task_force: tf.map_or_else(|| "aucun".to_owned(), task_force_line),
                overdue: tf.is_some_and(|t| t.task_force.is_overdue(today)),
            }
        })
        .collect::<Vec<_>>();
    let (areas, cpts, tenants) = match dep {
        None => {
            let departements = cov
                .departements
                .iter()
                .filter(|d| state.reference.departement(&d.code).is_some_and(|x| x.region == v.code))
                .map(|d| area_row(d, format!("/region/{}/departements/{}", v.code, d.code)))
                .collect();
            let tenants = app::visible_cpts(&c).await?.into_iter().filter(|r| r.regions.contains(&v.code)).collect();
            (departements, Vec::new(), Some(tenants))
        }
        Some(d) => {
            let at = cov.departements.iter().position(|a| a.code == d.code);
            let cpts = v
                .observed
                .registry
                .iter()
                .zip(&cov.cpts)
                .filter(|(_, on)| on.state.is_some() && on.main_departement == at)
                .map(|(r, on)| CptsLine {
                    name: r.name.clone(),
                    state: on.state.map(|s| s.fr()).unwrap_or_default(),
                    population: super::fr_int(&on.population),
                    size: on.size.number(),
                    communes: r.communes.len(),
                })
                .collect();
            (Vec::new(), cpts, None)
        }
    };
    let page = NationalPage {
        chrome: Chrome::for_user(principal, format!("Observatoire — {scope_name}"), Some(v.name.clone()), &path),
        heading: match dep {
            Some(_) => format!("Observatoire — {scope_name}, {}", v.name),
            None => format!("Observatoire régional — {}", v.name),
        },
        date: q.date.clone(),
        on: fr_date(v.observed.on),
        counted: area.cpts.total(),
        covered: area.covered_share().fr(),
        signed: area.signed_share().fr(),
        blank: super::fr_int(&area.blank()),
        zones_count: zones.len(),
        overlaps: cov
            .overlaps
            .iter()
            .filter(|o| state.reference.communes().get(o.commune as usize).is_some_and(&in_scope))
            .count(),
        stages: Stage::ALL
            .iter()
            .map(|&s| StageRow { label: s.fr(), count: area.cpts.get(s), share: area.cpts.share(s).fr() })
            .collect(),
        areas_caption: "Couverture par département".into(),
        areas,
        cpts,
        zones,
        map: drawn.0.clone(),
        legend: drawn.1.clone(),
        export_href: format!("/region/{}/registre.csv", v.code),
        tables_href: format!("/region/{}/tableaux", v.code),
        compare_href: format!("/region/{}/indicateurs", v.code),
        can_manage: false,
        tenants,
        is_region: true,
    };
    Ok(Html(render(&page)))
}

// ---------------------------------------------------------------------------------------------
// A zone blanche

pub struct NeighbourRow {
    pub id: String,
    pub name: String,
    pub state: String,
    pub population: String,
    pub size: u8,
}

pub struct ActionRow {
    pub on: String,
    pub text: String,
    pub next: String,
}

pub struct CommuneRow {
    pub code: String,
    pub name: String,
    pub population: String,
    pub checked: bool,
}

pub struct ResultRow {
    pub label: &'static str,
    pub before: String,
    pub after: String,
}

#[derive(Template)]
#[template(path = "national_zone.html")]
struct ZonePage {
    chrome: Chrome,
    region_href: String,
    action: String,
    name: String,
    key: String,
    population: String,
    departements: String,
    map: String,
    communes: Vec<CommuneRow>,
    neighbours: Vec<NeighbourRow>,
    can_follow: bool,
    status: String,
    owner: String,
    opened: bool,
    revision: String,
    actions: Vec<ActionRow>,
    statuses: Vec<(&'static str, &'static str)>,
    current_status: String,
    form: ActionForm,
    errors: Vec<(String, String)>,
    chosen_cpts: String,
    result_title: String,
    result: Vec<ResultRow>,
    difference: String,
    warnings: Vec<String>,
}

struct Shown {
    form: ActionForm,
    errors: Vec<(String, String)>,
    chosen_cpts: String,
    chosen: Vec<String>,
    outcome: Option<Outcome>,
}

impl Shown {
    fn blank() -> Self {
        Shown {
            form: ActionForm::default(),
            errors: Vec::new(),
            chosen_cpts: String::new(),
            chosen: Vec::new(),
            outcome: None,
        }
    }
}

fn zone_page(
    state: &AppState,
    principal: &Principal,
    view: &ZoneView,
    shown: Shown,
    flash: Option<(&'static str, String)>,
) -> String {
    let o = &view.region.observed;
    let z = view.zone();
    let idx = uc::index(state);
    let communes_of = |rows: &[u32]| -> Vec<&Commune> {
        rows.iter().filter_map(|&r| state.reference.communes().get(r as usize)).collect()
    };
    let members = communes_of(&z.communes);
    let mut around: Vec<u32> = z.communes.iter().flat_map(|&r| idx.neighbours(r).iter().copied()).collect();
    around.sort_unstable();
    around.dedup();
    let context = communes_of(&around);
    let map = territory_svg(
        state.reference,
        &members,
        &context,
        &MapOptions {
            title: format!("Zone blanche de {}", commune_name(state, z.key.as_str())),
            id: "carte-zone".into(),
            fill: Fill::Uniform,
            size: 600,
        },
    );
    let mut by_population = members.clone();
    by_population.sort_by_key(|c| (std::cmp::Reverse(c.population), c.code.as_str().to_owned()));
    let communes: Vec<CommuneRow> = by_population
        .iter()
        .map(|c| CommuneRow {
            code: c.code.as_str().to_owned(),
            name: c.name.clone(),
            population: super::fr_int(&u64::from(c.population)),
            checked: shown.chosen.is_empty() || shown.chosen.iter().any(|x| x == c.code.as_str()),
        })
        .collect();
    let neighbours = view
        .neighbours
        .iter()
        .map(|&i| {
            let r = &o.registry[i];
            let on = &o.coverage.cpts[i];
            NeighbourRow {
                id: r.id.clone(),
                name: r.name.clone(),
                state: on.state.map_or("pas encore", |s| s.fr()).to_owned(),
                population: super::fr_int(&on.population),
                size: on.size.number(),
            }
        })
        .collect();
    let tf = view.task_force.as_ref();
    let euros = |c: maillage_core::aci::Cents| c.fr_whole();
    let (result_title, result, difference, warnings) = match &shown.outcome {
        None => (String::new(), Vec::new(), String::new(), Vec::new()),
        Some(Outcome::Extension(e)) => (
            format!(
                "Extension de {} à {} commune(s) ({} habitants)",
                e.cpts,
                e.added.len(),
                super::fr_int(&e.added_population)
            ),
            vec![
                ResultRow {
                    label: "Population",
                    before: super::fr_int(&e.before.population),
                    after: super::fr_int(&e.after.population),
                },
                ResultRow {
                    label: "Taille ACI",
                    before: e.before.size.number().to_string(),
                    after: e.after.size.number().to_string(),
                },
                ResultRow {
                    label: "Financement annuel (année de croisière)",
                    before: euros(e.before.year),
                    after: euros(e.after.year),
                },
                ResultRow { label: "Maximum annuel", before: euros(e.before.maximum), after: euros(e.after.maximum) },
            ],
            euros(e.difference),
            e.warnings.iter().map(|w| w.fr()).collect(),
        ),
        Some(Outcome::Creation(c)) => (
            format!("Nouvelle CPTS de {} commune(s)", c.communes.len()),
            vec![
                ResultRow { label: "Population", before: "—".into(), after: super::fr_int(&c.financing.population) },
                ResultRow { label: "Taille ACI", before: "—".into(), after: c.financing.size.number().to_string() },
                ResultRow {
                    label: "Financement annuel (année de croisière)",
                    before: "—".into(),
                    after: euros(c.financing.year),
                },
                ResultRow { label: "Maximum annuel", before: "—".into(), after: euros(c.financing.maximum) },
            ],
            euros(c.financing.year),
            c.warnings.iter().map(|w| w.fr()).collect(),
        ),
    };
    let name = commune_name(state, z.key.as_str());
    let region_href = format!("/region/{}", view.region.code);
    let page = ZonePage {
        chrome: Chrome::for_user(
            principal,
            format!("Zone blanche de {name}"),
            Some(view.region.name.clone()),
            &region_href,
        )
        .with_flash(flash),
        action: format!("{region_href}/zones/{}", z.key),
        region_href,
        name,
        key: z.key.as_str().to_owned(),
        population: super::fr_int(&z.population),
        departements: z.departements.join(", "),
        map,
        communes,
        neighbours,
        can_follow: view.region.can_follow,
        status: tf.map_or("pas encore constitué", |t| t.task_force.status.fr()).to_owned(),
        owner: tf.map_or(String::new(), |t| t.task_force.owner.label_fr().to_owned()),
        opened: tf.is_some(),
        revision: tf.map(|t| t.revision.to_string()).unwrap_or_default(),
        actions: tf
            .map(|t| {
                t.task_force
                    .actions
                    .iter()
                    .map(|a| ActionRow {
                        on: fr_date(a.on),
                        text: a.text.clone(),
                        next: match (&a.next_step, a.next_on) {
                            (Some(s), Some(d)) => format!("{s} ({})", fr_date(d)),
                            (Some(s), None) => s.clone(),
                            _ => String::new(),
                        },
                    })
                    .collect()
            })
            .unwrap_or_default(),
        statuses: maillage_core::national::TaskForceStatus::ALL.iter().map(|s| (s.code(), s.fr())).collect(),
        current_status: tf.map(|t| t.task_force.status.code().to_owned()).unwrap_or_default(),
        form: shown.form,
        errors: shown.errors,
        chosen_cpts: shown.chosen_cpts,
        result_title,
        result,
        difference,
        warnings,
    };
    render(&page)
}

/// `GET /region/{code}/zones/{key}`
pub async fn zone(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((code, key)): Path<(String, String)>,
) -> Result<Html<String>, PageError> {
    let c = ctx(&state, &principal, &headers);
    let view = uc::zone(&c, &code, &key, None).await?;
    Ok(Html(zone_page(&state, &principal, &view, Shown::blank(), None)))
}

#[derive(Deserialize, Default)]
pub struct ActionFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    revision: String,
    #[serde(flatten)]
    form: ActionForm,
}

impl CsrfField for ActionFields {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /region/{code}/zones/{key}`: records an action of the task force.
pub async fn record_action(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((code, key)): Path<(String, String)>,
    CsrfForm(f): CsrfForm<ActionFields>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    let revision = f.revision.trim().parse().ok();
    let (status, flash, shown) = match uc::record_action(&c, &code, &key, &f.form, revision).await {
        Ok(_) => (StatusCode::OK, ("succes", "Action enregistrée.".to_owned()), Shown::blank()),
        Err(e @ (Failure::Invalid { .. } | Failure::Conflict { .. })) => {
            let errors = match &e {
                Failure::Invalid { details, .. } => {
                    details.iter().map(|d| (d.path.clone(), super::capitalised(&d.fr))).collect()
                }
                _ => Vec::new(),
            };
            (e.status(), ("erreur", e.fr()), Shown { form: f.form, errors, ..Shown::blank() })
        }
        Err(e) => return Err(e.into()),
    };
    let view = uc::zone(&c, &code, &key, None).await?;
    Ok((status, Html(zone_page(&state, &principal, &view, shown, Some(flash)))).into_response())
}

/// `GET /region/{code}/zones/{key}/simulation?cpts=ID&communes=…&communes=…`: the what-if
/// (nothing written). An empty `cpts` simulates a new CPTS.
pub async fn what_if(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((code, key)): Path<(String, String)>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let cpts = pairs.iter().find(|(k, _)| k == "cpts").map(|(_, v)| v.clone()).unwrap_or_default();
    let communes: Vec<String> = pairs.into_iter().filter(|(k, _)| k == "communes").map(|(_, v)| v).collect();
    let c = ctx(&state, &principal, &headers);
    let (view, shown, status) = match uc::what_if(&c, &code, &key, &cpts, &communes).await {
        Ok((view, outcome)) => (
            view,
            Shown { chosen_cpts: cpts, chosen: communes, outcome: Some(outcome), ..Shown::blank() },
            StatusCode::OK,
        ),
        Err(e @ Failure::Invalid { .. }) => {
            let view = uc::zone(&c, &code, &key, None).await?;
            let errors = vec![("simulation".to_owned(), e.fr())];
            (view, Shown { errors, chosen_cpts: cpts, chosen: communes, ..Shown::blank() }, e.status())
        }
        Err(e) => return Err(e.into()),
    };
    Ok((status, Html(zone_page(&state, &principal, &view, shown, None))).into_response())
}

// ---------------------------------------------------------------------------------------------
// Exports

fn csv_download(body: String, name: &str) -> Response {
    let mut r = body.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

/// `GET /national/registre.csv`: the whole registry file.
pub async fn national_export(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    Ok(csv_download(uc::export_registry(&c, None).await?, "registre-cpts.csv"))
}

/// `GET /region/{code}/registre.csv`: the CPTS counted in the région.
pub async fn region_export(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    Ok(csv_download(uc::export_registry(&c, Some(&code)).await?, &format!("registre-cpts-{code}.csv")))
}

// ---------------------------------------------------------------------------------------------
// Harmonised indicators

fn published_count(p: Published<u32>) -> String {
    match p {
        Published::Value(n) => super::fr_int(&n),
        Published::Masked => format!("1 à {SMALL_COUNT_MAX}"),
        Published::None => "—".into(),
    }
}

fn published_share(p: Published<Rate>) -> String {
    match p {
        Published::Value(r) => super::fr_percent(r, 1),
        Published::Masked => "masqué".into(),
        Published::None => "—".into(),
    }
}

fn published_days(p: Published<f64>) -> String {
    match p {
        Published::Value(d) => format!("{d:.1}").replace('.', ","),
        Published::Masked => "masqué".into(),
        Published::None => "—".into(),
    }
}

const COMPARISON_HEADER: [&str; 15] = [
    "CPTS",
    "Région(s)",
    "Population",
    "Taille",
    "Contrat ACI",
    "Missions démarrées / engagées",
    "Financement de l'année",
    "Part du plafond",
    "Atteinte moyenne des indicateurs",
    "Demandes de médecin traitant",
    "Avec une proposition",
    "Médecin traitant déclaré",
    "Part déclarée",
    "Part des patients en ALD encore en attente",
    "Délai médian jusqu'à la déclaration (jours)",
];

fn registry_cells(r: Option<&PublishedRegistry>) -> Vec<String> {
    match r {
        None => vec!["non utilisé".into(), String::new(), String::new(), String::new(), String::new(), String::new()],
        Some(p) => vec![
            published_count(p.registered),
            published_count(p.matched),
            published_count(p.declared),
            published_share(p.declared_share),
            published_share(p.ald_open_share),
            published_days(p.median_days_to_declaration),
        ],
    }
}

/// The comparison as a table: the page shows it and the exports write it.
fn comparison_sheet(cmp: &uc::Comparison) -> (Sheet, Vec<String>) {
    let mut rows = Vec::with_capacity(cmp.rows.len());
    for r in &cmp.rows {
        let mut row = vec![
            r.cpts.name.clone(),
            super::regions_fr(&r.cpts.regions),
            super::fr_int(&r.cpts.population),
            r.cpts.size_class.to_string(),
        ];
        match &r.contract {
            None => {
                row.extend(["aucun dans Maillage".into(), String::new(), String::new(), String::new(), String::new()])
            }
            Some(c) => {
                let year = c.year.map_or_else(|| "hors période".to_owned(), |y| format!("année {y}"));
                row.push(format!("signé le {} ({year})", fr_date(c.signed_on)));
                row.push(format!("{} / {}", c.missions_started, c.missions_engaged));
                match c.funding {
                    Some((total, maximum)) => {
                        row.push(total.fr_whole());
                        let share = Rate::ratio(total.0.into(), maximum.0.into());
                        row.push(if maximum.0 > 0 { super::fr_percent(share, 1) } else { String::new() });
                    }
                    None => row.extend([String::new(), String::new()]),
                }
                row.push(c.achievement.map(|a| super::fr_percent(a, 1)).unwrap_or_else(|| "—".into()));
            }
        }
        row.extend(registry_cells(r.registry.as_ref().map(|(_, p)| p)));
        rows.push(row);
    }
    let population: u64 = cmp.rows.iter().map(|r| r.cpts.population).sum();
    let mut total = vec![
        format!("Ensemble ({} CPTS)", cmp.rows.len()),
        String::new(),
        super::fr_int(&population),
        String::new(),
        format!("{} contrat(s)", cmp.rows.iter().filter(|r| r.contract.is_some()).count()),
        String::new(),
        cmp.rows.iter().filter_map(|r| r.contract.as_ref()?.funding).map(|(t, _)| t).sum::<Cents>().fr_whole(),
        String::new(),
        String::new(),
    ];
    total.extend(registry_cells(cmp.rows.iter().any(|r| r.registry.is_some()).then(|| cmp.total.published()).as_ref()));
    let sheet = Sheet { name: "Indicateurs", header: COMPARISON_HEADER.map(String::from).to_vec(), rows };
    (sheet, total)
}

#[derive(Template)]
#[template(path = "national_compare.html")]
struct ComparisonPage {
    chrome: Chrome,
    heading: String,
    on: String,
    header: Vec<String>,
    /// (link to the CPTS, cells)
    rows: Vec<(String, Vec<String>)>,
    total: Vec<String>,
    small: u32,
    back_href: String,
    tables_href: String,
}

async fn comparison_page(
    state: &AppState,
    principal: &Principal,
    headers: &HeaderMap,
    region: Option<&str>,
) -> Result<Html<String>, PageError> {
    let c = ctx(state, principal, headers);
    let cmp = uc::comparison(&c, region).await?;
    let (sheet, total) = comparison_sheet(&cmp);
    let (heading, back_href, tables_href, scope) = match &cmp.region {
        Some((code, name)) => (
            format!("Indicateurs comparés des CPTS — {name}"),
            format!("/region/{code}"),
            format!("/region/{code}/tableaux"),
            Some(name.clone()),
        ),
        None => ("Indicateurs comparés des CPTS".to_owned(), "/national".into(), "/national/tableaux".into(), None),
    };
    let rows = cmp.rows.iter().zip(sheet.rows).map(|(r, cells)| (format!("/cpts/{}", r.cpts.id), cells)).collect();
    let page = ComparisonPage {
        chrome: Chrome::for_user(principal, heading.clone(), scope, &back_href),
        heading,
        on: fr_date(cmp.on),
        header: sheet.header,
        rows,
        total,
        small: SMALL_COUNT_MAX,
        back_href,
        tables_href,
    };
    Ok(Html(render(&page)))
}

/// `GET /national/indicateurs`
pub async fn national_comparison(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
) -> Result<Html<String>, PageError> {
    comparison_page(&state, &principal, &headers, None).await
}

/// `GET /region/{code}/indicateurs`
pub async fn region_comparison(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> Result<Html<String>, PageError> {
    comparison_page(&state, &principal, &headers, Some(&code)).await
}

const COVERAGE_HEADER: [&str; 15] = [
    "Code",
    "Département",
    "Région",
    "Population",
    "Couverte par une CPTS ou un projet",
    "Part couverte",
    "Couverte par une CPTS signataire",
    "Part signataire",
    "En zone blanche",
    "Communes en zone blanche",
    "CPTS comptées",
    "ACI signé",
    "Projet de santé validé",
    "Projet en construction",
    "Début de projet",
];

/// Coverage by département (of the nation, or of one région), a line per département then one
/// for the whole.
fn coverage_sheet(state: &AppState, cov: &maillage_core::national::Coverage, region: Option<&str>) -> Sheet {
    let line = |a: &Area, region_name: String| {
        vec![
            a.code.clone(),
            a.name.clone(),
            region_name,
            a.population.to_string(),
            a.covered.to_string(),
            a.covered_share().fr(),
            a.signed.to_string(),
            a.signed_share().fr(),
            a.blank().to_string(),
            a.blank_communes.to_string(),
            a.cpts.total().to_string(),
            a.cpts.signed.to_string(),
            a.cpts.project.to_string(),
            a.cpts.building.to_string(),
            a.cpts.starting.to_string(),
        ]
    };
    let mut rows: Vec<Vec<String>> = cov
        .departements
        .iter()
        .filter_map(|d| {
            let r = state.reference.departement(&d.code)?;
            if region.is_some_and(|code| r.region != code) {
                return None;
            }
            let name = state.reference.region(&r.region).map(|x| x.name.clone()).unwrap_or_default();
            Some(line(d, name))
        })
        .collect();
    let whole = match region {
        Some(code) => cov.regions.iter().find(|a| a.code == code),
        None => Some(&cov.nation),
    };
    if let Some(w) = whole {
        let mut last = line(w, String::new());
        last[1] = format!("Ensemble — {}", w.name);
        rows.push(last);
    }
    Sheet { name: "Couverture", header: COVERAGE_HEADER.map(String::from).to_vec(), rows }
}

async fn table(
    state: &AppState,
    principal: &Principal,
    headers: &HeaderMap,
    region: Option<&str>,
    file: &str,
) -> Result<Response, PageError> {
    let c = ctx(state, principal, headers);
    let (stem, format) = SheetFormat::split(file).ok_or(Failure::NotFound)?;
    let suffix = region.map(|r| format!("-{r}")).unwrap_or_default();
    let sheet = match stem {
        "couverture" => {
            let cov = match region {
                Some(code) => uc::region(&c, code, None).await?.observed.coverage,
                None => uc::nation(&c, None).await?.coverage,
            };
            coverage_sheet(state, &cov, region)
        }
        "indicateurs" => comparison_sheet(&uc::comparison(&c, region).await?).0,
        "registre" => Sheet::from_csv("Registre", &uc::export_registry(&c, region).await?)?,
        _ => return Err(Failure::NotFound.into()),
    };
    Ok(sheet.download(&format!("{stem}-cpts{suffix}"), format)?)
}

/// `GET /national/tableaux/{fichier}`: `couverture`, `indicateurs` or `registre`, `.csv` or
/// `.xlsx`.
pub async fn national_table(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(file): Path<String>,
) -> Result<Response, PageError> {
    table(&state, &principal, &headers, None, &file).await
}

/// `GET /region/{code}/tableaux/{fichier}`
pub async fn region_table(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((code, file)): Path<(String, String)>,
) -> Result<Response, PageError> {
    table(&state, &principal, &headers, Some(&code), &file).await
}

// ---------------------------------------------------------------------------------------------
// Replacing the registry (administrators)

#[derive(Template)]
#[template(path = "national_registry.html")]
struct RegistryPage {
    chrome: Chrome,
    csrf: String,
    count: usize,
    done: Option<String>,
    error: Option<String>,
    /// (where, what) of every faulty cell.
    problems: Vec<(String, String)>,
}

fn registry_page(principal: &Principal, count: usize) -> RegistryPage {
    RegistryPage {
        chrome: Chrome::for_user(principal, "Registre national des CPTS", None, "/national"),
        csrf: principal.csrf_token().to_owned(),
        count,
        done: None,
        error: None,
        problems: Vec::new(),
    }
}

/// `GET /national/registre` (administrators)
pub async fn registry_form(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
) -> Result<Html<String>, PageError> {
    let c = ctx(&state, &principal, &headers);
    let count = uc::registry_size(&c).await?;
    Ok(Html(render(&registry_page(&principal, count))))
}

/// `POST /national/registre` (multipart: `csrf`, `verifier`, then `fichier`): checks or replaces
/// the registry, all or nothing; every faulty cell listed (422).
pub async fn registry_upload(
    State(state): State<AppState>,
    principal: Principal,
    request: axum::extract::Request,
) -> Result<Response, PageError> {
    let (parts, body) = request.into_parts();
    let c = ctx(&state, &principal, &parts.headers);
    let content_type = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let result = uc::upload_registry(&c, content_type, body).await?;
    let count = uc::registry_size(&c).await?;
    let mut page = registry_page(&principal, count);
    let status = match result {
        Ok(done) => {
            page.done = Some(if done.dry_run {
                format!("« {} » est correct : {} CPTS. Rien n'a été modifié.", done.file_name, done.cpts)
            } else {
                format!("Registre remplacé par « {} » : {} CPTS.", done.file_name, done.cpts)
            });
            StatusCode::OK
        }
        Err(Failure::Invalid { fr, details, .. }) => {
            page.error = Some(fr);
            page.problems = details.into_iter().map(|d| (d.path, d.fr)).collect();
            StatusCode::UNPROCESSABLE_ENTITY
        }
        Err(e) => return Err(e.into()),
    };
    Ok((status, Html(render(&page))).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coverage_colours_are_in_the_stylesheet() {
        let css = include_str!("../../static/maillage.css").to_ascii_lowercase();
        for c in COVERAGE {
            let rule = format!(
                ".carte-territoire .commune.membre.{} {{\n  fill: {};\n  stroke: {};",
                c.class, c.fill, c.stroke
            );
            assert!(css.contains(&rule), "{} missing from maillage.css", c.class);
        }
    }

    #[test]
    fn categories_follow_the_most_advanced_state_and_overlaps() {
        assert_eq!(category_of(None, 0), 5);
        assert_eq!(category_of(Some(CptsState::AciSigne), 1), 0);
        assert_eq!(category_of(Some(CptsState::AciSigne), 2), 4);
        assert_eq!(category_of(Some(CptsState::LettreIntention), 1), 3);
        assert_eq!(category_of(Some(CptsState::ProjetEnConstruction), 1), 2);
    }
}
