//! Where a request stands, the events that move it, and its history.
//!
//! ```text
//!                 Propose{doctor}            DoctorAccepts             Declare
//!   ┌─> Waiting ─────────────────> Proposed ──────────────> Accepted ─────────> Declared (final)
//!   │      ^                           │                        │
//!   │      └──── DoctorDeclines ───────┘                        │
//!   │            (doctor excluded)     │ PatientDeclines        │ PatientDeclines
//!   │                                  └──────> Declined <──────┘
//!   │
//!   │   any open status (Waiting, Proposed, Accepted) ──> Withdrawn | MovedAway | Unreachable
//!   │
//!   └── Reopen ── any closed status (Declined, Withdrawn, MovedAway, Unreachable)
//! ```
//!
//! [`transition`] is the rule on statuses alone; [`RequestState::apply`] applies an event to a
//! request's state (current doctor, excluded doctors) and gives the [`StatusChange`] to append
//! to its history; [`RequestState::replay`] rebuilds the state from a history and checks it.

use super::FieldError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

/// Longest reason kept with a status change, in characters.
pub const MAX_REASON: usize = 500;

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    /// Waiting for a proposal.
    Waiting,
    /// Proposed to a doctor, who has not answered yet.
    Proposed,
    /// The doctor accepted; the patient has yet to declare them to the Assurance Maladie.
    Accepted,
    /// The médecin traitant is declared: done (final).
    Declared,
    /// The patient declined the proposal (closed).
    Declined,
    /// The request was withdrawn (closed).
    Withdrawn,
    /// The person moved out of the territory (closed).
    MovedAway,
    /// The person could not be reached (closed).
    Unreachable,
}

impl RequestStatus {
    pub const ALL: [RequestStatus; 8] = [
        Self::Waiting,
        Self::Proposed,
        Self::Accepted,
        Self::Declared,
        Self::Declined,
        Self::Withdrawn,
        Self::MovedAway,
        Self::Unreachable,
    ];

    /// Stable code (storage, API): the serde name.
    pub fn code(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Proposed => "proposed",
            Self::Accepted => "accepted",
            Self::Declared => "declared",
            Self::Declined => "declined",
            Self::Withdrawn => "withdrawn",
            Self::MovedAway => "moved_away",
            Self::Unreachable => "unreachable",
        }
    }

    pub fn fr(self) -> &'static str {
        match self {
            Self::Waiting => "en attente",
            Self::Proposed => "proposé à un médecin",
            Self::Accepted => "accepté par le médecin",
            Self::Declared => "médecin traitant déclaré",
            Self::Declined => "a refusé la proposition",
            Self::Withdrawn => "demande retirée",
            Self::MovedAway => "a déménagé",
            Self::Unreachable => "injoignable",
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Proposed => "proposed to a doctor",
            Self::Accepted => "accepted by the doctor",
            Self::Declared => "médecin traitant declared",
            Self::Declined => "declined the proposal",
            Self::Withdrawn => "withdrawn",
            Self::MovedAway => "moved away",
            Self::Unreachable => "unreachable",
        }
    }

    /// Still looking for a médecin traitant: waiting, proposed or accepted.
    pub fn is_open(self) -> bool {
        matches!(self, Self::Waiting | Self::Proposed | Self::Accepted)
    }

    /// Ended without a médecin traitant: declined, withdrawn, moved away, unreachable (these
    /// may be reopened).
    pub fn is_closed(self) -> bool {
        matches!(self, Self::Declined | Self::Withdrawn | Self::MovedAway | Self::Unreachable)
    }
}

impl fmt::Display for RequestStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for RequestStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|k| k.code() == s.trim()).ok_or_else(|| format!("unknown request status {s:?}"))
    }
}

