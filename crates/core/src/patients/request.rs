//! A patient's request for a médecin traitant: the minimum data the CPTS needs to find one, who
//! sent it, and the consent that allows the CPTS to keep it.

use super::{FieldError, checkbox, opt, text};
use crate::directory::model::{CorrectableField, Correction};
use crate::ids::InseeCode;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The oldest age accepted: an older birth date is surely a typing error.
pub const MAX_AGE: u16 = 120;

/// Who brought the request to the CPTS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestSource {
    /// A list of patients without médecin traitant sent by the CPAM.
    CpamList,
    Pharmacy,
    /// A hospital discharge without médecin traitant to follow up.
    HospitalDischarge,
    /// Another professional (nurse, physiotherapist, specialist, social worker…).
    Professional,
    /// The person through the public form.
    SelfRegistration,
}

impl RequestSource {
    pub const ALL: [RequestSource; 5] =
        [Self::CpamList, Self::Pharmacy, Self::HospitalDischarge, Self::Professional, Self::SelfRegistration];

    /// Stable code (storage, API): the serde name.
    pub fn code(self) -> &'static str {
        match self {
            Self::CpamList => "cpam_list",
            Self::Pharmacy => "pharmacy",
            Self::HospitalDischarge => "hospital_discharge",
            Self::Professional => "professional",
            Self::SelfRegistration => "self_registration",
        }
    }

    pub fn fr(self) -> &'static str {
        match self {
            Self::CpamList => "liste de la CPAM",
            Self::Pharmacy => "pharmacie",
            Self::HospitalDischarge => "sortie d'hospitalisation",
            Self::Professional => "professionnel de santé",
            Self::SelfRegistration => "inscription par le patient",
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            Self::CpamList => "CPAM list",
            Self::Pharmacy => "pharmacy",
            Self::HospitalDischarge => "hospital discharge",
            Self::Professional => "health professional",
            Self::SelfRegistration => "self-registration",
        }
    }
}

impl fmt::Display for RequestSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for RequestSource {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|k| k.code() == s.trim()).ok_or_else(|| format!("unknown request source {s:?}"))
    }
}

/// A request for a médecin traitant, as registered.
///
/// Its status, proposals and history are kept apart ([`super::status`]): this is the data the
/// person gave (or was given on their behalf), which they may see, correct, export or have
/// erased. Build it with [`RequestForm::parse`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientRequest {
    /// Opaque, stable id given at registration.
    pub id: String,
    pub family_name: String,
    pub given_name: String,
    pub birth_date: NaiveDate,
    /// Where the person lives (the web checks it names a current commune of the reference).
    pub commune: InseeCode,
    /// Digits, with a leading `+` for international numbers (as directory corrections).
    pub phone: Option<String>,
    /// Lower-cased.
    pub email: Option<String>,
    /// Affection de longue durée.
    pub ald: bool,
    /// Complémentaire santé solidaire (precarity).
    pub precarity_c2s: bool,
    /// Another fragility the CPTS should know of (one line, at most 200 characters).
    pub other_fragility: Option<String>,
    /// Free note (at most 1000 characters).
    pub note: Option<String>,
    /// When the person consented to the CPTS keeping the request.
    pub consent_at: DateTime<Utc>,
    pub source: RequestSource,
    pub registered_at: DateTime<Utc>,
    /// Who referred the person (the professional's or the pharmacy's name…), if anyone.
    pub referred_by: Option<String>,
}

/// Age in whole years on `today` (0 before the first birthday, and for a birth date after
/// `today`). Someone born on 29 February becomes a year older on 1 March in common years.
pub fn age_on(birth_date: NaiveDate, today: NaiveDate) -> u16 {
    let mut years = today.year() - birth_date.year();
    if (today.month(), today.day()) < (birth_date.month(), birth_date.day()) {
        years -= 1;
    }
    u16::try_from(years.max(0)).unwrap_or(u16::MAX)
}

impl PatientRequest {
    /// Age in whole years on `today` (see [`age_on`]).
    pub fn age_on(&self, today: NaiveDate) -> u16 {
        age_on(self.birth_date, today)
    }

