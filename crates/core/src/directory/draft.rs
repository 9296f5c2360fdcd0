//! From activity lines to professionals: the owned [`Activity`] of one line, and the grouping
//! of a person's lines (one per place, specialty or role) into a [`Professional`].

use super::annuaire::{ActivityRecord, Field};
use super::model::{Address, ExerciseMode, NationalId, PracticePlace, Professional, Specialty, StructureRef};
use crate::ids::{Finess, InseeCode, Siret};
use serde::Serialize;
use std::collections::HashMap;

/// One line of the extract, owned (every field we use; empty fields are `None`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Activity {
    pub line: u64,
    pub national_id: NationalId,
    pub exercise_civility_code: Option<String>,
    pub exercise_civility_label: Option<String>,
    pub civility_code: Option<String>,
    pub civility_label: Option<String>,
    pub family_name: String,
    pub given_name: String,
    pub profession_code: String,
    pub profession_label: Option<String>,
    pub category_code: Option<String>,
    pub category_label: Option<String>,
    pub skill_type_code: Option<String>,
    pub skill_type_label: Option<String>,
    pub skill_code: Option<String>,
    pub skill_label: Option<String>,
    pub exercise_mode: ExerciseMode,
    pub exercise_mode_label: Option<String>,
    pub siret: Option<String>,
    pub siren: Option<String>,
    pub finess_site: Option<String>,
    pub finess_legal_entity: Option<String>,
    pub structure_id: Option<String>,
    pub company_name: Option<String>,
    pub trade_name: Option<String>,
    pub addressee_complement: Option<String>,
    pub place_complement: Option<String>,
    pub street_number: Option<String>,
    pub street_number_suffix: Option<String>,
    pub street_type_code: Option<String>,
    pub street_type_label: Option<String>,
    pub street_name: Option<String>,
    pub distribution_mention: Option<String>,
    pub cedex_office: Option<String>,
    pub postal_code: Option<String>,
    pub commune_code: Option<InseeCode>,
    pub commune_label: Option<String>,
    pub country_code: Option<String>,
    pub country_label: Option<String>,
    pub phone: Option<String>,
    pub phone2: Option<String>,
    pub fax: Option<String>,
    pub email: Option<String>,
    pub departement_code: Option<String>,
    pub departement_label: Option<String>,
    pub sector_code: Option<String>,
    pub sector_label: Option<String>,
    pub role_code: Option<String>,
    pub role_label: Option<String>,
    pub activity_kind_code: Option<String>,
    pub activity_kind_label: Option<String>,
}

impl ActivityRecord<'_> {
    /// The owned copy of this line.
    pub fn to_activity(&self) -> Activity {
        let o = |f: Field| self.opt(f).map(str::to_owned);
        Activity {
            line: self.line(),
            national_id: self.national_id(),
            exercise_civility_code: o(Field::ExerciseCivilityCode),
            exercise_civility_label: o(Field::ExerciseCivilityLabel),
            civility_code: o(Field::CivilityCode),
            civility_label: o(Field::CivilityLabel),
            family_name: self.family_name().to_owned(),
            given_name: self.given_name().to_owned(),
            profession_code: self.profession_code().to_owned(),
            profession_label: o(Field::ProfessionLabel),
            category_code: o(Field::CategoryCode),
            category_label: o(Field::CategoryLabel),
            skill_type_code: o(Field::SkillTypeCode),
            skill_type_label: o(Field::SkillTypeLabel),
            skill_code: o(Field::SkillCode),
            skill_label: o(Field::SkillLabel),
            exercise_mode: self.exercise_mode(),
            exercise_mode_label: o(Field::ExerciseModeLabel),
            siret: o(Field::Siret),
            siren: o(Field::Siren),
            finess_site: o(Field::FinessSite),
            finess_legal_entity: o(Field::FinessLegalEntity),
            structure_id: o(Field::StructureId),
            company_name: o(Field::CompanyName),
            trade_name: o(Field::TradeName),
            addressee_complement: o(Field::AddresseeComplement),
            place_complement: o(Field::PlaceComplement),
            street_number: o(Field::StreetNumber),
            street_number_suffix: o(Field::StreetNumberSuffix),
            street_type_code: o(Field::StreetTypeCode),
            street_type_label: o(Field::StreetTypeLabel),
            street_name: o(Field::StreetName),
            distribution_mention: o(Field::DistributionMention),
            cedex_office: o(Field::CedexOffice),
            postal_code: o(Field::PostalCode),
            commune_code: self.commune_code(),
            commune_label: o(Field::CommuneLabel),
            country_code: o(Field::CountryCode),
            country_label: o(Field::CountryLabel),
            phone: o(Field::Phone),
            phone2: o(Field::Phone2),
            fax: o(Field::Fax),
            email: o(Field::Email),
            departement_code: o(Field::DepartementCode),
            departement_label: o(Field::DepartementLabel),
            sector_code: o(Field::SectorCode),
            sector_label: o(Field::SectorLabel),
            role_code: o(Field::RoleCode),
            role_label: o(Field::RoleLabel),
            activity_kind_code: o(Field::ActivityKindCode),
            activity_kind_label: o(Field::ActivityKindLabel),
        }
    }
}