/// Something that happens to a request. Reasons are optional free text (one line at most
/// [`MAX_REASON`] characters), kept in the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum RequestEvent {
    /// The CPTS proposes the patient to a doctor (usually after a matching run). `doctor` is
    /// the doctor's id as the CPTS stores it (national id `8` + RPPS).
    Propose {
        doctor: String,
    },
    /// The doctor accepts the patient.
    DoctorAccepts,
    /// The doctor declines: the request waits again, and the doctor is excluded from it for good.
    DoctorDeclines {
        reason: Option<String>,
    },
    /// The patient declared the doctor as médecin traitant.
    Declare,
    /// The patient declines the proposal.
    PatientDeclines {
        reason: Option<String>,
    },
    /// The person (or the CPTS on their behalf) withdraws the request.
    Withdraw {
        reason: Option<String>,
    },
    MovedAway {
        reason: Option<String>,
    },
    Unreachable {
        reason: Option<String>,
    },
    /// A closed request waits again (the person called back…); excluded doctors stay excluded.
    Reopen {
        reason: Option<String>,
    },
}

impl RequestEvent {
    /// Stable code (storage, API, audit): the serde tag.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Propose { .. } => "propose",
            Self::DoctorAccepts => "doctor_accepts",
            Self::DoctorDeclines { .. } => "doctor_declines",
            Self::Declare => "declare",
            Self::PatientDeclines { .. } => "patient_declines",
            Self::Withdraw { .. } => "withdraw",
            Self::MovedAway { .. } => "moved_away",
            Self::Unreachable { .. } => "unreachable",
            Self::Reopen { .. } => "reopen",
        }
    }

    pub fn reason(&self) -> Option<&str> {
        match self {
            Self::DoctorDeclines { reason }
            | Self::PatientDeclines { reason }
            | Self::Withdraw { reason }
            | Self::MovedAway { reason }
            | Self::Unreachable { reason }
            | Self::Reopen { reason } => reason.as_deref(),
            Self::Propose { .. } | Self::DoctorAccepts | Self::Declare => None,
        }
    }

    /// What the event does, and from which statuses it may: (en, fr, requirement en,
    /// requirement fr).
    fn wording(&self) -> (&'static str, &'static str, &'static str, &'static str) {
        const OPEN_EN: &str = "only an open request (waiting, proposed or accepted) can be";
        const OPEN_FR: &str = "seule une demande ouverte (en attente, proposée ou acceptée) peut l'être";
        match self {
            Self::Propose { .. } => (
                "propose to a doctor",
                "de proposer à un médecin",
                "only a waiting request can be proposed",
                "seule une demande en attente peut être proposée à un médecin",
            ),
            Self::DoctorAccepts => (
                "record the doctor's acceptance of",
                "d'enregistrer l'accord du médecin pour",
                "a doctor can only accept a pending proposal",
                "le médecin ne peut accepter qu'une proposition en cours",
            ),
            Self::DoctorDeclines { .. } => (
                "record the doctor's refusal of",
                "d'enregistrer le refus du médecin pour",
                "a doctor can only decline a pending proposal",
                "le médecin ne peut refuser qu'une proposition en cours",
            ),
            Self::Declare => (
                "record the declaration of the médecin traitant for",
                "d'enregistrer la déclaration du médecin traitant pour",
                "the doctor must have accepted first",
                "le médecin doit d'abord avoir accepté",
            ),
            Self::PatientDeclines { .. } => (
                "record the patient's refusal of",
                "d'enregistrer le refus du patient pour",
                "only a proposal (pending or accepted) can be declined",
                "seule une proposition (en cours ou acceptée) peut être refusée",
            ),
            Self::Withdraw { .. } => ("withdraw", "de retirer", OPEN_EN, OPEN_FR),
            Self::MovedAway { .. } => ("mark as moved away", "d'indiquer un déménagement pour", OPEN_EN, OPEN_FR),
            Self::Unreachable { .. } => ("mark as unreachable", "d'indiquer « injoignable » pour", OPEN_EN, OPEN_FR),
            Self::Reopen { .. } => (
                "reopen",
                "de rouvrir",
                "only a closed request (declined, withdrawn, moved away, unreachable) can be reopened",
                "seule une demande close (refus, retrait, déménagement, injoignable) peut être rouverte",
            ),
        }
    }
}

/// A refused event, explained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{en}")]
pub struct TransitionError {
    pub from: RequestStatus,
    /// The event's [`code`](RequestEvent::code).
    pub event: &'static str,
    pub en: String,
    pub fr: String,
}

