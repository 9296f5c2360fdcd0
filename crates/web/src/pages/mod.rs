//! Server-rendered French pages (askama), enhanced with htmx where it helps. Every page works
//! without JavaScript.

pub mod account;
pub mod aci;
pub mod aci_simulator;
pub mod admin;
pub mod cpts;
pub mod directory;
pub mod directory_files;
pub mod directory_import;
pub mod directory_stats;
pub mod matching;
pub mod memberships;
pub mod national;
pub mod patients;
pub mod patients_public;
pub mod snp_agenda;
pub mod snp_console;
pub mod snp_desk;
pub mod structures;

use crate::app::{AccountView, CptsOverview, CptsRow};
use crate::auth::Principal;
use askama::Template;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use maillage_core::access::{Action, CptsScope, Role, RoleKind, authorize};
use maillage_store::{ApiToken, AuditEvent};

/// Renders a template; a template error (a bug) becomes a plain message, logged.
pub fn render(t: &impl Template) -> String {
    t.render().unwrap_or_else(|e| {
        tracing::error!(error = %e, "template rendering failed");
        "<!DOCTYPE html><html lang=\"fr\"><title>Erreur</title><p>Erreur d'affichage.</p></html>".to_owned()
    })
}

/// Whether htmx asked for a fragment rather than the whole page.
pub fn is_htmx(headers: &HeaderMap) -> bool {
    headers.get("hx-request").is_some_and(|v| v == "true")
}

/// An integer with French thousands separators (narrow no-break space).
pub fn fr_int<T: Copy + Into<u64>>(n: &T) -> String {
    let digits = (*n).into().to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{202f}');
        }
        out.push(ch);
    }
    out
}

/// How a civility code reads in front of a name.
pub fn civility_fr(code: Option<&str>) -> &'static str {
    match code.map(str::trim).unwrap_or_default().to_ascii_uppercase().as_str() {
        "DR" => "Dr ",
        "PR" => "Pr ",
        "M" => "M. ",
        "MME" => "Mme ",
        _ => "",
    }
}

/// A person's name as pages write it: `Dr Élise Martin`.
pub fn full_name(civility: Option<&str>, given: &str, family: &str) -> String {
    format!("{}{given} {family}", civility_fr(civility))
}

/// The name of a commune of the reference, or its code when the reference does not know it.
pub fn commune_name(state: &crate::state::AppState, code: &str) -> String {
    state.reference.commune(code).map_or_else(|| code.to_owned(), |c| c.name.clone())
}

/// The communes a form may name: the territory's, by name, and the one already chosen when it
/// lies outside (a hospital of the neighbouring town, a patient who moved).
pub fn commune_choices(
    state: &crate::state::AppState,
    cpts: &maillage_store::Cpts,
    chosen: &str,
) -> Vec<(String, String)> {
    let mut list: Vec<(String, String)> =
        cpts.communes.iter().map(|c| (c.as_str().to_owned(), commune_name(state, c.as_str()))).collect();
    let chosen = chosen.trim();
    if !chosen.is_empty() && !list.iter().any(|(code, _)| code == chosen) {
        list.push((chosen.to_owned(), commune_name(state, chosen)));
    }
    list.sort_by_cached_key(|c| maillage_core::text::fold_for_search(&c.1));
    list
}

