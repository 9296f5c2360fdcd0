//! Use cases shared by the pages and the JSON API: access decided by
//! `maillage_core::access::authorize`, personal-data reads and every change written to the
//! audit log.

use crate::auth::Principal;
use crate::error::Failure;
use crate::state::AppState;
use maillage_core::access::{Action, CptsId, CptsScope, Role, RoleKind, authorize};
use maillage_core::ids::InseeCode;
use maillage_core::territory::{SizeThresholds, Territory, TerritoryError, TerritorySummary};
use maillage_store::{
    Account, AccountStore, ApiToken, AuditEvent, AuditStore, Cpts, CptsStore, NewAccount, NewCpts, Page,
};
use serde::Serialize;
use std::collections::BTreeSet;

pub mod aci;
pub mod directory;
pub mod directory_files;
pub mod directory_import;
pub mod matching;
pub mod national;
pub mod patients;
pub mod snp;
pub mod snp_desk;
pub mod structures;

/// Who did what, for the audit log.
pub struct Ctx<'a> {
    pub state: &'a AppState,
    pub principal: &'a Principal,
    pub request_id: String,
}

impl Ctx<'_> {
    pub fn allow(&self, action: Action<'_>) -> Result<(), Failure> {
        authorize(self.principal.role(), action)
            .map_err(|denied| if denied.conceal { Failure::NotFound } else { Failure::Forbidden })
    }

    pub async fn audit(
        &self,
        cpts: Option<&CptsId>,
        action: &str,
        object_type: &str,
        object_id: &str,
        detail: impl Into<String>,
    ) -> Result<(), Failure> {
        record(self.state, Some(self.principal), cpts, action, object_type, object_id, &self.request_id, detail).await
    }

    /// The audit event of a change, for a store write that commits it with the change.
    pub fn event(
        &self,
        cpts: Option<&CptsId>,
        action: &str,
        object_type: &str,
        object_id: &str,
        detail: impl Into<String>,
    ) -> AuditEvent {
        event(self.state, Some(self.principal), cpts, action, object_type, object_id, &self.request_id, detail)
    }
}

/// Appends to the audit log. A read of personal data that cannot be logged is not served.
#[allow(clippy::too_many_arguments)]
pub async fn record(
    state: &AppState,
    principal: Option<&Principal>,
    cpts: Option<&CptsId>,
    action: &str,
    object_type: &str,
    object_id: &str,
    request_id: &str,
    detail: impl Into<String>,
) -> Result<(), Failure> {
    let event = event(state, principal, cpts, action, object_type, object_id, request_id, detail);
    state.store.append_audit(&event).await.map_err(Failure::from)
}

#[allow(clippy::too_many_arguments)]
fn event(
    state: &AppState,
    principal: Option<&Principal>,
    cpts: Option<&CptsId>,
    action: &str,
    object_type: &str,
    object_id: &str,
    request_id: &str,
    detail: impl Into<String>,
) -> AuditEvent {
    AuditEvent {
        cpts_id: cpts.cloned(),
        id: uuid::Uuid::new_v4().to_string(),
        at: state.now(),
        account_id: principal.map(|p| p.account.id.clone()),
        account_label: principal.map_or_else(|| "anonyme".to_owned(), Principal::label),
        role: principal.map_or("anonymous", |p| p.role().kind().as_str()).to_owned(),
        action: action.to_owned(),
        object_type: object_type.to_owned(),
        object_id: object_id.to_owned(),
        request_id: request_id.to_owned(),
        detail: detail.into(),
    }
}

/// The régions a CPTS's communes lie in (usually one).
pub fn regions_of(state: &AppState, communes: &[InseeCode]) -> Vec<String> {
    let set: BTreeSet<&str> =
        communes.iter().filter_map(|c| state.reference.commune(c.as_str())).map(|c| c.region.as_str()).collect();
    set.into_iter().map(str::to_owned).collect()
}

/// A CPTS as every role may see it: aggregates only.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CptsOverview {
    #[schema(value_type = String)]
    pub id: CptsId,
    pub name: String,
    pub regions: Vec<String>,
    pub territory: TerritorySummary,
    /// Accounts by role in this CPTS.
    pub accounts_by_role: Vec<RoleCount>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RoleCount {
    pub role: String,
    pub label: String,
    pub count: usize,
}

