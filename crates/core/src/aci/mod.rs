//! The ACI CPTS (*accord conventionnel interprofessionnel*): the 5-year contract between a CPTS,
//! its CPAM and its ARS, and the money it brings.
//!
//! - [`rules`]: a text version (ACI 2019, avenant 2, …) as data — one TOML file per version under
//!   `data/aci/`, embedded in the binary, validated on load with the exact faulty entry reported.
//! - [`contract`]: one CPTS's contract — signature date, rule set, population, missions engaged
//!   with their dates and locally negotiated indicators — and its checks (deadlines, thresholds).
//! - [`compute`]: what a contract year is worth, envelope by envelope, every figure explained;
//!   the 5-year projection and the what-if simulator.
//! - [`schedule`]: when the money is paid (advances and balances at each anniversary).
//! - [`spending`]: the expenses recorded against each envelope and their checks, budget vs
//!   actual per contract year, and the yearly cap (PASS) on what one member professional
//!   receives — the PASS table is data too (`data/aci/pass.toml`, embedded).
//!
//! Money is [`Cents`] (integers), rates are [`Rate`] (integer billionths): no floating point.
//! Nothing here reads the clock: dates are parameters.

pub mod compute;
pub mod contract;
mod money;
pub mod rules;
pub mod schedule;
pub mod spending;

pub use compute::{
    Assumptions, ComputeError, EnvelopeFunding, Explanation, MissionTotal, Part, Period, Projection, Scenario, Step,
    YearFunding, projection, simulate, year_funding,
};
pub use contract::{
    Contract, ContractWarning, CrisisDeclaration, EngagedMission, Indicator, IndicatorKind, IndicatorResult,
    PopulationUpdate, WarningCode,
};
pub use money::{AmountError, Cents, Rate, RateParseError};
pub use rules::{MissionFunding, MissionRule, RuleSet, RuleSetError, RuleSetLookupError};
pub use schedule::{Payment, PaymentKind, Schedule, payment_schedule, payments_for_year};
pub use spending::{
    CategoryAmount, EnvelopeBalance, EnvelopeBalances, Expense, ExpenseCategory, ExpenseError, PassAlert,
    PassAlertKind, PassTable, PassTableError, PassYear, PayeeKind, ProfessionalAllowance, ProfessionalKey,
    UnknownExpenseCategory, UnknownPayeeKind, allowances_by_professional, envelope_balances, expenses_in_contract_year,
    normalize_payee_name, pass_alerts,
};

use serde::{Deserialize, Serialize};
use std::fmt;

/// The funding envelopes of the ACI: the operating funding (`fonctionnement`) and the six
/// missions. The serialized names are the identifiers used in files, URLs and the CLI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MissionId {
    /// Operating funding of the CPTS: not a mission, always part of a contract.
    Fonctionnement,
    /// Access to care: a *médecin traitant* for everyone, same-day care, telehealth (socle).
    Acces,
    /// Multi-professional care pathways around the patient (socle).
    Parcours,
    /// Territorial prevention actions (socle).
    Prevention,
    /// Response to serious health crises (socle since avenant 2).
    Crise,
    /// Quality and relevance of care (optional).
    Qualite,
    /// Support of health professionals on the territory (optional).
    Accompagnement,
}

impl MissionId {
    pub const ALL: [MissionId; 7] = [
        MissionId::Fonctionnement,
        MissionId::Acces,
        MissionId::Parcours,
        MissionId::Prevention,
        MissionId::Crise,
        MissionId::Qualite,
        MissionId::Accompagnement,
    ];

    /// The identifier: `fonctionnement`, `acces`, `parcours`, `prevention`, `crise`, `qualite`,
    /// `accompagnement`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fonctionnement => "fonctionnement",
            Self::Acces => "acces",
            Self::Parcours => "parcours",
            Self::Prevention => "prevention",
            Self::Crise => "crise",
            Self::Qualite => "qualite",
            Self::Accompagnement => "accompagnement",
        }
    }

    /// Short English name.
    pub fn en(self) -> &'static str {
        match self {
            Self::Fonctionnement => "operating funding",
            Self::Acces => "access to care",
            Self::Parcours => "care pathways",
            Self::Prevention => "prevention",
            Self::Crise => "health crises",
            Self::Qualite => "quality of care",
            Self::Accompagnement => "support of professionals",
        }
    }

    /// Short French name.
    pub fn fr(self) -> &'static str {
        match self {
            Self::Fonctionnement => "fonctionnement",
            Self::Acces => "accès aux soins",
            Self::Parcours => "parcours pluriprofessionnels",
            Self::Prevention => "prévention",
            Self::Crise => "crises sanitaires graves",
            Self::Qualite => "qualité et pertinence des soins",
            Self::Accompagnement => "accompagnement des professionnels",
        }
    }

    /// Whether this is a mission (everything but the operating funding).
    pub fn is_mission(self) -> bool {
        self != Self::Fonctionnement
    }
}

impl fmt::Display for MissionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not one of the seven envelope identifiers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownMission(pub String);

impl fmt::Display for UnknownMission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = MissionId::ALL.iter().map(|m| m.as_str()).collect();
        write!(f, "unknown mission `{}` (expected one of: {})", self.0, names.join(", "))
    }
}

impl std::error::Error for UnknownMission {}

impl std::str::FromStr for MissionId {
    type Err = UnknownMission;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        MissionId::ALL.into_iter().find(|m| m.as_str() == t).ok_or_else(|| UnknownMission(s.to_owned()))
    }
}

/// Socle (mandatory) or optional mission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    Socle,
    Optional,
}
