//! Same-day care (soins non programmés, `maillage_core::snp`): what the SNP API (and later the
//! operator console and the professional's agenda) do with publications and bookings.
//!
//! Who:
//! - the operators of the orientation desk are the CPTS's coordination (coordinator, board,
//!   admin: `Need::Edit`): they publish for any professional of the directory, search slots,
//!   book, list every booking, cancel and record outcomes;
//! - a member professional whose account is linked to her directory profile publishes her own
//!   availability, lists her own bookings, reads her own iCalendar feed, cancels her bookings
//!   and records their outcome; anything about another professional is refused (403);
//! - observers (ARS, CPAM, national) get 403, another CPTS's people 404 (`Need::PersonalData`
//!   first: bookings are patient data).
//!
//! The core's `ProfessionalId` is the professional's RPPS (11 digits) as a number; the API names
//! professionals by their directory national id (`8` + RPPS). ADELI-only professionals cannot
//! publish (422).
//!
//! Every write commits its audit event in the store transaction; every read of bookings writes
//! one audit event naming how many were shown (as the registry list does).
//!
//! The search builds a [`SlotIndex`] per request from the stored publications (expanded over
//! the asked window only) and the places taken: a few milliseconds for a CPTS, so no index is
//! kept in the process yet (see docs/snp.md, « Not done yet »).

use super::{Ctx, Need, allowed, load_cpts};
use crate::error::{ErrorDetail, Failure};
use crate::state::AppState;
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use maillage_core::directory::model::{NationalId, effective};
use maillage_core::geo::LatLon;
use maillage_core::patients::FieldError;
use maillage_core::snp::booking::{IcsEvent, IntakeForm, MAX_WINDOW, Outcome, confirmation_ics, feed_ics, summary};
use maillage_core::snp::search::{DEFAULT_LIMIT, Hit, Offer, ProfessionCode, SlotIndex, SlotQuery};
use maillage_core::snp::{Audience, Availability, Place, ProfessionalId, SlotId, expand, paris};
use maillage_store::{Booking, Cpts, DirectoryStore, NewBooking, SnpStore, StoreError, StoredAvailability};
use std::collections::HashMap;

/// Longest window of a booking list or a feed.
pub const MAX_LIST_DAYS: i64 = 92;
/// A feed shows bookings from this many days ago…
const FEED_PAST_DAYS: i64 = 30;
/// …to this many days ahead.
const FEED_FUTURE_DAYS: i64 = 90;

// ---------------------------------------------------------------------------------------------
// Professionals and callers

/// The core's id of a professional named by her directory national id (`8` + RPPS, or the bare
/// 11-digit RPPS); anything else is refused (422).
pub fn professional_id(text: &str) -> Result<ProfessionalId, Failure> {
    let t = text.trim();
    let national = if t.len() == 11 && t.bytes().all(|b| b.is_ascii_digit()) { format!("8{t}") } else { t.to_owned() };
    let refused = |en: String| {
        Failure::invalid(
            "invalid_professional",
            format!(
                "« {t} » ne désigne pas un professionnel inscrit au RPPS (identifiant national 8 + 11 chiffres) : \
                 seuls les professionnels ayant un numéro RPPS publient des créneaux."
            ),
            en,
        )
    };
    match NationalId::parse(&national) {
        Ok(NationalId::Rpps(r)) => {
            r.as_str().parse::<u64>().map(ProfessionalId).map_err(|e| refused(format!("{t:?}: {e}")))
        }
        Ok(NationalId::Adeli(_)) => Err(refused(format!("{t:?} is an ADELI number, not an RPPS"))),
        Err(e) => Err(refused(format!("{t:?}: {e}"))),
    }
}

/// The directory national id (`8` + RPPS) of a professional.
pub fn national_id(p: ProfessionalId) -> String {
    format!("8{:011}", p.0)
}

