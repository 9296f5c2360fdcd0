//! Same-day care, the coordination's pages (`app::snp_desk`): the SNP dashboard (indicators
//! with their charts, the SAS connection), the desk's requests, and the professionals'
//! subscribable calendar addresses.

use super::cpts::ctx;
use super::patients::FormErrors;
use super::snp_console::{DAYS, SlotRow, short_moment};
use super::{Chrome, capitalised, commune_name, fr_date, render};
use crate::app::snp::SlotSearch;
use crate::app::snp_desk as uc;
use crate::auth::{CsrfField, CsrfForm, Principal};
use crate::error::{Failure, PageError};
use crate::map::escape;
use crate::middleware::request_id;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{Datelike, NaiveDate};
use maillage_core::snp::requests::{Destination, RequestStatus, Tally, delay_fr};
use maillage_store::SnpRequest;
use serde::Deserialize;

/// `GET /calendrier/{token}.ics`: a professional's feed through her secret address — no login,
/// as calendar applications cannot log in. Unknown, revoked or malformed: 404.
pub async fn feed(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(file): Path<String>,
) -> Result<Response, PageError> {
    let token = file.strip_suffix(".ics").unwrap_or(&file);
    let ics = uc::feed_by_token(&state, &request_id(&headers), token).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            // The address is the secret: no shared cache may keep it.
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        ics,
    )
        .into_response())
}

// ---------------------------------------------------------------------------------------------
// Dashboard

/// Where the same-day care pages live.
pub fn snp_path(cpts: &str, page: &str) -> String {
    if page.is_empty() {
        format!("/cpts/{cpts}/soins-non-programmes")
    } else {
        format!("/cpts/{cpts}/soins-non-programmes/{page}")
    }
}

/// "12,5 %" from a percentage.
fn percent(p: Option<f64>) -> String {
    p.map_or_else(|| "—".into(), |v| format!("{v:.1} %").replace('.', ","))
}

/// One row of a tally table.
pub struct TallyRow {
    pub label: String,
    pub received: u64,
    pub within_24h: u64,
    pub share: String,
}

fn tally_row(label: String, t: &Tally) -> TallyRow {
    TallyRow { label, received: t.received, within_24h: t.within_24h, share: percent(t.share()) }
}

/// A label and a count.
pub struct CountRow {
    pub label: String,
    pub count: u64,
}

/// Two series as grouped bars (received, handled within 24 hours), one group per label, each
/// bar with its title; no inline style (the CSP forbids it), classes from maillage.css.
fn bars_chart(id: &str, title: &str, rows: &[TallyRow], label_every: usize) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let (left, top, plot_h) = (40u64, 10u64, 160u64);
    let col_w: u64 = if rows.len() > 12 { 26 } else { 56 };
    let bar_w = col_w / 2 - 3;
    let max = rows.iter().map(|r| r.received).max().unwrap_or(0).max(1);
    let y = |v: u64| top + plot_h - v * plot_h / max;
    let width = left + col_w * rows.len() as u64 + 10;
    let height = top + plot_h + 50;
    let mut svg = format!(
        "<svg class=\"graphique\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-labelledby=\"{id}\" \
         xmlns=\"http://www.w3.org/2000/svg\"><title id=\"{id}\">{title}</title>\
         <text x=\"0\" y=\"{ty}\" class=\"valeur\">{max}</text>\
         <line x1=\"{left}\" y1=\"{base}\" x2=\"{width}\" y2=\"{base}\" class=\"axe\"/>",
        title = escape(title),
        ty = top + 8,
        base = top + plot_h,
    );
    for (i, r) in rows.iter().enumerate() {
        let x = left + i as u64 * col_w;
        let label = escape(&r.label);
        svg.push_str(&format!(
            "<rect x=\"{x1}\" y=\"{yr}\" width=\"{bar_w}\" height=\"{hr}\" class=\"barre-droit\"><title>{label} : {r} demande(s)</title></rect>\
             <rect x=\"{x2}\" y=\"{yd}\" width=\"{bar_w}\" height=\"{hd}\" class=\"barre-depense\"><title>{label} : {d} prise(s) en charge sous 24 h</title></rect>",
            x1 = x + 2,
            x2 = x + 2 + bar_w + 1,
            yr = y(r.received),
            hr = top + plot_h - y(r.received),
            yd = y(r.within_24h),
            hd = top + plot_h - y(r.within_24h),
            r = r.received,
            d = r.within_24h,
        ));
        if i % label_every.max(1) == 0 {
            svg.push_str(&format!(
                "<text x=\"{}\" y=\"{}\" class=\"etiquette\">{label}</text>",
                x + 2,
                top + plot_h + 16
            ));
        }
    }
    let ly = top + plot_h + 30;
    svg.push_str(&format!(
        "<rect x=\"{left}\" y=\"{ly}\" width=\"14\" height=\"10\" class=\"barre-droit\"/>\
         <text x=\"{x1}\" y=\"{ty}\" class=\"valeur\">demandes reçues</text>\
         <rect x=\"{x2}\" y=\"{ly}\" width=\"14\" height=\"10\" class=\"barre-depense\"/>\
         <text x=\"{x3}\" y=\"{ty}\" class=\"valeur\">prises en charge sous 24 h</text></svg>",
        x1 = left + 20,
        x2 = left + 150,
        x3 = left + 170,
        ty = ly + 10,
    ));
    svg
}

