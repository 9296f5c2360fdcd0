//! Same-day care, the orientation desk's side: requests taken without a slot (waiting, sent
//! elsewhere, given up), booking a waiting request, the indicators of the SNP dashboard, the
//! CPTS's FINESS for the SAS, and the professionals' subscribable calendar feeds.
//!
//! Who: requests are the operators' (`Need::Edit`; a read of requests is audited: they name
//! patients' contacts); indicators are aggregates and follow the contract's readers
//! (`Need::Contract`: the CPTS's coordination and the ARS of its région); a feed token is the
//! professional's own, or made for her by an operator.

use super::snp::{Booked, national_id, open_for, place_booking, refused};
use super::{Ctx, Need, load_cpts};
use crate::error::Failure;
use crate::state::AppState;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use maillage_core::directory::professions::profession;
use maillage_core::ids::Finess;
use maillage_core::snp::booking::IntakeForm;
use maillage_core::snp::requests::{Closure, SnpIndicators, indicators as compute, paris_day};
use maillage_core::snp::{expand, paris};
use maillage_store::{CptsStore, NewBooking, NewRequest, RequestRef, SnpRequest, SnpStore, StoreError};
use sha2::{Digest, Sha256};

/// Most waiting requests the desk lists.
pub const WAITING_SHOWN: u32 = 100;
/// Longest period of the indicators.
pub const MAX_PERIOD_DAYS: i64 = 400;
/// Default period of the indicators: the last 4 weeks.
const DEFAULT_PERIOD_DAYS: i64 = 28;

