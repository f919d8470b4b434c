//! [`ConfigError`]: why a configuration was refused. It names the variable (and the entry,
//! where a list has one) and the problem, never the value: a value may be a secret, and
//! the error goes to the log.

use std::fmt;

/// A configuration that certgate refuses: every request is then a `configuration_error`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The variable at fault (or, for a problem of several, their names).
    pub variable: &'static str,
    /// The 1-based entry of a list variable, where the problem is in one entry.
    pub entry: Option<usize>,
    /// What is wrong.
    pub problem: Problem,
}

/// What is wrong with a variable.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// The variable source failed (its error's first line, at most 120 characters; it comes
    /// from the host, not from the value).
    Unreadable(String),
    /// Larger than any variable may be.
    TooLarge {
        /// Its size.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// More entries than a list may have.
    TooManyEntries {
        /// How many it has.
        entries: usize,
        /// The limit.
        limit: usize,
    },
    /// Not a whole number.
    NotANumber,
    /// A number outside its inclusive range.
    OutOfRange {
        /// Smallest accepted.
        min: u64,
        /// Largest accepted.
        max: u64,
    },
    /// Not `true` or `false`.
    NotABool,
    /// Not one of these words.
    NotOneOf(&'static [&'static str]),
    /// Not a certificate format's name.
    UnknownFormat,
    /// Not an HTTP header name.
    NotAHeaderName,
    /// Not a known platform preset.
    UnknownPlatform,
    /// A list with no entries where one is needed.
    NoValues,
    /// A name-rule list with no rules.
    NoRules,
    /// Set, but meaningless without this other variable.
    Needs(&'static str),
    /// Names the same header as another setting.
    MustDiffer(&'static str),
    /// The same verdict header twice.
    RepeatedHeader(String),
    /// A secret or key shorter than the minimum.
    TooShort {
        /// The fewest characters accepted.
        min: usize,
    },
    /// No thumbprint, key pin, JSON pin or trust anchor is configured.
    NoTrustSource,
    /// The value's own syntax is wrong (the parser's explanation, which quotes no value).
    Invalid(String),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Unreadable(cause) => write!(f, "could not be read ({cause})"),
            Problem::TooLarge { bytes, limit } => write!(f, "is {bytes} bytes; the limit is {limit}"),
            Problem::TooManyEntries { entries, limit } => write!(f, "has {entries} entries; the limit is {limit}"),
            Problem::NotANumber => f.write_str("is not a whole number"),
            Problem::OutOfRange { min, max } => write!(f, "must be between {min} and {max}"),
            Problem::NotABool => f.write_str("must be true or false"),
            Problem::NotOneOf(words) => {
                f.write_str("must be ")?;
                for (i, w) in words.iter().enumerate() {
                    let sep = match i {
                        0 => "",
                        _ if i + 1 == words.len() => " or ",
                        _ => ", ",
                    };
                    write!(f, "{sep}`{w}`")?;
                }
                Ok(())
            }
            Problem::UnknownFormat => write!(f, "must be one of {}", crate::extract::Format::choices()),
            Problem::NotAHeaderName => f.write_str("is not a valid header name"),
            Problem::UnknownPlatform => f.write_str("is not a known platform preset"),
            Problem::NoValues => f.write_str("has no values"),
            Problem::NoRules => f.write_str("has no rules"),
            Problem::Needs(other) => write!(f, "needs {other}"),
            Problem::MustDiffer(what) => write!(f, "must differ from {what}"),
            Problem::RepeatedHeader(header) => write!(f, "names the header `{header}` twice"),
            Problem::TooShort { min } => write!(f, "must be at least {min} characters"),
            Problem::NoTrustSource => f.write_str(
                "no trust source: set one of the variables allowed_thumbprints, allowed_key_pins, pins, \
                 trust_anchors or keyvalue_store (an empty allowed_thumbprints alone would allow nothing)",
            ),
            Problem::Invalid(explanation) => f.write_str(explanation),
        }
    }
}

impl ConfigError {
    /// A problem with `variable` as a whole.
    pub fn new(variable: &'static str, problem: Problem) -> Self {
        ConfigError { variable, entry: None, problem }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.problem == Problem::NoTrustSource {
            return write!(f, "{}", self.problem);
        }
        write!(f, "variable `{}`: ", self.variable)?;
        if let Some(entry) = self.entry {
            write!(f, "entry {entry}: ")?;
        }
        write!(f, "{}", self.problem)
    }
}

impl std::error::Error for ConfigError {}
