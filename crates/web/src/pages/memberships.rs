//! The roll of members (`/cpts/{id}/adhesions`, coordinator and board): every membership of a
//! professional or a structure, filtered by state and dues, dues recorded for many members in
//! one form (the yearly call for dues), and a CSV of the roll for the treasurer.

use super::cpts::ctx;
use super::directory::{form_date, membership_status_fr};
use super::structures::structure_kind_fr;
use super::{Chrome, fr_date, render};
use crate::app::structures::{self as uc, DuesState};
use crate::auth::{CsrfField, CsrfForm, Principal};
use crate::error::{Failure, PageError};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use chrono::{Datelike, NaiveDate};
use maillage_core::directory::model::MembershipStatus;
use maillage_store::{MemberRef, RollEntry};
use serde::Deserialize;

#[derive(Deserialize, Default, Clone)]
pub struct RollQuery {
    /// `active` (default), `suspended`, `left` or `tous`.
    #[serde(default)]
    etat: String,
    /// `a-jour`, `en-retard`, `non-renseignee` or empty.
    #[serde(default)]
    cotisation: String,
    /// `professionnels`, `structures` or empty.
    #[serde(default, rename = "type")]
    kind: String,
}

impl RollQuery {
    fn status(&self) -> Option<MembershipStatus> {
        match self.etat.as_str() {
            "tous" => None,
            "suspended" => Some(MembershipStatus::Suspended),
            "left" => Some(MembershipStatus::Left),
            _ => Some(MembershipStatus::Active),
        }
    }

    fn keeps(&self, e: &RollEntry, today: NaiveDate) -> bool {
        self.status().is_none_or(|s| e.membership.status == s)
            && (self.cotisation.is_empty() || DuesState::of(&e.membership, today).code() == self.cotisation)
            && match self.kind.as_str() {
                "professionnels" => matches!(e.member, MemberRef::Professional(_)),
                "structures" => matches!(e.member, MemberRef::Structure(_)),
                _ => true,
            }
    }
}

pub struct RollRow {
    pub key: String,
    pub href: String,
    pub name: String,
    pub kind: &'static str,
    pub detail: String,
    pub status: &'static str,
    pub joined_on: String,
    pub dues_until: String,
    pub dues_state: &'static str,
    pub dues_code: &'static str,
    pub roles: String,
}

pub struct Count {
    pub label: &'static str,
    pub value: usize,
}

#[derive(Template)]
#[template(path = "memberships.html")]
pub struct RollPage {
    pub chrome: Chrome,
    pub cpts_id: String,
    pub cpts_name: String,
    pub query: RollQuery,
    pub rows: Vec<RollRow>,
    pub counts: Vec<Count>,
    pub csv_href: String,
    /// Default date of the dues form: 31 December of this year.
    pub dues_default: String,
}

fn roles(e: &RollEntry) -> String {
    let mut parts = Vec::new();
    if e.membership.profession_referent {
        parts.push("référent de sa profession".to_owned());
    }
    if let Some(r) = &e.membership.board_role {
        parts.push(format!("bureau : {r}"));
    }
    parts.join(" ; ")
}

fn row(cpts: &str, e: &RollEntry, today: NaiveDate) -> RollRow {
    let dues = DuesState::of(&e.membership, today);
    let (href, kind, detail) = match &e.member {
        MemberRef::Professional(nid) => (format!("/cpts/{cpts}/annuaire/{nid}"), "professionnel", e.detail.clone()),
        MemberRef::Structure(id) => {
            (format!("/cpts/{cpts}/structures/{id}"), "structure", structure_kind_fr(&e.detail))
        }
    };
    RollRow {
        key: e.member.key(),
        href,
        name: e.name.clone(),
        kind,
        detail,
        status: membership_status_fr(e.membership.status),
        joined_on: fr_date(e.membership.joined_on),
        dues_until: e.membership.dues_paid_until.map(fr_date).unwrap_or_default(),
        dues_state: dues.fr(),
        dues_code: dues.code(),
        roles: roles(e),
    }
}

fn query_string(q: &RollQuery) -> String {
    let mut parts = Vec::new();
    for (k, v) in [("etat", &q.etat), ("cotisation", &q.cotisation), ("type", &q.kind)] {
        if !v.is_empty() {
            parts.push(format!("{k}={}", super::directory::encode(v)));
        }
    }
    if parts.is_empty() { String::new() } else { format!("?{}", parts.join("&")) }
}