/// A date as French pages write it: `15/03/2024`.
pub fn fr_date(d: chrono::NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// First letter upper-cased: labels stored in lower case start table rows and headings.
pub fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// A rate as a French percentage with `decimals` (1 or 2) digits, truncated: `33,3 %`.
pub fn fr_percent(r: maillage_core::aci::Rate, decimals: u32) -> String {
    let unit = 10u64.pow(decimals);
    let scaled = u64::from(r.billionths()) * unit / 10_000_000;
    format!("{},{:0width$}\u{a0}%", scaled / unit, scaled % unit, width = decimals as usize)
}

/// French label of an audit action.
pub fn action_fr(action: &str) -> &str {
    match action {
        "read" => "Consultation",
        "create" => "Création",
        "update" => "Modification",
        "delete" => "Suppression",
        "export" => "Export",
        "login" => "Connexion",
        "logout" => "Déconnexion",
        "login_failed" => "Échec de connexion",
        "login_refused" => "Connexion refusée",
        "import" => "Import",
        other => other,
    }
}

/// French label of an audited object type.
pub fn object_fr(object: &str) -> &str {
    match object {
        "cpts" => "CPTS",
        "territory" => "Territoire",
        "account" => "Compte",
        "accounts" => "Liste des comptes",
        "audit_log" => "Journal",
        "session" => "Session",
        "api_token" => "Jeton d'API",
        "password" => "Mot de passe",
        "oidc" => "Fournisseur d'identité",
        "professional" => "Fiche de l'annuaire",
        "membership" => "Adhésion",
        "directory" => "Annuaire",
        "account_professional" => "Compte relié à une fiche",
        "patient_request" => "Demande de médecin traitant",
        "patient_registry" => "Registre des patients sans médecin traitant",
        "doctor_capacity" => "Places d'un médecin",
        "snp_availability" => "Disponibilités de soins non programmés",
        "snp_booking" => "Rendez-vous de soins non programmés",
        "snp_bookings" => "Liste des rendez-vous de soins non programmés",
        "snp_request" => "Demande de soins non programmés",
        "snp_requests" => "Liste des demandes de soins non programmés",
        "snp_agenda" => "Calendrier de soins non programmés",
        "snp_feed_token" => "Adresse d'abonnement au calendrier",
        other => other,
    }
}

/// French label of a stored role name ("anonyme" for anonymous events).
pub fn role_fr(role: &str) -> &str {
    match RoleKind::parse(role) {
        Some(kind) => kind.label_fr(),
        None if role == "anonymous" => "anonyme",
        None => role,
    }
}

/// Names of régions from their INSEE codes.
pub fn regions_fr(codes: &[String]) -> String {
    let reference = maillage_core::refdata::Reference::embedded();
    codes.iter().map(|c| reference.region(c).map_or(c.as_str(), |r| r.name.as_str())).collect::<Vec<_>>().join(", ")
}

pub struct UserChip {
    pub name: String,
    pub role: String,
}

pub struct NavItem {
    pub label: &'static str,
    /// `None`: a module not built yet, shown as such (never with fake content).
    pub href: Option<String>,
    pub current: bool,
}

pub struct Flash {
    /// CSS class: succes, erreur, info.
    pub kind: &'static str,
    pub text: String,
}

/// What every page shows around its content.
pub struct Chrome {
    pub title: String,
    pub user: Option<UserChip>,
    pub context: Option<String>,
    pub nav: Vec<NavItem>,
    pub csrf: String,
    pub flash: Option<Flash>,
}

impl Chrome {
    pub fn anonymous(title: &str) -> Self {
        let nav = vec![NavItem { label: "Connexion", href: Some("/connexion".into()), current: false }, public_link()];
        Self { title: title.to_owned(), user: None, context: None, nav, csrf: String::new(), flash: None }
    }

    /// The chrome of a logged-in page; `current` is the href of the current nav entry.
    pub fn for_user(principal: &Principal, title: impl Into<String>, context: Option<String>, current: &str) -> Self {
        let mut nav = navigation(principal);
        for item in &mut nav {
            item.current = item.href.as_deref() == Some(current);
        }
        Self {
            title: title.into(),
            user: Some(UserChip {
                name: principal.account.display_name.clone(),
                role: principal.role().kind().label_fr().to_owned(),
            }),
            context,
            nav,
            csrf: principal.csrf_token().to_owned(),
            flash: None,
        }
    }

    /// Adds the outcome of the previous action, if any: (CSS class, message).
    pub fn with_flash(mut self, flash: Option<(&'static str, String)>) -> Self {
        self.flash = flash.map(|(kind, text)| Flash { kind, text });
        self
    }
}

/// The public ACI simulator, in everybody's navigation (anonymous visitors' too).
fn public_link() -> NavItem {
    NavItem { label: "Simulateur ACI", href: Some(aci_simulator::PATH.into()), current: false }
}

/// The navigation a role sees: a CPTS's sections for its people, the observatory for
/// observers, administration for admins; and the public simulator for everybody.
fn navigation(principal: &Principal) -> Vec<NavItem> {
    let mut nav = role_navigation(principal);
    nav.push(public_link());
    nav
}

fn role_navigation(principal: &Principal) -> Vec<NavItem> {
    let link = |label, href: String| NavItem { label, href: Some(href), current: false };
    let soon = |label| NavItem { label, href: None, current: false };
    match principal.role() {
        Role::Coordinator { cpts } | Role::BoardMember { cpts } | Role::MemberProfessional { cpts } => {
            let base = format!("/cpts/{cpts}");
            let scope = CptsScope { id: cpts, regions: &[] };
            let mut nav = vec![link("Accueil", base.clone()), link("Territoire", format!("{base}/territoire"))];
            if authorize(principal.role(), Action::ViewCptsPersonalData(scope)).is_ok() {
                nav.push(link("Annuaire", format!("{base}/annuaire")));
            }
            if authorize(principal.role(), Action::EditCpts(scope)).is_ok() {
                nav.push(link("Accès aux soins", format!("{base}/acces-soins/patients")));
            } else if authorize(principal.role(), Action::ViewCptsPersonalData(scope)).is_ok() {
                nav.push(link("Accès aux soins", format!("{base}/acces-soins/mes-patients")));
            } else {
                nav.push(soon("Accès aux soins"));
            }
            // Same-day care: the operators' console, a member professional's agenda.
            if authorize(principal.role(), Action::EditCpts(scope)).is_ok() {
                nav.push(link("Soins non programmés", format!("{base}/soins-non-programmes")));
            } else if matches!(principal.role(), Role::MemberProfessional { .. }) {
                nav.push(link("Soins non programmés", format!("{base}/soins-non-programmes/agenda")));
            }
            nav.extend([soon("Parcours"), soon("Prévention"), soon("Crise"), soon("Qualité"), soon("Accompagnement")]);
            if authorize(principal.role(), Action::ViewContract(scope)).is_ok() {
                nav.push(link("Contrat ACI", format!("{base}/contrat")));
            }
            nav.push(soon("Rapports"));
            if authorize(principal.role(), Action::ManageCptsAccounts(scope)).is_ok() {
                nav.push(link("Administration", format!("{base}/comptes")));
            }
            if authorize(principal.role(), Action::ViewCptsAudit(scope)).is_ok() {
                nav.push(link("Journal", format!("{base}/journal")));
            }
            nav
        }
        Role::RegionalObserver { region, .. } => vec![link("Observatoire régional", format!("/region/{region}"))],
        Role::NationalObserver => vec![link("Observatoire national", "/national".into())],
        Role::PlatformAdmin => vec![
            link("CPTS", "/admin".into()),
            link("Comptes", "/admin/comptes".into()),
            link("Journal", "/admin/journal".into()),
            link("Observatoire national", "/national".into()),
        ],
    }
}

/// Where a role lands after login.
pub fn home_of(principal: &Principal) -> String {
    match principal.role() {
        Role::Coordinator { cpts } | Role::BoardMember { cpts } | Role::MemberProfessional { cpts } => {
            format!("/cpts/{cpts}")
        }
        Role::RegionalObserver { region, .. } => format!("/region/{region}"),
        Role::NationalObserver => "/national".into(),
        Role::PlatformAdmin => "/admin".into(),
    }
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    /// Anonymous chrome: an error page must render whatever failed.
    pub chrome: Chrome,
    pub status: u16,
    pub message: String,
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub chrome: Chrome,
    pub csrf: String,
    pub email: String,
    pub error: Option<String>,
    pub oidc_label: Option<String>,
}

#[derive(Template)]
#[template(path = "cpts_home.html")]
pub struct CptsHomePage {
    pub chrome: Chrome,
    pub o: CptsOverview,
    /// Whether the reader may open the ACI contract (governance, ARS and CPAM of the région).
    pub contract_link: bool,
    pub population: String,
    pub size_class: u8,
    pub map: String,
}

#[derive(Template)]
#[template(path = "cpts_territory.html")]
pub struct CptsTerritoryPage {
    pub chrome: Chrome,
    pub o: CptsOverview,
    pub can_edit: bool,
    pub codes: String,
}

#[derive(Template)]
#[template(path = "journal.html")]
pub struct JournalPage {
    pub chrome: Chrome,
    pub cpts_name: Option<String>,
    pub base: String,
    pub events: Vec<AuditEvent>,
    pub total: u64,
    pub page: u32,
    pub pages: u32,
}

#[derive(Template)]
#[template(path = "journal_rows.html")]
pub struct JournalRows {
    pub base: String,
    pub events: Vec<AuditEvent>,
    pub total: u64,
    pub page: u32,
    pub pages: u32,
}

#[derive(Template)]
#[template(path = "accounts.html")]
pub struct AccountsPage {
    pub chrome: Chrome,
    pub cpts_name: Option<String>,
    pub accounts: Vec<AccountView>,
    pub action_base: String,
    pub self_id: String,
    pub roles: Vec<(&'static str, &'static str)>,
    pub platform: bool,
    pub cpts_choices: Vec<(String, String)>,
    pub region_choices: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "account_edit.html")]
pub struct AccountEditPage {
    pub chrome: Chrome,
    pub account: AccountView,
    pub roles: Vec<(&'static str, &'static str)>,
    pub cpts_choices: Vec<(String, String)>,
    pub region_choices: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "admin.html")]