fn join_words<'a>(parts: impl IntoIterator<Item = Option<&'a str>>, sep: &str) -> Option<String> {
    let v: Vec<&str> = parts.into_iter().flatten().map(str::trim).filter(|s| !s.is_empty()).collect();
    (!v.is_empty()).then(|| v.join(sep))
}

impl Activity {
    /// "6 B Rue du Général de Gaulle": number, repetition index, street type (label, else code),
    /// street name.
    pub fn street(&self) -> Option<String> {
        let number = join_words([self.street_number.as_deref(), self.street_number_suffix.as_deref()], "");
        let kind = self.street_type_label.as_deref().or(self.street_type_code.as_deref());
        if self.street_name.is_none() && kind.is_none() {
            return number;
        }
        join_words([number.as_deref(), kind, self.street_name.as_deref()], " ")
    }

    /// The postal code, else the one at the start of "Bureau cedex" ("25300 DOUBS").
    pub fn effective_postal_code(&self) -> Option<String> {
        self.postal_code.clone().or_else(|| {
            let cedex = self.cedex_office.as_deref()?;
            let digits: String = cedex.chars().take(5).collect();
            (digits.len() == 5 && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
        })
    }

    /// A stable key for the practice place of this line.
    pub fn place_key(&self) -> String {
        if let Some(id) = &self.structure_id {
            return id.clone();
        }
        if let Some(s) = &self.siret {
            return format!("siret:{s}");
        }
        if let Some(f) = &self.finess_site {
            return format!("finess:{f}");
        }
        let parts = [
            self.effective_postal_code().unwrap_or_default(),
            self.commune_code.map(|c| c.to_string()).unwrap_or_default(),
            self.street().unwrap_or_default().to_uppercase(),
        ];
        format!("addr:{}", parts.join("|"))
    }

    /// The practice place of this line (SIRET or FINESS that do not parse are left out; see
    /// [`ProfessionalDraft::warnings`]).
    pub fn place(&self) -> PracticePlace {
        let commune_label = self.commune_label.clone().or_else(|| {
            let cedex = self.cedex_office.as_deref()?;
            let rest = cedex.get(5..).unwrap_or_default().trim();
            (!rest.is_empty()).then(|| rest.to_owned())
        });
        PracticePlace {
            key: self.place_key(),
            structure: StructureRef {
                technical_id: self.structure_id.clone(),
                siret: self.siret.as_deref().and_then(|s| Siret::parse(s).ok()),
                finess: self.finess_site.as_deref().and_then(|f| Finess::parse(f).ok()),
                name: self.trade_name.clone().or_else(|| self.company_name.clone()),
            },
            address: Address {
                line1: self.street(),
                line2: join_words([self.place_complement.as_deref(), self.distribution_mention.as_deref()], ", "),
                postal_code: self.effective_postal_code(),
                commune_code: self.commune_code,
                commune_label,
            },
            phone: self.phone.clone().or_else(|| self.phone2.clone()),
            email: self.email.clone(),
            exercise_mode: self.exercise_mode,
            role: self.role_label.clone().or_else(|| self.role_code.clone()),
            sector: self.sector_code.clone(),
        }
    }
}

/// Something odd in a person's lines, kept for the import report (the person is imported).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DraftWarning {
    pub line: u64,
    pub en: String,
    pub fr: String,
}

/// The lines of one person, being assembled into a [`Professional`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProfessionalDraft {
    pub national_id: NationalId,
    /// In the order received.
    pub activities: Vec<Activity>,
}

impl ProfessionalDraft {
    pub fn new(first: Activity) -> Self {
        Self { national_id: first.national_id, activities: vec![first] }
    }

