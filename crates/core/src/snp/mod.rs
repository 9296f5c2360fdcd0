//! Same-day care (soins non programmés, SNP): the slots professionals publish, their expansion
//! into instants, the search for the best free slots near a patient, and the pure part of
//! booking.
//!
//! - [`paris`]: Europe/Paris wall-clock time ↔ UTC (EU summer-time rule, gap and fold);
//! - [`availability`]: weekly ranges, one-off slots, closures, cancellations and their checks;
//! - [`expand`]: concrete slots in a UTC window, with stable ids;
//! - [`search`]: an index of free slots answering "the best N near this commune" in microseconds;
//! - [`booking`]: the intake form, outcomes, and iCalendar confirmations and feeds;
//! - [`requests`]: the desk's requests, their orientation, and the SNP indicators.
//!
//! Everything is pure: the caller passes `now`. `docs/snp.md` describes the model, the
//! clock-change rules and the search algorithm with its figures.

pub mod availability;
pub mod booking;
pub mod expand;
pub mod paris;
pub mod requests;
pub mod search;

pub use availability::{
    Audience, AudienceSet, Availability, AvailabilityError, Cancellation, Closure, Item, OneOffSlot, Place,
    ProfessionalId, WeeklyRange,
};
pub use expand::{Slot, SlotId, expand};
