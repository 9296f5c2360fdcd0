//! The national plan (`maillage_core::national`): what the observatory pages do with the
//! national registry of CPTS, its coverage, the zones blanches and their task forces.
//!
//! Aggregates only: the registry holds associations and territories, never a person. The
//! national level (`Action::ViewNation`) sees the nation, a regional observer
//! (`Action::ViewRegion`) her région and the zones blanches that touch it; the ARS and CPAM of a
//! région record the work of its task forces (`Action::FollowTaskForce`); the platform's
//! administrators replace the registry from the national file (`Action::ManageNationalRegistry`).
//! Changes are audited in the store transaction.

use super::Ctx;
use crate::error::{ErrorDetail, Failure};
use chrono::NaiveDate;
use maillage_core::access::{Action, Agency, Role};
use maillage_core::aci::rules::{RuleSet, in_force_on};
use maillage_core::ids::InseeCode;
use maillage_core::national::compare::{ContractFigures, PublishedRegistry, RegistryCounts};
use maillage_core::national::registry::{RegisteredCpts, parse_registry, write_registry};
use maillage_core::national::taskforce::{Action as TaskAction, TaskForce, TaskForceStatus};
use maillage_core::national::whatif::{Creation, Extension, WhatIf, steady_year};
use maillage_core::national::{Coverage, NationalIndex, ZoneBlanche};
use maillage_core::patients::RegistryIndicators;
use maillage_store::{AciStore, NationalStore, PatientStore, StoreError, StoredTaskForce};
use std::sync::{Arc, Mutex, OnceLock};

/// The index of the units and their adjacency: built once per process (about a millisecond).
pub fn index(state: &crate::state::AppState) -> &'static NationalIndex<'static> {
    static INDEX: OnceLock<NationalIndex<'static>> = OnceLock::new();
    INDEX.get_or_init(|| NationalIndex::new(state.reference))
}

/// The ACI rule set in force on `on` (the oldest before the first one).
pub fn rules_on(on: NaiveDate) -> Result<&'static RuleSet, Failure> {
    let none = || Failure::Internal("no embedded ACI rule set".into());
    match in_force_on(on).map_err(|e| Failure::Internal(e.to_string()))? {
        Some(r) => Ok(r),
        None => maillage_core::aci::rules::embedded_all()
            .map_err(|e| Failure::Internal(e.to_string()))?
            .first()
            .ok_or_else(none),
    }
}

/// The registry and its coverage on a date.
pub struct Observed {
    pub on: NaiveDate,
    /// The stored registry's revision they come from.
    pub revision: i64,
    pub registry: Arc<Vec<RegisteredCpts>>,
    pub coverage: Arc<Coverage>,
    pub rules: &'static RuleSet,
}

/// How many coverages (dates) and maps the cache keeps.
const CACHED: usize = 16;

/// What a server derives from the national registry — the registry read back, its coverage on
/// the dates asked, the maps drawn from them — kept while the stored registry's revision is
/// unchanged. It is not state: every request reads the revision (one small query), and a new
/// registry, imported through any server, drops it all. Without it, reading the registry
/// (about 9 ms on SQLite) and recomputing the coverage (2 ms) on every page would keep the map
/// pages far from their target under load.
#[derive(Default)]
pub struct NationalCache(Mutex<Option<Derived>>);

struct Derived {
    revision: i64,
    registry: Arc<Vec<RegisteredCpts>>,
    /// Most recently used last.
    coverages: Vec<(NaiveDate, Arc<Coverage>)>,
    /// Maps with their legends, most recently used last.
    maps: Vec<(String, Arc<(String, String)>)>,
}

impl NationalCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Derived>> {
        // A panic while holding the lock leaves nothing half-written that matters: reuse it.
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The registry and the coverage on `on` if they are of `revision`.
    fn get(&self, revision: i64, on: NaiveDate) -> (Option<Arc<Vec<RegisteredCpts>>>, Option<Arc<Coverage>>) {
        let mut guard = self.lock();
        let Some(d) = guard.as_mut().filter(|d| d.revision == revision) else { return (None, None) };
        let coverage = d.coverages.iter().position(|(date, _)| *date == on).map(|i| {
            let hit = d.coverages.remove(i);
            let coverage = hit.1.clone();
            d.coverages.push(hit);
            coverage
        });
        (Some(d.registry.clone()), coverage)
    }

