//! The pure part of an SNP booking: the operator's intake form, what became of the patient,
//! and iCalendar (RFC 5545) confirmations and feeds.

use super::paris::{self, LocalTime};
use super::search::SlotQuery;
use crate::directory::model::{CorrectableField, Correction};
use crate::geo::LatLon;
use crate::ids::InseeCode;
use crate::patients::FieldError;
use crate::refdata::Reference;
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

/// Longest search window an operator may ask for.
pub const MAX_WINDOW: Duration = Duration::days(7);
/// Longest note, in characters.
pub const MAX_NOTE: usize = 500;

macro_rules! labelled {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $code:literal, $fr:literal, $en:literal;)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The stable code (forms, storage).
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),* }
            }

            pub fn fr(self) -> &'static str {
                match self { $($name::$variant => $fr),* }
            }

            pub fn en(self) -> &'static str {
                match self { $($name::$variant => $en),* }
            }

            pub fn from_code(code: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.code() == code.trim())
            }
        }
    };
}

labelled! {
    /// Why the patient needs care today (a fixed list, so the CPTS can count them).
    ReasonCategory {
        Fievre = "fievre", "Fièvre", "Fever";
        DouleurAigue = "douleur_aigue", "Douleur aiguë", "Acute pain";
        TraumatismeBenin = "traumatisme_benin", "Traumatisme bénin (entorse, plaie, chute)", "Minor injury";
        InfectionRespiratoire = "infection_respiratoire", "Infection ORL ou respiratoire", "ENT or respiratory infection";
        InfectionUrinaire = "infection_urinaire", "Infection urinaire", "Urinary infection";
        ProblemeCutane = "probleme_cutane", "Problème cutané", "Skin problem";
        TroublesDigestifs = "troubles_digestifs", "Troubles digestifs", "Digestive problem";
        RenouvellementTraitement = "renouvellement_traitement", "Renouvellement de traitement", "Prescription renewal";
        SoinsInfirmiers = "soins_infirmiers", "Soins infirmiers (pansement, injection)", "Nursing care";
        Autre = "autre", "Autre motif", "Other";
    }
}

labelled! {
    /// Who sent the patient to the orientation desk.
    ReferrerKind {
        Patient = "patient", "Le patient ou un proche", "The patient or a relative";
        Regulation = "regulation", "Régulation (SAS, centre 15)", "Regulation (SAS, 15)";
        Pharmacie = "pharmacie", "Pharmacie", "Pharmacy";
        Professionnel = "professionnel", "Professionnel de santé", "Health professional";
        Etablissement = "etablissement", "Établissement de santé (urgences, clinique)", "Hospital or clinic";
        Autre = "autre", "Autre", "Other";
    }
}

/// The intake form as typed; dates as browsers send `datetime-local` (`2026-06-01T14:00`),
/// in Paris time. An empty window means the next 24 hours.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct IntakeForm {
    pub reason: String,
    pub commune: String,
    pub phone: String,
    pub email: String,
    pub window_from: String,
    pub window_to: String,
    pub referrer: String,
    pub note: String,
}

/// A checked request for a same-day slot.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Intake {
    pub reason: ReasonCategory,
    pub commune: InseeCode,
    /// The commune's centre: where the search starts.
    pub position: LatLon,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub referrer: ReferrerKind,
    pub note: Option<String>,
}

impl Intake {
    /// The default search for this request (SNP audience, practice or home, its window).
    pub fn query(&self) -> SlotQuery {
        SlotQuery { from: self.from, to: self.to, ..SlotQuery::near(self.position, self.from) }
    }
}