    /// "Family name Given name", as lists show it.
    pub fn display_name(&self) -> String {
        format!("{} {}", self.family_name, self.given_name)
    }
}

/// The fields of a request as typed in a form (the public self-registration form or a
/// professional's), or read from a line of a CPAM list, before checking.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct RequestForm {
    pub family_name: String,
    pub given_name: String,
    /// `YYYY-MM-DD` (HTML date input) or `DD/MM/YYYY` (typed, or in a file).
    pub birth_date: String,
    /// INSEE code of the commune.
    pub commune: String,
    pub phone: String,
    pub email: String,
    /// Checkboxes: `on` (or `oui`, `true`, `1`) when ticked, empty otherwise.
    pub ald: String,
    pub precarity_c2s: String,
    pub other_fragility: String,
    pub note: String,
    /// The consent checkbox: the request is refused unless it is ticked.
    pub consent: String,
    pub referred_by: String,
}

fn name(field: &'static str, v: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    let Some(v) = opt(v) else {
        let (en, fr) = match field {
            "family_name" => ("the family name is required", "le nom est obligatoire"),
            _ => ("the given name is required", "le prénom est obligatoire"),
        };
        errors.push(FieldError::new(field, en, fr));
        return None;
    };
    let collapsed = v.split_whitespace().collect::<Vec<_>>().join(" ");
    let v = text(field, &collapsed, 100, false, errors)?;
    if !v.chars().any(char::is_alphabetic) {
        errors.push(FieldError::new(field, format!("{v:?} is not a name"), format!("« {v} » n'est pas un nom")));
        return None;
    }
    Some(v)
}

/// Parses `YYYY-MM-DD` or `DD/MM/YYYY`.
fn parse_date(v: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(v, "%Y-%m-%d").or_else(|_| NaiveDate::parse_from_str(v, "%d/%m/%Y")).ok()
}

fn birth_date(v: &str, today: NaiveDate, errors: &mut Vec<FieldError>) -> Option<NaiveDate> {
    let field = "birth_date";
    let Some(v) = opt(v) else {
        errors.push(FieldError::new(field, "the birth date is required", "la date de naissance est obligatoire"));
        return None;
    };
    let Some(d) = parse_date(v) else {
        errors.push(FieldError::new(
            field,
            format!("{v:?} is not a date (DD/MM/YYYY)"),
            format!("« {v} » n'est pas une date (JJ/MM/AAAA)"),
        ));
        return None;
    };
    if d > today {
        errors.push(FieldError::new(
            field,
            "the birth date is in the future",
            "la date de naissance est dans le futur",
        ));
        return None;
    }
    if age_on(d, today) > MAX_AGE {
        errors.push(FieldError::new(
            field,
            format!("a birth date more than {MAX_AGE} years ago is surely a typing error"),
            format!("une date de naissance de plus de {MAX_AGE} ans est sûrement une erreur de saisie"),
        ));
        return None;
    }
    Some(d)
}

/// Checks a phone number or an e-mail address with the directory's correction rules (so both
/// are stored the same way everywhere).
fn contact(field: &'static str, as_field: CorrectableField, v: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    let v = opt(v)?;
    match Correction::new(as_field, Some("-"), v) {
        Ok(c) => Some(c.value),
        Err(e) => {
            errors.push(FieldError::new(field, e.en, e.fr));
            None
        }
    }
}

fn flag(field: &'static str, v: &str, errors: &mut Vec<FieldError>) -> bool {
    checkbox(v).unwrap_or_else(|| {
        errors.push(FieldError::new(field, format!("{v:?} is not yes or no"), format!("« {v} » n'est ni oui ni non")));
        false
    })
}

