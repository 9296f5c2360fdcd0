//! How long requests are kept (RGPD), and what a person is shown when they ask for their data.
//!
//! A request that is still open is kept: the person is still waiting. A request that ended
//! (médecin traitant declared, or closed: declined, withdrawn, moved away, unreachable) is
//! erased once [`RetentionPolicy::closed_after_days`] have passed since its last status change.
//! A person may also ask for erasure at any time: that is the web layer's use case (it deletes
//! the request and its history whatever the status, and audits it), not a rule here.
//!
//! For the right of access, every type of the registry is `Serialize` (the web exports the
//! request and its history as JSON), and [`subject_access_summary`] gives the same in words.

use super::date_fr;
use super::request::PatientRequest;
use super::status::{RequestStatus, StatusChange, current_status};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// How long ended requests are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionPolicy {
    /// Days a declared or closed request is kept after its last status change.
    ///
    /// Configurable by each CPTS (its data protection officer decides). The default is two
    /// years (730 days): data minimisation says to erase what is no longer needed, but the
    /// CPTS reports on its access mission once a year for the ACI (patients registered,
    /// matched, declared, waiting times), and a request that ended in January must still be
    /// there for the report made early the following year; two years covers a report year
    /// plus the time to produce and check it, with no more margin than that.
    pub closed_after_days: u32,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        Self { closed_after_days: 365 * 2 }
    }
}

/// Bounds a CPTS may choose: at least a month (time to answer a late question), at most five
/// years.
pub const RETENTION_DAYS: std::ops::RangeInclusive<u32> = 30..=5 * 365;

impl RetentionPolicy {
    /// A policy within [`RETENTION_DAYS`], or why not (en, fr).
    pub fn new(closed_after_days: u32) -> Result<Self, (String, String)> {
        if RETENTION_DAYS.contains(&closed_after_days) {
            Ok(Self { closed_after_days })
        } else {
            Err((
                format!("the retention period is from {} to {} days", RETENTION_DAYS.start(), RETENTION_DAYS.end()),
                format!("la durée de conservation va de {} à {} jours", RETENTION_DAYS.start(), RETENTION_DAYS.end()),
            ))
        }
    }

    /// When a request in `status` whose status last changed at `last_change_at` is to be
    /// erased: `None` while it is open.
    pub fn erasure_due_at(&self, status: RequestStatus, last_change_at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        (!status.is_open()).then(|| last_change_at + Duration::days(i64::from(self.closed_after_days)))
    }

    /// Whether the request is to be erased `now`: declared or closed, and its last status
    /// change at least [`closed_after_days`](Self::closed_after_days) ago.
    pub fn due_for_erasure(&self, status: RequestStatus, last_change_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        self.erasure_due_at(status, last_change_at).is_some_and(|due| due <= now)
    }
}

fn yes_no(b: bool) -> String {
    if b { "oui" } else { "non" }.to_owned()
}

fn moment_fr(t: DateTime<Utc>) -> String {
    t.format("%d/%m/%Y à %H:%M (UTC)").to_string()
}