/// Who is calling, as the SNP rules see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// The coordination: every professional, every booking.
    Operator,
    /// A member professional linked to her profile: her own only.
    Professional(ProfessionalId),
}

impl Caller {
    /// Whether the caller may act for `professional`.
    fn may_act_for(self, professional: ProfessionalId) -> bool {
        match self {
            Caller::Operator => true,
            Caller::Professional(own) => own == professional,
        }
    }
}

/// The professional the caller's account is linked to in this CPTS, if an RPPS one.
async fn own_professional(ctx: &Ctx<'_>, cpts: &Cpts) -> Result<Option<ProfessionalId>, Failure> {
    if ctx.principal.role().cpts() != Some(&cpts.id) {
        return Ok(None);
    }
    let linked = ctx.state.store.professional_of_account(&cpts.id, &ctx.principal.account.id).await?;
    Ok(linked.and_then(|nid| professional_id(&nid).ok()))
}

/// Loads the CPTS for a caller who is either an operator or a linked professional (403 for the
/// other people of the CPTS, 403/404 as usual for outsiders).
pub async fn open(ctx: &Ctx<'_>, id: &str) -> Result<(Cpts, Caller), Failure> {
    let cpts = load_cpts(ctx, id, Need::PersonalData).await?;
    if allowed(ctx, &cpts, Need::Edit) {
        return Ok((cpts, Caller::Operator));
    }
    match own_professional(ctx, &cpts).await? {
        Some(p) => Ok((cpts, Caller::Professional(p))),
        None => Err(Failure::Forbidden),
    }
}

/// Loads the CPTS for an action on one professional's own things (agenda, feed address): the
/// one `professional` names (operators must name her), or the caller herself; a professional
/// acting for someone else gets 403.
pub(crate) async fn open_for(
    ctx: &Ctx<'_>,
    id: &str,
    professional: Option<&str>,
) -> Result<(Cpts, ProfessionalId), Failure> {
    let (cpts, caller) = open(ctx, id).await?;
    let p = match (caller, professional.map(str::trim).filter(|s| !s.is_empty())) {
        (_, Some(text)) => professional_id(text)?,
        (Caller::Professional(own), None) => own,
        (Caller::Operator, None) => {
            return Err(Failure::invalid(
                "missing_professional",
                "Précisez le professionnel concerné.",
                "the professional is required",
            ));
        }
    };
    if !caller.may_act_for(p) {
        return Err(Failure::Forbidden);
    }
    Ok((cpts, p))
}

/// What the SNP pages and API show of a professional of the directory.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfessionalInfo {
    /// `Dr Élise Martin`.
    pub name: String,
    pub profession: Option<ProfessionCode>,
    /// The commune of her first place that has one (corrections applied).
    pub commune: Option<String>,
    pub position: Option<LatLon>,
}

fn info_of(state: &AppState, entry: &maillage_store::DirectoryEntry) -> ProfessionalInfo {
    let shown = effective(&entry.professional, &entry.corrections);
    let commune = shown.places.iter().find_map(|p| p.commune_code.value);
    let known = commune.and_then(|c| state.reference.commune(c.as_str()));
    ProfessionalInfo {
        name: super::patients::professional_name(&entry.professional),
        profession: entry.professional.profession_code.parse().ok(),
        commune: known.map(|c| c.name.clone()),
        position: known.map(|c| c.centre),
    }
}

/// One professional of the CPTS's directory (404 if the directory does not list her).
async fn professional_info(ctx: &Ctx<'_>, cpts: &Cpts, p: ProfessionalId) -> Result<ProfessionalInfo, Failure> {
    professional_info_in(ctx.state, cpts, p).await
}

async fn professional_info_in(state: &AppState, cpts: &Cpts, p: ProfessionalId) -> Result<ProfessionalInfo, Failure> {
    let entry = state.store.directory_entry(&cpts.id, &national_id(p)).await?;
    Ok(info_of(state, &entry))
}

