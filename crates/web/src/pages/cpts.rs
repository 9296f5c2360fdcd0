//! A CPTS's own pages: home, territory, accounts, audit log.

use super::{
    AccountsPage, Chrome, CptsHomePage, CptsTerritoryPage, JournalPage, JournalRows, fr_int, grantable_roles, is_htmx,
    render,
};
use crate::app::{self, Ctx};
use crate::auth::{CsrfField, CsrfForm, Principal};
use crate::error::{Failure, PageError};
use crate::middleware::request_id;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maillage_core::access::{Action, CptsId, Role, authorize};
use serde::Deserialize;

pub fn ctx<'a>(state: &'a AppState, principal: &'a Principal, headers: &HeaderMap) -> Ctx<'a> {
    Ctx { state, principal, request_id: request_id(headers) }
}

/// `GET /cpts/{id}`
pub async fn home(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Html<String>, PageError> {
    let c = ctx(&state, &principal, &headers);
    let o = app::cpts_overview(&c, &id).await?;
    let map = {
        let members: Vec<_> = o.territory.communes.iter().filter_map(|m| state.reference.commune(&m.code)).collect();
        let context: Vec<_> = o.territory.neighbours.iter().filter_map(|n| state.reference.commune(n)).collect();
        crate::map::territory_svg(state.reference, &members, &context, &crate::map::MapOptions::default())
    };
    let chrome = Chrome::for_user(&principal, o.name.clone(), Some(o.name.clone()), &format!("/cpts/{}", o.id));
    let scope = maillage_core::access::CptsScope { id: &o.id, regions: &o.regions };
    let contract_link = c.allow(Action::ViewContract(scope)).is_ok();
    let page = CptsHomePage {
        chrome,
        contract_link,
        population: fr_int(&o.territory.population),
        size_class: o.territory.size_class.number(),
        map,
        o,
    };
    Ok(Html(render(&page)))
}

/// `GET /cpts/{id}/territoire`
pub async fn territory(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Html<String>, PageError> {
    territory_page(&state, &principal, &headers, &id, None, None).await
}

async fn territory_page(
    state: &AppState,
    principal: &Principal,
    headers: &HeaderMap,
    id: &str,
    flash: Option<(&'static str, String)>,
    codes: Option<String>,
) -> Result<Html<String>, PageError> {
    let c = ctx(state, principal, headers);
    let o = app::cpts_overview(&c, id).await?;
    let can_edit =
        c.allow(Action::EditCpts(maillage_core::access::CptsScope { id: &o.id, regions: &o.regions })).is_ok();
    let codes =
        codes.unwrap_or_else(|| o.territory.communes.iter().map(|c| c.code.as_str()).collect::<Vec<_>>().join(", "));
    let chrome = Chrome::for_user(
        principal,
        format!("Territoire — {}", o.name),
        Some(o.name.clone()),
        &format!("/cpts/{}/territoire", o.id),
    )
    .with_flash(flash);
    Ok(Html(render(&CptsTerritoryPage { chrome, o, can_edit, codes })))
}

#[derive(Deserialize)]
pub struct TerritoryForm {
    #[serde(default)]
    csrf: String,
    communes: String,
}

impl CsrfField for TerritoryForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /cpts/{id}/territoire`: all-or-nothing; every faulty code is reported.
pub async fn update_territory(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<TerritoryForm>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    match app::replace_territory(&c, &id, &form.communes).await {
        Ok(_) => Ok(territory_page(
            &state,
            &principal,
            &headers,
            &id,
            Some(("succes", "Territoire enregistré.".into())),
            None,
        )
        .await?
        .into_response()),
        Err(Failure::Invalid { fr, .. }) => {
            let page =
                territory_page(&state, &principal, &headers, &id, Some(("erreur", fr)), Some(form.communes)).await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    page: u32,
}

/// `GET /cpts/{id}/journal` (full page, or the rows for htmx)
pub async fn journal(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Html<String>, PageError> {
    let c = ctx(&state, &principal, &headers);
    let cpts_name = app::load_cpts(&c, &id, app::Need::Audit).await?.name;
    journal_response(&c, Some(&id), Some(cpts_name), format!("/cpts/{id}/journal"), q.page, &headers).await
}

pub async fn journal_response(
    c: &Ctx<'_>,
    cpts: Option<&str>,
    cpts_name: Option<String>,
    base: String,
    page: u32,
    headers: &HeaderMap,
) -> Result<Html<String>, PageError> {
    let (events, total) = app::audit_page(c, cpts, page).await?;
    let pages = u32::try_from(total.div_ceil(u64::from(app::AUDIT_PAGE_SIZE))).unwrap_or(u32::MAX).max(1);
    if is_htmx(headers) {
        return Ok(Html(render(&JournalRows { base, events, total, page, pages })));
    }
    let chrome = Chrome::for_user(c.principal, "Journal des accès", cpts_name.clone(), &base);
    Ok(Html(render(&JournalPage { chrome, cpts_name, base, events, total, page, pages })))
}

/// `GET /cpts/{id}/journal.csv`
pub async fn journal_csv(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    let events = app::audit_export(&c, Some(&id)).await?;
    Ok(csv_response(app::audit_csv(&events), "journal.csv"))
}

pub fn csv_response(body: String, filename: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
        ],
        body,
    )
        .into_response()
}

/// `GET /cpts/{id}/comptes`
pub async fn accounts(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Html<String>, PageError> {
    accounts_page(&state, &principal, &headers, &id, None).await
}

async fn accounts_page(
    state: &AppState,
    principal: &Principal,
    headers: &HeaderMap,
    id: &str,
    flash: Option<(&'static str, String)>,
) -> Result<Html<String>, PageError> {
    let c = ctx(state, principal, headers);
    let cpts = app::load_cpts(&c, id, app::Need::Accounts).await?;
    let accounts = app::list_accounts(&c, Some(id)).await?;
    let chrome = Chrome::for_user(principal, "Comptes", Some(cpts.name.clone()), &format!("/cpts/{id}/comptes"))
        .with_flash(flash);
    let platform = authorize(principal.role(), Action::AdministerPlatform).is_ok();
    Ok(Html(render(&AccountsPage {
        chrome,
        cpts_name: Some(cpts.name),
        accounts,
        action_base: format!("/cpts/{id}/comptes"),
        self_id: principal.account.id.clone(),
        roles: grantable_roles(false),
        platform,
        cpts_choices: Vec::new(),
        region_choices: Vec::new(),
    })))
}

#[derive(Deserialize)]
pub struct NewAccountForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub email: String,
    pub role: String,
    #[serde(default)]
    pub cpts: String,
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub agency: String,
    #[serde(default)]
    pub password: String,
}

impl CsrfField for NewAccountForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

impl NewAccountForm {
    /// Creates the account the form describes; a refusal the person can fix becomes an error
    /// message to show, anything else an error page.
    pub async fn create(&self, c: &Ctx<'_>, cpts: Option<&CptsId>) -> Result<(&'static str, String), PageError> {
        let result = match self.role(cpts) {
            Ok(role) => {
                let request = app::AccountRequest {
                    email: self.email.clone(),
                    display_name: self.display_name.clone(),
                    password: Some(self.password.clone()),
                    role,
                };
                app::create_account(c, request).await
            }
            Err(e) => Err(e),
        };
        match result {
            Ok(a) => Ok(("succes", format!("Compte créé pour {}.", a.display_name))),
            Err(Failure::Invalid { fr, .. } | Failure::Conflict { fr, .. }) => Ok(("erreur", fr)),
            Err(e) => Err(e.into()),
        }
    }

    /// The role the form describes; `cpts` forces the CPTS (a coordinator's own page).
    pub fn role(&self, cpts: Option<&CptsId>) -> Result<Role, Failure> {
        Ok(Role::from_text(&self.role, Some(&self.cpts), Some(&self.region), Some(&self.agency), cpts)?)
    }
}

/// `POST /cpts/{id}/comptes`
pub async fn create_account(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<NewAccountForm>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    let cpts = app::load_cpts(&c, &id, app::Need::Accounts).await?;
    let flash = form.create(&c, Some(&cpts.id)).await?;
    Ok(accounts_page(&state, &principal, &headers, &id, Some(flash)).await?.into_response())
}

#[derive(Deserialize)]
pub struct AccountChangeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    disabled: Option<bool>,
}

impl CsrfField for AccountChangeForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /cpts/{id}/comptes/{account}`: disable or re-enable.
pub async fn change_account(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((id, account)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<AccountChangeForm>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    app::load_cpts(&c, &id, app::Need::Accounts).await?;
    let flash = match app::update_account(&c, &account, None, form.disabled).await {
        Ok(a) => {
            ("succes", format!("Compte de {} {}.", a.display_name, if a.disabled { "désactivé" } else { "réactivé" }))
        }
        Err(Failure::Invalid { fr, .. }) => ("erreur", fr),
        Err(e) => return Err(e.into()),
    };
    Ok(accounts_page(&state, &principal, &headers, &id, Some(flash)).await?.into_response())
}

/// `GET /`: each role's home.
pub async fn root(crate::auth::MaybePrincipal(principal): crate::auth::MaybePrincipal) -> Redirect {
    match principal {
        Some(p) => Redirect::to(&super::home_of(&p)),
        None => Redirect::to("/connexion"),
    }
}
