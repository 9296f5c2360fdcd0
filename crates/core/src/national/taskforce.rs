//! The task force of a zone blanche (*Plan 100 % CPTS*, axis 2): the ARS or the CPAM leads a
//! working group that looks for a way to cover the zone — extend a neighbouring CPTS, or help a
//! new project emerge — and records what it did, with dates, and what comes next.
//!
//! A task force names its zone by a stable key: the smallest INSEE code of the zone when it was
//! opened. Zones change shape as CPTS grow; [`TaskForce::zone`] finds the zone that holds the key
//! commune today (none once the commune is covered).

use super::coverage::{Coverage, ZoneBlanche};
use crate::access::Agency;
use crate::ids::InseeCode;
use crate::refdata::Reference;
use chrono::NaiveDate;
use serde::Serialize;
use std::fmt;

/// Where a task force stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskForceStatus {
    AConstituer,
    EnCours,
    PropositionFaite,
    Resolu,
}

impl TaskForceStatus {
    pub const ALL: [TaskForceStatus; 4] = [Self::AConstituer, Self::EnCours, Self::PropositionFaite, Self::Resolu];

    pub fn code(self) -> &'static str {
        match self {
            Self::AConstituer => "a_constituer",
            Self::EnCours => "en_cours",
            Self::PropositionFaite => "proposition_faite",
            Self::Resolu => "resolu",
        }
    }

    pub fn fr(self) -> &'static str {
        match self {
            Self::AConstituer => "à constituer",
            Self::EnCours => "en cours",
            Self::PropositionFaite => "proposition faite",
            Self::Resolu => "résolu",
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            Self::AConstituer => "to be formed",
            Self::EnCours => "in progress",
            Self::PropositionFaite => "proposal made",
            Self::Resolu => "resolved",
        }
    }

    /// Reads a code or a French label (case and accents ignored).
    pub fn parse(text: &str) -> Option<Self> {
        let folded = crate::text::fold_for_search(text);
        let key = folded.replace([' ', '-'], "_");
        Self::ALL.into_iter().find(|s| s.code() == key || crate::text::fold_for_search(s.fr()) == folded)
    }
}

/// One dated action of a task force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Action {
    pub on: NaiveDate,
    /// What was done (meeting, proposal to a CPTS, call for projects…).
    pub text: String,
    /// What comes next, and when.
    pub next_step: Option<String>,
    pub next_on: Option<NaiveDate>,
}

/// The task force of one zone blanche.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskForce {
    /// The smallest INSEE code of the zone when the task force was opened.
    pub zone_key: InseeCode,
    pub owner: Agency,
    pub status: TaskForceStatus,
    /// Oldest first.
    pub actions: Vec<Action>,
}

/// A fault of a task force: the field (and the action, 0-based, when it is about one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskForceError {
    /// `zone_key`, `status`, `actions`, `on`, `text`, `next_step` or `next_on`.
    pub field: &'static str,
    pub action: Option<usize>,
    pub fr: String,
    pub en: String,
}

impl fmt::Display for TaskForceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.action {
            Some(i) => write!(f, "action {}, {}: {}", i + 1, self.field, self.en),
            None => write!(f, "{}: {}", self.field, self.en),
        }
    }
}

impl std::error::Error for TaskForceError {}

const MAX_TEXT: usize = 2000;
const MAX_NEXT_STEP: usize = 500;

impl TaskForce {
    /// A new task force on a zone, to be formed, without actions.
    pub fn open(zone: &ZoneBlanche, owner: Agency) -> Self {
        Self { zone_key: zone.key, owner, status: TaskForceStatus::AConstituer, actions: Vec::new() }
    }