/// Every professional of the CPTS's directory (one bulk read), by core id.
async fn directory(ctx: &Ctx<'_>, cpts: &Cpts) -> Result<HashMap<ProfessionalId, ProfessionalInfo>, Failure> {
    let entries = ctx.state.store.directory_export(&cpts.id, false).await?;
    Ok(entries
        .iter()
        .filter_map(|e| Some((professional_id(&e.professional.national_id.national()).ok()?, info_of(ctx.state, e))))
        .collect())
}

/// Paris wall-clock time of an instant (`None` outside 1996–9999, which stored slots never are).
pub fn paris_time(t: DateTime<Utc>) -> Option<NaiveDateTime> {
    paris::to_local(t).ok()
}

fn field_fr(field: &str) -> &'static str {
    match field {
        "reason" => "Motif",
        "commune" => "Commune",
        "phone" => "Téléphone",
        "email" => "Adresse électronique",
        "window_from" => "Début de la fenêtre",
        "window_to" => "Fin de la fenêtre",
        "referrer" => "Adressé par",
        "note" => "Note",
        "outcome" => "Issue",
        "from" => "Début",
        "to" => "Fin",
        "profession" => "Profession",
        "max_km" => "Distance maximale",
        "slot" => "Créneau",
        _ => "Champ",
    }
}

fn field_error(field: &'static str, en: impl Into<String>, fr: impl Into<String>) -> FieldError {
    FieldError { field, en: en.into(), fr: fr.into() }
}

/// A refused request: one French sentence and each problem in `details`.
pub(crate) fn refused(what_fr: &str, errors: &[FieldError]) -> Failure {
    let fr = errors.iter().map(|e| format!("{} : {}", field_fr(e.field), e.fr)).collect::<Vec<_>>().join(" ; ");
    let en = errors.iter().map(|e| format!("{}: {}", e.field, e.en)).collect::<Vec<_>>().join("; ");
    Failure::invalid("invalid_form", format!("{what_fr} — {fr}."), en).with_details(
        errors.iter().map(|e| ErrorDetail {
            code: "invalid_field",
            path: e.field.to_owned(),
            en: e.en.clone(),
            fr: e.fr.clone(),
        }),
    )
}

// ---------------------------------------------------------------------------------------------
// Availability

/// A professional's publication (404 when she publishes nothing).
pub async fn availability(ctx: &Ctx<'_>, id: &str, professional: &str) -> Result<StoredAvailability, Failure> {
    let p = professional_id(professional)?;
    let (cpts, caller) = open(ctx, id).await?;
    if !caller.may_act_for(p) {
        return Err(Failure::Forbidden);
    }
    ctx.state.store.availability(&cpts.id, p).await?.ok_or(Failure::NotFound)
}