    fn put(&self, revision: i64, registry: Arc<Vec<RegisteredCpts>>, on: NaiveDate, coverage: Arc<Coverage>) {
        let mut guard = self.lock();
        let d = match guard.as_mut() {
            Some(d) if d.revision == revision => d,
            _ => guard.insert(Derived { revision, registry, coverages: Vec::new(), maps: Vec::new() }),
        };
        d.coverages.retain(|(date, _)| *date != on);
        d.coverages.push((on, coverage));
        if d.coverages.len() > CACHED {
            d.coverages.remove(0);
        }
    }

    /// A map and its legend derived from the registry of `revision`, drawn once (`key` names
    /// it, date included).
    pub fn map(&self, revision: i64, key: String, draw: impl FnOnce() -> (String, String)) -> Arc<(String, String)> {
        if let Some(d) = self.lock().as_mut().filter(|d| d.revision == revision)
            && let Some(i) = d.maps.iter().position(|(k, _)| *k == key)
        {
            let hit = d.maps.remove(i);
            let map = hit.1.clone();
            d.maps.push(hit);
            return map;
        }
        // Drawn without the lock: two requests may both draw it, the last one is kept.
        let map = Arc::new(draw());
        if let Some(d) = self.lock().as_mut().filter(|d| d.revision == revision) {
            d.maps.retain(|(k, _)| *k != key);
            d.maps.push((key, map.clone()));
            if d.maps.len() > CACHED {
                d.maps.remove(0);
            }
        }
        map
    }
}

async fn observe(ctx: &Ctx<'_>, on: Option<NaiveDate>) -> Result<Observed, Failure> {
    let on = on.unwrap_or_else(|| ctx.state.now().date_naive());
    let rules = rules_on(on)?;
    let cache = &ctx.state.national;
    let revision = ctx.state.store.national_registry_revision().await?;
    let (registry, coverage) = match cache.get(revision, on) {
        (Some(registry), Some(coverage)) => (registry, coverage),
        (known, _) => {
            // Read after the revision: if a new registry lands in between, it is kept under
            // the older revision and replaced at the next request, which reads the new one.
            let registry = match known {
                Some(r) => r,
                None => Arc::new(ctx.state.store.national_registry().await?),
            };
            let coverage = Arc::new(index(ctx.state).coverage(&registry, on, &rules.size_thresholds));
            cache.put(revision, registry.clone(), on, coverage.clone());
            (registry, coverage)
        }
    };
    Ok(Observed { on, revision, registry, coverage, rules })
}

/// A date typed in a form or a query (`AAAA-MM-JJ` or `JJ/MM/AAAA`); empty for today.
pub fn parse_date(text: &str) -> Result<Option<NaiveDate>, Failure> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(text, "%d/%m/%Y"))
        .ok()
        .filter(|d| (2015..=2100).contains(&chrono::Datelike::year(d)))
        .map(Some)
        .ok_or_else(|| {
            Failure::invalid(
                "invalid_date",
                format!("« {text} » n'est pas une date entre 2015 et 2100 (JJ/MM/AAAA)."),
                format!("{text:?} is not a date between 2015 and 2100"),
            )
        })
}

/// The nation (national observers, administrators).
pub async fn nation(ctx: &Ctx<'_>, on: Option<NaiveDate>) -> Result<Observed, Failure> {
    ctx.allow(Action::ViewNation)?;
    observe(ctx, on).await
}

/// A région of the reference, or 404.
pub fn region_of<'r>(
    state: &'r crate::state::AppState,
    code: &str,
) -> Result<&'r maillage_core::refdata::Region, Failure> {
    state.reference.region(code).ok_or(Failure::NotFound)
}

/// A région's view: the coverage, and the task forces of its zones blanches.
pub struct RegionView {
    pub code: String,
    pub name: String,
    pub observed: Observed,
    pub task_forces: Vec<StoredTaskForce>,
    /// Indices into `observed.coverage.zones` of the zones that touch the région.
    pub zones: Vec<usize>,
    pub can_follow: bool,
}

