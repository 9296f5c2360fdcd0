//! JSON API, version 1, described by the OpenAPI document at `/api/openapi.json`.
//!
//! Machine clients authenticate with `Authorization: Bearer <token>` (tokens are created on
//! the "Mon compte" page); browser sessions may call it too, with the `X-CSRF-Token` header on
//! writes. Reference data (communes, territories) is public.

mod accounts;
mod aci;
mod aci_contract;
mod communes;
mod cpts;
mod directory;
mod fhir_slots;
mod registry;
mod snp;
mod snp_desk;
mod territory;

use crate::app::{AccountView, CptsOverview, CptsRow, RoleCount};
use crate::error::{ApiError, ErrorDetail, Problem};
use crate::state::AppState;
use axum::Router;
use axum::routing::{get, patch};
use utoipa::OpenApi;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/territory", get(territory::summary))
        .route("/communes/{code}", get(communes::show))
        .route("/communes/{code}/near", get(communes::near))
        .route("/aci/rule-sets", get(aci::rule_sets))
        .route("/aci/rule-sets/{name}", get(aci::rule_set))
        .route("/aci/simulate", get(aci::simulate))
        .route("/me", get(accounts::me))
        .route("/cpts", get(cpts::list).post(cpts::create))
        .route("/cpts/{id}", get(cpts::show))
        .route("/cpts/{id}/territory", axum::routing::put(cpts::replace_territory))
        .route("/cpts/{id}/accounts", get(accounts::list_cpts_accounts).post(accounts::create_cpts_account))
        .route("/cpts/{id}/audit", get(cpts::audit))
        .route("/cpts/{id}/contract", get(aci_contract::show_contract).put(aci_contract::put_contract))
        .route("/cpts/{id}/contract/years/{year}", get(aci_contract::contract_year))
        .route("/cpts/{id}/contract/schedule", get(aci_contract::contract_schedule))
        .route("/cpts/{id}/expenses", get(aci_contract::list_expenses).post(aci_contract::create_expense))
        .route("/cpts/{id}/expenses/pass", get(aci_contract::pass))
        .route(
            "/cpts/{id}/expenses/{expense_id}",
            axum::routing::put(aci_contract::update_expense).delete(aci_contract::delete_expense),
        )
        .route("/cpts/{id}/directory", get(directory::search))
        .route("/cpts/{id}/directory/imports", get(directory::imports))
        .route("/cpts/{id}/directory/export", get(directory::export))
        .route("/cpts/{id}/directory/{national_id}", get(directory::profile))
        .route(
            "/cpts/{id}/directory/{national_id}/corrections/{field}",
            axum::routing::put(directory::put_correction).delete(directory::delete_correction),
        )
        .route("/cpts/{id}/directory/{national_id}/membership", axum::routing::put(directory::put_membership))
        .route("/cpts/{id}/registry/matching", get(registry::preview).post(registry::send))
        .route("/cpts/{id}/registry/settings", get(registry::settings).put(registry::put_settings))
        .route("/cpts/{id}/registry/indicators", get(registry::indicators))
        .route("/cpts/{id}/snp/availability/{professional}", get(snp::availability).put(snp::put_availability))
        .route("/cpts/{id}/snp/slots", get(snp::slots))
        .route("/cpts/{id}/snp/bookings", get(snp::bookings).post(snp::book))
        .route("/cpts/{id}/snp/bookings/{booking}/cancel", axum::routing::post(snp::cancel))
        .route("/cpts/{id}/snp/bookings/{booking}/outcome", axum::routing::post(snp::outcome))
        .route("/cpts/{id}/snp/agenda.ics", get(snp::agenda))
        .route("/cpts/{id}/snp/requests", get(snp_desk::list).post(snp_desk::record))
        .route("/cpts/{id}/snp/requests/waiting", get(snp_desk::waiting))
        .route("/cpts/{id}/snp/requests/{request}/close", axum::routing::post(snp_desk::close))
        .route("/cpts/{id}/snp/requests/{request}/book", axum::routing::post(snp_desk::book))
        .route("/cpts/{id}/snp/indicators", get(snp_desk::indicators))
        .route(
            "/cpts/{id}/snp/feed-token",
            axum::routing::post(snp_desk::new_feed_token).delete(snp_desk::revoke_feed_token),
        )
        .route("/cpts/{id}/finess", axum::routing::put(snp_desk::put_finess))
        .route("/cpts/{id}/fhir/Slot", get(fhir_slots::slots))
        .route("/accounts", get(accounts::list_all).post(accounts::create_any))
        .route("/accounts/{id}", patch(accounts::update))
        .route("/audit", get(cpts::platform_audit))
        .route("/tokens", get(accounts::list_tokens).post(accounts::create_token))
        .route("/tokens/{id}", axum::routing::delete(accounts::revoke_token))
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Maillage API",
        description = "API of Maillage, the open platform of CPTS. Errors are `{\"error\": {code, message, message_fr, problems, details}}` (`problems` and `details` only when the error lists individual problems; `details` gives each one's `code` and `path` in the request body).",
        license(name = "AGPL-3.0-or-later")
    ),
    paths(
        territory::summary,
        communes::show,
        communes::near,
        aci::rule_sets,
        aci::rule_set,
        aci::simulate,
        accounts::me,
        cpts::list,
        cpts::create,
        cpts::show,
        cpts::replace_territory,
        cpts::audit,
        cpts::platform_audit,
        aci_contract::show_contract,
        aci_contract::put_contract,
        aci_contract::contract_year,
        aci_contract::contract_schedule,
        aci_contract::list_expenses,
        aci_contract::create_expense,
        aci_contract::update_expense,
        aci_contract::delete_expense,
        aci_contract::pass,
        directory::search,
        directory::imports,
        directory::export,
        directory::profile,
        directory::put_correction,
        directory::delete_correction,
        directory::put_membership,
        registry::preview,
        registry::send,
        registry::settings,
        registry::put_settings,
        registry::indicators,
        snp::availability,
        snp::put_availability,
        snp::slots,
        snp::book,
        snp::bookings,
        snp::cancel,
        snp::outcome,
        snp::agenda,
        snp_desk::record,
        snp_desk::list,
        snp_desk::waiting,
        snp_desk::close,
        snp_desk::book,
        snp_desk::indicators,
        snp_desk::put_finess,
        snp_desk::new_feed_token,
        snp_desk::revoke_feed_token,
        accounts::list_cpts_accounts,
        accounts::create_cpts_account,
        accounts::list_all,
        accounts::create_any,
        accounts::update,
        accounts::list_tokens,
        accounts::create_token,
        accounts::revoke_token,
    ),
    components(schemas(
        ApiError,
        Problem,
        ErrorDetail,
        AccountView,
        CptsOverview,
        CptsRow,
        RoleCount,
        maillage_core::territory::TerritorySummary,
        maillage_core::territory::CommuneSummary,
        maillage_core::territory::DepartementShare,
        aci::AciRuleSetSummary,
        aci::AciRuleSetTable,
        aci::AciSimulation,
        aci_contract::AciContract,
        aci_contract::AciContractDocument,
        aci_contract::AciContractYear,
        aci_contract::AciContractSchedule,
        aci_contract::AciPassReport,
        directory::DirectorySearchPage,
        directory::DirectoryProfile,
        directory::DirectoryMembership,
        directory::DirectoryCorrectionBody,
        directory::DirectoryImport,
        registry::MatchingRun,
        registry::MatchingProposal,
        registry::MatchingWaiting,
        registry::MatchingSend,
        registry::RegistrySettingsBody,
        registry::RegistryIndicatorsBody,
        registry::RegistryCounts,
        registry::RegistryMonth,
        snp::SnpAvailability,
        snp::SnpAvailabilityBody,
        snp::SnpSlot,
        snp::SnpBooking,
        snp::SnpBookingBody,
        snp::SnpBooked,
        snp::SnpOutcomeBody,
        snp_desk::SnpRequestView,
        snp_desk::SnpRequestBody,
        snp_desk::SnpCloseBody,
        snp_desk::SnpBookRequestBody,
        snp_desk::SnpTally,
        snp_desk::SnpCount,
        snp_desk::SnpWeek,
        snp_desk::SnpIndicatorsView,
        snp_desk::SnpFinessBody,
        snp_desk::SnpFeedAddress,
    )),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The OpenAPI document, pretty-printed (snapshot-tested).
pub fn openapi_json() -> String {
    ApiDoc::openapi().to_pretty_json().unwrap_or_default()
}

pub async fn openapi_handler() -> impl axum::response::IntoResponse {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], openapi_json())
}