async fn roll_response(
    state: &AppState,
    principal: &Principal,
    headers: &HeaderMap,
    id: &str,
    q: RollQuery,
    flash: Option<(&'static str, String)>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let c = ctx(state, principal, headers);
    let (cpts, roll) = uc::roll(&c, id).await?;
    let today = state.now().date_naive();
    let active: Vec<&RollEntry> = roll.iter().filter(|e| e.membership.status == MembershipStatus::Active).collect();
    let counts = vec![
        Count { label: "Adhésions actives", value: active.len() },
        Count {
            label: "dont professionnels",
            value: active.iter().filter(|e| matches!(e.member, MemberRef::Professional(_))).count(),
        },
        Count {
            label: "dont structures",
            value: active.iter().filter(|e| matches!(e.member, MemberRef::Structure(_))).count(),
        },
        Count {
            label: "Cotisations à jour",
            value: active.iter().filter(|e| DuesState::of(&e.membership, today) == DuesState::UpToDate).count(),
        },
        Count {
            label: "Cotisations à renouveler ou non renseignées",
            value: active.iter().filter(|e| DuesState::of(&e.membership, today) != DuesState::UpToDate).count(),
        },
    ];
    let rows = roll.iter().filter(|e| q.keeps(e, today)).map(|e| row(cpts.id.as_str(), e, today)).collect();
    let chrome = Chrome::for_user(
        principal,
        format!("Adhésions — {}", cpts.name),
        Some(cpts.name.clone()),
        &format!("/cpts/{}/annuaire", cpts.id),
    )
    .with_flash(flash);
    let page = RollPage {
        chrome,
        cpts_id: cpts.id.to_string(),
        cpts_name: cpts.name.clone(),
        csv_href: format!("/cpts/{}/adhesions.csv{}", cpts.id, query_string(&q)),
        query: q,
        rows,
        counts,
        dues_default: NaiveDate::from_ymd_opt(today.year(), 12, 31).unwrap_or(today).to_string(),
    };
    Ok((status, Html(render(&page))).into_response())
}

/// `GET /cpts/{id}/adhesions?etat=&cotisation=&type=`
pub async fn roll(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<RollQuery>,
) -> Result<Response, PageError> {
    roll_response(&state, &principal, &headers, &id, q, None, StatusCode::OK).await
}

/// `GET /cpts/{id}/adhesions.csv?…`: the filtered roll, UTF-8 with BOM (opens in spreadsheets).
pub async fn roll_csv(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<RollQuery>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    let (cpts, roll) = uc::roll(&c, &id).await?;
    let today = state.now().date_naive();
    let cell = crate::app::csv_cell;
    let mut out = String::from(
        "\u{feff}type,identifiant,nom,profession_ou_type,etat,adhesion_le,cotisation_jusqu_au,cotisation,roles\r\n",
    );
    for e in roll.iter().filter(|e| q.keeps(e, today)) {
        let r = row(cpts.id.as_str(), e, today);
        let id = match &e.member {
            MemberRef::Professional(nid) | MemberRef::Structure(nid) => nid.clone(),
        };
        let fields = [
            r.kind.to_owned(),
            id,
            r.name,
            r.detail,
            r.status.to_owned(),
            r.joined_on,
            r.dues_until,
            r.dues_state.to_owned(),
            r.roles,
        ];
        out.push_str(&fields.iter().map(|f| cell(f)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    let name = format!("adhesions-{}-{}.csv", cpts.id, today);
    let mut response = out.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

/// The dues form: the CSRF token, the date, and one `membre` field per checked member (a
/// repeated field, hence pairs rather than a struct).
#[derive(Deserialize)]
#[serde(transparent)]
pub struct DuesForm(Vec<(String, String)>);

impl DuesForm {
    fn get(&self, name: &str) -> &str {
        self.0.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
    }

    fn members(&self) -> Vec<String> {
        self.0.iter().filter(|(k, _)| k == "membre").map(|(_, v)| v.clone()).collect()
    }
}

impl CsrfField for DuesForm {
    fn csrf(&self) -> &str {
        self.get("csrf")
    }
}

/// `POST /cpts/{id}/adhesions/cotisations`: dues paid until a date for the checked members.
pub async fn record_dues(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<RollQuery>,
    CsrfForm(f): CsrfForm<DuesForm>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    let outcome = async {
        let until = form_date(f.get("jusqu_au"), "Cotisation payée jusqu'au")?;
        let n = uc::record_dues(&c, &id, &f.members(), until).await?;
        let until = until.map(fr_date).unwrap_or_default();
        Ok::<_, Failure>(if n == 1 {
            format!("Cotisation enregistrée jusqu'au {until} pour 1 adhérent.")
        } else {
            format!("Cotisation enregistrée jusqu'au {until} pour {n} adhérents.")
        })
    }
    .await;
    match outcome {
        Ok(m) => roll_response(&state, &principal, &headers, &id, q, Some(("succes", m)), StatusCode::OK).await,
        Err(e @ Failure::Invalid { .. }) => {
            let status = e.status();
            roll_response(&state, &principal, &headers, &id, q, Some(("erreur", e.fr())), status).await
        }
        Err(e) => Err(e.into()),
    }
}
