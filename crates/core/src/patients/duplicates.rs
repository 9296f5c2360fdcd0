//! The same person registered twice (by themselves and by their pharmacist, or on two CPAM
//! lists): probable duplicates are shown to the coordinator, who merges or keeps both.
//!
//! Every rule needs the same birth date, plus one of:
//!
//! 1. the same family and given names, compared folded (no case, accents, spaces, hyphens or
//!    apostrophes: "LE GALL Élodie" = "Le-Gall Elodie");
//! 2. the same names swapped (family name typed as given name and the reverse);
//! 3. the same phone number (French numbers compared in national form: `+33 6…` = `06…`);
//! 4. the same e-mail address (case ignored).
//!
//! Which requests to compare against is the caller's choice (usually the open ones and those
//! declared recently). Every rule is symmetric: if A is a probable duplicate of B, B is one of A.

use super::request::PatientRequest;
use crate::text::fold_for_search;
use serde::{Deserialize, Serialize};

/// Why two requests probably concern the same person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateReason {
    SameNameAndBirthDate,
    SwappedNamesAndBirthDate,
    SameBirthDateAndPhone,
    SameBirthDateAndEmail,
}

impl DuplicateReason {
    pub fn code(self) -> &'static str {
        match self {
            Self::SameNameAndBirthDate => "same_name_and_birth_date",
            Self::SwappedNamesAndBirthDate => "swapped_names_and_birth_date",
            Self::SameBirthDateAndPhone => "same_birth_date_and_phone",
            Self::SameBirthDateAndEmail => "same_birth_date_and_email",
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            Self::SameNameAndBirthDate => "same name and birth date",
            Self::SwappedNamesAndBirthDate => "same birth date, family and given names swapped",
            Self::SameBirthDateAndPhone => "same birth date and phone number",
            Self::SameBirthDateAndEmail => "same birth date and e-mail address",
        }
    }

    pub fn fr(self) -> &'static str {
        match self {
            Self::SameNameAndBirthDate => "même nom, même prénom et même date de naissance",
            Self::SwappedNamesAndBirthDate => "même date de naissance, nom et prénom inversés",
            Self::SameBirthDateAndPhone => "même date de naissance et même téléphone",
            Self::SameBirthDateAndEmail => "même date de naissance et même adresse électronique",
        }
    }
}

/// A name as duplicates compare it: folded, letters and digits only.
fn name_key(s: &str) -> String {
    fold_for_search(s).chars().filter(|c| c.is_alphanumeric()).collect()
}

/// A phone number as duplicates compare it: digits, French numbers in national form.
fn phone_key(s: &str) -> String {
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    let national = if s.trim_start().starts_with('+') {
        digits.strip_prefix("33").map(|rest| format!("0{rest}"))
    } else {
        digits.strip_prefix("0033").map(|rest| format!("0{rest}"))
    };
    national.unwrap_or(digits)
}

/// Why `a` and `b` are probably the same person (the first rule that holds, in the order of
/// the module's documentation), if they are.
pub fn duplicate_reason(a: &PatientRequest, b: &PatientRequest) -> Option<DuplicateReason> {
    if a.birth_date != b.birth_date {
        return None;
    }
    let (af, ag, bf, bg) =
        (name_key(&a.family_name), name_key(&a.given_name), name_key(&b.family_name), name_key(&b.given_name));
    let filled = !af.is_empty() && !ag.is_empty();
    if filled && af == bf && ag == bg {
        return Some(DuplicateReason::SameNameAndBirthDate);
    }
    if filled && af == bg && ag == bf {
        return Some(DuplicateReason::SwappedNamesAndBirthDate);
    }
    let same = |x: &Option<String>, y: &Option<String>, key: fn(&str) -> String| match (x, y) {
        (Some(x), Some(y)) => {
            let kx = key(x);
            !kx.is_empty() && kx == key(y)
        }
        _ => false,
    };
    if same(&a.phone, &b.phone, phone_key) {
        return Some(DuplicateReason::SameBirthDateAndPhone);
    }
    if same(&a.email, &b.email, |e| e.trim().to_lowercase()) {
        return Some(DuplicateReason::SameBirthDateAndEmail);
    }
    None
}