/// Whether a zone blanche touches a région (one of its départements is the région's).
pub fn zone_in_region(state: &crate::state::AppState, zone: &ZoneBlanche, region: &str) -> bool {
    zone.departements.iter().any(|d| state.reference.departement(d).is_some_and(|d| d.region == region))
}

pub async fn region(ctx: &Ctx<'_>, code: &str, on: Option<NaiveDate>) -> Result<RegionView, Failure> {
    let region = region_of(ctx.state, code)?;
    ctx.allow(Action::ViewRegion(&region.code))?;
    let observed = observe(ctx, on).await?;
    let task_forces = ctx.state.store.task_forces(Some(&region.code)).await?;
    let zones = (0..observed.coverage.zones.len())
        .filter(|&z| zone_in_region(ctx.state, &observed.coverage.zones[z], &region.code))
        .collect();
    Ok(RegionView {
        code: region.code.clone(),
        name: region.name.clone(),
        can_follow: ctx.allow(Action::FollowTaskForce(&region.code)).is_ok(),
        observed,
        task_forces,
        zones,
    })
}

/// A zone blanche of a région on a date, its task force and the CPTS around it.
pub struct ZoneView {
    pub region: RegionView,
    /// Index into `region.observed.coverage.zones`.
    pub zone: usize,
    pub task_force: Option<StoredTaskForce>,
    /// Registry indices of the CPTS with a commune bordering the zone, by name.
    pub neighbours: Vec<usize>,
}

impl ZoneView {
    pub fn zone(&self) -> &ZoneBlanche {
        &self.region.observed.coverage.zones[self.zone]
    }
}

pub async fn zone(ctx: &Ctx<'_>, region_code: &str, key: &str, on: Option<NaiveDate>) -> Result<ZoneView, Failure> {
    let region = region(ctx, region_code, on).await?;
    let coverage = &region.observed.coverage;
    let zone = coverage
        .zones
        .iter()
        .position(|z| z.key.as_str() == key.trim())
        .or_else(|| {
            // A zone that shrank or grew keeps the task force of its key commune.
            let z = coverage.zone_with(ctx.state.reference, key.trim())?;
            coverage.zones.iter().position(|x| x.key == z.key)
        })
        .filter(|&z| region.zones.contains(&z))
        .ok_or(Failure::NotFound)?;
    let task_force = match ctx.state.store.task_force(key.trim()).await {
        Ok(tf) => Some(tf),
        Err(StoreError::NotFound) => match ctx.state.store.task_force(coverage.zones[zone].key.as_str()).await {
            Ok(tf) => Some(tf),
            Err(StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        },
        Err(e) => return Err(e.into()),
    };
    let idx = index(ctx.state);
    let mut neighbours: Vec<usize> = coverage.zones[zone]
        .communes
        .iter()
        .flat_map(|&row| idx.neighbours(row).iter().copied())
        .flat_map(|row| coverage.claimants(row))
        .collect();
    neighbours.sort_unstable();
    neighbours.dedup();
    neighbours.sort_by_cached_key(|&i| maillage_core::text::fold_for_search(&region.observed.registry[i].name));
    Ok(ZoneView { region, zone, task_force, neighbours })
}

/// An action of a task force as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct ActionForm {
    pub on: String,
    pub text: String,
    pub next_step: String,
    pub next_on: String,
    /// A [`TaskForceStatus`] code; empty keeps the current one.
    pub status: String,
    /// `ars` or `cpam`: the owner when the task force is opened (default: the caller's agency).
    pub owner: String,
}