impl IntakeForm {
    /// Checks every field and reports all problems at once.
    pub fn parse(&self, reference: &Reference, now: DateTime<Utc>) -> Result<Intake, Vec<FieldError>> {
        let mut errors = Vec::new();
        let reason = choice("reason", &self.reason, ReasonCategory::from_code, &mut errors);
        let referrer = choice("referrer", &self.referrer, ReferrerKind::from_code, &mut errors);
        let commune = match reference.resolve(&self.commune) {
            Ok(c) => Some((c.code, c.centre)),
            Err(e) => {
                errors.push(FieldError::new("commune", e.to_string(), e.fr()));
                None
            }
        };
        let phone = contact("phone", CorrectableField::Phone, &self.phone, &mut errors);
        let email = contact("email", CorrectableField::Email, &self.email, &mut errors);
        if self.phone.trim().is_empty() && self.email.trim().is_empty() {
            errors.push(FieldError::new(
                "phone",
                "give a phone number or an e-mail address to reach the patient",
                "indiquez un numéro de téléphone ou une adresse électronique pour joindre le patient",
            ));
        }
        let window = window(&self.window_from, &self.window_to, now, &mut errors);
        let note = self.note.trim();
        if note.chars().count() > MAX_NOTE {
            errors.push(FieldError::new(
                "note",
                format!("at most {MAX_NOTE} characters"),
                format!("au plus {MAX_NOTE} caractères"),
            ));
        }
        match (reason, referrer, commune, window) {
            (Some(reason), Some(referrer), Some((commune, position)), Some((from, to))) if errors.is_empty() => {
                Ok(Intake {
                    reason,
                    commune,
                    position,
                    phone,
                    email,
                    from,
                    to,
                    referrer,
                    note: (!note.is_empty()).then(|| note.to_owned()),
                })
            }
            _ => Err(errors),
        }
    }
}

fn choice<T>(
    field: &'static str,
    v: &str,
    parse: impl Fn(&str) -> Option<T>,
    errors: &mut Vec<FieldError>,
) -> Option<T> {
    let found = parse(v);
    if found.is_none() {
        let (en, fr) = if v.trim().is_empty() {
            ("required".to_owned(), "obligatoire".to_owned())
        } else {
            (format!("{v:?} is not in the list"), format!("« {v} » ne fait pas partie de la liste"))
        };
        errors.push(FieldError::new(field, en, fr));
    }
    found
}

/// A phone number or e-mail, checked and normalized like everywhere else in Maillage.
fn contact(field: &'static str, kind: CorrectableField, v: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    let v = v.trim();
    if v.is_empty() {
        return None;
    }
    // Contact fields belong to a practice place in the directory; any place name will do here.
    match Correction::new(kind, Some("-"), v) {
        Ok(c) => Some(c.value),
        Err(e) => {
            errors.push(FieldError::new(field, e.en, e.fr));
            None
        }
    }
}

/// A Paris wall-clock `datetime-local`, as an instant (the first one in the October fold).
fn local_instant(field: &'static str, v: &str, errors: &mut Vec<FieldError>) -> Option<DateTime<Utc>> {
    let v = v.trim();
    let parsed = NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(v, "%d/%m/%Y %H:%M"))
        .ok();
    let Some(local) = parsed else {
        errors.push(FieldError::new(
            field,
            format!("{v:?} is not a date and time (2026-06-01T14:00)"),
            format!("« {v} » n'est pas une date et une heure (01/06/2026 14:00)"),
        ));
        return None;
    };
    match paris::to_utc(local) {
        Ok(LocalTime::Gap { .. }) => {
            errors.push(FieldError::new(
                field,
                "this time does not exist: the clocks go from 02:00 to 03:00 that night",
                "cette heure n'existe pas : cette nuit-là on passe de 02:00 à 03:00",
            ));
            None
        }
        Ok(t) => t.earliest(),
        Err(e) => {
            errors.push(FieldError::new(field, e.to_string(), e.fr()));
            None
        }
    }
}

/// The search window: both ends or neither (then the next 24 hours); it must end after it
/// starts and after `now`, start within [`MAX_WINDOW`] of `now`, and last at most that long.
fn window(
    from: &str,
    to: &str,
    now: DateTime<Utc>,
    errors: &mut Vec<FieldError>,
) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    if from.trim().is_empty() && to.trim().is_empty() {
        return Some((now, now + Duration::hours(24)));
    }
    let from = if from.trim().is_empty() { Some(now) } else { local_instant("window_from", from, errors) };
    let to = local_instant("window_to", to, errors);
    let (from, to) = (from?, to?);
    // Slots already started are of no use: the window begins now at the earliest.
    let from = from.max(now);
    let problem = if to <= from {
        Some((
            "the window ends before it starts, or in the past",
            "la plage horaire finit avant de commencer, ou dans le passé",
        ))
    } else if from - now > MAX_WINDOW {
        Some(("the window starts more than 7 days from now", "la plage horaire commence dans plus de 7 jours"))
    } else if to - from > MAX_WINDOW {
        Some(("the window lasts more than 7 days", "la plage horaire dure plus de 7 jours"))
    } else {
        None
    };
    match problem {
        Some((en, fr)) => {
            errors.push(FieldError::new("window_to", en, fr));
            None
        }
        None => Some((from, to)),
    }
}

