//! Priority classes: which waiting patients are served first.
//!
//! A CPTS configures its rule as data: an ordered list of `(condition, class)` pairs, the first
//! condition that holds giving the class, and a default class for everyone else. Class 1 is
//! served first, then class 2, and so on. The default rule is the issue's: ALD, or aged 70 or
//! over, or in precarity → class 1; everyone else class 2.
//!
//! Classifying also explains: the [`Reason`]s are the criteria that made the condition hold
//! ("priority class 1 because ALD and aged 70 or over"), in English and in French.
//!
//! ```
//! use maillage_core::matching::priority::{PatientFacts, PriorityRule};
//! let rule = PriorityRule::default();
//! let p = rule.classify(&PatientFacts { ald: true, age: Some(45), ..PatientFacts::default() });
//! assert_eq!(p.class, 1);
//! assert_eq!(p.because_en(), "ALD");
//! assert_eq!(p.because_fr(), "ALD (affection de longue durée)");
//! ```

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// What the rule may look at. The age is computed by the caller (core has no clock).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientFacts {
    /// Affection de longue durée.
    #[serde(default)]
    pub ald: bool,
    /// Age in whole years, if known.
    #[serde(default)]
    pub age: Option<u16>,
    /// Precarity (C2S, AME, or the CPTS's own criterion).
    #[serde(default)]
    pub precarity: bool,
    /// Other criteria a CPTS may use, by name (e.g. `sortie_hospitalisation`).
    #[serde(default)]
    pub flags: BTreeSet<String>,
}

/// A condition on a patient's facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Condition {
    Ald,
    AgeAtLeast {
        years: u16,
    },
    Precarity,
    /// A named flag; `label` (in French, as the CPTS writes it) is used in explanations.
    Flag {
        name: String,
        #[serde(default)]
        label: Option<String>,
    },
    AnyOf {
        conditions: Vec<Condition>,
    },
    AllOf {
        conditions: Vec<Condition>,
    },
}

/// One line of the rule: the class of patients meeting the condition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassRule {
    pub when: Condition,
    pub class: u8,
}

/// The configurable priority rule (first matching line wins, else the default class).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriorityRule {
    pub rules: Vec<ClassRule>,
    pub default_class: u8,
}

/// Why a patient is in a class.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Reason {
    Ald,
    /// Meets "aged `years` or over".
    AgeAtLeast {
        years: u16,
    },
    Precarity,
    Flag {
        name: String,
        label: Option<String>,
    },
    /// No condition held: the rule's default class.
    Default,
    /// The class was given as such (a file, a coordinator's decision), not computed.
    Given,
}

/// A patient's class and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Priority {
    pub class: u8,
    pub because: Vec<Reason>,
}

/// A rule that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("class {0} is not allowed: classes are numbered from 1")]
    ClassZero(usize),
    #[error("line {0}: an empty \"any of\" or \"all of\" condition")]
    EmptyCombination(usize),
    #[error("line {0}: a flag without a name")]
    EmptyFlag(usize),
}

impl Default for PriorityRule {
    /// ALD, or aged 70 or over, or precarity → class 1; everyone else class 2.
    fn default() -> Self {
        Self {
            rules: vec![ClassRule {
                when: Condition::AnyOf {
                    conditions: vec![Condition::Ald, Condition::AgeAtLeast { years: 70 }, Condition::Precarity],
                },
                class: 1,
            }],
            default_class: 2,
        }
    }
}