#[derive(Deserialize, Default)]
pub struct PeriodQuery {
    #[serde(default)]
    du: String,
    #[serde(default)]
    au: String,
}

fn date_param(field: &'static str, text: &str) -> Result<Option<NaiveDate>, Failure> {
    match text.trim() {
        "" => Ok(None),
        t => NaiveDate::parse_from_str(t, "%Y-%m-%d").map(Some).map_err(|_| {
            Failure::invalid(
                "invalid_period",
                format!("« {t} » n'est pas une date (AAAA-MM-JJ)."),
                format!("{field}: {t:?} is not a date"),
            )
        }),
    }
}

#[derive(Template)]
#[template(path = "snp_dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    console_href: String,
    action: String,
    from: String,
    to: String,
    period_fr: String,
    year_href: String,
    year: i32,
    received: u64,
    oriented: u64,
    oriented_share: String,
    booked: u64,
    reoriented: u64,
    abandoned: u64,
    waiting: u64,
    within_24h: u64,
    within_24h_share: String,
    median_delay: String,
    participating: usize,
    publishing: usize,
    weeks: Vec<TallyRow>,
    weeks_chart: String,
    weekdays: Vec<TallyRow>,
    weekdays_chart: String,
    hours: Vec<TallyRow>,
    hours_chart: String,
    professions: Vec<CountRow>,
    reasons: Vec<CountRow>,
    destinations: Vec<CountRow>,
    outcomes: Vec<CountRow>,
    operator: bool,
    fhir_url: String,
    finess: String,
    finess_action: String,
    errors: FormErrors,
}

