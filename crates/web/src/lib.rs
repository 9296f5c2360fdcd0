//! Maillage HTTP server: French pages and the JSON API over one set of use cases.
//!
//! The server is stateless: sessions, login throttling and pending OpenID logins live in the
//! database, so several instances can serve one PostgreSQL.

// Library code returns errors; tests may unwrap (clippy.toml allows it in tests).
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api;
pub mod app;
pub mod auth;
pub mod clock;
pub mod directory_export;
mod error;
pub mod map;
pub mod middleware;
pub mod pages;
pub mod settings;
pub mod sheet;
pub mod state;

pub use api::openapi_json;
pub use error::{ApiError, Failure};
pub use settings::{OidcSettings, Secret, Settings};
pub use state::AppState;

use axum::Router;
use axum::http::HeaderName;
use axum::routing::{get, post};
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpListener;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

/// All routes of the application.
pub fn router(state: AppState) -> Router {
    use pages::{account, aci, admin, cpts, directory, national};
    let pages = Router::new()
        .route("/", get(cpts::root))
        .route("/connexion", get(auth::login::page).post(auth::login::submit))
        .route("/deconnexion", post(auth::login::logout))
        .route("/auth/oidc/start", get(auth::oidc::start))
        .route("/auth/oidc/callback", get(auth::oidc::callback))
        // A professional's calendar through her secret address (no login).
        .route("/calendrier/{file}", get(pages::snp_desk::feed))
        .route("/cpts/{id}", get(cpts::home))
        .route("/cpts/{id}/territoire", get(cpts::territory).post(cpts::update_territory))
        .route("/cpts/{id}/journal", get(cpts::journal))
        .route("/cpts/{id}/journal.csv", get(cpts::journal_csv))
        .route("/cpts/{id}/comptes", get(cpts::accounts).post(cpts::create_account))
        .route("/cpts/{id}/comptes/{account}", post(cpts::change_account))
        .route("/cpts/{id}/contrat", get(aci::contract).post(aci::save_header))
        .route("/cpts/{id}/contrat/missions", post(aci::save_mission))
        .route("/cpts/{id}/contrat/missions/{mission}/retirer", post(aci::remove_mission))
        .route("/cpts/{id}/contrat/missions/{mission}/indicateurs", post(aci::save_indicator))
        .route("/cpts/{id}/contrat/missions/{mission}/indicateurs/{n}/resultat", post(aci::save_result))
        .route("/cpts/{id}/contrat/missions/{mission}/indicateurs/{n}/supprimer", post(aci::delete_indicator))
        .route("/cpts/{id}/contrat/crises", post(aci::declare_crisis))
        .route("/cpts/{id}/contrat/population", post(aci::add_population))
        .route("/cpts/{id}/depenses", get(aci::expenses).post(aci::save_expense))
        .route("/cpts/{id}/depenses.csv", get(aci::expenses_csv))
        .route("/cpts/{id}/depenses/{expense}/supprimer", post(aci::delete_expense))
        .route("/cpts/{id}/annuaire", get(directory::search))
        .route("/cpts/{id}/annuaire/imports", get(directory::imports))
        .route("/cpts/{id}/annuaire/imports/{job}", get(pages::directory_import::job))
        .route("/cpts/{id}/annuaire/export", get(pages::directory_files::export))
        .route("/cpts/{id}/annuaire/adherents/import", get(pages::directory_files::members_form))
        .route("/cpts/{id}/annuaire/statistiques", get(pages::directory_stats::stats))
        .route("/cpts/{id}/annuaire/moi", get(directory::me))
        .route("/cpts/{id}/annuaire/{national_id}", get(directory::profile))
        .route("/cpts/{id}/annuaire/{national_id}/corrections", post(directory::save_correction))
        .route("/cpts/{id}/annuaire/{national_id}/corrections/supprimer", post(directory::delete_correction))
        .route("/cpts/{id}/annuaire/{national_id}/adhesion", post(directory::save_membership))
        .route("/cpts/{id}/annuaire/{national_id}/compte", post(directory::save_link))
        .route("/cpts/{id}/structures", get(pages::structures::list).post(pages::structures::create))
        .route("/cpts/{id}/structures/nouvelle", get(pages::structures::new_form))
        .route("/cpts/{id}/structures/{sid}", get(pages::structures::show).post(pages::structures::update))
        .route("/cpts/{id}/structures/{sid}/supprimer", post(pages::structures::delete))
        .route("/cpts/{id}/structures/{sid}/professionnels", post(pages::structures::link))
        .route("/cpts/{id}/structures/{sid}/professionnels/retirer", post(pages::structures::unlink))
        .route("/cpts/{id}/structures/{sid}/liens", post(pages::structures::relate))
        .route("/cpts/{id}/structures/{sid}/liens/retirer", post(pages::structures::unrelate))
        .route("/cpts/{id}/structures/{sid}/adhesion", post(pages::structures::save_membership))
        .route("/cpts/{id}/adhesions", get(pages::memberships::roll))
        .route("/cpts/{id}/adhesions.csv", get(pages::memberships::roll_csv))
        .route("/cpts/{id}/adhesions/cotisations", post(pages::memberships::record_dues))
        .route("/cpts/{id}/acces-soins/patients", get(pages::patients::list))
        .route("/cpts/{id}/acces-soins/patients/nouvelle", get(pages::patients::new_form).post(pages::patients::create))
        .route("/cpts/{id}/acces-soins/patients/enregistree", get(pages::patients::registered))
        .route("/cpts/{id}/acces-soins/patients/{rid}", get(pages::patients::show))
        .route("/cpts/{id}/acces-soins/patients/{rid}/evenement", post(pages::patients::event))
        .route("/cpts/{id}/acces-soins/patients/{rid}/modifier", post(pages::patients::edit))
        .route("/cpts/{id}/acces-soins/patients/{rid}/export", get(pages::patients::export))
        .route("/cpts/{id}/acces-soins/patients/{rid}/effacer", post(pages::patients::erase))
        .route("/cpts/{id}/acces-soins/medecins", get(pages::patients::doctors).post(pages::patients::save_capacity))
        .route("/cpts/{id}/acces-soins/medecins/{nid}/supprimer", post(pages::patients::delete_capacity))
        .route("/cpts/{id}/acces-soins/reglages", get(pages::matching::settings).post(pages::matching::save_settings))
        .route("/cpts/{id}/acces-soins/appariement", get(pages::matching::preview).post(pages::matching::send))
        .route("/cpts/{id}/acces-soins/mes-patients", get(pages::matching::own_patients))
        .route("/cpts/{id}/acces-soins/mes-patients/{rid}", post(pages::matching::answer))
        .route("/cpts/{id}/acces-soins/indicateurs", get(pages::matching::indicators))
        // Same-day care: operator console
        .route("/cpts/{id}/soins-non-programmes", get(pages::snp_console::console).post(pages::snp_console::search))
        .route("/cpts/{id}/soins-non-programmes/reserver", post(pages::snp_console::book))
        .route(
            "/cpts/{id}/soins-non-programmes/reservations/{booking}/confirmation",
            get(pages::snp_console::confirmation),
        )
        .route("/cpts/{id}/soins-non-programmes/reservations/{booking}/rendez-vous.ics", get(pages::snp_console::ics))
        // Same-day care: agenda, bookings and availability
        .route("/cpts/{id}/soins-non-programmes/agenda", get(pages::snp_agenda::agenda))
        .route("/cpts/{id}/soins-non-programmes/agenda.ics", get(pages::snp_agenda::agenda_ics))
        .route("/cpts/{id}/soins-non-programmes/agenda/{booking}/annuler", post(pages::snp_agenda::cancel))
        .route("/cpts/{id}/soins-non-programmes/agenda/{booking}/issue", post(pages::snp_agenda::outcome))
        .route("/cpts/{id}/soins-non-programmes/disponibilites", get(pages::snp_agenda::publishers))
        .route(
            "/cpts/{id}/soins-non-programmes/disponibilites/{nid}",
            get(pages::snp_agenda::editor).post(pages::snp_agenda::save),
        )
        // Same-day care: the coordination's dashboard and the desk's requests
        .route("/cpts/{id}/soins-non-programmes/tableau-de-bord", get(pages::snp_desk::dashboard))
        .route("/cpts/{id}/soins-non-programmes/tableau-de-bord/finess", post(pages::snp_desk::save_finess))
        .route("/cpts/{id}/soins-non-programmes/agenda/abonnement", post(pages::snp_desk::subscribe))
        .route("/cpts/{id}/soins-non-programmes/demandes", get(pages::snp_desk::waiting))
        .route("/cpts/{id}/soins-non-programmes/demandes/{rid}", get(pages::snp_desk::show))
        .route("/cpts/{id}/soins-non-programmes/demandes/{rid}/reserver", post(pages::snp_desk::book))
        .route("/cpts/{id}/soins-non-programmes/demandes/{rid}/clore", post(pages::snp_desk::close))
        .route("/cpts/{id}/inscription", get(pages::patients_public::page).post(pages::patients_public::submit))
        .route("/admin", get(admin::home))
        .route("/admin/cpts", post(admin::create_cpts))
        .route("/admin/comptes", get(admin::accounts).post(admin::create_account))
        .route("/admin/comptes/{account}", get(admin::edit_account).post(admin::change_account))
        .route("/admin/comptes/{account}/role", post(admin::change_role))
        .route("/admin/journal", get(admin::journal))
        .route("/admin/journal.csv", get(admin::journal_csv))
        .route("/national", get(national::national))
        .route("/national/registre.csv", get(national::national_export))
        .route("/national/indicateurs", get(national::national_comparison))
        .route("/national/registre", get(national::registry_form).post(national::registry_upload))
        .route("/national/tableaux/{file}", get(national::national_table))
        .route("/region/{code}", get(national::region))
        .route("/region/{code}/registre.csv", get(national::region_export))
        .route("/region/{code}/indicateurs", get(national::region_comparison))
        .route("/region/{code}/departements/{dep}", get(national::departement))
        .route("/region/{code}/tableaux/{file}", get(national::region_table))
        .route("/region/{code}/zones/{key}", get(national::zone).post(national::record_action))
        .route("/region/{code}/zones/{key}/simulation", get(national::what_if))
        .route(pages::aci_simulator::PATH, get(pages::aci_simulator::page))
        .route("/compte", get(account::show))
        .route("/compte/mot-de-passe", post(account::change_password))
        .route("/compte/jetons", post(account::create_token))
        .route("/compte/jetons/{id}/revoquer", post(account::revoke_token))
        .route("/static/{name}", get(pages::static_file));
    // Every request: 2 MiB of body and 30 s at most…
    let limited = Router::new()
        .route("/healthz", get(healthz))
        .merge(pages)
        .nest("/api/v1", api::routes())
        .route("/api/openapi.json", get(api::openapi_handler))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(2 * 1024 * 1024))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ));
    // …except the upload of the national extract (about 1 GB, streamed to disk).
    let upload = Router::new()
        .route("/cpts/{id}/annuaire/imports", post(pages::directory_import::upload))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(app::directory_import::MAX_UPLOAD_BYTES))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(60 * 60),
        ));
    // …and the member list (a spreadsheet held in memory, up to 10 MiB) with its confirmation.
    let members = Router::new()
        .route("/cpts/{id}/annuaire/adherents/import", post(pages::directory_files::members_upload))
        .route("/cpts/{id}/annuaire/adherents/import/confirmer", post(pages::directory_files::members_confirm))
        .layer(axum::extract::DefaultBodyLimit::max(app::directory_files::MAX_MEMBER_UPLOAD_BYTES))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(app::directory_files::MAX_MEMBER_UPLOAD_BYTES))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(60),
        ));
    let request_id = HeaderName::from_static("x-request-id");
    Router::new()
        .merge(limited)
        .merge(upload)
        .merge(members)
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::error_pages_with_chrome))
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::same_origin_writes))
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::security_headers))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}

/// `GET /healthz`: 200 "ok" when the database answers, 503 otherwise.
async fn healthz(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> (axum::http::StatusCode, &'static str) {
    match state.store.ping().await {
        Ok(()) => (axum::http::StatusCode::OK, "ok"),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            (axum::http::StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
        }
    }
}

/// Serves on an already-bound listener until `shutdown` resolves (tests bind port 0).
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}