impl RequestForm {
    /// Checks every field and gives the request registered `now` (the consent, when ticked, is
    /// dated `now` too), or every problem at once.
    ///
    /// Rules: names required (at most 100 characters, one line); birth date required, not in
    /// the future, at most [`MAX_AGE`] years ago; commune required (INSEE code syntax: whether
    /// it is a current commune is the web's check against the reference); at least one of
    /// phone and e-mail, each checked and normalized like a directory correction; fragility at
    /// most 200 characters on one line; note at most 1000; the consent box ticked; the person
    /// who referred at most 200 characters on one line.
    pub fn parse(
        &self,
        id: &str,
        now: DateTime<Utc>,
        source: RequestSource,
    ) -> Result<PatientRequest, Vec<FieldError>> {
        let mut errors = Vec::new();
        let today = now.date_naive();
        let family_name = name("family_name", &self.family_name, &mut errors);
        let given_name = name("given_name", &self.given_name, &mut errors);
        let birth = birth_date(&self.birth_date, today, &mut errors);
        let commune = match opt(&self.commune).map(InseeCode::parse) {
            None => {
                errors.push(FieldError::new("commune", "the commune is required", "la commune est obligatoire"));
                None
            }
            Some(Err(e)) => {
                errors.push(FieldError::new("commune", e.en, e.fr));
                None
            }
            Some(Ok(c)) => Some(c),
        };
        let phone = contact("phone", CorrectableField::Phone, &self.phone, &mut errors);
        let email = contact("email", CorrectableField::Email, &self.email, &mut errors);
        if opt(&self.phone).is_none() && opt(&self.email).is_none() {
            errors.push(FieldError::new(
                "phone",
                "give a phone number or an e-mail address, so that the CPTS can reach you",
                "indiquez un numéro de téléphone ou une adresse électronique, pour que la CPTS puisse vous joindre",
            ));
        }
        let ald = flag("ald", &self.ald, &mut errors);
        let precarity_c2s = flag("precarity_c2s", &self.precarity_c2s, &mut errors);
        let other_fragility = text("other_fragility", &self.other_fragility, 200, false, &mut errors);
        let note = text("note", &self.note, 1000, true, &mut errors);
        if checkbox(&self.consent) != Some(true) {
            errors.push(FieldError::new(
                "consent",
                "consent is required: the CPTS cannot keep the request without it",
                "l'accord de la personne est nécessaire : la CPTS ne peut pas garder la demande sans lui",
            ));
        }
        let referred_by = text("referred_by", &self.referred_by, 200, false, &mut errors);
        match (family_name, given_name, birth, commune) {
            (Some(family_name), Some(given_name), Some(birth_date), Some(commune)) if errors.is_empty() => {
                Ok(PatientRequest {
                    id: id.to_owned(),
                    family_name,
                    given_name,
                    birth_date,
                    commune,
                    phone,
                    email,
                    ald,
                    precarity_c2s,
                    other_fragility,
                    note,
                    consent_at: now,
                    source,
                    registered_at: now,
                    referred_by,
                })
            }
            _ => Err(errors),
        }
    }

    /// Checks an edited request: the same rules as [`parse`](Self::parse), keeping the stored
    /// id, source, registration and consent dates.
    pub fn update(&self, existing: &PatientRequest, now: DateTime<Utc>) -> Result<PatientRequest, Vec<FieldError>> {
        let mut r = self.parse(&existing.id, now, existing.source)?;
        r.registered_at = existing.registered_at;
        r.consent_at = existing.consent_at;
        Ok(r)
    }

    /// The form showing a request (to edit it); the consent box is ticked.
    pub fn of(r: &PatientRequest) -> Self {
        let o = |v: &Option<String>| v.clone().unwrap_or_default();
        let b = |v: bool| if v { "on".to_owned() } else { String::new() };
        Self {
            family_name: r.family_name.clone(),
            given_name: r.given_name.clone(),
            birth_date: r.birth_date.format("%Y-%m-%d").to_string(),
            commune: r.commune.as_str().to_owned(),
            phone: o(&r.phone),
            email: o(&r.email),
            ald: b(r.ald),
            precarity_c2s: b(r.precarity_c2s),
            other_fragility: o(&r.other_fragility),
            note: o(&r.note),
            consent: "on".into(),
            referred_by: o(&r.referred_by),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 15, 10, 30, 0).unwrap()
    }