impl Condition {
    /// The reasons that make the condition hold, or `None` if it does not.
    fn holds(&self, facts: &PatientFacts) -> Option<Vec<Reason>> {
        match self {
            Condition::Ald => facts.ald.then(|| vec![Reason::Ald]),
            Condition::AgeAtLeast { years } => {
                facts.age.filter(|age| age >= years).map(|_| vec![Reason::AgeAtLeast { years: *years }])
            }
            Condition::Precarity => facts.precarity.then(|| vec![Reason::Precarity]),
            Condition::Flag { name, label } => {
                facts.flags.contains(name).then(|| vec![Reason::Flag { name: name.clone(), label: label.clone() }])
            }
            // Every criterion that holds is named, not only the first.
            Condition::AnyOf { conditions } => {
                let reasons: Vec<Reason> = conditions.iter().filter_map(|c| c.holds(facts)).flatten().collect();
                (!reasons.is_empty()).then_some(reasons)
            }
            Condition::AllOf { conditions } => {
                let mut reasons = Vec::new();
                for c in conditions {
                    reasons.extend(c.holds(facts)?);
                }
                Some(reasons)
            }
        }
    }

    fn check(&self, line: usize) -> Result<(), RuleError> {
        match self {
            Condition::AnyOf { conditions } | Condition::AllOf { conditions } => {
                if conditions.is_empty() {
                    return Err(RuleError::EmptyCombination(line));
                }
                conditions.iter().try_for_each(|c| c.check(line))
            }
            Condition::Flag { name, .. } if name.trim().is_empty() => Err(RuleError::EmptyFlag(line)),
            _ => Ok(()),
        }
    }
}

impl PriorityRule {
    /// Checks the rule: classes from 1, no empty combination, no nameless flag. Lines are
    /// numbered from 1 in errors; the default class is line 0.
    pub fn validate(&self) -> Result<(), RuleError> {
        if self.default_class == 0 {
            return Err(RuleError::ClassZero(0));
        }
        for (i, r) in self.rules.iter().enumerate() {
            if r.class == 0 {
                return Err(RuleError::ClassZero(i + 1));
            }
            r.when.check(i + 1)?;
        }
        Ok(())
    }

    /// The class of a patient: the first line whose condition holds, else the default.
    pub fn classify(&self, facts: &PatientFacts) -> Priority {
        for r in &self.rules {
            if let Some(mut because) = r.when.holds(facts) {
                because.dedup();
                return Priority { class: r.class, because };
            }
        }
        Priority { class: self.default_class, because: vec![Reason::Default] }
    }
}

impl Priority {
    /// A class given as such (e.g. read from a file).
    pub fn given(class: u8) -> Self {
        Self { class, because: vec![Reason::Given] }
    }

    /// "ALD and aged 70 or over".
    pub fn because_en(&self) -> String {
        join(self.because.iter().map(Reason::en).collect(), "and")
    }

    /// « ALD (affection de longue durée) et 70 ans ou plus ».
    pub fn because_fr(&self) -> String {
        join(self.because.iter().map(Reason::fr).collect(), "et")
    }
}

fn join(parts: Vec<String>, and: &str) -> String {
    match parts.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} {and} {last}", rest.join(", ")),
    }
}

