use serde::Serialize;
use std::fmt;

/// Why a string is not a valid identifier. `fr` is shown to users, `en` goes to logs and the CLI.
///
/// Reasons are precise: which character at which position (1-based, counted in the input as
/// typed, spaces included), or which check digit was expected and which was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IdError {
    /// Identifier kind, e.g. "rpps", "commune".
    pub kind: &'static str,
    /// The rejected input, as given — except for kind `"nir"`, where every character but the
    /// last two is replaced by `*` (a NIR is personal data and errors end up in logs).
    pub input: String,
    pub fr: String,
    pub en: String,
}

impl IdError {
    pub fn new(kind: &'static str, input: &str, fr: impl Into<String>, en: impl Into<String>) -> Self {
        Self { kind, input: input.to_owned(), fr: fr.into(), en: en.into() }
    }
}

impl fmt::Display for IdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {} {:?}: {}", self.kind, self.input, self.en)
    }
}

impl std::error::Error for IdError {}

/// Something doubtful about a value that was nevertheless accepted, e.g. a check digit that
/// does not follow a rule which is common but not official.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct IdWarning {
    /// Identifier kind, e.g. "rpps".
    pub kind: &'static str,
    /// Machine-readable reason, e.g. "luhn_mismatch".
    pub code: &'static str,
    pub fr: String,
    pub en: String,
}

impl IdWarning {
    pub fn new(kind: &'static str, code: &'static str, fr: impl Into<String>, en: impl Into<String>) -> Self {
        Self { kind, code, fr: fr.into(), en: en.into() }
    }
}

impl fmt::Display for IdWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} warning ({}): {}", self.kind, self.code, self.en)
    }
}