#[allow(clippy::too_many_arguments)]
async fn dashboard_response(
    state: &AppState,
    principal: &Principal,
    headers: &HeaderMap,
    id: &str,
    query: &PeriodQuery,
    finess_form: Option<(String, FormErrors)>,
    flash: Option<(&'static str, String)>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let c = ctx(state, principal, headers);
    let d = uc::dashboard(&c, id, date_param("du", &query.du)?, date_param("au", &query.au)?).await?;
    let i = &d.indicators;
    let cpts = d.cpts.id.to_string();
    let weeks: Vec<TallyRow> =
        i.by_week.iter().map(|(monday, t)| tally_row(format!("{}", monday.format("%d/%m")), t)).collect();
    let weekdays: Vec<TallyRow> =
        i.by_weekday.iter().zip(DAYS).map(|(t, day)| tally_row(capitalised(day), t)).collect();
    let hours: Vec<TallyRow> = i.by_hour.iter().enumerate().map(|(h, t)| tally_row(format!("{h} h"), t)).collect();
    let counts = |list: Vec<(String, u64)>| list.into_iter().map(|(label, count)| CountRow { label, count }).collect();
    let o = i.outcomes;
    let today = maillage_core::snp::requests::paris_day(state.now());
    let year = today.year();
    let (finess, errors) = finess_form
        .unwrap_or_else(|| (d.cpts.finess.map(|f| f.to_string()).unwrap_or_default(), FormErrors::default()));
    let page = DashboardPage {
        chrome: Chrome::for_user(
            principal,
            format!("Soins non programmés : tableau de bord — {}", d.cpts.name),
            Some(d.cpts.name.clone()),
            &snp_path(&cpts, ""),
        )
        .with_flash(flash),
        console_href: snp_path(&cpts, ""),
        action: snp_path(&cpts, "tableau-de-bord"),
        from: i.from.to_string(),
        to: i.to.to_string(),
        period_fr: format!("du {} au {}", fr_date(i.from), fr_date(i.to)),
        year_href: format!("{}?du={year}-01-01&au={today}", snp_path(&cpts, "tableau-de-bord")),
        year,
        received: i.received,
        oriented: i.oriented,
        oriented_share: percent((i.received > 0).then(|| 100.0 * i.oriented as f64 / i.received as f64)),
        booked: i.booked,
        reoriented: i.reoriented,
        abandoned: i.abandoned,
        waiting: i.waiting,
        within_24h: i.within_24h,
        within_24h_share: percent(i.within_24h_share),
        median_delay: i.median_delay_minutes.map_or_else(|| "—".into(), delay_fr),
        participating: d.participating,
        publishing: d.publishing,
        weeks_chart: bars_chart(
            "graphique-semaines",
            "Demandes reçues et prises en charge sous 24 h, par semaine",
            &weeks,
            if weeks.len() > 14 { 4 } else { 1 },
        ),
        weekdays_chart: bars_chart("graphique-jours", "Demandes par jour de la semaine de l'appel", &weekdays, 1),
        hours_chart: bars_chart("graphique-heures", "Demandes par heure de l'appel", &hours, 3),
        weeks,
        weekdays,
        hours,
        professions: counts(d.by_profession.iter().map(|(_, label, n)| (label.clone(), *n)).collect()),
        reasons: counts(i.by_reason.iter().map(|(r, n)| (r.fr().to_owned(), *n)).collect()),
        destinations: counts(i.by_destination.iter().map(|(x, n)| (x.fr().to_owned(), *n)).collect()),
        outcomes: counts(vec![
            ("Vu".into(), o.seen),
            ("Absent (non venu)".into(), o.no_show),
            ("Réorienté vers les urgences".into(), o.emergency),
            ("Autre".into(), o.other),
            ("Issue non renseignée".into(), o.unrecorded),
        ]),
        operator: d.operator,
        fhir_url: format!("{}/api/v1/cpts/{cpts}/fhir", state.settings.public_url.trim_end_matches('/')),
        finess,
        finess_action: snp_path(&cpts, "tableau-de-bord/finess"),
        errors,
    };
    Ok((status, Html(render(&page))).into_response())
}

/// `GET /cpts/{id}/soins-non-programmes/tableau-de-bord?du=…&au=…`
pub async fn dashboard(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<PeriodQuery>,
) -> Result<Response, PageError> {
    dashboard_response(&state, &principal, &headers, &id, &query, None, None, StatusCode::OK).await
}

#[derive(Deserialize, Default)]
pub struct FinessFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    finess: String,
}