/// What the registry holds about a person, in French words, for a subject access request:
/// (label, value) pairs, the request's fields first, then its history (oldest first).
pub fn subject_access_summary(request: &PatientRequest, history: &[StatusChange]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut push = |label: &str, value: String| out.push((label.to_owned(), value));
    let none = || "non renseigné".to_owned();
    push("Numéro de la demande", request.id.clone());
    push("Nom", request.family_name.clone());
    push("Prénom", request.given_name.clone());
    push("Date de naissance", date_fr(request.birth_date));
    push("Commune (code INSEE)", request.commune.as_str().to_owned());
    push("Téléphone", request.phone.clone().unwrap_or_else(none));
    push("Adresse électronique", request.email.clone().unwrap_or_else(none));
    push("Affection de longue durée (ALD)", yes_no(request.ald));
    push("Complémentaire santé solidaire (C2S)", yes_no(request.precarity_c2s));
    push("Autre fragilité", request.other_fragility.clone().unwrap_or_else(none));
    push("Note", request.note.clone().unwrap_or_else(none));
    push("Accord donné le", moment_fr(request.consent_at));
    push("Origine de la demande", request.source.fr().to_owned());
    push("Adressé par", request.referred_by.clone().unwrap_or_else(none));
    push("Enregistrée le", moment_fr(request.registered_at));
    push("Statut actuel", current_status(history).fr().to_owned());
    for change in history {
        let mut value = format!("{} → {}", change.from.fr(), change.to.fr());
        if let Some(d) = &change.doctor {
            value.push_str(&format!(" ; médecin : {d}"));
        }
        if let Some(r) = &change.reason {
            value.push_str(&format!(" ; motif : {r}"));
        }
        value.push_str(&format!(" ; par : {}", change.by));
        push(&format!("Changement du {}", moment_fr(change.at)), value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patients::request::{RequestForm, RequestSource};
    use crate::patients::status::{RequestEvent as E, RequestState};
    use chrono::TimeZone;

    fn t(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 8, 15, 0).unwrap()
    }

    #[test]
    fn only_ended_requests_are_erased_after_the_delay() {
        let p = RetentionPolicy::default();
        assert_eq!(p.closed_after_days, 730);
        let last = t(2024, 1, 10);
        let due = t(2026, 1, 9);
        assert_eq!(p.erasure_due_at(RequestStatus::Declared, last), Some(due));
        for s in RequestStatus::ALL {
            let ended = !s.is_open();
            assert!(!p.due_for_erasure(s, last, due - Duration::seconds(1)), "{s}");
            assert_eq!(p.due_for_erasure(s, last, due), ended, "{s}");
            assert_eq!(p.due_for_erasure(s, last, t(2040, 1, 1)), ended, "{s}");
        }
        let short = RetentionPolicy::new(30).unwrap();
        assert!(short.due_for_erasure(RequestStatus::Withdrawn, last, t(2024, 2, 9)));
        assert!(RetentionPolicy::new(29).is_err());
        assert_eq!(RetentionPolicy::new(1826).unwrap_err().1, "la durée de conservation va de 30 à 1825 jours");
    }

    #[test]
    fn summary_lists_the_fields_and_the_history() {
        let form = RequestForm {
            family_name: "Martin".into(),
            given_name: "Paul".into(),
            birth_date: "1980-01-02".into(),
            commune: "29019".into(),
            email: "paul@example.fr".into(),
            precarity_c2s: "on".into(),
            consent: "on".into(),
            ..RequestForm::default()
        };
        let r = form.parse("r9", t(2026, 1, 5), RequestSource::SelfRegistration).unwrap();
        let s0 = RequestState::new(r.registered_at);
        let (s1, c1) = s0.apply(&E::Propose { doctor: "810001045367".into() }, t(2026, 2, 1), "matching").unwrap();
        let (_, c2) = s1.apply(&E::PatientDeclines { reason: Some("trop loin".into()) }, t(2026, 2, 3), "u7").unwrap();
        let summary = subject_access_summary(&r, &[c1, c2]);
        let get = |label: &str| summary.iter().find(|(l, _)| l == label).map(|(_, v)| v.as_str());
        assert_eq!(get("Nom"), Some("Martin"));
        assert_eq!(get("Date de naissance"), Some("02/01/1980"));
        assert_eq!(get("Téléphone"), Some("non renseigné"));
        assert_eq!(get("Complémentaire santé solidaire (C2S)"), Some("oui"));
        assert_eq!(get("Affection de longue durée (ALD)"), Some("non"));
        assert_eq!(get("Accord donné le"), Some("05/01/2026 à 08:15 (UTC)"));
        assert_eq!(get("Origine de la demande"), Some("inscription par le patient"));
        assert_eq!(get("Statut actuel"), Some("a refusé la proposition"));
        assert_eq!(
            get("Changement du 03/02/2026 à 08:15 (UTC)"),
            Some(
                "proposé à un médecin → a refusé la proposition ; médecin : 810001045367 ; motif : trop loin ; par : u7"
            )
        );
        assert_eq!(summary.len(), 18);
        let empty = subject_access_summary(&r, &[]);
        assert_eq!(empty.last().map(|(l, v)| (l.as_str(), v.as_str())), Some(("Statut actuel", "en attente")));
    }
}