fn field_failure(errors: Vec<(&'static str, String, String)>) -> Failure {
    let fr = errors.iter().map(|(_, _, fr)| fr.as_str()).collect::<Vec<_>>().join(" ; ");
    let en = errors.iter().map(|(f, en, _)| format!("{f}: {en}")).collect::<Vec<_>>().join("; ");
    Failure::invalid("invalid_action", format!("L'action n'est pas enregistrée — {fr}."), en).with_details(
        errors.into_iter().map(|(field, en, fr)| ErrorDetail { code: "invalid_field", path: field.to_owned(), en, fr }),
    )
}

/// Records an action of the task force of a zone (opening the task force on its first one),
/// checked by `TaskForce::validate`; the revision guards against a concurrent change (409).
pub async fn record_action(
    ctx: &Ctx<'_>,
    region_code: &str,
    key: &str,
    form: &ActionForm,
    revision: Option<i64>,
) -> Result<StoredTaskForce, Failure> {
    let view = zone(ctx, region_code, key, None).await?;
    ctx.allow(Action::FollowTaskForce(&view.region.code))?;
    let today = ctx.state.now().date_naive();
    let mut errors = Vec::new();
    let date =
        |field: &'static str, text: &str, errors: &mut Vec<(&'static str, String, String)>| match parse_date(text) {
            Ok(d) => d,
            Err(e) => {
                errors.push((field, e.en(), e.fr()));
                None
            }
        };
    let on = date("on", &form.on, &mut errors).unwrap_or(today);
    let next_on = date("next_on", &form.next_on, &mut errors);
    let opt = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let mut tf = match &view.task_force {
        Some(stored) => stored.task_force.clone(),
        None => {
            let owner = match form.owner.trim() {
                "ars" => Agency::Ars,
                "cpam" => Agency::Cpam,
                _ => match ctx.principal.role() {
                    Role::RegionalObserver { agency, .. } => *agency,
                    _ => Agency::Ars,
                },
            };
            TaskForce::open(view.zone(), owner)
        }
    };
    if !form.status.trim().is_empty() {
        match TaskForceStatus::parse(&form.status) {
            Some(s) => tf.status = s,
            None => errors.push(("status", "unknown status".into(), "statut inconnu".into())),
        }
    }
    tf.actions.push(TaskAction { on, text: form.text.trim().to_owned(), next_step: opt(&form.next_step), next_on });
    if let Err(problems) = tf.validate(today) {
        errors.extend(problems.into_iter().map(|p| (p.field, p.en, p.fr)));
    }
    if !errors.is_empty() {
        return Err(field_failure(errors));
    }
    // The form carries the revision it was read at, none for a task force not opened yet.
    let expected = view.task_force.as_ref().map(|t| t.revision);
    if revision != expected {
        return Err(stale());
    }
    let detail =
        format!("groupe de travail {} ({}) : action du {}", tf.zone_key, tf.status.fr(), on.format("%d/%m/%Y"));
    let audit = ctx.event(None, "update", "task_force", tf.zone_key.as_str(), detail);
    let now = ctx.state.now();
    ctx.state.store.put_task_force(&tf, &view.region.code, expected, now, &audit).await.map_err(|e| match e {
        StoreError::Stale { .. } | StoreError::Conflict(_) => stale(),
        other => other.into(),
    })?;
    Ok(ctx.state.store.task_force(tf.zone_key.as_str()).await?)
}

fn stale() -> Failure {
    Failure::Conflict {
        fr: "Le groupe de travail a changé entre-temps : rien n'a été enregistré. Rechargez la page.".into(),
        en: "the task force changed since it was read".into(),
    }
}

/// What a what-if gives.
pub enum Outcome {
    Extension(Extension),
    Creation(Creation),
}

/// Extends the CPTS `cpts` (a registry id; empty to create a new CPTS) with `communes`.
pub async fn what_if(
    ctx: &Ctx<'_>,
    region_code: &str,
    key: &str,
    cpts: &str,
    communes: &[String],
) -> Result<(ZoneView, Outcome), Failure> {
    let view = zone(ctx, region_code, key, None).await?;
    let basis = steady_year();
    let observed = &view.region.observed;
    let w = WhatIf {
        index: index(ctx.state),
        rules: observed.rules,
        basis: &basis,
        registry: Some((observed.registry.as_slice(), &*observed.coverage)),
    };
    let add: Vec<&str> = communes.iter().map(|c| c.trim()).filter(|c| !c.is_empty()).collect();
    let refused = |problems: Vec<maillage_core::national::whatif::WhatIfProblem>| {
        let fr = problems.iter().map(|p| p.fr()).collect::<Vec<_>>().join(" ; ");
        Failure::invalid("invalid_what_if", format!("Simulation impossible : {fr}."), fr)
    };
    let outcome = if cpts.trim().is_empty() {
        Outcome::Creation(w.create(&add).map_err(refused)?)
    } else {
        let target = observed.registry.iter().find(|c| c.id == cpts.trim()).ok_or(Failure::NotFound)?;
        Outcome::Extension(w.extend(target, &add).map_err(refused)?)
    };
    Ok((view, outcome))
}