pub fn territory_of<'r>(state: &'r AppState, cpts: &Cpts) -> Result<Option<Territory<'r>>, Failure> {
    match Territory::new(state.reference, cpts.communes.iter().map(InseeCode::as_str)) {
        Ok(t) => Ok(Some(t)),
        Err(TerritoryError::Empty) => Ok(None),
        Err(e) => Err(Failure::Internal(format!("stored territory of {} is invalid: {e}", cpts.id))),
    }
}

/// What a caller wants to do with one CPTS (see [`Action`]).
#[derive(Debug, Clone, Copy)]
pub enum Need {
    Overview,
    Edit,
    Audit,
    Accounts,
    /// The ACI contract and its spending (read).
    Contract,
    /// Personal data of the CPTS's people: the directory of professionals (read).
    PersonalData,
}

impl Need {
    fn action<'a>(self, scope: CptsScope<'a>) -> Action<'a> {
        match self {
            Need::Overview => Action::ViewCptsOverview(scope),
            Need::Edit => Action::EditCpts(scope),
            Need::Audit => Action::ViewCptsAudit(scope),
            Need::Accounts => Action::ManageCptsAccounts(scope),
            Need::Contract => Action::ViewContract(scope),
            Need::PersonalData => Action::ViewCptsPersonalData(scope),
        }
    }
}

/// Loads a CPTS if the caller may do `need` with it; another tenant's CPTS is "not found".
pub async fn load_cpts(ctx: &Ctx<'_>, id: &str, need: Need) -> Result<Cpts, Failure> {
    let id = CptsId::parse(id).ok_or(Failure::NotFound)?;
    let cpts = ctx.state.store.get_cpts(&id).await?;
    let regions = regions_of(ctx.state, &cpts.communes);
    ctx.allow(need.action(CptsScope { id: &cpts.id, regions: &regions }))?;
    Ok(cpts)
}

/// Whether the caller may also do what `need` allows on a CPTS already loaded.
pub fn allowed(ctx: &Ctx<'_>, cpts: &Cpts, need: Need) -> bool {
    let regions = regions_of(ctx.state, &cpts.communes);
    ctx.allow(need.action(CptsScope { id: &cpts.id, regions: &regions })).is_ok()
}

pub async fn cpts_overview(ctx: &Ctx<'_>, id: &str) -> Result<CptsOverview, Failure> {
    let cpts = load_cpts(ctx, id, Need::Overview).await?;
    let accounts = ctx.state.store.list_accounts(Some(&cpts.id)).await?;
    let accounts_by_role = [RoleKind::Coordinator, RoleKind::BoardMember, RoleKind::MemberProfessional]
        .into_iter()
        .map(|kind| RoleCount {
            role: kind.as_str().to_owned(),
            label: kind.label_fr().to_owned(),
            count: accounts.iter().filter(|a| a.role.kind() == kind && a.disabled_at.is_none()).count(),
        })
        .collect();
    let territory = territory_of(ctx.state, &cpts)?;
    let summary = match territory {
        Some(t) => t.summary(&SizeThresholds::default()),
        None => return Err(Failure::Internal(format!("CPTS {} has no commune", cpts.id))),
    };
    Ok(CptsOverview {
        regions: regions_of(ctx.state, &cpts.communes),
        id: cpts.id,
        name: cpts.name,
        territory: summary,
        accounts_by_role,
    })
}

/// One line of a CPTS list, aggregates only.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CptsRow {
    #[schema(value_type = String)]
    pub id: CptsId,
    pub name: String,
    pub regions: Vec<String>,
    pub communes: usize,
    pub population: u64,
    pub size_class: u8,
}

/// The CPTS the caller may see: all for admins and national observers, those of their région
/// for regional observers, their own for CPTS people.
pub async fn visible_cpts(ctx: &Ctx<'_>) -> Result<Vec<CptsRow>, Failure> {
    let mut rows = Vec::new();
    for cpts in ctx.state.store.list_cpts_full().await? {
        let regions = regions_of(ctx.state, &cpts.communes);
        let scope = CptsScope { id: &cpts.id, regions: &regions };
        if authorize(ctx.principal.role(), Action::ViewCptsOverview(scope)).is_err() {
            continue;
        }
        let (population, size_class) = match territory_of(ctx.state, &cpts)? {
            Some(t) => (t.population(), t.size_class(&SizeThresholds::default()).number()),
            None => (0, 0),
        };
        rows.push(CptsRow {
            id: cpts.id,
            name: cpts.name,
            regions,
            communes: cpts.communes.len(),
            population,
            size_class,
        });
    }
    Ok(rows)
}