/// Publishes (`expected_revision` `None`) or replaces (the revision read) a professional's whole
/// availability; every problem of the publication is reported at once (422), a replacement made
/// from an older read is refused (409).
pub async fn put_availability(
    ctx: &Ctx<'_>,
    id: &str,
    professional: &str,
    mut availability: Availability,
    expected_revision: Option<i64>,
) -> Result<StoredAvailability, Failure> {
    let p = professional_id(professional)?;
    let (cpts, caller) = open(ctx, id).await?;
    if !caller.may_act_for(p) {
        return Err(Failure::Forbidden);
    }
    professional_info(ctx, &cpts, p).await?;
    availability.professional = p;
    if let Err(errors) = availability.validate() {
        let fr = errors.iter().map(|e| format!("{}.{} : {}", e.item, e.field, e.fr)).collect::<Vec<_>>().join(" ; ");
        let en = errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
        return Err(Failure::invalid(
            "invalid_availability",
            format!("Les disponibilités ne sont pas publiées — {fr}."),
            en,
        )
        .with_details(errors.iter().map(|e| ErrorDetail {
            code: "invalid_availability",
            path: format!("{}.{}", e.item, e.field),
            en: e.en.clone(),
            fr: e.fr.clone(),
        })));
    }
    let now = ctx.state.now();
    let nid = national_id(p);
    let detail = format!(
        "{} plage(s) hebdomadaire(s), {} créneau(x) ponctuel(s), {} fermeture(s), {} annulation(s)",
        availability.weekly.len(),
        availability.one_off.len(),
        availability.closures.len(),
        availability.cancellations.len()
    );
    let action = if expected_revision.is_none() { "create" } else { "update" };
    let audit = ctx.event(Some(&cpts.id), action, "snp_availability", &nid, detail);
    let revision =
        ctx.state.store.put_availability(&cpts.id, &availability, expected_revision, now, &audit).await.map_err(
            |e| match e {
                StoreError::Conflict(en) => Failure::Conflict {
                    fr: "Ce professionnel publie déjà des disponibilités : relisez-les et renvoyez-les avec leur \
                     révision pour les remplacer."
                        .into(),
                    en,
                },
                StoreError::Stale { .. } => Failure::Conflict {
                    fr: "Les disponibilités ont été modifiées entre-temps par quelqu'un d'autre : rien n'a été \
                     enregistré. Relisez-les, puis recommencez."
                        .into(),
                    en: e.to_string(),
                },
                other => other.into(),
            },
        )?;
    Ok(StoredAvailability { availability, revision, updated_at: now })
}

// ---------------------------------------------------------------------------------------------
// Search

/// A slot search as asked (every field optional but the commune).
#[derive(Debug, Clone, Default)]
pub struct SlotSearch {
    /// INSEE code of the patient's commune.
    pub commune: String,
    /// Default: now.
    pub from: Option<DateTime<Utc>>,
    /// Default: `from` + 24 h.
    pub to: Option<DateTime<Utc>>,
    /// Two-digit profession code of the directory (`10` médecin…).
    pub profession: Option<String>,
    /// Default: at the practice and at home.
    pub places: Vec<Place>,
    /// Default: SNP regulation.
    pub audience: Option<Audience>,
    pub max_km: Option<f64>,
}

/// One slot found, with what an operator tells the patient.
#[derive(Debug, Clone, PartialEq)]
pub struct SlotView {
    pub hit: Hit,
    pub professional: String,
    pub professional_name: String,
    /// Where the professional practises.
    pub commune: Option<String>,
}