/// The status a request moves to on `event`, or why it cannot.
pub fn transition(from: RequestStatus, event: &RequestEvent) -> Result<RequestStatus, TransitionError> {
    use RequestEvent as E;
    use RequestStatus as S;
    let to = match (from, event) {
        (S::Waiting, E::Propose { .. }) => Some(S::Proposed),
        (S::Proposed, E::DoctorAccepts) => Some(S::Accepted),
        (S::Proposed, E::DoctorDeclines { .. }) => Some(S::Waiting),
        (S::Accepted, E::Declare) => Some(S::Declared),
        (S::Proposed | S::Accepted, E::PatientDeclines { .. }) => Some(S::Declined),
        (s, E::Withdraw { .. }) if s.is_open() => Some(S::Withdrawn),
        (s, E::MovedAway { .. }) if s.is_open() => Some(S::MovedAway),
        (s, E::Unreachable { .. }) if s.is_open() => Some(S::Unreachable),
        (s, E::Reopen { .. }) if s.is_closed() => Some(S::Waiting),
        _ => None,
    };
    to.ok_or_else(|| {
        let (en, fr) = if from == S::Declared {
            (
                "the médecin traitant is declared: the request is complete and can no longer change".to_owned(),
                "le médecin traitant est déclaré : la demande est terminée et ne peut plus changer".to_owned(),
            )
        } else {
            let (verb_en, verb_fr, need_en, need_fr) = event.wording();
            (
                format!("cannot {verb_en} a request that is {}: {need_en}", from.en()),
                format!("impossible {verb_fr} une demande dont le statut est « {} » : {need_fr}", from.fr()),
            )
        };
        TransitionError { from, event: event.code(), en, fr }
    })
}

/// One entry of a request's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    pub at: DateTime<Utc>,
    pub from: RequestStatus,
    pub to: RequestStatus,
    pub reason: Option<String>,
    /// The doctor concerned: proposed to, accepting, declining, declared; the one whose
    /// proposal the patient declined; the one whose proposal a withdrawal, move or
    /// unreachability ended.
    pub doctor: Option<String>,
    /// Who made the change: an account id, or a fixed name such as `matching` or `patient`.
    pub by: String,
}

impl StatusChange {
    /// The event that made this change: every (from, to) pair belongs to exactly one event.
    pub fn event(&self) -> Option<RequestEvent> {
        use RequestEvent as E;
        use RequestStatus as S;
        let reason = self.reason.clone();
        Some(match (self.from, self.to) {
            (S::Waiting, S::Proposed) => E::Propose { doctor: self.doctor.clone()? },
            (S::Proposed, S::Accepted) => E::DoctorAccepts,
            (S::Proposed, S::Waiting) => E::DoctorDeclines { reason },
            (S::Accepted, S::Declared) => E::Declare,
            (_, S::Declined) => E::PatientDeclines { reason },
            (_, S::Withdrawn) => E::Withdraw { reason },
            (_, S::MovedAway) => E::MovedAway { reason },
            (_, S::Unreachable) => E::Unreachable { reason },
            (_, S::Waiting) => E::Reopen { reason },
            _ => return None,
        })
    }
}

/// The current status of a request from its history (oldest first): the last change's, or
/// waiting when nothing happened yet.
pub fn current_status(history: &[StatusChange]) -> RequestStatus {
    history.last().map_or(RequestStatus::Waiting, |c| c.to)
}

/// A request's state: what the history adds up to, what the storage layer keeps next to the
/// request, and what the matching engine needs (status, excluded doctors).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestState {
    pub status: RequestStatus,
    /// The doctor the request is proposed to, accepted by, or declared with; `None` otherwise.
    pub doctor: Option<String>,
    /// Doctors who declined this patient: never proposed again.
    pub excluded_doctors: BTreeSet<String>,
    /// When the status last changed (the registration at first).
    pub since: DateTime<Utc>,
}

/// A history that does not add up: the first faulty entry (0-based) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("history entry {index}: {en}")]
pub struct HistoryError {
    pub index: usize,
    pub en: String,
    pub fr: String,
}

impl RequestState {
    /// A request just registered: waiting, since `registered_at`.
    pub fn new(registered_at: DateTime<Utc>) -> Self {
        Self { status: RequestStatus::Waiting, doctor: None, excluded_doctors: BTreeSet::new(), since: registered_at }
    }