/// Validates a list of commune codes as a territory; every problem is reported in French.
pub fn parse_territory(state: &AppState, codes: &str) -> Result<Vec<InseeCode>, Failure> {
    let list: Vec<&str> = codes.split([',', ';', ' ', '\n', '\t']).map(str::trim).filter(|c| !c.is_empty()).collect();
    let territory = Territory::new(state.reference, list).map_err(|e| {
        Failure::invalid("invalid_territory", format!("Territoire invalide : {}.", e.fr()), e.to_string())
    })?;
    Ok(territory.communes().map(|c| c.code).collect())
}

pub async fn create_cpts(ctx: &Ctx<'_>, name: &str, communes: &str) -> Result<Cpts, Failure> {
    ctx.allow(Action::AdministerPlatform)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(Failure::invalid(
            "invalid_name",
            "Le nom est obligatoire (200 caractères au plus).",
            "name is required (at most 200 characters)",
        ));
    }
    let communes = parse_territory(ctx.state, communes)?;
    let cpts = ctx.state.store.create_cpts(&NewCpts { name: name.to_owned(), communes }, ctx.state.now()).await?;
    ctx.audit(Some(&cpts.id), "create", "cpts", cpts.id.as_str(), format!("{} communes", cpts.communes.len())).await?;
    Ok(cpts)
}

pub async fn replace_territory(ctx: &Ctx<'_>, id: &str, communes: &str) -> Result<Cpts, Failure> {
    let cpts = load_cpts(ctx, id, Need::Edit).await?;
    let communes = parse_territory(ctx.state, communes)?;
    let updated = ctx.state.store.replace_territory(&cpts.id, &communes, ctx.state.now()).await?;
    ctx.audit(Some(&cpts.id), "update", "territory", cpts.id.as_str(), format!("{} communes", communes.len())).await?;
    Ok(updated)
}

/// An account as lists show it (never its password hash).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AccountView {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub role_label: String,
    pub cpts_id: Option<String>,
    pub region: Option<String>,
    pub agency: Option<String>,
    pub oidc_linked: bool,
    pub disabled: bool,
}

impl From<&Account> for AccountView {
    fn from(a: &Account) -> Self {
        Self {
            id: a.id.clone(),
            email: a.email.clone(),
            display_name: a.display_name.clone(),
            role: a.role.kind().as_str().to_owned(),
            role_label: a.role.kind().label_fr().to_owned(),
            cpts_id: a.role.cpts().map(ToString::to_string),
            region: a.role.region().map(str::to_owned),
            agency: a.role.agency().map(|g| g.label_fr().to_owned()),
            oidc_linked: a.oidc.is_some(),
            disabled: a.disabled_at.is_some(),
        }
    }
}

/// Accounts of one CPTS (coordinator, admin) or of the whole platform (admin). Reading them is
/// reading personal data: it is audited.
pub async fn list_accounts(ctx: &Ctx<'_>, cpts: Option<&str>) -> Result<Vec<AccountView>, Failure> {
    let accounts = match cpts {
        Some(id) => {
            let cpts = load_cpts(ctx, id, Need::Accounts).await?;
            let list = ctx.state.store.list_accounts(Some(&cpts.id)).await?;
            ctx.audit(Some(&cpts.id), "read", "accounts", cpts.id.as_str(), format!("{} comptes", list.len())).await?;
            list
        }
        None => {
            ctx.allow(Action::AdministerPlatform)?;
            let list = ctx.state.store.list_accounts(None).await?;
            ctx.audit(None, "read", "accounts", "*", format!("{} comptes", list.len())).await?;
            list
        }
    };
    Ok(accounts.iter().map(AccountView::from).collect())
}

/// What a new account needs; the role must be one the caller may grant.
pub struct AccountRequest {
    pub email: String,
    pub display_name: String,
    pub password: Option<String>,
    pub role: Role,
}