impl CsrfField for FinessFields {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /cpts/{id}/soins-non-programmes/tableau-de-bord/finess`
pub async fn save_finess(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<FinessFields>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    let query = PeriodQuery::default();
    match uc::set_finess(&c, &id, &f.finess).await {
        Ok(cpts) => {
            let flash = match cpts.finess {
                Some(finess) => format!("FINESS {finess} enregistré : le SAS identifie la CPTS par « 1{finess} »."),
                None => "FINESS effacé.".to_owned(),
            };
            dashboard_response(&state, &principal, &headers, &id, &query, None, Some(("succes", flash)), StatusCode::OK)
                .await
        }
        Err(e @ Failure::Invalid { .. }) => {
            let flash = Some(("erreur", "Le FINESS n'est pas enregistré : corrigez le numéro.".into()));
            let shown = Some((f.finess, FormErrors::of(&e)));
            dashboard_response(&state, &principal, &headers, &id, &query, shown, flash, e.status()).await
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// The desk's waiting requests

/// A waiting request as the desk lists it.
pub struct RequestRow {
    pub id: String,
    pub href: String,
    pub received: String,
    pub reason: &'static str,
    pub commune: String,
    pub contact: String,
    pub referrer: &'static str,
    pub note: String,
    pub close_action: String,
    /// `En attente`, `Réorientée : Pharmacie`…
    pub status: String,
    pub waiting: bool,
}

fn request_row(state: &AppState, cpts: &str, r: &SnpRequest) -> RequestRow {
    let contact = [r.phone.as_deref(), r.email.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" · ");
    RequestRow {
        id: r.id.clone(),
        href: snp_path(cpts, &format!("demandes/{}", r.id)),
        received: short_moment(r.received_at),
        reason: r.reason.fr(),
        commune: commune_name(state, r.commune.as_str()),
        contact,
        referrer: r.referrer.fr(),
        note: r.note.clone().unwrap_or_default(),
        close_action: snp_path(cpts, &format!("demandes/{}/clore", r.id)),
        status: match r.destination {
            Some(d) => format!("{} : {}", r.status.fr(), d.fr()),
            None => r.status.fr().to_owned(),
        },
        waiting: r.status == RequestStatus::EnAttente,
    }
}

/// What a request can be closed with (the close forms and the console's « sans créneau »).
pub struct ClosureOption {
    pub code: &'static str,
    pub label: &'static str,
}

/// Each destination and « abandonnée »; first « en attente » when the request is new.
pub fn closure_options(with_waiting: bool) -> Vec<ClosureOption> {
    let waiting = ClosureOption { code: "en_attente", label: "En attente : à rappeler" };
    with_waiting
        .then_some(waiting)
        .into_iter()
        .chain(Destination::ALL.iter().map(|d| ClosureOption { code: d.code(), label: d.fr() }))
        .chain(std::iter::once(ClosureOption {
            code: "abandonnee",
            label: "Abandonnée (patient injoignable, a renoncé)",
        }))
        .collect()
}

#[derive(Template)]
#[template(path = "snp_requests.html")]
struct RequestsPage {
    chrome: Chrome,
    console_href: String,
    dashboard_href: String,
    rows: Vec<RequestRow>,
    /// The list stops at [`uc::WAITING_SHOWN`]: more may wait.
    truncated: bool,
    destinations: Vec<ClosureOption>,
}

/// `GET /cpts/{id}/soins-non-programmes/demandes`: the requests waiting for an orientation.
pub async fn waiting(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    waiting_response(&state, &principal, &headers, &id, None, StatusCode::OK).await
}

async fn waiting_response(
    state: &AppState,
    principal: &Principal,
    headers: &HeaderMap,
    id: &str,
    flash: Option<(&'static str, String)>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let c = ctx(state, principal, headers);
    let (cpts, list) = uc::waiting(&c, id).await?;
    let key = cpts.id.to_string();
    let page = RequestsPage {
        chrome: Chrome::for_user(
            principal,
            format!("Demandes en attente — {}", cpts.name),
            Some(cpts.name.clone()),
            &snp_path(&key, ""),
        )
        .with_flash(flash),
        console_href: snp_path(&key, ""),
        dashboard_href: snp_path(&key, "tableau-de-bord"),
        truncated: list.len() >= uc::WAITING_SHOWN as usize,
        rows: list.iter().map(|r| request_row(state, &key, r)).collect(),
        destinations: closure_options(false),
    };
    Ok((status, Html(render(&page))).into_response())
}

#[derive(Template)]
#[template(path = "snp_request.html")]
struct RequestPage {
    chrome: Chrome,
    console_href: String,
    waiting_href: String,
    request: RequestRow,
    offers: Vec<SlotRow>,
    book_action: String,
    destinations: Vec<ClosureOption>,
}

/// `GET /cpts/{id}/soins-non-programmes/demandes/{rid}`: a waiting request and the best free
/// slots near its commune in the next 24 hours, to book one or close it.
pub async fn show(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((id, rid)): Path<(String, String)>,
) -> Result<Response, PageError> {
    show_response(&state, &principal, &headers, &id, &rid, None, StatusCode::OK).await
}

async fn show_response(
    state: &AppState,
    principal: &Principal,
    headers: &HeaderMap,
    id: &str,
    rid: &str,
    flash: Option<(&'static str, String)>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let c = ctx(state, principal, headers);
    let request = uc::request(&c, id, rid).await?;
    let search = SlotSearch { commune: request.commune.as_str().to_owned(), ..SlotSearch::default() };
    let (cpts, hits) = crate::app::snp::search(&c, id, &search).await?;
    let key = cpts.id.to_string();
    let offers = if request.status == RequestStatus::EnAttente {
        hits.iter().enumerate().map(|(i, v)| SlotRow::new(i + 1, v)).collect()
    } else {
        Vec::new()
    };
    let page = RequestPage {
        chrome: Chrome::for_user(
            principal,
            format!("Demande en attente — {}", cpts.name),
            Some(cpts.name.clone()),
            &snp_path(&key, ""),
        )
        .with_flash(flash),
        console_href: snp_path(&key, ""),
        waiting_href: snp_path(&key, "demandes"),
        book_action: snp_path(&key, &format!("demandes/{}/reserver", request.id)),
        request: request_row(state, &key, &request),
        offers,
        destinations: closure_options(false),
    };
    Ok((status, Html(render(&page))).into_response())
}

#[derive(Deserialize, Default)]
pub struct BookFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    creneau: String,
}

impl CsrfField for BookFields {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /cpts/{id}/soins-non-programmes/demandes/{rid}/reserver`: books the slot for the
/// waiting request, then shows the booking's confirmation (the console's page).
pub async fn book(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((id, rid)): Path<(String, String)>,
    CsrfForm(f): CsrfForm<BookFields>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    match uc::book_request(&c, &id, &rid, &f.creneau).await {
        Ok(booked) => {
            let to = snp_path(&id, &format!("reservations/{}/confirmation", booked.view.booking.id));
            Ok(Redirect::to(&to).into_response())
        }
        Err(e @ (Failure::Conflict { .. } | Failure::Invalid { .. })) => {
            let flash = Some(("erreur", e.fr()));
            show_response(&state, &principal, &headers, &id, &rid, flash, e.status()).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
pub struct CloseFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    destination: String,
}

impl CsrfField for CloseFields {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /cpts/{id}/soins-non-programmes/demandes/{rid}/clore`
pub async fn close(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((id, rid)): Path<(String, String)>,
    CsrfForm(f): CsrfForm<CloseFields>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    match uc::close_request(&c, &id, &rid, &f.destination).await {
        Ok(r) => {
            let what = r.destination.map_or_else(|| "abandonnée".to_owned(), |d| format!("orientée : {}", d.fr()));
            let flash = Some(("succes", format!("Demande close ({what}).")));
            waiting_response(&state, &principal, &headers, &id, flash, StatusCode::OK).await
        }
        Err(e @ (Failure::Conflict { .. } | Failure::Invalid { .. })) => {
            let flash = Some(("erreur", e.fr()));
            waiting_response(&state, &principal, &headers, &id, flash, e.status()).await
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// Calendar subscription from the agenda

#[derive(Deserialize, Default)]
pub struct SubscribeFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    professionnel: String,
    /// `nouvelle` or `revoquer`.
    #[serde(default)]
    action: String,
}

impl CsrfField for SubscribeFields {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

#[derive(Template)]
#[template(path = "snp_subscription.html")]
struct SubscriptionPage {
    chrome: Chrome,
    agenda_href: String,
    /// The full secret address, shown once; empty after a revocation.
    url: String,
}

/// `POST /cpts/{id}/soins-non-programmes/agenda/abonnement`: a new secret calendar address
/// (shown once), or the current one revoked.
pub async fn subscribe(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<SubscribeFields>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    let who = Some(f.professionnel.as_str()).filter(|p| !p.trim().is_empty());
    let url = match f.action.trim() {
        "revoquer" => {
            uc::revoke_feed_token(&c, &id, who).await?;
            String::new()
        }
        _ => format!("{}{}", state.settings.public_url.trim_end_matches('/'), uc::new_feed_token(&c, &id, who).await?),
    };
    let cpts = crate::app::snp::open(&c, &id).await?.0;
    let agenda = snp_path(cpts.id.as_str(), "agenda");
    let agenda_href = match who {
        Some(p) => format!("{agenda}?professionnel={}", p.trim()),
        None => agenda,
    };
    let page = SubscriptionPage {
        chrome: Chrome::for_user(
            &principal,
            format!("Abonnement au calendrier — {}", cpts.name),
            Some(cpts.name.clone()),
            &agenda_href,
        ),
        agenda_href,
        url,
    };
    let mut response = Html(render(&page)).into_response();
    // The page shows a secret: no cache may keep it.
    response.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    Ok(response)
}