/// The requests of `existing` that probably concern the same person as `candidate`, with the
/// reason, in the order of `existing`. A request with the candidate's own id is skipped (so the
/// candidate may be among `existing`).
pub fn probable_duplicates(candidate: &PatientRequest, existing: &[PatientRequest]) -> Vec<(String, DuplicateReason)> {
    existing
        .iter()
        .filter(|r| r.id != candidate.id)
        .filter_map(|r| duplicate_reason(candidate, r).map(|why| (r.id.clone(), why)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::InseeCode;
    use crate::patients::RequestSource;
    use chrono::{NaiveDate, TimeZone, Utc};
    use proptest::prelude::*;

    fn request(id: &str, family: &str, given: &str, birth: (i32, u32, u32)) -> PatientRequest {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        PatientRequest {
            id: id.into(),
            family_name: family.into(),
            given_name: given.into(),
            birth_date: NaiveDate::from_ymd_opt(birth.0, birth.1, birth.2).unwrap(),
            commune: InseeCode::parse("29019").unwrap(),
            phone: None,
            email: None,
            ald: false,
            precarity_c2s: false,
            other_fragility: None,
            note: None,
            consent_at: now,
            source: RequestSource::SelfRegistration,
            registered_at: now,
            referred_by: None,
        }
    }

    #[test]
    fn same_folded_names_and_birth_date() {
        let a = request("a", "Le Gall", "Élodie", (1950, 6, 1));
        let b = request("b", "LE-GALL", "elodie", (1950, 6, 1));
        let c = request("c", "Le Gall", "Elodie", (1950, 6, 2));
        let d = request("d", "Le Gall", "Éloïse", (1950, 6, 1));
        let e = request("e", "Élodie", "LEGALL", (1950, 6, 1));
        let found = probable_duplicates(&a, &[a.clone(), b, c, d, e]);
        assert_eq!(
            found,
            [
                ("b".to_owned(), DuplicateReason::SameNameAndBirthDate),
                ("e".to_owned(), DuplicateReason::SwappedNamesAndBirthDate)
            ]
        );
    }

    #[test]
    fn same_birth_date_and_contact() {
        let mut a = request("a", "Martin", "Paul", (1980, 1, 2));
        a.phone = Some("+33612345678".into());
        a.email = Some("paul@example.fr".into());
        let mut b = request("b", "Martin-Durand", "Paul", (1980, 1, 2));
        b.phone = Some("0612345678".into());
        let mut c = request("c", "Durand", "Pauline", (1980, 1, 2));
        c.email = Some("Paul@Example.fr".into());
        let mut d = request("d", "Martin", "Pierre", (1981, 1, 2));
        d.phone = a.phone.clone();
        d.email = a.email.clone();
        let mut e = request("e", "Bernard", "Luc", (1980, 1, 2));
        e.phone = Some("0033612345678".into());
        let found = probable_duplicates(&a, &[b, c, d, e]);
        assert_eq!(
            found,
            [
                ("b".to_owned(), DuplicateReason::SameBirthDateAndPhone),
                ("c".to_owned(), DuplicateReason::SameBirthDateAndEmail),
                ("e".to_owned(), DuplicateReason::SameBirthDateAndPhone),
            ]
        );
        for r in [
            DuplicateReason::SameNameAndBirthDate,
            DuplicateReason::SwappedNamesAndBirthDate,
            DuplicateReason::SameBirthDateAndPhone,
            DuplicateReason::SameBirthDateAndEmail,
        ] {
            assert!(!r.fr().is_empty() && !r.en().is_empty());
            assert_eq!(serde_json::to_string(&r).unwrap(), format!("\"{}\"", r.code()));
        }
    }

    #[test]
    fn phone_keys() {
        assert_eq!(phone_key("+33612345678"), "0612345678");
        assert_eq!(phone_key("0033612345678"), "0612345678");
        assert_eq!(phone_key("0612345678"), "0612345678");
        assert_eq!(phone_key("+32470123456"), "32470123456");
    }

    /// A letter written differently: upper case, or with an accent that folding removes.
    fn disguise(c: char, how: u8) -> String {
        let accented = match c {
            'a' => "àâä",
            'e' => "éèêë",
            'i' => "îï",
            'o' => "ôö",
            'u' => "ùûü",
            'c' => "ç",
            'y' => "ÿ",
            'n' => "ñ",
            _ => "",
        };
        let forms: Vec<char> = accented.chars().collect();
        match how % 4 {
            0 => c.to_string(),
            1 => c.to_uppercase().collect(),
            _ if !forms.is_empty() => {
                let f = forms[usize::from(how) % forms.len()];
                if how.is_multiple_of(2) { f.to_string() } else { f.to_uppercase().collect() }
            }
            _ => c.to_uppercase().collect(),
        }
    }

    /// A person; `small` draws names, dates and contacts from few values, so that pairs often
    /// share some of them.
    fn person(small: bool) -> impl Strategy<Value = PatientRequest> {
        let (name, phone, email) = if small {
            ("[ab]{1,2}", "0[67]", "[ab]@x\\.fr")
        } else {
            ("[a-z]{1,12}", "0[1-9][0-9]{8}", "[a-z]{1,8}@[a-z]{1,8}\\.fr")
        };
        let years = if small { 2000i32..2001 } else { 1920..2025 };
        let months = if small { 1u32..2 } else { 1..13 };
        let days = if small { 1u32..3 } else { 1..29 };
        (name, name, (years, months, days), proptest::option::of(phone), proptest::option::of(email)).prop_map(
            |(f, g, birth, phone, email)| {
                let mut r = request("p", &f, &g, birth);
                r.phone = phone;
                r.email = email;
                r
            },
        )
    }

    proptest! {
        #[test]
        fn a_request_duplicates_its_disguised_copy(
            r in person(false),
            hows in proptest::collection::vec(any::<u8>(), 24),
            spaced in any::<bool>(),
        ) {
            let mut hows = hows.into_iter().cycle();
            let mut disguised = |s: &str| s.chars().map(|c| disguise(c, hows.next().unwrap_or(0))).collect::<String>();
            let mut copy = r.clone();
            copy.id = "copy".into();
            copy.family_name = disguised(&r.family_name);
            copy.given_name = disguised(&r.given_name);
            if spaced {
                copy.family_name = format!("  {} ", copy.family_name);
            }
            let found = probable_duplicates(&r, std::slice::from_ref(&copy));
            prop_assert_eq!(found, vec![("copy".to_owned(), DuplicateReason::SameNameAndBirthDate)]);
        }

        #[test]
        fn duplicates_are_symmetric(a in person(true), b in person(true), same_birth in any::<bool>()) {
            let mut b = b;
            b.id = "q".into();
            if same_birth {
                b.birth_date = a.birth_date;
            }
            let ab = duplicate_reason(&a, &b);
            let ba = duplicate_reason(&b, &a);
            prop_assert_eq!(ab, ba);
            prop_assert_eq!(probable_duplicates(&a, std::slice::from_ref(&b)).len(), usize::from(ab.is_some()));
            prop_assert_eq!(probable_duplicates(&b, std::slice::from_ref(&a)).len(), usize::from(ba.is_some()));
        }
    }
}