    /// Checks every action and the status, reporting every fault at once:
    /// - actions are in date order and none is after `today`;
    /// - an action has a text (at most 2,000 characters); a next step fits on one line (at most
    ///   500 characters); a next date needs a next step and is not before the action;
    /// - beyond « à constituer », a task force has at least one action; a resolved one has no
    ///   next step pending on its last action.
    pub fn validate(&self, today: NaiveDate) -> Result<(), Vec<TaskForceError>> {
        let mut errors = Vec::new();
        let mut fault = |field, action, fr: String, en: String| errors.push(TaskForceError { field, action, fr, en });
        if self.status != TaskForceStatus::AConstituer && self.actions.is_empty() {
            fault(
                "actions",
                None,
                format!("une task force « {} » a au moins une action datée", self.status.fr()),
                format!("a task force \"{}\" has at least one dated action", self.status.en()),
            );
        }
        for (i, a) in self.actions.iter().enumerate() {
            let at = Some(i);
            if a.on > today {
                fault(
                    "on",
                    at,
                    format!("l'action est datée du {}, après aujourd'hui ({today})", a.on),
                    format!("the action is dated {}, after today ({today})", a.on),
                );
            }
            if let Some(prev) = i.checked_sub(1).and_then(|p| self.actions.get(p))
                && a.on < prev.on
            {
                fault(
                    "on",
                    at,
                    format!("l'action est datée du {}, avant la précédente ({})", a.on, prev.on),
                    format!("the action is dated {}, before the previous one ({})", a.on, prev.on),
                );
            }
            let text = a.text.trim();
            if text.is_empty() {
                fault("text", at, "décrivez l'action".into(), "describe the action".into());
            } else if text.chars().count() > MAX_TEXT {
                fault("text", at, format!("au plus {MAX_TEXT} caractères"), format!("at most {MAX_TEXT} characters"));
            }
            match a.next_step.as_deref().map(str::trim) {
                Some("") => fault(
                    "next_step",
                    at,
                    "prochaine étape vide : laissez-la absente".into(),
                    "empty next step: leave it out".into(),
                ),
                Some(s) if s.chars().count() > MAX_NEXT_STEP || s.contains(['\n', '\r']) => fault(
                    "next_step",
                    at,
                    format!("au plus {MAX_NEXT_STEP} caractères, sur une ligne"),
                    format!("at most {MAX_NEXT_STEP} characters, on one line"),
                ),
                _ => {}
            }
            if let Some(next) = a.next_on {
                if a.next_step.is_none() {
                    fault(
                        "next_on",
                        at,
                        "une date de prochaine étape sans prochaine étape".into(),
                        "a next-step date without a next step".into(),
                    );
                }
                if next < a.on {
                    fault(
                        "next_on",
                        at,
                        format!("la prochaine étape ({next}) est datée avant l'action ({})", a.on),
                        format!("the next step ({next}) is dated before the action ({})", a.on),
                    );
                }
            }
        }
        if self.status == TaskForceStatus::Resolu
            && let Some(last) = self.actions.last()
            && last.next_step.is_some()
        {
            fault(
                "status",
                None,
                "une task force résolue n'a plus de prochaine étape".into(),
                "a resolved task force has no next step left".into(),
            );
        }
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }

    /// The next step of the latest action, with its date.
    pub fn next_step(&self) -> Option<(&str, Option<NaiveDate>)> {
        let last = self.actions.last()?;
        Some((last.next_step.as_deref()?, last.next_on))
    }

    /// Whether the next step's date has passed (and the task force is not resolved).
    pub fn is_overdue(&self, today: NaiveDate) -> bool {
        self.status != TaskForceStatus::Resolu && self.next_step().and_then(|(_, on)| on).is_some_and(|on| on < today)
    }

    /// The zone blanche holding the key commune in `coverage`; `None` once it is covered.
    pub fn zone<'c>(&self, reference: &Reference, coverage: &'c Coverage) -> Option<&'c ZoneBlanche> {
        coverage.zone_with(reference, self.zone_key.as_str())
    }
}