    /// Adds a line of the same person; gives the line back if it is someone else's.
    pub fn push(&mut self, activity: Activity) -> Result<(), Box<Activity>> {
        if activity.national_id != self.national_id {
            return Err(Box::new(activity));
        }
        self.activities.push(activity);
        Ok(())
    }

    /// The professional: identity and profession from the first line, specialties and places
    /// from all lines (a place seen on several lines — one per specialty or role — once, with
    /// the first non-empty phone, e-mail, role and exercise mode).
    pub fn to_professional(&self) -> Option<Professional> {
        let first = self.activities.first()?;
        let mut specialties: Vec<Specialty> = Vec::new();
        let mut places: Vec<PracticePlace> = Vec::new();
        for a in &self.activities {
            if let Some(code) = &a.skill_code {
                let s = Specialty {
                    kind: a.skill_type_code.clone().unwrap_or_default(),
                    code: code.clone(),
                    label: a.skill_label.clone().unwrap_or_default(),
                };
                if !specialties.contains(&s) {
                    specialties.push(s);
                }
            }
            let place = a.place();
            match places.iter_mut().find(|p| p.key == place.key) {
                None => places.push(place),
                Some(p) => {
                    p.phone = p.phone.take().or(place.phone);
                    p.email = p.email.take().or(place.email);
                    p.role = p.role.take().or(place.role);
                    if p.exercise_mode == ExerciseMode::Unknown {
                        p.exercise_mode = place.exercise_mode;
                    }
                }
            }
        }
        Some(Professional {
            national_id: self.national_id,
            civility: first.exercise_civility_code.clone().or_else(|| first.civility_code.clone()),
            family_name: first.family_name.clone(),
            given_name: first.given_name.clone(),
            profession_code: first.profession_code.clone(),
            profession_label: first.profession_label.clone(),
            specialties,
            places,
        })
    }

    /// Lines that disagree with the first on name or profession, and SIRET/FINESS numbers that
    /// do not parse (they are left out of the places).
    pub fn warnings(&self) -> Vec<DraftWarning> {
        let mut out = Vec::new();
        let Some(first) = self.activities.first() else { return out };
        for a in &self.activities {
            if (a.family_name.as_str(), a.given_name.as_str())
                != (first.family_name.as_str(), first.given_name.as_str())
            {
                out.push(DraftWarning {
                    line: a.line,
                    en: format!(
                        "name {} {} differs from line {} ({} {})",
                        a.given_name, a.family_name, first.line, first.given_name, first.family_name
                    ),
                    fr: format!(
                        "le nom {} {} diffère de celui de la ligne {} ({} {})",
                        a.given_name, a.family_name, first.line, first.given_name, first.family_name
                    ),
                });
            }
            if a.profession_code != first.profession_code {
                out.push(DraftWarning {
                    line: a.line,
                    en: format!(
                        "profession {} differs from line {} ({}); the first is kept",
                        a.profession_code, first.line, first.profession_code
                    ),
                    fr: format!(
                        "la profession {} diffère de celle de la ligne {} ({}) ; la première est retenue",
                        a.profession_code, first.line, first.profession_code
                    ),
                });
            }
            if let Some(Err(e)) = a.siret.as_deref().map(Siret::parse) {
                out.push(DraftWarning {
                    line: a.line,
                    en: format!("SIRET left out: {}", e.en),
                    fr: format!("SIRET écarté : {}", e.fr),
                });
            }
            if let Some(Err(e)) = a.finess_site.as_deref().map(Finess::parse) {
                out.push(DraftWarning {
                    line: a.line,
                    en: format!("FINESS left out: {}", e.en),
                    fr: format!("FINESS écarté : {}", e.fr),
                });
            }
        }
        out
    }
}

/// Groups lines by person (national id), in the order each person first appears; within a
/// person, lines keep their order. Does not rely on the file being sorted.
pub fn group_by_person(activities: Vec<Activity>) -> Vec<ProfessionalDraft> {
    let mut index: HashMap<NationalId, usize> = HashMap::new();
    let mut drafts: Vec<ProfessionalDraft> = Vec::new();
    for a in activities {
        match index.get(&a.national_id) {
            Some(&i) => drafts[i].activities.push(a),
            None => {
                index.insert(a.national_id, drafts.len());
                drafts.push(ProfessionalDraft::new(a));
            }
        }
    }
    drafts
}
