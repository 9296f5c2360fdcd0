//! The national and regional views: aggregates of the CPTS in scope, no personal data.

use super::cpts::ctx;
use super::{Chrome, ObservatoryPage, render};
use crate::app;
use crate::auth::Principal;
use crate::error::{Failure, PageError};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Html;
use maillage_core::access::Action;

/// `GET /national`
pub async fn national(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
) -> Result<Html<String>, PageError> {
    let c = ctx(&state, &principal, &headers);
    c.allow(Action::ViewNation)?;
    let rows = app::visible_cpts(&c).await?;
    let population = state
        .reference
        .communes()
        .iter()
        .filter(|c| c.kind == maillage_core::refdata::CommuneKind::Commune)
        .map(|c| u64::from(c.population))
        .sum();
    let covered = rows.iter().map(|r| r.population).sum();
    let chrome = Chrome::for_user(&principal, "Observatoire national", None, "/national");
    Ok(Html(render(&ObservatoryPage {
        chrome,
        heading: "Observatoire national des CPTS".into(),
        scope_label: "en France (métropole et DROM)".into(),
        rows,
        covered,
        population,
    })))
}

/// `GET /region/{code}`
pub async fn region(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> Result<Html<String>, PageError> {
    let c = ctx(&state, &principal, &headers);
    let region = state.reference.region(&code).ok_or(Failure::NotFound)?;
    c.allow(Action::ViewRegion(&region.code))?;
    let rows: Vec<_> = app::visible_cpts(&c).await?.into_iter().filter(|r| r.regions.contains(&region.code)).collect();
    let population = state
        .reference
        .communes()
        .iter()
        .filter(|c| c.kind == maillage_core::refdata::CommuneKind::Commune && c.region == region.code)
        .map(|c| u64::from(c.population))
        .sum();
    let covered = rows.iter().map(|r| r.population).sum();
    let chrome = Chrome::for_user(
        &principal,
        format!("Observatoire — {}", region.name),
        Some(region.name.clone()),
        &format!("/region/{}", region.code),
    );
    Ok(Html(render(&ObservatoryPage {
        chrome,
        heading: format!("Observatoire régional — {}", region.name),
        scope_label: format!("en {}", region.name),
        rows,
        covered,
        population,
    })))
}