/// Replaces the national registry from its file, all or nothing: every faulty cell reported
/// with its line and column. With `dry_run`, checks only. Returns the number of CPTS.
pub async fn import_registry(ctx: &Ctx<'_>, text: &str, dry_run: bool) -> Result<usize, Failure> {
    ctx.allow(Action::ManageNationalRegistry)?;
    let registry = parse_registry(text, ctx.state.reference).map_err(|errors| {
        let fr = format!("Le fichier n'est pas importé : {} erreur(s), rien n'a changé.", errors.len());
        Failure::invalid("invalid_registry", fr, format!("{} faulty cells", errors.len())).with_details(
            errors.iter().map(|e| ErrorDetail {
                code: "invalid_cell",
                path: format!(
                    "ligne {}{}",
                    e.line,
                    e.column.as_ref().map(|c| format!(", colonne {c}")).unwrap_or_default()
                ),
                en: e.to_string(),
                fr: e.fr_located(),
            }),
        )
    })?;
    if dry_run {
        return Ok(registry.len());
    }
    let detail = format!("registre national remplacé : {} CPTS", registry.len());
    let audit = ctx.event(None, "update", "national_registry", "", detail);
    ctx.state.store.replace_national_registry(&registry, &audit).await.map_err(|e| match e {
        StoreError::Conflict(what) => {
            Failure::invalid("invalid_registry", format!("Le fichier n'est pas importé : {what}."), what)
        }
        other => other.into(),
    })?;
    Ok(registry.len())
}

/// How many CPTS the registry holds (for its administrators).
pub async fn registry_size(ctx: &Ctx<'_>) -> Result<usize, Failure> {
    ctx.allow(Action::ManageNationalRegistry)?;
    Ok(ctx.state.store.national_registry().await?.len())
}

/// The largest registry file the page accepts (the whole nation's is about 300 kB).
pub const MAX_REGISTRY_UPLOAD_BYTES: usize = 2 * 1024 * 1024 - 64 * 1024;

/// What an administrator sent from the registry page: checked only, or imported.
pub struct RegistryUpload {
    pub file_name: String,
    pub dry_run: bool,
    pub cpts: usize,
}

/// The registry file sent from the page (multipart: `csrf`, `verifier`, then the file
/// `fichier`). Access and the CSRF token are checked before the file is read; what is wrong
/// with the file is the inner error.
pub async fn upload_registry(
    ctx: &Ctx<'_>,
    content_type: Option<&str>,
    body: axum::body::Body,
) -> Result<Result<RegistryUpload, Failure>, Failure> {
    use super::directory_import::{boundary_of, parse_in_memory};
    ctx.allow(Action::ManageNationalRegistry)?;
    let malformed =
        || Failure::invalid("malformed", "Envoi illisible ou incomplet : recommencez.", "bad multipart body");
    let boundary = content_type.and_then(boundary_of).ok_or_else(|| {
        Failure::invalid("not_multipart", "Envoyez le fichier avec le formulaire de la page.", "expected multipart")
    })?;
    let body = axum::body::to_bytes(body, MAX_REGISTRY_UPLOAD_BYTES + 64 * 1024).await.map_err(|_| {
        Failure::invalid("too_large", "Le fichier dépasse 2 Mio : ce n'est pas le registre attendu.", "too large")
    })?;
    let (head, content) = parse_in_memory(&body, &boundary).ok_or_else(malformed)?;
    let field = |name: &str| head.fields.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str());
    let expected = ctx.principal.csrf_token();
    if expected.is_empty() || !crate::auth::secrets::same_secret(field("csrf"), expected) {
        return Err(Failure::Csrf);
    }
    let dry_run = !field("verifier").is_empty();
    let Some(file_name) = head.file_name.clone().filter(|f| !f.trim().is_empty()) else {
        return Ok(Err(Failure::invalid("no_file", "Choisissez le fichier du registre.", "no file was sent")));
    };
    let bytes = content.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(content);
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Ok(Err(Failure::invalid(
            "not_utf8",
            "Le fichier n'est pas en UTF-8 : enregistrez-le au format « CSV UTF-8 (délimité par des points-virgules) ».",
            "the file is not UTF-8",
        )));
    };
    Ok(import_registry(ctx, text, dry_run).await.map(|cpts| RegistryUpload { file_name, dry_run, cpts }))
}