    fn form() -> RequestForm {
        RequestForm {
            family_name: " Le  Gall ".into(),
            given_name: "Élodie".into(),
            birth_date: "1950-06-01".into(),
            commune: "29019".into(),
            phone: "06 12 34 56 78".into(),
            email: "".into(),
            ald: "on".into(),
            precarity_c2s: "".into(),
            other_fragility: "vit seule".into(),
            note: "préfère être appelée le matin\nsauf le mardi".into(),
            consent: "on".into(),
            referred_by: "".into(),
        }
    }

    fn fields(errors: &[FieldError]) -> Vec<&'static str> {
        errors.iter().map(|e| e.field).collect()
    }

    #[test]
    fn parses_a_complete_form() {
        let r = form().parse("r1", now(), RequestSource::SelfRegistration).unwrap();
        assert_eq!(r.id, "r1");
        assert_eq!(r.family_name, "Le Gall");
        assert_eq!(r.given_name, "Élodie");
        assert_eq!(r.birth_date, NaiveDate::from_ymd_opt(1950, 6, 1).unwrap());
        assert_eq!(r.commune.as_str(), "29019");
        assert_eq!(r.phone.as_deref(), Some("0612345678"));
        assert_eq!(r.email, None);
        assert!(r.ald);
        assert!(!r.precarity_c2s);
        assert_eq!(r.other_fragility.as_deref(), Some("vit seule"));
        assert!(r.note.as_deref().unwrap().contains('\n'));
        assert_eq!(r.consent_at, now());
        assert_eq!(r.registered_at, now());
        assert_eq!(r.source, RequestSource::SelfRegistration);
        assert_eq!(r.referred_by, None);
        assert_eq!(r.age_on(now().date_naive()), 75);
        assert_eq!(r.display_name(), "Le Gall Élodie");
    }

    #[test]
    fn accepts_french_dates_and_email_only() {
        let f = RequestForm {
            birth_date: "01/06/1950".into(),
            phone: "".into(),
            email: " Elodie.LeGall@Example.FR ".into(),
            ald: "".into(),
            precarity_c2s: "oui".into(),
            referred_by: "Pharmacie du Port".into(),
            ..form()
        };
        let r = f.parse("r2", now(), RequestSource::Pharmacy).unwrap();
        assert_eq!(r.birth_date, NaiveDate::from_ymd_opt(1950, 6, 1).unwrap());
        assert_eq!(r.email.as_deref(), Some("elodie.legall@example.fr"));
        assert_eq!(r.phone, None);
        assert!(!r.ald);
        assert!(r.precarity_c2s);
        assert_eq!(r.referred_by.as_deref(), Some("Pharmacie du Port"));
    }

    #[test]
    fn an_empty_form_reports_every_missing_field_at_once() {
        let errors = RequestForm::default().parse("x", now(), RequestSource::Professional).unwrap_err();
        assert_eq!(fields(&errors), ["family_name", "given_name", "birth_date", "commune", "phone", "consent"]);
        assert!(errors.iter().all(|e| !e.en.is_empty() && !e.fr.is_empty()));
        assert_eq!(errors[0].fr, "le nom est obligatoire");
        assert_eq!(errors[1].fr, "le prénom est obligatoire");
    }

    #[test]
    fn refuses_future_and_implausible_birth_dates() {
        let today = now().date_naive();
        for (v, fr) in [
            ("2026-03-16", "la date de naissance est dans le futur"),
            ("2030-01-01", "la date de naissance est dans le futur"),
            ("1905-03-14", "une date de naissance de plus de 120 ans est sûrement une erreur de saisie"),
            ("31/02/1980", "« 31/02/1980 » n'est pas une date (JJ/MM/AAAA)"),
            ("hier", "« hier » n'est pas une date (JJ/MM/AAAA)"),
        ] {
            let errors = RequestForm { birth_date: v.into(), ..form() }.parse("x", now(), RequestSource::Pharmacy);
            let errors = errors.unwrap_err();
            assert_eq!(fields(&errors), ["birth_date"], "{v}");
            assert_eq!(errors[0].fr, fr, "{v}");
        }
        // Born today, and exactly 120 years ago: accepted.
        for d in [today, NaiveDate::from_ymd_opt(1906, 3, 15).unwrap()] {
            let f = RequestForm { birth_date: d.to_string(), ..form() };
            assert!(f.parse("x", now(), RequestSource::Pharmacy).is_ok(), "{d}");
        }
    }

    #[test]
    fn refuses_bad_contacts_commune_and_flags() {
        let f = RequestForm {
            phone: "06 12 AB".into(),
            email: "pas une adresse".into(),
            commune: "00123".into(),
            ald: "peut-être".into(),
            ..form()
        };
        let errors = f.parse("x", now(), RequestSource::SelfRegistration).unwrap_err();
        assert_eq!(fields(&errors), ["commune", "phone", "email", "ald"]);
        assert_eq!(errors[1].fr, "« 06 12 AB » n'est pas un numéro de téléphone");
        assert_eq!(errors[2].fr, "« pas une adresse » n'est pas une adresse électronique");
    }

    #[test]
    fn refuses_without_consent() {
        for consent in ["", "off", "non"] {
            let errors =
                RequestForm { consent: consent.into(), ..form() }.parse("x", now(), RequestSource::SelfRegistration);
            let errors = errors.unwrap_err();
            assert_eq!(fields(&errors), ["consent"]);
            assert!(errors[0].fr.contains("accord"));
        }
    }

    #[test]
    fn limits_free_text() {
        let f = RequestForm {
            other_fragility: "x".repeat(201),
            note: "y".repeat(1001),
            referred_by: "Dr A\nDr B".into(),
            family_name: "1234".into(),
            given_name: "n".repeat(101),
            ..form()
        };
        let errors = f.parse("x", now(), RequestSource::Professional).unwrap_err();
        assert_eq!(fields(&errors), ["family_name", "given_name", "other_fragility", "note", "referred_by"]);
        assert_eq!(errors[0].fr, "« 1234 » n'est pas un nom");
        let ok = RequestForm { other_fragility: "é".repeat(200), note: "ü".repeat(1000), ..form() };
        assert!(ok.parse("x", now(), RequestSource::Professional).is_ok());
    }

    #[test]
    fn update_keeps_identity_and_dates() {
        let r = form().parse("r1", now(), RequestSource::CpamList).unwrap();
        let later = now() + chrono::Duration::days(10);
        let mut f = RequestForm::of(&r);
        assert_eq!(f.parse("r1", now(), RequestSource::CpamList).unwrap(), r);
        f.phone = "+33 6 12 34 56 78".into();
        let u = f.update(&r, later).unwrap();
        assert_eq!(u.phone.as_deref(), Some("+33612345678"));
        assert_eq!((u.id.as_str(), u.source, u.registered_at, u.consent_at), ("r1", r.source, now(), now()));
    }

    #[test]
    fn ages_in_whole_years() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(age_on(d(1956, 3, 15), d(2026, 3, 14)), 69);
        assert_eq!(age_on(d(1956, 3, 15), d(2026, 3, 15)), 70);
        assert_eq!(age_on(d(2000, 2, 29), d(2025, 2, 28)), 24);
        assert_eq!(age_on(d(2000, 2, 29), d(2025, 3, 1)), 25);
        assert_eq!(age_on(d(2000, 2, 29), d(2024, 2, 29)), 24);
        assert_eq!(age_on(d(2030, 1, 1), d(2026, 1, 1)), 0);
    }

    #[test]
    fn sources_round_trip() {
        for s in RequestSource::ALL {
            assert_eq!(s.code().parse::<RequestSource>(), Ok(s));
            assert!(!s.fr().is_empty() && !s.en().is_empty());
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{}\"", s.code()));
        }
        assert!("cpam".parse::<RequestSource>().is_err());
    }

    #[test]
    fn serializes_for_export() {
        let r = form().parse("r1", now(), RequestSource::SelfRegistration).unwrap();
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["commune"], "29019");
        assert_eq!(json["birth_date"], "1950-06-01");
        assert_eq!(json["source"], "self_registration");
        let back: PatientRequest = serde_json::from_value(json).unwrap();
        assert_eq!(back, r);
    }
}