/// The zones blanches of `coverage` that no task force follows, largest first.
pub fn zones_without_task_force<'c>(
    reference: &Reference,
    coverage: &'c Coverage,
    task_forces: &[TaskForce],
) -> Vec<&'c ZoneBlanche> {
    let mut followed = vec![false; coverage.zones.len()];
    for t in task_forces {
        if let Some(z) =
            reference.index_of(t.zone_key.as_str()).and_then(|row| coverage.commune(row)).and_then(|c| c.zone)
        {
            followed[z] = true;
        }
    }
    coverage.zones.iter().zip(followed).filter(|(_, f)| !f).map(|(z, _)| z).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn action(on: &str, text: &str, next: Option<(&str, &str)>) -> Action {
        Action {
            on: d(on),
            text: text.into(),
            next_step: next.map(|(s, _)| s.to_owned()),
            next_on: next.map(|(_, on)| d(on)),
        }
    }

    fn tf(status: TaskForceStatus, actions: Vec<Action>) -> TaskForce {
        TaskForce { zone_key: InseeCode::parse("41034").unwrap(), owner: Agency::Ars, status, actions }
    }

    #[test]
    fn statuses() {
        for s in TaskForceStatus::ALL {
            assert_eq!(TaskForceStatus::parse(s.code()), Some(s));
            assert_eq!(TaskForceStatus::parse(s.fr()), Some(s));
        }
        assert_eq!(TaskForceStatus::parse("Resolu"), Some(TaskForceStatus::Resolu));
        assert_eq!(TaskForceStatus::parse("fini"), None);
    }

    #[test]
    fn validation_reports_every_fault() {
        let today = d("2025-06-01");
        let good = tf(
            TaskForceStatus::EnCours,
            vec![
                action("2025-01-10", "Réunion ARS, CPAM, URPS", Some(("Rencontrer la CPTS voisine", "2025-02-15"))),
                action("2025-02-15", "Rencontre avec la CPTS du Blaisois", None),
            ],
        );
        assert_eq!(good.validate(today), Ok(()));
        assert_eq!(good.next_step(), None);
        assert_eq!(tf(TaskForceStatus::AConstituer, vec![]).validate(today), Ok(()));

        let bad = tf(
            TaskForceStatus::Resolu,
            vec![
                action("2025-03-01", "  ", Some(("x", "2025-02-01"))),
                action("2025-02-01", "ok", None),
                Action { on: d("2025-07-01"), text: "futur".into(), next_step: Some("a\nb".into()), next_on: None },
            ],
        );
        let errs = bad.validate(today).unwrap_err();
        let found: Vec<(&str, Option<usize>)> = errs.iter().map(|e| (e.field, e.action)).collect();
        assert_eq!(
            found,
            vec![
                ("text", Some(0)),
                ("next_on", Some(0)),
                ("on", Some(1)),
                ("on", Some(2)),
                ("next_step", Some(2)),
                ("status", None),
            ],
            "{errs:#?}"
        );
        assert!(errs[2].fr.contains("avant la précédente"));
        let empty = tf(TaskForceStatus::PropositionFaite, vec![]).validate(today).unwrap_err();
        assert_eq!(empty[0].field, "actions");
        let dangling = tf(
            TaskForceStatus::EnCours,
            vec![Action { on: d("2025-01-01"), text: "x".into(), next_step: None, next_on: Some(d("2025-02-01")) }],
        );
        assert_eq!(dangling.validate(today).unwrap_err()[0].field, "next_on");
    }

    #[test]
    fn overdue_next_step() {
        let t = tf(
            TaskForceStatus::EnCours,
            vec![action("2025-01-10", "Réunion", Some(("Appel à projets", "2025-03-01")))],
        );
        assert_eq!(t.next_step(), Some(("Appel à projets", Some(d("2025-03-01")))));
        assert!(!t.is_overdue(d("2025-03-01")));
        assert!(t.is_overdue(d("2025-03-02")));
        let done = TaskForce { status: TaskForceStatus::PropositionFaite, ..t.clone() };
        assert!(done.is_overdue(d("2025-03-02")));
        let resolved = TaskForce { status: TaskForceStatus::Resolu, ..t };
        assert!(!resolved.is_overdue(d("2025-03-02")));
    }
}