/// The best free slots for a request: nearest practice first, then soonest.
pub async fn search(ctx: &Ctx<'_>, id: &str, search: &SlotSearch) -> Result<(Cpts, Vec<SlotView>), Failure> {
    let cpts = load_cpts(ctx, id, Need::Edit).await?;
    let now = ctx.state.now();
    let mut errors = Vec::new();
    let position = match ctx.state.reference.resolve(search.commune.trim()) {
        Ok(c) => Some(c.centre),
        Err(e) => {
            errors.push(field_error("commune", e.to_string(), e.fr()));
            None
        }
    };
    // A slot that has started is not offered.
    let from = search.from.unwrap_or(now).max(now);
    let to = search.to.unwrap_or(from + Duration::hours(24));
    if to <= from {
        errors.push(field_error("to", "the window ends before it starts", "la fenêtre finit avant de commencer"));
    } else if to - from > MAX_WINDOW {
        errors.push(field_error("to", "the window lasts at most 7 days", "la fenêtre dure au plus 7 jours"));
    }
    let profession = match search.profession.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(code) => match code.parse::<ProfessionCode>() {
            Ok(p) => Some(p),
            Err(e) => {
                errors.push(field_error(
                    "profession",
                    e.to_string(),
                    format!("« {code} » n'est pas un code de profession (deux chiffres)"),
                ));
                None
            }
        },
    };
    if let Some(km) = search.max_km
        && !(km.is_finite() && km > 0.0 && km <= 1000.0)
    {
        errors.push(field_error("max_km", "a distance between 0 and 1000 km", "une distance entre 0 et 1 000 km"));
    }
    let Some(position) = position.filter(|_| errors.is_empty()) else {
        return Err(refused("La recherche n'est pas valide", &errors));
    };

    let store = &ctx.state.store;
    let directory = directory(ctx, &cpts).await?;
    let loads: HashMap<SlotId, u32> = store.slot_loads(&cpts.id, from, to).await?.into_iter().collect();
    let mut offers = Vec::new();
    for stored in store.availabilities(&cpts.id).await? {
        // A professional no longer in the directory, or without a known practice, offers
        // nothing: her slots could not be placed.
        let Some(ProfessionalInfo { profession: Some(code), position: Some(at), .. }) =
            directory.get(&stored.availability.professional)
        else {
            continue;
        };
        let slots = expand(&stored.availability, from, to)
            .map_err(|e| Failure::Internal(format!("stored availability cannot be expanded: {e:?}")))?;
        offers.extend(slots.into_iter().map(|slot| Offer {
            booked: u8::try_from(loads.get(&slot.id).copied().unwrap_or(0)).unwrap_or(u8::MAX),
            slot,
            profession: *code,
            position: *at,
        }));
    }
    let index = SlotIndex::new(offers);
    let mut query = SlotQuery::near(position, from);
    query.to = to;
    query.profession = profession;
    if !search.places.is_empty() {
        query.places.clone_from(&search.places);
    }
    if let Some(audience) = search.audience {
        query.audience = audience;
    }
    query.max_km = search.max_km;
    query.limit = DEFAULT_LIMIT;
    let hits = index
        .search(&query)
        .into_iter()
        .map(|hit| {
            let info = directory.get(&hit.id.professional);
            SlotView {
                professional: national_id(hit.id.professional),
                professional_name: info.map_or_else(|| national_id(hit.id.professional), |i| i.name.clone()),
                commune: info.and_then(|i| i.commune.clone()),
                hit,
            }
        })
        .collect();
    Ok((cpts, hits))
}

/// A free slot as the SAS FHIR read API serves it: the expanded slot, its free places and its
/// professional's directory entry.
#[derive(Debug, Clone)]
pub(crate) struct FreeSlot {
    pub slot: maillage_core::snp::Slot,
    /// Capacity minus the places taken (always > 0).
    pub free: u32,
    pub professional: maillage_core::directory::model::Professional,
}

/// Every free slot of the CPTS starting in `[from, to)` (not before now: a started slot is not
/// offered), for the professionals named (all when `only` is `None`), sorted by start then
/// professional. The same building blocks as [`search`] (stored publications expanded over the
/// window, the places taken), without position or profession: professionals who left the
/// directory offer nothing. The caller checks access and the window.
pub(crate) async fn free_slots(
    ctx: &Ctx<'_>,
    cpts: &Cpts,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    only: Option<&[ProfessionalId]>,
) -> Result<Vec<FreeSlot>, Failure> {
    let from = from.max(ctx.state.now());
    if to <= from {
        return Ok(Vec::new());
    }
    let store = &ctx.state.store;
    let directory: HashMap<ProfessionalId, maillage_core::directory::model::Professional> = store
        .directory_export(&cpts.id, false)
        .await?
        .into_iter()
        .filter_map(|e| Some((professional_id(&e.professional.national_id.national()).ok()?, e.professional)))
        .collect();
    let loads: HashMap<SlotId, u32> = store.slot_loads(&cpts.id, from, to).await?.into_iter().collect();
    let mut found = Vec::new();
    for stored in store.availabilities(&cpts.id).await? {
        let p = stored.availability.professional;
        if only.is_some_and(|list| !list.contains(&p)) {
            continue;
        }
        let Some(professional) = directory.get(&p) else {
            continue;
        };
        let slots = expand(&stored.availability, from, to)
            .map_err(|e| Failure::Internal(format!("stored availability cannot be expanded: {e:?}")))?;
        for slot in slots {
            let free = u32::from(slot.capacity).saturating_sub(loads.get(&slot.id).copied().unwrap_or(0));
            if free > 0 {
                found.push(FreeSlot { slot, free, professional: professional.clone() });
            }
        }
    }
    found.sort_by_key(|f| (f.slot.start, f.slot.id.professional.0));
    Ok(found)
}