pub fn validate_email(email: &str) -> Result<String, Failure> {
    let e = email.trim();
    let ok = e.len() <= 254
        && e.split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.'))
        && !e.contains(char::is_whitespace);
    if ok {
        Ok(e.to_owned())
    } else {
        Err(Failure::invalid(
            "invalid_email",
            format!("Adresse électronique invalide : « {e} »."),
            format!("invalid e-mail {e:?}"),
        ))
    }
}

pub fn validate_password(password: &str) -> Result<(), Failure> {
    if password.chars().count() < crate::auth::secrets::MIN_PASSWORD_CHARS {
        return Err(Failure::invalid(
            "weak_password",
            format!("Le mot de passe doit compter au moins {} caractères.", crate::auth::secrets::MIN_PASSWORD_CHARS),
            "password too short",
        ));
    }
    Ok(())
}

/// Creates an account. Admins grant any role; a coordinator grants board and member roles in
/// her own CPTS only.
pub async fn create_account(ctx: &Ctx<'_>, req: AccountRequest) -> Result<AccountView, Failure> {
    may_grant(ctx, &req.role).await?;
    let email = validate_email(&req.email)?;
    let name = req.display_name.trim();
    if name.is_empty() {
        return Err(Failure::invalid("invalid_name", "Le nom est obligatoire.", "display name is required"));
    }
    let password_hash = match req.password.filter(|p| !p.is_empty()) {
        Some(p) => {
            validate_password(&p)?;
            Some(crate::auth::secrets::hash_password(p).await.map_err(Failure::Internal)?)
        }
        None => None,
    };
    let account = ctx
        .state
        .store
        .create_account(
            &NewAccount { email, display_name: name.to_owned(), password_hash, role: req.role },
            ctx.state.now(),
        )
        .await?;
    ctx.audit(account.role.cpts(), "create", "account", &account.id, format!("rôle {}", account.role.kind().as_str()))
        .await?;
    Ok(AccountView::from(&account))
}

async fn may_grant(ctx: &Ctx<'_>, role: &Role) -> Result<(), Failure> {
    if ctx.allow(Action::AdministerPlatform).is_ok() {
        if let Some(cpts) = role.cpts() {
            ctx.state.store.get_cpts(cpts).await.map_err(|_| {
                Failure::invalid("unknown_cpts", "Cette CPTS n'existe pas.", format!("unknown CPTS {cpts}"))
            })?;
        }
        if let Some(region) = role.region()
            && ctx.state.reference.region(region).is_none()
        {
            return Err(Failure::invalid(
                "unknown_region",
                format!("Région inconnue : {region}."),
                format!("unknown région {region}"),
            ));
        }
        return Ok(());
    }
    match role {
        Role::BoardMember { cpts } | Role::MemberProfessional { cpts } => {
            load_cpts(ctx, cpts.as_str(), Need::Accounts).await.map(|_| ())
        }
        _ => Err(Failure::Forbidden),
    }
}

/// Changes an account's role or disables it, within what the caller may grant.
pub async fn update_account(
    ctx: &Ctx<'_>,
    account_id: &str,
    role: Option<Role>,
    disabled: Option<bool>,
) -> Result<AccountView, Failure> {
    if account_id == ctx.principal.account.id && (role.is_some() || disabled == Some(true)) {
        return Err(Failure::invalid(
            "self_change",
            "Vous ne pouvez ni changer votre propre rôle ni désactiver votre propre compte.",
            "cannot change one's own role or disable oneself",
        ));
    }
    let account = ctx.state.store.get_account(account_id).await?;
    // The caller must be able to grant the account's current role (to touch it at all) and
    // the new one.
    may_grant(ctx, &account.role).await.map_err(|_| Failure::NotFound)?;
    if let Some(role) = &role {
        may_grant(ctx, role).await?;
        ctx.state.store.set_role(&account.id, role).await?;
        ctx.audit(account.role.cpts(), "update", "account", &account.id, format!("rôle → {}", role.kind().as_str()))
            .await?;
    }
    if let Some(disabled) = disabled {
        ctx.state.store.set_disabled(&account.id, disabled.then(|| ctx.state.now())).await?;
        ctx.audit(
            account.role.cpts(),
            "update",
            "account",
            &account.id,
            if disabled { "désactivé" } else { "réactivé" },
        )
        .await?;
    }
    let updated = ctx.state.store.get_account(&account.id).await?;
    Ok(AccountView::from(&updated))
}

