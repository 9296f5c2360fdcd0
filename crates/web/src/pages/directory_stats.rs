//! `/cpts/{id}/annuaire/statistiques`: members by profession (count and share, as in the
//! national figures), the share of the territory's professionals who are members, by commune,
//! and densities per 10,000 inhabitants against the département. Aggregates only.

use super::cpts::ctx;
use super::{Chrome, fr_int, fr_percent, render};
use crate::app::directory as uc;
use crate::auth::Principal;
use crate::error::PageError;
use crate::map::escape;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Html;
use maillage_core::aci::Rate;
use maillage_core::directory::stats::DirectoryStats;

pub struct CategoryRow {
    pub label: String,
    pub professionals: String,
    pub members: String,
    pub share_of_members: String,
    pub member_rate: String,
    pub density: String,
    pub departement_density: String,
}

pub struct CommuneRow {
    pub name: String,
    pub code: String,
    pub population: String,
    pub professionals: String,
    pub members: String,
    pub member_rate: String,
}

#[derive(Template)]
#[template(path = "directory_stats.html")]
pub struct StatsPage {
    pub chrome: Chrome,
    pub cpts_id: String,
    pub cpts_name: String,
    pub professionals: String,
    pub members: String,
    pub member_rate: String,
    pub population: String,
    pub departements: String,
    pub has_counts: bool,
    pub categories: Vec<CategoryRow>,
    pub communes: Vec<CommuneRow>,
    pub chart: String,
}

/// `12,5 %`.
fn pct(r: Option<Rate>) -> String {
    r.map_or_else(|| "—".into(), |r| fr_percent(r, 1))
}

/// `12,3` from tenths.
fn tenths(v: Option<u64>) -> String {
    v.map_or_else(|| "—".into(), |t| format!("{},{}", t / 10, t % 10))
}

/// Members and other professionals per category, as stacked horizontal bars.
fn chart(stats: &DirectoryStats) -> String {
    let rows: Vec<_> = stats.by_category.iter().take(15).collect();
    if rows.is_empty() {
        return String::new();
    }
    let max = rows.iter().map(|c| c.professionals).max().unwrap_or(1).max(1);
    let (label_w, bar_w, row_h) = (260u64, 360u64, 24u64);
    let height = row_h * rows.len() as u64 + 30;
    let mut svg = format!(
        "<svg class=\"graphique\" viewBox=\"0 0 {} {height}\" role=\"img\" aria-labelledby=\"titre-graphique-annuaire\" \
         xmlns=\"http://www.w3.org/2000/svg\"><title id=\"titre-graphique-annuaire\">Adhérents et non-adhérents par \
         profession</title>",
        label_w + bar_w + 90
    );
    for (i, c) in rows.iter().enumerate() {
        let y = i as u64 * row_h;
        let all = c.professionals * bar_w / max;
        let members = c.members * bar_w / max;
        svg.push_str(&format!(
            "<text x=\"0\" y=\"{ty}\" class=\"etiquette\">{label}</text>\
             <rect x=\"{label_w}\" y=\"{y1}\" width=\"{all}\" height=\"16\" class=\"barre-droit\"><title>{p} professionnels</title></rect>\
             <rect x=\"{label_w}\" y=\"{y1}\" width=\"{members}\" height=\"16\" class=\"barre-depense\"><title>{m} adhérents</title></rect>\
             <text x=\"{xt}\" y=\"{ty}\" class=\"valeur\">{m} / {p}</text>",
            ty = y + 15,
            label = escape(&c.label),
            y1 = y + 3,
            p = c.professionals,
            m = c.members,
            xt = label_w + all + 6,
        ));
    }
    let ly = row_h * rows.len() as u64 + 10;
    svg.push_str(&format!(
        "<rect x=\"{label_w}\" y=\"{ly}\" width=\"14\" height=\"10\" class=\"barre-depense\"/>\
         <text x=\"{x1}\" y=\"{ty}\" class=\"valeur\">adhérents</text>\
         <rect x=\"{x2}\" y=\"{ly}\" width=\"14\" height=\"10\" class=\"barre-droit\"/>\
         <text x=\"{x3}\" y=\"{ty}\" class=\"valeur\">professionnels du territoire</text></svg>",
        x1 = label_w + 20,
        ty = ly + 10,
        x2 = label_w + 110,
        x3 = label_w + 130,
    ));
    svg
}

/// `GET /cpts/{id}/annuaire/statistiques`
pub async fn stats(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Html<String>, PageError> {
    let c = ctx(&state, &principal, &headers);
    let (cpts, s) = uc::stats(&c, &id).await?;
    let chrome = Chrome::for_user(
        &principal,
        format!("Statistiques de l'annuaire — {}", cpts.name),
        Some(cpts.name.clone()),
        &format!("/cpts/{}/annuaire", cpts.id),
    );
    let page = StatsPage {
        chrome,
        cpts_id: cpts.id.to_string(),
        cpts_name: cpts.name.clone(),
        professionals: fr_int(&s.professionals),
        members: fr_int(&s.members),
        member_rate: pct(s.member_rate),
        population: fr_int(&s.population),
        departements: s.departements.join(", "),
        has_counts: s.by_category.iter().any(|c| c.departement_density_tenths.is_some()),
        categories: s
            .by_category
            .iter()
            .map(|c| CategoryRow {
                label: c.label.clone(),
                professionals: fr_int(&c.professionals),
                members: fr_int(&c.members),
                share_of_members: pct(c.share_of_members),
                member_rate: pct(c.member_rate),
                density: tenths(c.density_tenths),
                departement_density: tenths(c.departement_density_tenths),
            })
            .collect(),
        communes: s
            .by_commune
            .iter()
            .map(|c| CommuneRow {
                name: c.name.clone(),
                code: c.code.clone(),
                population: fr_int(&c.population),
                professionals: fr_int(&c.professionals),
                members: fr_int(&c.members),
                member_rate: pct(c.member_rate),
            })
            .collect(),
        chart: chart(&s),
    };
    Ok(Html(render(&page)))
}