/// What became of a booked patient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// Seen by the professional.
    Vu,
    /// Did not come (no-show).
    Absent,
    /// Sent on to the emergency department.
    ReorienteUrgences,
    Autre {
        note: String,
    },
}

impl Outcome {
    /// From a form's code and note; "autre" requires a note.
    pub fn parse(code: &str, note: &str) -> Result<Outcome, FieldError> {
        let note = note.trim();
        match code.trim() {
            "vu" => Ok(Outcome::Vu),
            "absent" => Ok(Outcome::Absent),
            "reoriente_urgences" => Ok(Outcome::ReorienteUrgences),
            "autre" if note.is_empty() => {
                Err(FieldError::new("note", "say what happened", "précisez ce qui s'est passé"))
            }
            "autre" if note.chars().count() > MAX_NOTE => Err(FieldError::new(
                "note",
                format!("at most {MAX_NOTE} characters"),
                format!("au plus {MAX_NOTE} caractères"),
            )),
            "autre" => Ok(Outcome::Autre { note: note.to_owned() }),
            other => Err(FieldError::new(
                "outcome",
                format!("{other:?} is not an outcome"),
                format!("« {other} » n'est pas une issue possible"),
            )),
        }
    }

    pub fn fr(&self) -> &str {
        match self {
            Outcome::Vu => "Vu",
            Outcome::Absent => "Absent (non venu)",
            Outcome::ReorienteUrgences => "Réorienté vers les urgences",
            Outcome::Autre { note } => note,
        }
    }
}

/// One event of an iCalendar file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IcsEvent {
    /// Globally unique and stable (RFC 5545 §3.8.4.7), e.g. `booking-123@cpts.example`.
    pub uid: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub summary: String,
    pub location: Option<String>,
    pub description: Option<String>,
}

const PRODID: &str = "-//Maillage//SNP//FR";

/// A confirmation to attach to a message: one event in its own calendar.
pub fn confirmation_ics(event: &IcsEvent, dtstamp: DateTime<Utc>) -> String {
    calendar_ics(None, std::slice::from_ref(event), dtstamp)
}

/// A professional's feed (subscribable calendar): every booking as an event. `name` becomes
/// `X-WR-CALNAME`, which calendar apps show.
pub fn feed_ics(name: &str, events: &[IcsEvent], dtstamp: DateTime<Utc>) -> String {
    calendar_ics(Some(name), events, dtstamp)
}

fn calendar_ics(name: Option<&str>, events: &[IcsEvent], dtstamp: DateTime<Utc>) -> String {
    let mut out = String::new();
    let mut line = |l: String| push_folded(&mut out, &l);
    line("BEGIN:VCALENDAR".into());
    line("VERSION:2.0".into());
    line(format!("PRODID:{PRODID}"));
    line("CALSCALE:GREGORIAN".into());
    line("METHOD:PUBLISH".into());
    if let Some(name) = name {
        line(format!("X-WR-CALNAME:{}", escape_text(name)));
    }
    for e in events {
        line("BEGIN:VEVENT".into());
        line(format!("UID:{}", escape_text(&e.uid)));
        line(format!("DTSTAMP:{}", utc_stamp(dtstamp)));
        line(format!("DTSTART:{}", utc_stamp(e.start)));
        line(format!("DTEND:{}", utc_stamp(e.end)));
        line(format!("SUMMARY:{}", escape_text(&e.summary)));
        if let Some(l) = &e.location {
            line(format!("LOCATION:{}", escape_text(l)));
        }
        if let Some(d) = &e.description {
            line(format!("DESCRIPTION:{}", escape_text(d)));
        }
        line("END:VEVENT".into());
    }
    line("END:VCALENDAR".into());
    out
}