impl Reason {
    /// A stable code for the web and the API: `ald`, `age_at_least`, `precarity`, `flag`,
    /// `default`, `given`.
    pub fn code(&self) -> &'static str {
        match self {
            Reason::Ald => "ald",
            Reason::AgeAtLeast { .. } => "age_at_least",
            Reason::Precarity => "precarity",
            Reason::Flag { .. } => "flag",
            Reason::Default => "default",
            Reason::Given => "given",
        }
    }

    pub fn en(&self) -> String {
        match self {
            Reason::Ald => "ALD".into(),
            Reason::AgeAtLeast { years } => format!("aged {years} or over"),
            Reason::Precarity => "precarity".into(),
            Reason::Flag { name, label } => label.clone().unwrap_or_else(|| name.clone()),
            Reason::Default => "no priority criterion".into(),
            Reason::Given => "class given".into(),
        }
    }

    pub fn fr(&self) -> String {
        match self {
            Reason::Ald => "ALD (affection de longue durée)".into(),
            Reason::AgeAtLeast { years } => format!("{years} ans ou plus"),
            Reason::Precarity => "situation de précarité".into(),
            Reason::Flag { name, label } => label.clone().unwrap_or_else(|| name.clone()),
            Reason::Default => "aucun critère de priorité".into(),
            Reason::Given => "classe indiquée".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn facts(ald: bool, age: Option<u16>, precarity: bool) -> PatientFacts {
        PatientFacts { ald, age, precarity, flags: BTreeSet::new() }
    }

    #[test]
    fn default_rule() {
        let rule = PriorityRule::default();
        rule.validate().unwrap();
        assert_eq!(
            rule.classify(&facts(false, Some(40), false)),
            Priority { class: 2, because: vec![Reason::Default] }
        );
        assert_eq!(rule.classify(&facts(false, None, false)).class, 2);
        assert_eq!(rule.classify(&facts(false, Some(69), false)).class, 2);
        let old = rule.classify(&facts(false, Some(70), false));
        assert_eq!(old.class, 1);
        assert_eq!(old.because_en(), "aged 70 or over");
        assert_eq!(old.because_fr(), "70 ans ou plus");
        let all = rule.classify(&facts(true, Some(82), true));
        assert_eq!(all.class, 1);
        assert_eq!(all.because_en(), "ALD, aged 70 or over and precarity");
        assert_eq!(all.because_fr(), "ALD (affection de longue durée), 70 ans ou plus et situation de précarité");
        assert_eq!(rule.classify(&facts(false, Some(30), true)).because, vec![Reason::Precarity]);
    }

    #[test]
    fn first_matching_line_wins_and_rules_are_data() {
        // Three classes: precarity + ALD first; then any of ALD, 75+, hospital discharge.
        let json = r#"{
            "rules": [
                {"when": {"kind": "all_of", "conditions": [{"kind": "precarity"}, {"kind": "ald"}]}, "class": 1},
                {"when": {"kind": "any_of", "conditions": [
                    {"kind": "ald"}, {"kind": "age_at_least", "years": 75},
                    {"kind": "flag", "name": "sortie_hospitalisation", "label": "sortie d'hospitalisation"}
                ]}, "class": 2}
            ],
            "default_class": 3
        }"#;
        let rule: PriorityRule = serde_json::from_str(json).unwrap();
        rule.validate().unwrap();
        let p = rule.classify(&facts(true, Some(20), true));
        assert_eq!((p.class, p.because_en().as_str()), (1, "precarity and ALD"));
        assert_eq!(rule.classify(&facts(true, Some(20), false)).class, 2);
        let mut f = facts(false, Some(20), false);
        f.flags.insert("sortie_hospitalisation".into());
        let p = rule.classify(&f);
        assert_eq!((p.class, p.because_fr().as_str()), (2, "sortie d'hospitalisation"));
        assert_eq!(rule.classify(&facts(false, Some(74), false)).class, 3);
        // Round trip.
        let back: PriorityRule = serde_json::from_str(&serde_json::to_string(&rule).unwrap()).unwrap();
        assert_eq!(back, rule);
    }

    #[test]
    fn invalid_rules() {
        let rule = PriorityRule { default_class: 0, ..PriorityRule::default() };
        assert_eq!(rule.validate(), Err(RuleError::ClassZero(0)));
        let rule = PriorityRule {
            rules: vec![ClassRule { when: Condition::AnyOf { conditions: vec![] }, class: 1 }],
            default_class: 2,
        };
        assert_eq!(rule.validate(), Err(RuleError::EmptyCombination(1)));
        let rule = PriorityRule {
            rules: vec![ClassRule { when: Condition::Flag { name: " ".into(), label: None }, class: 1 }],
            default_class: 2,
        };
        assert_eq!(rule.validate(), Err(RuleError::EmptyFlag(1)));
    }

    proptest! {
        #[test]
        fn default_rule_is_the_issue_rule(ald: bool, age in prop::option::of(0u16..120), precarity: bool) {
            let p = PriorityRule::default().classify(&facts(ald, age, precarity));
            let expected = if ald || age.is_some_and(|a| a >= 70) || precarity { 1 } else { 2 };
            prop_assert_eq!(p.class, expected);
            prop_assert!(!p.because.is_empty());
            prop_assert_eq!(p.because.contains(&Reason::Ald), ald);
        }
    }
}