    /// Applies `event` at `at`, done `by` someone: the new state and the history entry, or why
    /// not. Besides [`transition`]'s rules: a change cannot predate the previous one, `by` is
    /// required, a proposal names a doctor who has not declined this patient, and a reason is
    /// one line of at most [`MAX_REASON`] characters (blank means none).
    pub fn apply(
        &self,
        event: &RequestEvent,
        at: DateTime<Utc>,
        by: &str,
    ) -> Result<(RequestState, StatusChange), TransitionError> {
        use RequestEvent as E;
        let refuse = |en: String, fr: String| TransitionError { from: self.status, event: event.code(), en, fr };
        let to = transition(self.status, event)?;
        if at < self.since {
            return Err(refuse(
                format!("a change cannot predate the previous one ({})", self.since.format("%Y-%m-%d %H:%M UTC")),
                format!("un changement ne peut précéder le précédent ({})", self.since.format("%d/%m/%Y %H:%M UTC")),
            ));
        }
        let by = by.trim();
        if by.is_empty() {
            return Err(refuse("who makes the change is required".into(), "l'auteur du changement est requis".into()));
        }
        let mut errors = Vec::new();
        let reason = super::text("reason", event.reason().unwrap_or_default(), MAX_REASON, false, &mut errors);
        if let Some(FieldError { en, fr, .. }) = errors.pop() {
            return Err(refuse(format!("reason: {en}"), format!("motif : {fr}")));
        }
        let mut next = self.clone();
        next.status = to;
        next.since = at;
        let doctor = match event {
            E::Propose { doctor } => {
                let doctor = doctor.trim();
                if doctor.is_empty() {
                    return Err(refuse("name the doctor".into(), "précisez le médecin".into()));
                }
                if self.excluded_doctors.contains(doctor) {
                    return Err(refuse(
                        format!("doctor {doctor} declined this patient before: never proposed again"),
                        format!("le médecin {doctor} a déjà refusé ce patient : il ne lui est plus proposé"),
                    ));
                }
                next.doctor = Some(doctor.to_owned());
                next.doctor.clone()
            }
            E::DoctorAccepts | E::Declare => self.doctor.clone(),
            E::DoctorDeclines { .. } => {
                if let Some(d) = &self.doctor {
                    next.excluded_doctors.insert(d.clone());
                }
                next.doctor = None;
                self.doctor.clone()
            }
            E::PatientDeclines { .. } | E::Withdraw { .. } | E::MovedAway { .. } | E::Unreachable { .. } => {
                next.doctor = None;
                self.doctor.clone()
            }
            E::Reopen { .. } => {
                next.doctor = None;
                None
            }
        };
        let change = StatusChange { at, from: self.status, to, reason, doctor, by: by.to_owned() };
        Ok((next, change))
    }

