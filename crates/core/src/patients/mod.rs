//! The registry of patients without a médecin traitant (accès aux soins mission).
//!
//! A person (or a professional, a pharmacy, a hospital, the CPAM on their behalf) registers a
//! request; the CPTS proposes a general practitioner with room; the doctor accepts or declines;
//! the patient declares them as médecin traitant. Everything here is pure: the storage layer
//! keeps the values, the web layer shows the forms and audits every access, and the time is
//! always passed in.
//!
//! - [`request`]: the request itself ([`PatientRequest`]), its sources, the form that checks it;
//! - [`status`]: the statuses, the events that move a request between them, the history;
//! - [`duplicates`]: the same person registered twice;
//! - [`capacity`]: how many new patients a GP can take, from where;
//! - [`retention`]: when closed requests are erased (RGPD), the subject-access summary;
//! - [`indicators`]: the counts and waiting times that feed the ACI access mission;
//! - [`settings`]: the CPTS's distance limit, priority rule and retention, and how waiting
//!   requests and declared capacities become the matching engine's input.
//!
//! The priority class of a request is computed by the matching engine's configurable rule
//! (`crate::matching::priority`); this module only receives it as a number where it needs it.
//! `docs/patients.md` describes the model, the statuses, the duplicate rules, the retention and
//! every indicator.

pub mod capacity;
pub mod duplicates;
pub mod indicators;
pub mod request;
pub mod retention;
pub mod settings;
pub mod status;

pub use capacity::{CapacityForm, CapacityKind, CapacityUse, DoctorCapacity, capacity_use};
pub use duplicates::{DuplicateReason, probable_duplicates};
pub use indicators::{MonthPoint, RegistryIndicators, StatusCounts};
pub use request::{PatientRequest, RequestForm, RequestSource};
pub use retention::{RetentionPolicy, subject_access_summary};
pub use settings::{AvailableDoctor, RegistrySettings, SettingsForm, matching_input};
pub use status::{
    HistoryError, RequestEvent, RequestState, RequestStatus, StatusChange, TransitionError, current_status, transition,
};

use serde::Serialize;

/// One field of a form ([`RequestForm`], [`CapacityForm`]) that does not fit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{field}: {en}")]
pub struct FieldError {
    /// The form field's name (`birth_date`, `phone`…).
    pub field: &'static str,
    pub en: String,
    pub fr: String,
}

impl FieldError {
    pub(crate) fn new(field: &'static str, en: impl Into<String>, fr: impl Into<String>) -> Self {
        Self { field, en: en.into(), fr: fr.into() }
    }
}

/// The trimmed value, or `None` when empty.
pub(crate) fn opt(v: &str) -> Option<&str> {
    let v = v.trim();
    (!v.is_empty()).then_some(v)
}

/// Optional free text of at most `max` characters; on one line unless `multiline`.
pub(crate) fn text(
    field: &'static str,
    v: &str,
    max: usize,
    multiline: bool,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let v = opt(v)?;
    if v.chars().count() > max {
        errors.push(FieldError::new(field, format!("at most {max} characters"), format!("au plus {max} caractères")));
        return None;
    }
    if !multiline && v.contains(['\n', '\r']) {
        errors.push(FieldError::new(field, "on one line", "sur une seule ligne"));
        return None;
    }
    if v.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
        errors.push(FieldError::new(field, "contains control characters", "contient des caractères de contrôle"));
        return None;
    }
    Some(v.to_owned())
}

/// A checkbox as browsers send it (`on` when ticked, nothing otherwise), or a yes/no typed in
/// a file. `None` for anything else.
pub(crate) fn checkbox(v: &str) -> Option<bool> {
    match v.trim().to_lowercase().as_str() {
        "on" | "true" | "oui" | "yes" | "1" | "o" | "y" => Some(true),
        "" | "off" | "false" | "non" | "no" | "0" | "n" => Some(false),
        _ => None,
    }
}

/// `dd/mm/yyyy`, the French way to write a date.
pub(crate) fn date_fr(d: chrono::NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_limits_length_lines_and_control_characters() {
        let mut errors = Vec::new();
        assert_eq!(text("f", "  ok  ", 5, false, &mut errors), Some("ok".into()));
        assert_eq!(text("f", "   ", 5, false, &mut errors), None);
        assert!(errors.is_empty());
        assert_eq!(text("f", "éééééé", 5, false, &mut errors), None);
        assert_eq!(text("f", "a\nb", 5, false, &mut errors), None);
        assert_eq!(text("f", "a\nb", 5, true, &mut errors), Some("a\nb".into()));
        assert_eq!(text("f", "a\u{7}b", 5, true, &mut errors), None);
        assert_eq!(errors.len(), 3);
        assert_eq!(errors[0].fr, "au plus 5 caractères");
    }

    #[test]
    fn checkbox_values() {
        for v in ["on", "ON", "true", "oui", "1"] {
            assert_eq!(checkbox(v), Some(true), "{v}");
        }
        for v in ["", "off", "false", "non", "0"] {
            assert_eq!(checkbox(v), Some(false), "{v}");
        }
        assert_eq!(checkbox("peut-être"), None);
    }
}
