//! Platform administration: CPTS, accounts and roles, the platform's audit log.

use super::cpts::{NewAccountForm, csv_response, ctx, journal_response};
use super::{AccountEditPage, AccountsPage, AdminPage, Chrome, grantable_roles, render};
use crate::app;
use crate::auth::{CsrfField, CsrfForm, Principal};
use crate::error::{Failure, PageError};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};
use maillage_core::access::Action;
use serde::Deserialize;

/// `GET /admin`
pub async fn home(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
) -> Result<Html<String>, PageError> {
    admin_page(&state, &principal, &headers, None, String::new(), String::new()).await
}

async fn admin_page(
    state: &AppState,
    principal: &Principal,
    headers: &HeaderMap,
    flash: Option<(&'static str, String)>,
    form_name: String,
    form_communes: String,
) -> Result<Html<String>, PageError> {
    let c = ctx(state, principal, headers);
    c.allow(Action::AdministerPlatform)?;
    let rows = app::visible_cpts(&c).await?;
    let chrome = Chrome::for_user(principal, "Administration", None, "/admin").with_flash(flash);
    Ok(Html(render(&AdminPage { chrome, rows, form_name, form_communes })))
}

#[derive(Deserialize)]
pub struct NewCptsForm {
    #[serde(default)]
    csrf: String,
    name: String,
    communes: String,
}

impl CsrfField for NewCptsForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /admin/cpts`
pub async fn create_cpts(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<NewCptsForm>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    match app::create_cpts(&c, &form.name, &form.communes).await {
        Ok(cpts) => Ok(admin_page(
            &state,
            &principal,
            &headers,
            Some(("succes", format!("CPTS « {} » créée.", cpts.name))),
            String::new(),
            String::new(),
        )
        .await?
        .into_response()),
        Err(Failure::Invalid { fr, .. } | Failure::Conflict { fr, .. }) => {
            let page = admin_page(&state, &principal, &headers, Some(("erreur", fr)), form.name, form.communes).await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// Every CPTS by name, for the account forms (admins only reach them): names, no territory.
async fn cpts_choices(state: &AppState) -> Result<Vec<(String, String)>, PageError> {
    let list = maillage_store::CptsStore::list_cpts(&state.store).await?;
    Ok(list.into_iter().map(|c| (c.id.to_string(), c.name)).collect())
}

/// `GET /admin/comptes`
pub async fn accounts(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
) -> Result<Html<String>, PageError> {
    accounts_page(&state, &principal, &headers, None).await
}

async fn accounts_page(
    state: &AppState,
    principal: &Principal,
    headers: &HeaderMap,
    flash: Option<(&'static str, String)>,
) -> Result<Html<String>, PageError> {
    let c = ctx(state, principal, headers);
    let accounts = app::list_accounts(&c, None).await?;
    let cpts_choices = cpts_choices(state).await?;
    let region_choices =
        state.reference.regions().iter().map(|r| (r.code.clone(), format!("{} — {}", r.code, r.name))).collect();
    let chrome = Chrome::for_user(principal, "Comptes et rôles", None, "/admin/comptes").with_flash(flash);
    Ok(Html(render(&AccountsPage {
        chrome,
        cpts_name: None,
        accounts,
        action_base: "/admin/comptes".into(),
        self_id: principal.account.id.clone(),
        roles: grantable_roles(true),
        platform: true,
        cpts_choices,
        region_choices,
    })))
}

/// `POST /admin/comptes`
pub async fn create_account(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<NewAccountForm>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    c.allow(Action::AdministerPlatform)?;
    let flash = form.create(&c, None).await?;
    Ok(accounts_page(&state, &principal, &headers, Some(flash)).await?.into_response())
}

#[derive(Deserialize)]
pub struct ChangeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    disabled: Option<bool>,
}

impl CsrfField for ChangeForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /admin/comptes/{account}`
pub async fn change_account(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(account): Path<String>,
    CsrfForm(form): CsrfForm<ChangeForm>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    c.allow(Action::AdministerPlatform)?;
    let flash = match app::update_account(&c, &account, None, form.disabled).await {
        Ok(a) => {
            ("succes", format!("Compte de {} {}.", a.display_name, if a.disabled { "désactivé" } else { "réactivé" }))
        }
        Err(Failure::Invalid { fr, .. }) => ("erreur", fr),
        Err(e) => return Err(e.into()),
    };
    Ok(accounts_page(&state, &principal, &headers, Some(flash)).await?.into_response())
}

#[derive(Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    page: u32,
}

/// `GET /admin/journal`
pub async fn journal(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Result<Html<String>, PageError> {
    let c = ctx(&state, &principal, &headers);
    journal_response(&c, None, None, "/admin/journal".into(), q.page, &headers).await
}

/// `GET /admin/journal.csv`
pub async fn journal_csv(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    let events = app::audit_export(&c, None).await?;
    Ok(csv_response(app::audit_csv(&events), "journal-plateforme.csv"))
}

/// `GET /admin/comptes/{account}`: one account, with its role form.
pub async fn edit_account(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(account): Path<String>,
) -> Result<Html<String>, PageError> {
    edit_page(&state, &principal, &headers, &account, None).await
}

async fn edit_page(
    state: &AppState,
    principal: &Principal,
    headers: &HeaderMap,
    account_id: &str,
    flash: Option<(&'static str, String)>,
) -> Result<Html<String>, PageError> {
    let c = ctx(state, principal, headers);
    c.allow(Action::AdministerPlatform)?;
    let account = maillage_store::AccountStore::get_account(&state.store, account_id).await?;
    c.audit(account.role.cpts(), "read", "account", &account.id, "").await?;
    let cpts_choices = cpts_choices(state).await?;
    let region_choices =
        state.reference.regions().iter().map(|r| (r.code.clone(), format!("{} — {}", r.code, r.name))).collect();
    let chrome = Chrome::for_user(principal, format!("Compte — {}", account.display_name), None, "/admin/comptes")
        .with_flash(flash);
    Ok(Html(render(&AccountEditPage {
        chrome,
        account: app::AccountView::from(&account),
        roles: grantable_roles(true),
        cpts_choices,
        region_choices,
    })))
}

/// `POST /admin/comptes/{account}/role`
pub async fn change_role(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(account): Path<String>,
    CsrfForm(form): CsrfForm<NewAccountForm>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    c.allow(Action::AdministerPlatform)?;
    let result = match form.role(None) {
        Ok(role) => app::update_account(&c, &account, Some(role), None).await,
        Err(e) => Err(e),
    };
    let flash = match result {
        Ok(a) => ("succes", format!("Rôle de {} : {}.", a.display_name, a.role_label)),
        Err(Failure::Invalid { fr, .. } | Failure::Conflict { fr, .. }) => ("erreur", fr),
        Err(e) => return Err(e.into()),
    };
    Ok(edit_page(&state, &principal, &headers, &account, Some(flash)).await?.into_response())
}