/// Creates an API token for the caller; the token itself is returned once, only its hash is
/// stored.
pub async fn create_api_token(ctx: &Ctx<'_>, name: &str) -> Result<(ApiToken, String), Failure> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Failure::invalid(
            "invalid_name",
            "Donnez un nom au jeton (100 caractères au plus).",
            "name is required",
        ));
    }
    let token = format!("mlg_{}", crate::auth::secrets::random_token());
    let record = ApiToken {
        id: uuid::Uuid::new_v4().to_string(),
        account_id: ctx.principal.account.id.clone(),
        name: name.to_owned(),
        created_at: ctx.state.now(),
        last_used_at: None,
        revoked_at: None,
    };
    ctx.state.store.create_api_token(&record, &crate::auth::secrets::token_hash(&token)).await?;
    ctx.audit(ctx.principal.role().cpts(), "create", "api_token", &record.id, name).await?;
    Ok((record, token))
}

pub async fn revoke_api_token(ctx: &Ctx<'_>, id: &str) -> Result<(), Failure> {
    ctx.state.store.revoke_api_token(&ctx.principal.account.id, id, ctx.state.now()).await?;
    ctx.audit(ctx.principal.role().cpts(), "delete", "api_token", id, "révoqué").await
}

pub const AUDIT_PAGE_SIZE: u32 = 50;

/// A page of a CPTS's audit log (coordinator, admin) or of the platform's (admin).
pub async fn audit_page(ctx: &Ctx<'_>, cpts: Option<&str>, page: u32) -> Result<(Vec<AuditEvent>, u64), Failure> {
    let cpts = match cpts {
        Some(id) => Some(load_cpts(ctx, id, Need::Audit).await?.id),
        None => {
            ctx.allow(Action::ViewPlatformAudit)?;
            None
        }
    };
    let page = Page { offset: page.saturating_mul(AUDIT_PAGE_SIZE), limit: AUDIT_PAGE_SIZE };
    let events = ctx.state.store.audit_page(cpts.as_ref(), page).await?;
    let total = ctx.state.store.audit_count(cpts.as_ref()).await?;
    ctx.audit(
        cpts.as_ref(),
        "read",
        "audit_log",
        cpts.as_ref().map_or("*", CptsId::as_str),
        format!("page {}", page.offset / AUDIT_PAGE_SIZE + 1),
    )
    .await?;
    Ok((events, total))
}

/// All events of a log, for the CSV export (audited as an export).
pub async fn audit_export(ctx: &Ctx<'_>, cpts: Option<&str>) -> Result<Vec<AuditEvent>, Failure> {
    let cpts = match cpts {
        Some(id) => Some(load_cpts(ctx, id, Need::Audit).await?.id),
        None => {
            ctx.allow(Action::ViewPlatformAudit)?;
            None
        }
    };
    let mut all = Vec::new();
    let mut offset = 0;
    loop {
        let batch = ctx.state.store.audit_page(cpts.as_ref(), Page { offset, limit: 1000 }).await?;
        let n = batch.len();
        all.extend(batch);
        if n < 1000 {
            break;
        }
        offset += 1000;
    }
    ctx.audit(
        cpts.as_ref(),
        "export",
        "audit_log",
        cpts.as_ref().map_or("*", CptsId::as_str),
        format!("{} lignes", all.len()),
    )
    .await?;
    Ok(all)
}

/// One quoted RFC 4180 CSV cell, formulas neutralised for spreadsheet software.
pub fn csv_cell(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) { format!("'{s}") } else { s.to_owned() };
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// RFC 4180 CSV of audit events (UTF-8 with BOM so spreadsheet software reads the accents).
pub fn audit_csv(events: &[AuditEvent]) -> String {
    let cell = csv_cell;
    let mut out = String::from("\u{feff}date,cpts,compte,role,action,objet,identifiant,requete,detail\r\n");
    for e in events {
        let row = [
            e.at.to_rfc3339(),
            e.cpts_id.as_ref().map(ToString::to_string).unwrap_or_default(),
            e.account_label.clone(),
            e.role.clone(),
            e.action.clone(),
            e.object_type.clone(),
            e.object_id.clone(),
            e.request_id.clone(),
            e.detail.clone(),
        ];
        out.push_str(&row.iter().map(|c| cell(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}