    /// Rebuilds the state of a request registered at `registered_at` from its history (oldest
    /// first), checking that every entry is what applying its event would have written: the
    /// chain of statuses, the order of dates, the doctors.
    pub fn replay(registered_at: DateTime<Utc>, history: &[StatusChange]) -> Result<RequestState, HistoryError> {
        let mut state = Self::new(registered_at);
        for (index, change) in history.iter().enumerate() {
            let fail = |en: String, fr: String| HistoryError { index, en, fr };
            if change.from != state.status {
                return Err(fail(
                    format!("starts from {} but the request was {}", change.from.en(), state.status.en()),
                    format!("part de « {} » alors que la demande était « {} »", change.from.fr(), state.status.fr()),
                ));
            }
            let Some(event) = change.event() else {
                return Err(fail(
                    format!("no event goes from {} to {}", change.from.en(), change.to.en()),
                    format!("aucun événement ne mène de « {} » à « {} »", change.from.fr(), change.to.fr()),
                ));
            };
            let (next, expected) = state.apply(&event, change.at, &change.by).map_err(|e| fail(e.en, e.fr))?;
            if &expected != change {
                return Err(fail(
                    "differs from what its event records (doctor, reason or author)".into(),
                    "ne correspond pas à ce que son événement enregistre (médecin, motif ou auteur)".into(),
                ));
            }
            state = next;
        }
        Ok(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RequestEvent as E;
    use RequestStatus as S;
    use chrono::{Duration, TimeZone};
    use proptest::prelude::*;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap()
    }

    fn why(s: &str) -> Option<String> {
        Some(s.to_owned())
    }

    fn all_events() -> Vec<RequestEvent> {
        vec![
            E::Propose { doctor: "810001045367".into() },
            E::DoctorAccepts,
            E::DoctorDeclines { reason: None },
            E::Declare,
            E::PatientDeclines { reason: None },
            E::Withdraw { reason: None },
            E::MovedAway { reason: None },
            E::Unreachable { reason: None },
            E::Reopen { reason: None },
        ]
    }

    #[test]
    fn the_transition_table() {
        let expected = |from: S, e: &RequestEvent| -> Option<S> {
            match (from, e.code()) {
                (S::Waiting, "propose") => Some(S::Proposed),
                (S::Proposed, "doctor_accepts") => Some(S::Accepted),
                (S::Proposed, "doctor_declines") => Some(S::Waiting),
                (S::Accepted, "declare") => Some(S::Declared),
                (S::Proposed | S::Accepted, "patient_declines") => Some(S::Declined),
                (S::Waiting | S::Proposed | S::Accepted, "withdraw") => Some(S::Withdrawn),
                (S::Waiting | S::Proposed | S::Accepted, "moved_away") => Some(S::MovedAway),
                (S::Waiting | S::Proposed | S::Accepted, "unreachable") => Some(S::Unreachable),
                (S::Declined | S::Withdrawn | S::MovedAway | S::Unreachable, "reopen") => Some(S::Waiting),
                _ => None,
            }
        };
        let mut allowed = 0;
        for from in S::ALL {
            for e in all_events() {
                match (transition(from, &e), expected(from, &e)) {
                    (Ok(to), Some(want)) => {
                        assert_eq!(to, want, "{from} {}", e.code());
                        allowed += 1;
                    }
                    (Err(err), None) => {
                        assert_eq!((err.from, err.event), (from, e.code()));
                        assert!(!err.en.is_empty() && !err.fr.is_empty());
                    }
                    (got, want) => panic!("{from} {}: got {got:?}, want {want:?}", e.code()),
                }
            }
        }
        assert_eq!(allowed, 19);
    }

    #[test]
    fn refusals_explain_themselves() {
        let e = transition(S::Declared, &E::Withdraw { reason: None }).unwrap_err();
        assert_eq!(e.fr, "le médecin traitant est déclaré : la demande est terminée et ne peut plus changer");
        let e = transition(S::Waiting, &E::Declare).unwrap_err();
        assert_eq!(
            e.fr,
            "impossible d'enregistrer la déclaration du médecin traitant pour une demande dont le statut est \
             « en attente » : \
             le médecin doit d'abord avoir accepté"
        );
        assert_eq!(
            e.en,
            "cannot record the declaration of the médecin traitant for a request that is waiting: \
             the doctor must have accepted first"
        );
        let e = transition(S::Withdrawn, &E::Propose { doctor: "x".into() }).unwrap_err();
        assert_eq!(
            e.fr,
            "impossible de proposer à un médecin une demande dont le statut est « demande retirée » : \
             seule une demande en attente peut être proposée à un médecin"
        );
        let e = transition(S::Waiting, &E::Reopen { reason: None }).unwrap_err();
        assert!(e.en.contains("only a closed request"));
    }

    #[test]
    fn statuses_round_trip_and_classify() {
        for s in S::ALL {
            assert_eq!(s.code().parse::<S>(), Ok(s));
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{}\"", s.code()));
            assert!(!(s.is_open() && s.is_closed()));
            assert_eq!(s.is_open() || s.is_closed(), s != S::Declared);
        }
        assert_eq!(S::MovedAway.fr(), "a déménagé");
        assert_eq!(S::Proposed.fr(), "proposé à un médecin");
        assert!("closed".parse::<S>().is_err());
    }

    #[test]
    fn events_serialize_with_a_tag() {
        for e in all_events() {
            let json = serde_json::to_value(&e).unwrap();
            assert_eq!(json["event"], e.code());
            assert_eq!(serde_json::from_value::<RequestEvent>(json).unwrap(), e);
        }
    }

    #[test]
    fn a_full_path_to_declaration() {
        let s0 = RequestState::new(t0());
        let h = Duration::hours(1);
        let (s1, c1) = s0.apply(&E::Propose { doctor: " 8A ".into() }, t0() + h, "matching").unwrap();
        assert_eq!((s1.status, s1.doctor.as_deref()), (S::Proposed, Some("8A")));
        assert_eq!(c1.doctor.as_deref(), Some("8A"));
        let (s2, c2) =
            s1.apply(&E::DoctorDeclines { reason: why(" patientèle complète ") }, t0() + h * 2, "u1").unwrap();
        assert_eq!((s2.status, s2.doctor.as_ref()), (S::Waiting, None));
        assert!(s2.excluded_doctors.contains("8A"));
        assert_eq!((c2.doctor.as_deref(), c2.reason.as_deref()), (Some("8A"), Some("patientèle complète")));
        // The doctor who declined is never proposed again.
        let err = s2.apply(&E::Propose { doctor: "8A".into() }, t0() + h * 3, "matching").unwrap_err();
        assert!(err.fr.contains("a déjà refusé"));
        let (s3, c3) = s2.apply(&E::Propose { doctor: "8B".into() }, t0() + h * 3, "matching").unwrap();
        let (s4, c4) = s3.apply(&E::DoctorAccepts, t0() + h * 4, "u1").unwrap();
        let (s5, c5) = s4.apply(&E::Declare, t0() + h * 5, "u1").unwrap();
        assert_eq!((s5.status, s5.doctor.as_deref()), (S::Declared, Some("8B")));
        assert_eq!((c4.doctor.as_deref(), c5.doctor.as_deref()), (Some("8B"), Some("8B")));
        let history = [c1, c2, c3, c4, c5];
        assert_eq!(RequestState::replay(t0(), &history).unwrap(), s5);
        assert_eq!(current_status(&history), S::Declared);
        assert_eq!(current_status(&[]), S::Waiting);
    }

    #[test]
    fn closing_ends_the_proposal_and_reopening_keeps_exclusions() {
        let s = RequestState::new(t0());
        let (s, _) = s.apply(&E::Propose { doctor: "8A".into() }, t0(), "m").unwrap();
        let (s, _) = s.apply(&E::DoctorDeclines { reason: None }, t0(), "m").unwrap();
        let (s, _) = s.apply(&E::Propose { doctor: "8B".into() }, t0(), "m").unwrap();
        let (s, c) = s.apply(&E::Unreachable { reason: why("3 appels sans réponse") }, t0(), "u").unwrap();
        assert_eq!((s.status, s.doctor.as_ref(), c.doctor.as_deref()), (S::Unreachable, None, Some("8B")));
        let (s, c) = s.apply(&E::Reopen { reason: why("a rappelé") }, t0(), "u").unwrap();
        assert_eq!((s.status, c.doctor.as_ref()), (S::Waiting, None));
        assert_eq!(s.excluded_doctors.iter().collect::<Vec<_>>(), ["8A"]);
    }

    #[test]
    fn apply_refuses_bad_dates_authors_doctors_and_reasons() {
        let s = RequestState::new(t0());
        let before = t0() - Duration::seconds(1);
        let e = s.apply(&E::Withdraw { reason: None }, before, "u").unwrap_err();
        assert!(e.fr.starts_with("un changement ne peut précéder le précédent (05/01/2026 09:00"));
        let e = s.apply(&E::Withdraw { reason: None }, t0(), "  ").unwrap_err();
        assert_eq!(e.fr, "l'auteur du changement est requis");
        let e = s.apply(&E::Propose { doctor: " ".into() }, t0(), "u").unwrap_err();
        assert_eq!(e.fr, "précisez le médecin");
        let e = s.apply(&E::Withdraw { reason: Some("x".repeat(MAX_REASON + 1)) }, t0(), "u").unwrap_err();
        assert_eq!(e.fr, "motif : au plus 500 caractères");
        let e = s.apply(&E::Withdraw { reason: why("a\nb") }, t0(), "u").unwrap_err();
        assert_eq!(e.fr, "motif : sur une seule ligne");
        let (_, c) = s.apply(&E::Withdraw { reason: why("   ") }, t0(), "u").unwrap();
        assert_eq!(c.reason, None);
    }

    #[test]
    fn replay_finds_the_faulty_entry() {
        let s = RequestState::new(t0());
        let (s1, c1) = s.apply(&E::Propose { doctor: "8A".into() }, t0(), "m").unwrap();
        let (_, c2) = s1.apply(&E::DoctorAccepts, t0(), "u").unwrap();
        let ok = vec![c1.clone(), c2.clone()];
        assert!(RequestState::replay(t0(), &ok).is_ok());
        // Broken chain.
        let e = RequestState::replay(t0(), std::slice::from_ref(&c2)).unwrap_err();
        assert_eq!(e.index, 0);
        assert!(e.fr.contains("part de « proposé à un médecin »"));
        // Impossible pair.
        let bad = StatusChange { to: S::Declared, ..c1.clone() };
        let e = RequestState::replay(t0(), &[bad]).unwrap_err();
        assert!(e.en.starts_with("no event goes from waiting to médecin traitant declared"));
        // Wrong doctor on the acceptance.
        let bad = StatusChange { doctor: Some("8Z".into()), ..c2.clone() };
        let e = RequestState::replay(t0(), &[c1.clone(), bad]).unwrap_err();
        assert_eq!(e.index, 1);
        // Dates going back.
        let bad = StatusChange { at: t0() - Duration::days(1), ..c2 };
        assert_eq!(RequestState::replay(t0(), &[c1, bad]).unwrap_err().index, 1);
    }

    fn event_strategy() -> impl Strategy<Value = RequestEvent> {
        let reason = proptest::option::of("[a-z ]{0,12}");
        prop_oneof![
            "[A-D]".prop_map(|doctor| E::Propose { doctor }),
            Just(E::DoctorAccepts),
            reason.clone().prop_map(|reason| E::DoctorDeclines { reason }),
            Just(E::Declare),
            reason.clone().prop_map(|reason| E::PatientDeclines { reason }),
            reason.clone().prop_map(|reason| E::Withdraw { reason }),
            reason.clone().prop_map(|reason| E::MovedAway { reason }),
            reason.clone().prop_map(|reason| E::Unreachable { reason }),
            reason.prop_map(|reason| E::Reopen { reason }),
        ]
    }

    proptest! {
        #[test]
        fn declared_is_final(e in event_strategy()) {
            prop_assert!(transition(S::Declared, &e).is_err());
            let s = RequestState { status: S::Declared, doctor: Some("A".into()), ..RequestState::new(t0()) };
            prop_assert!(s.apply(&e, t0(), "u").is_err());
        }

        #[test]
        fn valid_event_sequences_keep_history_consistent(
            events in proptest::collection::vec((event_strategy(), 0i64..3), 0..40)
        ) {
            let mut state = RequestState::new(t0());
            let mut history: Vec<StatusChange> = Vec::new();
            let mut at = t0();
            for (e, step) in &events {
                at += Duration::hours(*step);
                let was = state.clone();
                match state.apply(e, at, "u") {
                    Ok((next, change)) => {
                        prop_assert_eq!(change.from, was.status);
                        prop_assert_eq!(change.to, next.status);
                        prop_assert_eq!(Ok(next.status), transition(was.status, e));
                        prop_assert_ne!(was.status, S::Declared);
                        // Exclusions only grow; the current doctor is never excluded.
                        prop_assert!(was.excluded_doctors.is_subset(&next.excluded_doctors));
                        if let Some(d) = &next.doctor {
                            prop_assert!(!next.excluded_doctors.contains(d));
                        }
                        // A doctor is attached exactly while proposed, accepted or declared.
                        prop_assert_eq!(
                            next.doctor.is_some(),
                            matches!(next.status, S::Proposed | S::Accepted | S::Declared)
                        );
                        history.push(change);
                        state = next;
                    }
                    Err(_) => prop_assert_eq!(&state, &was),
                }
            }
            // Linked chain, dates in order, and the replay gives the same state.
            for w in history.windows(2) {
                prop_assert_eq!(w[0].to, w[1].from);
                prop_assert!(w[0].at <= w[1].at);
            }
            prop_assert_eq!(current_status(&history), state.status);
            prop_assert_eq!(RequestState::replay(t0(), &history), Ok(state));
        }
    }
}