/// The registry file (`;`-separated), for the nation or the CPTS of one région.
pub async fn export_registry(ctx: &Ctx<'_>, region_code: Option<&str>) -> Result<String, Failure> {
    let registry = match region_code {
        None => {
            ctx.allow(Action::ViewNation)?;
            ctx.state.store.national_registry().await?
        }
        Some(code) => {
            let view = region(ctx, code, None).await?;
            let c = &view.observed.coverage;
            let departements: Vec<usize> = (0..c.departements.len())
                .filter(|&d| {
                    ctx.state.reference.departement(&c.departements[d].code).is_some_and(|d| d.region == view.code)
                })
                .collect();
            view.observed
                .registry
                .iter()
                .zip(&c.cpts)
                .filter(|(_, on)| on.main_departement.is_some_and(|d| departements.contains(&d)))
                .map(|(r, _)| r.clone())
                .collect()
        }
    };
    Ok(write_registry(&registry))
}

/// The INSEE code of a commune as typed, checked.
pub fn commune_code(text: &str) -> Option<InseeCode> {
    InseeCode::parse(text.trim()).ok()
}

// ---------------------------------------------------------------------------------------------
// Harmonised indicators

/// One CPTS of the comparison.
pub struct Compared {
    pub cpts: super::CptsRow,
    /// `None` without a contract recorded in Maillage.
    pub contract: Option<ContractFigures>,
    /// `None` when the CPTS has no request in its registry (module not in use).
    pub registry: Option<(RegistryCounts, PublishedRegistry)>,
}

/// The harmonised indicators of the CPTS of the nation or of one région.
pub struct Comparison {
    pub on: NaiveDate,
    /// The région's name, or `None` for the nation.
    pub region: Option<(String, String)>,
    pub rows: Vec<Compared>,
    /// The registries summed.
    pub total: RegistryCounts,
}

/// The same figures for every CPTS the caller may compare: all of them for the national level,
/// those with communes in the région for its observers. Only aggregates leave a CPTS and small
/// counts are masked (`maillage_core::national::compare`), so this is not an access to patient
/// data and nothing is audited; the comparison itself needs `ViewNation` or `ViewRegion`, and
/// each CPTS its overview (`ViewCptsOverview`).
pub async fn comparison(ctx: &Ctx<'_>, region_code: Option<&str>) -> Result<Comparison, Failure> {
    let region = match region_code {
        Some(code) => {
            let r = region_of(ctx.state, code)?;
            ctx.allow(Action::ViewRegion(&r.code))?;
            Some((r.code.clone(), r.name.clone()))
        }
        None => {
            ctx.allow(Action::ViewNation)?;
            None
        }
    };
    let on = ctx.state.now().date_naive();
    let mut rows = Vec::new();
    let mut total = RegistryCounts::default();
    for cpts in super::visible_cpts(ctx).await? {
        if region.as_ref().is_some_and(|(code, _)| !cpts.regions.contains(code)) {
            continue;
        }
        let contract = match ctx.state.store.get_contract(&cpts.id).await? {
            Some(stored) => {
                let rules = super::aci::rule_set(&stored.contract.rule_set)?;
                Some(
                    ContractFigures::of(rules, &stored.contract, on)
                        .map_err(|e| Failure::Internal(format!("contract of {}: {e}", cpts.id)))?,
                )
            }
            None => None,
        };
        let records = ctx.state.store.registry(&cpts.id).await?;
        let registry = (!records.is_empty()).then(|| {
            // The priority class plays no part in the compared figures.
            let list: Vec<_> = records.iter().map(|r| (&r.request, r.history.as_slice(), 0)).collect();
            let indicators = RegistryIndicators::compute(&list, on);
            let counts = RegistryCounts::of(&indicators);
            total.add(&counts);
            (counts, PublishedRegistry::of(&indicators))
        });
        rows.push(Compared { cpts, contract, registry });
    }
    Ok(Comparison { on, region, rows, total })
}