fn new_request_id() -> String {
    let bytes: [u8; 8] = rand::random();
    format!("r-{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

fn closure_of(code: &str) -> Result<Option<Closure>, Failure> {
    match code.trim() {
        "" | "en_attente" => Ok(None),
        other => Closure::parse(other).map(Some).map_err(|e| refused("La demande n'est pas enregistrée", &[e])),
    }
}

fn no_longer_waits(en: String) -> Failure {
    Failure::Conflict {
        fr: "Cette demande n'est plus en attente : elle a déjà été orientée ou close. Rechargez la page.".into(),
        en,
    }
}

/// Records a request taken at the desk without booking a slot: waiting to be called back
/// (`closure` empty or `en_attente`), sent elsewhere (a destination code) or given up
/// (`abandonnee`).
pub async fn record_request(
    ctx: &Ctx<'_>,
    id: &str,
    intake: &IntakeForm,
    closure: &str,
) -> Result<SnpRequest, Failure> {
    let cpts = load_cpts(ctx, id, Need::Edit).await?;
    let now = ctx.state.now();
    let parsed = intake.parse(ctx.state.reference, now);
    let closure = closure_of(closure);
    let (intake, closure) = match (parsed, closure) {
        (Ok(i), Ok(c)) => (i, c),
        (Err(errors), _) => return Err(refused("La demande n'est pas enregistrée", &errors)),
        (_, Err(e)) => return Err(e),
    };
    let request_id = new_request_id();
    let status = closure.as_ref().map_or("en attente", |c| c.status().fr());
    let detail = format!(
        "demande SNP ({status}; motif : {}, commune {}, adressée par : {})",
        intake.reason.fr(),
        intake.commune.as_str(),
        intake.referrer.fr()
    );
    let audit = ctx.event(Some(&cpts.id), "create", "snp_request", &request_id, detail);
    let new = NewRequest::from_intake(request_id, &intake, now, ctx.principal.label(), closure);
    Ok(ctx.state.store.record_request(&cpts.id, &new, &audit).await?)
}

/// Closes a waiting request: sent elsewhere, or given up.
pub async fn close_request(ctx: &Ctx<'_>, id: &str, request: &str, closure: &str) -> Result<SnpRequest, Failure> {
    let cpts = load_cpts(ctx, id, Need::Edit).await?;
    let Some(closure) = closure_of(closure)? else {
        return Err(Failure::invalid(
            "missing_destination",
            "Choisissez où le patient a été orienté, ou « abandonnée ».",
            "a destination (or `abandonnee`) is required",
        ));
    };
    let detail = match closure.destination() {
        Some(d) => format!("demande réorientée : {}", d.fr()),
        None => "demande abandonnée".to_owned(),
    };
    let audit = ctx.event(Some(&cpts.id), "update", "snp_request", request.trim(), detail);
    ctx.state.store.close_request(&cpts.id, request.trim(), &closure, ctx.state.now(), &audit).await.map_err(
        |e| match e {
            StoreError::Conflict(en) => no_longer_waits(en),
            other => other.into(),
        },
    )
}

/// Books a slot for a waiting request (its intake as recorded).
pub async fn book_request(ctx: &Ctx<'_>, id: &str, request: &str, slot: &str) -> Result<Booked, Failure> {
    let cpts = load_cpts(ctx, id, Need::Edit).await?;
    let found = ctx.state.store.request(&cpts.id, request.trim()).await?;
    let slot_id = slot.trim().parse().map_err(|e: maillage_core::snp::expand::SlotIdError| {
        refused(
            "La réservation n'est pas enregistrée",
            &[maillage_core::patients::FieldError {
                field: "slot",
                en: e.to_string(),
                fr: format!("« {} » ne désigne pas un créneau", e.0),
            }],
        )
    })?;
    let booking_id = super::snp::new_booking_id();
    let new = NewBooking {
        id: booking_id,
        request: RequestRef::Waiting(found.id.clone()),
        profession: None,
        slot: slot_id,
        reason: found.reason,
        commune: found.commune,
        phone: found.phone.clone(),
        email: found.email.clone(),
        referrer: found.referrer,
        note: found.note.clone(),
        created_at: ctx.state.now(),
        created_by: ctx.principal.label(),
    };
    let detail = format!("réservation du créneau {slot_id} pour la demande {} en attente", found.id);
    place_booking(ctx, &cpts, new, detail).await.map_err(|e| match e {
        Failure::Conflict { en, .. } if en.contains("no longer waits") => no_longer_waits(en),
        other => other,
    })
}

/// The requests waiting for an orientation, oldest first (at most [`WAITING_SHOWN`]), and
/// their CPTS. Audited (contacts are shown).
pub async fn waiting(ctx: &Ctx<'_>, id: &str) -> Result<(maillage_store::Cpts, Vec<SnpRequest>), Failure> {
    let cpts = load_cpts(ctx, id, Need::Edit).await?;
    let list = ctx.state.store.waiting_requests(&cpts.id, WAITING_SHOWN).await?;
    if !list.is_empty() {
        let detail = format!("{} demande(s) SNP en attente", list.len());
        ctx.audit(Some(&cpts.id), "read", "snp_requests", cpts.id.as_str(), detail).await?;
    }
    Ok((cpts, list))
}

/// A period of Paris days: default the last 4 weeks up to today.
pub fn period(
    today: NaiveDate,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<(NaiveDate, NaiveDate), Failure> {
    let to = to.unwrap_or(today);
    let from = from.unwrap_or(to - Duration::days(DEFAULT_PERIOD_DAYS - 1));
    if to < from || (to - from).num_days() >= MAX_PERIOD_DAYS {
        return Err(Failure::invalid(
            "invalid_period",
            format!("La période doit finir après son début et durer au plus {MAX_PERIOD_DAYS} jours."),
            format!("the period must end after it starts and last at most {MAX_PERIOD_DAYS} days"),
        ));
    }
    Ok((from, to))
}

/// The first instant of a Paris day (UTC midnight outside the supported years).
fn day_start(d: NaiveDate) -> DateTime<Utc> {
    paris::day_start(d).unwrap_or_else(|_| d.and_time(NaiveTime::MIN).and_utc())
}

/// The requests received on the Paris days `from..=to` (default: [`period`]'s). Audited
/// (operators only).
pub async fn requests(
    ctx: &Ctx<'_>,
    id: &str,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<Vec<SnpRequest>, Failure> {
    let cpts = load_cpts(ctx, id, Need::Edit).await?;
    let (from, to) = period(paris_day(ctx.state.now()), from, to)?;
    let list = ctx.state.store.requests(&cpts.id, day_start(from), day_start(to + Duration::days(1))).await?;
    let detail = format!("{} demande(s) SNP reçues du {from} au {to}", list.len());
    ctx.audit(Some(&cpts.id), "read", "snp_requests", cpts.id.as_str(), detail).await?;
    Ok(list)
}

/// The SNP dashboard's figures.
#[derive(Debug, Clone)]
pub struct Dashboard {
    pub cpts: maillage_store::Cpts,
    pub indicators: SnpIndicators,
    /// Professionals whose publication has at least one slot in the period.
    pub participating: usize,
    /// Professionals who publish at all.
    pub publishing: usize,
    /// Bookings by profession: code, label (`Médecin`), count; most first.
    pub by_profession: Vec<(String, String, u64)>,
    /// Whether the caller may act (operators): the page shows the desk's links and settings.
    pub operator: bool,
}

/// The SNP indicators of a period (default: the last 4 weeks). Aggregates only: no person is
/// shown, so the read is not a patient-data access.
pub async fn dashboard(
    ctx: &Ctx<'_>,
    id: &str,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<Dashboard, Failure> {
    let cpts = load_cpts(ctx, id, Need::Contract).await?;
    let operator = super::allowed(ctx, &cpts, Need::Edit);
    let (from, to) = period(paris_day(ctx.state.now()), from, to)?;
    let (start, end) = (day_start(from), day_start(to + Duration::days(1)));
    let store = &ctx.state.store;
    let facts: Vec<_> = store.requests(&cpts.id, start, end).await?.iter().map(SnpRequest::facts).collect();
    let indicators = compute(from, to, &facts);
    let publications = store.availabilities(&cpts.id).await?;
    let participating = publications
        .iter()
        .filter(|p| expand(&p.availability, start, end).is_ok_and(|slots| !slots.is_empty()))
        .count();
    let by_profession = indicators
        .by_profession
        .iter()
        .map(|(code, n)| {
            let label = profession(code).map_or_else(|| format!("Profession {code}"), |p| p.label.clone());
            (code.clone(), label, *n)
        })
        .collect();
    Ok(Dashboard { cpts, indicators, participating, publishing: publications.len(), by_profession, operator })
}

/// Records (or clears, on an empty text) the CPTS's FINESS: the SAS names the CPTS by it.
pub async fn set_finess(ctx: &Ctx<'_>, id: &str, text: &str) -> Result<maillage_store::Cpts, Failure> {
    let cpts = load_cpts(ctx, id, Need::Edit).await?;
    let finess = match text.trim() {
        "" => None,
        t => Some(Finess::parse(t).map_err(|e| {
            refused(
                "Le numéro FINESS n'est pas enregistré",
                &[maillage_core::patients::FieldError { field: "finess", en: e.en.clone(), fr: e.fr.clone() }],
            )
        })?),
    };
    let detail = match &finess {
        Some(f) => format!("FINESS de la CPTS : {f}"),
        None => "FINESS de la CPTS effacé".to_owned(),
    };
    let audit = ctx.event(Some(&cpts.id), "update", "cpts", cpts.id.as_str(), detail);
    Ok(ctx.state.store.set_finess(&cpts.id, finess.as_ref(), ctx.state.now(), &audit).await?)
}

// ---------------------------------------------------------------------------------------------
// Subscribable calendar feeds

/// The path of the feed a token opens (no login: calendar applications cannot log in).
pub fn feed_path(token: &str) -> String {
    format!("/calendrier/{token}.ics")
}

fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// When the professional's current feed address was made, if she has one.
pub async fn feed_status(
    ctx: &Ctx<'_>,
    id: &str,
    professional: Option<&str>,
) -> Result<Option<DateTime<Utc>>, Failure> {
    let (cpts, p) = open_for(ctx, id, professional).await?;
    Ok(ctx.state.store.feed_token_created(&cpts.id, p).await?)
}

/// Makes a new secret feed address for the professional (the old one stops working) and
/// returns its path. The token is shown once; only its SHA-256 is stored.
pub async fn new_feed_token(ctx: &Ctx<'_>, id: &str, professional: Option<&str>) -> Result<String, Failure> {
    let (cpts, p) = open_for(ctx, id, professional).await?;
    let bytes: [u8; 32] = rand::random();
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let audit = ctx.event(
        Some(&cpts.id),
        "create",
        "snp_feed_token",
        &national_id(p),
        "nouvelle adresse d'abonnement au calendrier SNP (l'ancienne ne fonctionne plus)",
    );
    ctx.state.store.put_feed_token(&cpts.id, p, &token_hash(&token), ctx.state.now(), &audit).await?;
    Ok(feed_path(&token))
}

/// Revokes the professional's feed address.
pub async fn revoke_feed_token(ctx: &Ctx<'_>, id: &str, professional: Option<&str>) -> Result<(), Failure> {
    let (cpts, p) = open_for(ctx, id, professional).await?;
    let audit = ctx.event(
        Some(&cpts.id),
        "delete",
        "snp_feed_token",
        &national_id(p),
        "adresse d'abonnement au calendrier SNP révoquée",
    );
    Ok(ctx.state.store.revoke_feed_token(&cpts.id, p, &audit).await?)
}

/// The iCalendar feed a token opens (404 for an unknown or revoked token). The read is
/// audited in the CPTS's log, as made through the feed address.
pub async fn feed_by_token(state: &AppState, request_id: &str, token: &str) -> Result<String, Failure> {
    let token = token.trim();
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Failure::NotFound);
    }
    let (cpts, p) = state.store.feed_token_owner(&token_hash(token)).await?.ok_or(Failure::NotFound)?;
    let cpts = state.store.get_cpts(&cpts).await?;
    super::snp::feed_for(state, request_id, &cpts, p).await
}

/// One request, for the desk (audited: it carries the patient's contact).
pub async fn request(ctx: &Ctx<'_>, id: &str, request: &str) -> Result<SnpRequest, Failure> {
    let cpts = load_cpts(ctx, id, Need::Edit).await?;
    let found = ctx.state.store.request(&cpts.id, request.trim()).await?;
    ctx.audit(Some(&cpts.id), "read", "snp_request", &found.id, "demande SNP consultée").await?;
    Ok(found)
}
