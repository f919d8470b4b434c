//! Reading variables through a [`VariableSource`], each the way its [`VARS`](super::vars::VARS)
//! entry says: trimmed, empty meaning unset, its default applied, its range checked.

use super::error::{ConfigError, Problem};
use super::vars::{self, Default, Kind, Var};
use crate::extract::parse_header_name;

/// Largest value of any one variable.
pub(super) const MAX_VARIABLE_BYTES: usize = 4 * 1024 * 1024;
/// Most entries in any one list (pins, key pins, names, denylist).
pub(super) const MAX_LIST_ENTRIES: usize = 100_000;

/// Where configuration values come from: Spin variables through `wasi:config/store` in
/// the component, a map or a slice of pairs in tests and embedders.
pub trait VariableSource {
    /// `Ok(None)` when the variable is not set; `Err` when the source itself failed.
    fn get(&self, name: &str) -> Result<Option<String>, String>;
}

impl VariableSource for std::collections::HashMap<String, String> {
    fn get(&self, name: &str) -> Result<Option<String>, String> {
        Ok(std::collections::HashMap::get(self, name).cloned())
    }
}

impl VariableSource for std::collections::BTreeMap<String, String> {
    fn get(&self, name: &str) -> Result<Option<String>, String> {
        Ok(std::collections::BTreeMap::get(self, name).cloned())
    }
}

impl VariableSource for &[(&str, &str)] {
    fn get(&self, name: &str) -> Result<Option<String>, String> {
        Ok(self.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string()))
    }
}

impl<const N: usize> VariableSource for [(&str, &str); N] {
    fn get(&self, name: &str) -> Result<Option<String>, String> {
        Ok(self.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string()))
    }
}

impl<T: VariableSource + ?Sized> VariableSource for &T {
    fn get(&self, name: &str) -> Result<Option<String>, String> {
        (**self).get(name)
    }
}

/// A comma-separated list of values, each trimmed, empty ones dropped.
pub(crate) fn comma_list(raw: &str) -> Vec<String> {
    raw.split(',').map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).collect()
}

/// A parser's error text as a [`ConfigError`]: a leading `entry N: ` becomes the entry.
pub(crate) fn invalid(variable: &'static str, text: impl Into<String>) -> ConfigError {
    let text = text.into();
    if let Some(rest) = text.strip_prefix("entry ") {
        if let Some((n, problem)) = rest.split_once(": ") {
            if let Ok(entry) = n.parse::<usize>() {
                return ConfigError { variable, entry: Some(entry), problem: Problem::Invalid(problem.to_string()) };
            }
        }
    }
    ConfigError::new(variable, Problem::Invalid(text))
}

/// Typed reads of one source.
pub(crate) struct Reader<'a> {
    source: &'a dyn VariableSource,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(source: &'a dyn VariableSource) -> Self {
        Reader { source }
    }

    fn entry(name: &'static str) -> Result<&'static Var, ConfigError> {
        vars::find(name).ok_or(ConfigError::new(name, Problem::Invalid("is not a certgate variable".into())))
    }

    /// The value as set: trimmed; `None` when unset or empty (no default applied).
    pub(crate) fn set(&self, name: &'static str) -> Result<Option<String>, ConfigError> {
        self.read(name, |v| v.trim().to_string())
    }

    /// One lookup of `name`: too large is an error, white space alone is unset, anything
    /// else goes through `keep`.
    fn read(&self, name: &'static str, keep: impl Fn(&str) -> String) -> Result<Option<String>, ConfigError> {
        match self.source.get(name) {
            Ok(Some(v)) if v.len() > MAX_VARIABLE_BYTES => {
                Err(ConfigError::new(name, Problem::TooLarge { bytes: v.len(), limit: MAX_VARIABLE_BYTES }))
            }
            Ok(Some(v)) if !v.trim().is_empty() => Ok(Some(keep(&v))),
            Ok(_) => Ok(None),
            Err(e) => {
                let first: String = e.lines().next().unwrap_or("").chars().take(120).collect();
                Err(ConfigError::new(name, Problem::Unreadable(first)))
            }
        }
    }

    /// As [`Reader::set`], but the value as written: not trimmed (still `None` when it is
    /// only white space).
    pub(crate) fn set_untrimmed(&self, name: &'static str) -> Result<Option<String>, ConfigError> {
        self.read(name, |v| v.to_string())
    }

    /// The value, or its table default.
    pub(crate) fn value(&self, name: &'static str) -> Result<Option<String>, ConfigError> {
        let var = Self::entry(name)?;
        Ok(match (self.set(name)?, var.default) {
            (Some(v), _) => Some(v),
            (None, Default::Value(d)) => Some(d.to_string()),
            (None, Default::Unset) => None,
        })
    }

    /// A header name (lowercase), or the table default.
    pub(crate) fn header(&self, name: &'static str) -> Result<Option<String>, ConfigError> {
        match self.value(name)? {
            Some(h) => parse_header_name(&h).map(Some).ok_or(ConfigError::new(name, Problem::NotAHeaderName)),
            None => Ok(None),
        }
    }

    /// A whole number in the table's range, or the table default.
    pub(crate) fn number(&self, name: &'static str) -> Result<Option<u64>, ConfigError> {
        let Kind::Number { min, max } = Self::entry(name)?.kind else {
            return Err(ConfigError::new(name, Problem::Invalid("is not a number variable".into())));
        };
        let Some(raw) = self.value(name)? else { return Ok(None) };
        let n: u64 = raw.parse().map_err(|_| ConfigError::new(name, Problem::NotANumber))?;
        if n < min || n > max {
            return Err(ConfigError::new(name, Problem::OutOfRange { min, max }));
        }
        Ok(Some(n))
    }

    /// `true`/`false`, or the table default.
    pub(crate) fn flag(&self, name: &'static str) -> Result<Option<bool>, ConfigError> {
        match self.value(name)?.map(|v| v.to_ascii_lowercase()).as_deref() {
            None => Ok(None),
            Some("true" | "yes" | "on" | "1") => Ok(Some(true)),
            Some("false" | "no" | "off" | "0") => Ok(Some(false)),
            Some(_) => Err(ConfigError::new(name, Problem::NotABool)),
        }
    }

    /// One of the table's words (as the table writes it), or the table default.
    pub(crate) fn choice(&self, name: &'static str) -> Result<Option<&'static str>, ConfigError> {
        let Kind::Choice(words) = Self::entry(name)?.kind else {
            return Err(ConfigError::new(name, Problem::Invalid("is not a choice variable".into())));
        };
        let Some(raw) = self.value(name)? else { return Ok(None) };
        words
            .iter()
            .find(|w| w.eq_ignore_ascii_case(&raw))
            .copied()
            .map(Some)
            .ok_or(ConfigError::new(name, Problem::NotOneOf(words)))
    }
}