/// `20261025T003000Z` (RFC 5545 form #2, UTC).
fn utc_stamp(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// TEXT escaping (RFC 5545 §3.3.11): backslash, semicolon and comma are escaped, line breaks
/// become `\n`; other control characters cannot appear in a content line and are dropped.
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                chars.next_if_eq(&'\n');
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            c if c.is_control() && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends one content line, folded so that no line exceeds 75 octets (RFC 5545 §3.1): a
/// continuation starts with one space, and a multi-byte character is never split.
fn push_folded(out: &mut String, line: &str) {
    const MAX: usize = 75;
    let mut used = 0;
    for c in line.chars() {
        if used + c.len_utf8() > MAX {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push(c);
        used += c.len_utf8();
    }
    out.push_str("\r\n");
}

/// The summary for a professional's calendar: the reason, never the patient's name (a
/// calendar feed leaves the platform).
pub fn summary(reason: ReasonCategory, place: super::Place) -> String {
    format!("SNP – {} ({})", reason.fr(), place.fr())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn form() -> IntakeForm {
        IntakeForm {
            reason: "fievre".into(),
            commune: "41018".into(),
            phone: "06 12 34 56 78".into(),
            email: String::new(),
            window_from: String::new(),
            window_to: String::new(),
            referrer: "pharmacie".into(),
            note: "  Enfant de 4 ans  ".into(),
        }
    }

    fn fields(errors: &[FieldError]) -> Vec<&'static str> {
        errors.iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_complete_intake_with_the_default_window() {
        let now = utc("2026-06-01T10:00:00Z");
        let i = form().parse(Reference::embedded(), now).unwrap();
        assert_eq!(i.reason, ReasonCategory::Fievre);
        assert_eq!(i.referrer, ReferrerKind::Pharmacie);
        assert_eq!(i.commune.as_str(), "41018");
        assert_eq!(i.phone.as_deref(), Some("0612345678"));
        assert_eq!((i.from, i.to), (now, now + Duration::hours(24)));
        assert_eq!(i.note.as_deref(), Some("Enfant de 4 ans"));
        let q = i.query();
        assert_eq!((q.from, q.to, q.limit), (now, now + Duration::hours(24), 10));
    }

    #[test]
    fn an_explicit_window_is_paris_time() {
        let now = utc("2026-06-01T10:00:00Z");
        let f = IntakeForm { window_from: "2026-06-01T14:00".into(), window_to: "02/06/2026 18:00".into(), ..form() };
        let i = f.parse(Reference::embedded(), now).unwrap();
        assert_eq!((i.from, i.to), (utc("2026-06-01T12:00:00Z"), utc("2026-06-02T16:00:00Z")));
        // A start in the past is moved to now.
        let f = IntakeForm { window_from: "2026-06-01T08:00".into(), window_to: "2026-06-01T18:00".into(), ..form() };
        assert_eq!(f.parse(Reference::embedded(), now).unwrap().from, now);
    }

    #[test]
    fn reports_every_problem_at_once() {
        let now = utc("2026-03-28T10:00:00Z");
        let f = IntakeForm {
            reason: "migraine".into(),
            commune: "41999".into(),
            phone: String::new(),
            email: String::new(),
            window_from: "2026-03-29T02:30".into(),
            window_to: "demain".into(),
            referrer: String::new(),
            note: "x".repeat(501),
        };
        let errors = f.parse(Reference::embedded(), now).unwrap_err();
        assert_eq!(fields(&errors), ["reason", "referrer", "commune", "phone", "window_from", "window_to", "note"]);
        assert!(errors.iter().all(|e| !e.fr.is_empty()));
        let bad_mail = IntakeForm { email: "pas une adresse".into(), ..form() };
        assert_eq!(fields(&bad_mail.parse(Reference::embedded(), now).unwrap_err()), ["email"]);
    }

    #[test]
    fn insane_windows_are_refused() {
        let now = utc("2026-06-01T10:00:00Z");
        for (from, to) in [
            ("2026-06-01T18:00", "2026-06-01T14:00"),
            ("2026-05-30T08:00", "2026-05-31T08:00"),
            ("2026-06-10T08:00", "2026-06-10T18:00"),
            ("2026-06-01T14:00", "2026-06-10T18:00"),
        ] {
            let f = IntakeForm { window_from: from.into(), window_to: to.into(), ..form() };
            assert_eq!(fields(&f.parse(Reference::embedded(), now).unwrap_err()), ["window_to"], "{from} {to}");
        }
    }

    #[test]
    fn outcomes() {
        assert_eq!(Outcome::parse("vu", ""), Ok(Outcome::Vu));
        assert_eq!(Outcome::parse("absent", ""), Ok(Outcome::Absent));
        assert_eq!(Outcome::parse("reoriente_urgences", ""), Ok(Outcome::ReorienteUrgences));
        assert_eq!(Outcome::parse("autre", " vu en visite "), Ok(Outcome::Autre { note: "vu en visite".into() }));
        assert_eq!(Outcome::parse("autre", "").unwrap_err().field, "note");
        assert_eq!(Outcome::parse("perdu", "").unwrap_err().field, "outcome");
        assert_eq!(serde_json::to_string(&Outcome::ReorienteUrgences).unwrap(), r#"{"kind":"reoriente_urgences"}"#);
        assert!(ReasonCategory::ALL.iter().all(|r| ReasonCategory::from_code(r.code()) == Some(*r)));
    }

    #[test]
    fn escaping() {
        assert_eq!(escape_text(r"a,b;c\d"), r"a\,b\;c\\d");
        assert_eq!(escape_text("l1\nl2\r\nl3\rl4"), r"l1\nl2\nl3\nl4");
        assert_eq!(escape_text("bell\u{7}tab\t"), "belltab\t");
    }

    #[test]
    fn folding_at_75_octets_without_splitting_characters() {
        let mut out = String::new();
        push_folded(&mut out, &format!("SUMMARY:{}", "a".repeat(200)));
        let lines: Vec<&str> = out.split("\r\n").collect();
        assert_eq!(lines.last(), Some(&""));
        assert!(lines.iter().all(|l| l.len() <= 75), "{lines:?}");
        assert_eq!(lines[0].len(), 75);
        assert!(lines[1..lines.len() - 1].iter().all(|l| l.starts_with(' ')));
        let unfolded: String = out.replace("\r\n ", "");
        assert_eq!(unfolded, format!("SUMMARY:{}\r\n", "a".repeat(200)));

        // "é" is two octets: a line never ends in the middle of one.
        let mut out = String::new();
        push_folded(&mut out, &format!("DESCRIPTION:{}", "é".repeat(100)));
        assert!(out.split("\r\n").all(|l| l.len() <= 75));
        assert_eq!(out.replace("\r\n ", ""), format!("DESCRIPTION:{}\r\n", "é".repeat(100)));
        // A line of exactly 75 octets is not folded.
        let mut out = String::new();
        push_folded(&mut out, &"x".repeat(75));
        assert_eq!(out, format!("{}\r\n", "x".repeat(75)));
    }

    #[test]
    fn confirmation_and_feed() {
        let event = IcsEvent {
            uid: "booking-1@maillage.example".into(),
            start: utc("2026-10-25T00:30:00Z"),
            end: utc("2026-10-25T00:45:00Z"),
            summary: summary(ReasonCategory::Fievre, crate::snp::Place::Cabinet),
            location: Some("12, rue du Commerce; Blois".into()),
            description: Some("Rappeler le patient\nsi retard".into()),
        };
        let stamp = utc("2026-10-24T18:00:00Z");
        let ics = confirmation_ics(&event, stamp);
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Maillage//SNP//FR\r\n"));
        assert!(ics.ends_with("END:VEVENT\r\nEND:VCALENDAR\r\n"));
        assert!(ics.contains("\r\nDTSTAMP:20261024T180000Z\r\n"));
        assert!(ics.contains("\r\nDTSTART:20261025T003000Z\r\nDTEND:20261025T004500Z\r\n"));
        assert!(ics.contains("\r\nLOCATION:12\\, rue du Commerce\\; Blois\r\n"));
        assert!(ics.contains("\r\nDESCRIPTION:Rappeler le patient\\nsi retard\r\n"));
        assert!(ics.contains("SUMMARY:SNP – Fièvre (au cabinet)"));
        assert!(!ics.replace("\r\n", "").contains('\n'), "bare LF");

        let second = IcsEvent { uid: "booking-2@maillage.example".into(), ..event.clone() };
        let feed = feed_ics("Dr Martin, SNP", &[event, second], stamp);
        assert_eq!(feed.matches("BEGIN:VEVENT").count(), 2);
        assert!(feed.contains("X-WR-CALNAME:Dr Martin\\, SNP\r\n"));
        assert_eq!(feed.matches("BEGIN:VCALENDAR").count(), 1);
    }
}