// ---------------------------------------------------------------------------------------------
// Bookings

/// A booking with the name of its professional.
#[derive(Debug, Clone, PartialEq)]
pub struct BookingView {
    pub booking: Booking,
    pub professional: String,
    pub professional_name: String,
}

/// A booking made, with its iCalendar confirmation.
#[derive(Debug, Clone, PartialEq)]
pub struct Booked {
    pub view: BookingView,
    pub ics: String,
}

pub(crate) fn new_booking_id() -> String {
    let bytes: [u8; 8] = rand::random();
    format!("b-{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

/// The iCalendar event of a booking: the reason and the place, never the patient.
fn ics_event(cpts: &Cpts, booking: &Booking, with: Option<&ProfessionalInfo>) -> IcsEvent {
    IcsEvent {
        uid: format!("{}.{}@maillage", booking.id, cpts.id),
        start: booking.start,
        end: booking.end,
        summary: summary(booking.reason, booking.place),
        location: with.and_then(|i| i.commune.clone()),
        description: with.map(|i| format!("Avec {} ({})", i.name, booking.place.fr())),
    }
}

async fn view(ctx: &Ctx<'_>, cpts: &Cpts, booking: Booking) -> Result<BookingView, Failure> {
    let p = booking.slot.professional;
    let name = match professional_info(ctx, cpts, p).await {
        Ok(i) => i.name,
        Err(Failure::NotFound) => national_id(p),
        Err(e) => return Err(e),
    };
    Ok(BookingView { booking, professional: national_id(p), professional_name: name })
}

/// Books a place in `slot` for an intake (operators only).
pub async fn book(ctx: &Ctx<'_>, id: &str, slot: &str, intake: &IntakeForm) -> Result<Booked, Failure> {
    let cpts = load_cpts(ctx, id, Need::Edit).await?;
    let now = ctx.state.now();
    let slot_id: Result<SlotId, _> = slot.trim().parse();
    let parsed = intake.parse(ctx.state.reference, now);
    let (slot_id, intake) = match (slot_id, parsed) {
        (Ok(s), Ok(i)) => (s, i),
        (s, i) => {
            let mut errors = Vec::new();
            if let Err(e) = s {
                errors.push(field_error("slot", e.to_string(), format!("« {} » ne désigne pas un créneau", e.0)));
            }
            if let Err(e) = i {
                errors.extend(e);
            }
            return Err(refused("La réservation n'est pas enregistrée", &errors));
        }
    };
    let detail = format!(
        "réservation du créneau {slot_id} (motif : {}, commune {}, adressé par : {})",
        intake.reason.fr(),
        intake.commune.as_str(),
        intake.referrer.fr()
    );
    let new = NewBooking::from_intake(new_booking_id(), slot_id, &intake, now, ctx.principal.label());
    place_booking(ctx, &cpts, new, detail).await
}

/// Books `new` (its request recorded with it, or a waiting one) once the slot is checked not
/// started; the professional's profession is recorded for the indicators.
pub(crate) async fn place_booking(
    ctx: &Ctx<'_>,
    cpts: &Cpts,
    mut new: NewBooking,
    detail: String,
) -> Result<Booked, Failure> {
    let now = ctx.state.now();
    let slot_id = new.slot;
    let start = slot_id.start().ok_or(Failure::NotFound)?;
    if start < now {
        return Err(Failure::invalid(
            "slot_started",
            "Ce créneau a déjà commencé : choisissez-en un autre.",
            "the slot has already started",
        ));
    }
    let info = professional_info(ctx, cpts, slot_id.professional).await.ok();
    new.profession = info.as_ref().and_then(|i| i.profession.map(|c| c.as_str().to_owned()));
    let audit = ctx.event(Some(&cpts.id), "create", "snp_booking", &new.id, detail);
    let booking = ctx.state.store.book(&cpts.id, &new, &audit).await.map_err(|e| match e {
        StoreError::Conflict(en) if en.contains("full") => Failure::Conflict {
            fr: "Ce créneau est complet : il n'a plus de place libre. Relancez la recherche et choisissez-en un autre."
                .into(),
            en,
        },
        other => other.into(),
    })?;
    let ics = confirmation_ics(&ics_event(cpts, &booking, info.as_ref()), now);
    Ok(Booked {
        view: BookingView {
            professional: national_id(slot_id.professional),
            professional_name: info.map_or_else(|| national_id(slot_id.professional), |i| i.name),
            booking,
        },
        ics,
    })
}

/// The window of a list: default from 24 hours ago to 7 days ahead, at most [`MAX_LIST_DAYS`].
fn list_window(
    now: DateTime<Utc>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), Failure> {
    let from = from.unwrap_or(now - Duration::hours(24));
    let to = to.unwrap_or(from + Duration::days(8));
    if to <= from || to - from > Duration::days(MAX_LIST_DAYS) {
        return Err(Failure::invalid(
            "invalid_window",
            format!("La période doit finir après son début et durer au plus {MAX_LIST_DAYS} jours."),
            format!("the window must end after it starts and last at most {MAX_LIST_DAYS} days"),
        ));
    }
    Ok((from, to))
}

/// Bookings starting in the window: all of them for operators, her own for a professional.
/// The read is audited (one event naming how many bookings were shown).
pub async fn bookings(
    ctx: &Ctx<'_>,
    id: &str,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> Result<Vec<BookingView>, Failure> {
    let (cpts, caller) = open(ctx, id).await?;
    let (from, to) = list_window(ctx.state.now(), from, to)?;
    let store = &ctx.state.store;
    let (list, object) = match caller {
        Caller::Operator => (store.bookings(&cpts.id, from, to).await?, cpts.id.to_string()),
        Caller::Professional(p) => (store.bookings_of(&cpts.id, p, from, to).await?, national_id(p)),
    };
    let detail = format!("{} réservation(s) SNP du {} au {}", list.len(), from.to_rfc3339(), to.to_rfc3339());
    ctx.audit(Some(&cpts.id), "read", "snp_bookings", &object, detail).await?;
    let mut views = Vec::with_capacity(list.len());
    let names: HashMap<ProfessionalId, String> = if list.len() > 8 {
        directory(ctx, &cpts).await?.into_iter().map(|(p, i)| (p, i.name)).collect()
    } else {
        HashMap::new()
    };
    for booking in list {
        match names.get(&booking.slot.professional) {
            Some(name) => views.push(BookingView {
                professional: national_id(booking.slot.professional),
                professional_name: name.clone(),
                booking,
            }),
            None => views.push(view(ctx, &cpts, booking).await?),
        }
    }
    Ok(views)
}

/// A booking the caller may act on: any for operators, her own for a professional (another's
/// answers 404, as if it did not exist).
async fn own_booking(ctx: &Ctx<'_>, id: &str, booking: &str) -> Result<(Cpts, Booking), Failure> {
    let (cpts, caller) = open(ctx, id).await?;
    let found = ctx.state.store.booking(&cpts.id, booking.trim()).await?;
    if !caller.may_act_for(found.slot.professional) {
        return Err(Failure::NotFound);
    }
    Ok((cpts, found))
}

/// Cancels a booking and frees its place.
pub async fn cancel(ctx: &Ctx<'_>, id: &str, booking: &str) -> Result<BookingView, Failure> {
    let (cpts, found) = own_booking(ctx, id, booking).await?;
    let detail = format!("annulation de la réservation du créneau {}", found.slot);
    let audit = ctx.event(Some(&cpts.id), "update", "snp_booking", &found.id, detail);
    ctx.state.store.cancel_booking(&cpts.id, &found.id, ctx.state.now(), &audit).await.map_err(|e| match e {
        StoreError::Conflict(en) => Failure::Conflict {
            fr: "Cette réservation est déjà annulée, ou son issue est enregistrée : elle ne peut plus être annulée."
                .into(),
            en,
        },
        other => other.into(),
    })?;
    let updated = ctx.state.store.booking(&cpts.id, &found.id).await?;
    view(ctx, &cpts, updated).await
}

/// Records what became of the patient (once the slot has started).
pub async fn record_outcome(
    ctx: &Ctx<'_>,
    id: &str,
    booking: &str,
    code: &str,
    note: &str,
) -> Result<BookingView, Failure> {
    let (cpts, found) = own_booking(ctx, id, booking).await?;
    let outcome = Outcome::parse(code, note).map_err(|e| refused("L'issue n'est pas enregistrée", &[e]))?;
    let now = ctx.state.now();
    if found.start > now {
        return Err(Failure::invalid(
            "slot_not_started",
            "Le créneau n'a pas encore commencé : l'issue s'enregistre après le rendez-vous.",
            "the slot has not started yet",
        ));
    }
    let detail = format!("issue : {}", outcome.fr());
    let audit = ctx.event(Some(&cpts.id), "update", "snp_booking", &found.id, detail);
    ctx.state.store.record_outcome(&cpts.id, &found.id, &outcome, now, &audit).await.map_err(|e| match e {
        StoreError::Conflict(en) => Failure::Conflict {
            fr: "Cette réservation est annulée : son issue ne peut pas être enregistrée.".into(),
            en,
        },
        other => other.into(),
    })?;
    let updated = ctx.state.store.booking(&cpts.id, &found.id).await?;
    view(ctx, &cpts, updated).await
}

/// A professional's iCalendar feed: her bookings not cancelled, from 30 days ago to 90 days
/// ahead, each event naming the reason and the place, never the patient. Operators name the
/// professional; a professional reads her own (`professional` empty or hers). Audited.
pub async fn agenda_ics(ctx: &Ctx<'_>, id: &str, professional: Option<&str>) -> Result<String, Failure> {
    let (cpts, p) = open_for(ctx, id, professional).await?;
    let (feed, events) = feed_of(ctx.state, &cpts, p).await?;
    let detail = format!("agenda iCalendar : {events} rendez-vous");
    ctx.audit(Some(&cpts.id), "read", "snp_agenda", &national_id(p), detail).await?;
    Ok(feed)
}

/// The feed and how many events it has.
async fn feed_of(state: &AppState, cpts: &Cpts, p: ProfessionalId) -> Result<(String, usize), Failure> {
    let info = professional_info_in(state, cpts, p).await?;
    let now = state.now();
    let list = state
        .store
        .bookings_of(&cpts.id, p, now - Duration::days(FEED_PAST_DAYS), now + Duration::days(FEED_FUTURE_DAYS))
        .await?;
    let events: Vec<IcsEvent> =
        list.iter().filter(|b| b.cancelled_at.is_none()).map(|b| ics_event(cpts, b, Some(&info))).collect();
    Ok((feed_ics(&format!("SNP – {}", info.name), &events, now), events.len()))
}

/// The feed of a professional read through her secret address (no login): audited in the
/// CPTS's log with no account.
pub(crate) async fn feed_for(
    state: &AppState,
    request_id: &str,
    cpts: &Cpts,
    p: ProfessionalId,
) -> Result<String, Failure> {
    let (feed, events) = feed_of(state, cpts, p).await?;
    let detail = format!("agenda iCalendar par l'adresse d'abonnement : {events} rendez-vous");
    super::record(state, None, Some(&cpts.id), "read", "snp_agenda", &national_id(p), request_id, detail).await?;
    Ok(feed)
}