pub struct AdminPage {
    pub chrome: Chrome,
    pub rows: Vec<CptsRow>,
    pub form_name: String,
    pub form_communes: String,
}

#[derive(Template)]
#[template(path = "my_account.html")]
pub struct MyAccountPage {
    pub chrome: Chrome,
    pub view: AccountView,
    pub tokens: Vec<ApiToken>,
    pub new_token: Option<String>,
    /// The caller's own profile in the directory, when her account is linked to one.
    pub directory_link: Option<String>,
}

/// The roles a caller may grant, for the account form.
pub fn grantable_roles(platform: bool) -> Vec<(&'static str, &'static str)> {
    let kinds: &[RoleKind] =
        if platform { &RoleKind::ALL } else { &[RoleKind::BoardMember, RoleKind::MemberProfessional] };
    kinds.iter().map(|k| (k.as_str(), k.label_fr())).collect()
}

/// Static files, compiled into the binary so that one file is the whole application.
pub async fn static_file(axum::extract::Path(name): axum::extract::Path<String>) -> Response {
    let (body, mime): (&'static [u8], &str) = match name.as_str() {
        "maillage.css" => (include_bytes!("../../static/maillage.css"), "text/css; charset=utf-8"),
        "htmx.min.js" => (include_bytes!("../../static/htmx.min.js"), "text/javascript; charset=utf-8"),
        _ => return axum::http::StatusCode::NOT_FOUND.into_response(),
    };
    ([(header::CONTENT_TYPE, mime), (header::CACHE_CONTROL, "public, max-age=3600")], body).into_response()
}
