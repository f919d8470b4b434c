//! Spin-style variables: application variables declared in `spin.toml` (with a default,
//! or `required = true`), values from `SPIN_VARIABLE_<NAME>` environment variables and
//! `--variable name=value`, and component variables rendered from `{{ name }}` templates.
//! What the component reads through `wasi:config/store` is the rendered component map.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};

/// An application variable's declaration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Declaration {
    pub default: Option<String>,
    pub required: bool,
    pub secret: bool,
}

/// The variables of one application and one component.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Variables {
    declarations: BTreeMap<String, Declaration>,
    /// Component variable name -> template.
    templates: BTreeMap<String, String>,
    provided: BTreeMap<String, String>,
}

/// Spin's rule for variable names: lowercase letters, digits and single underscores,
/// starting with a letter.
pub fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z'))
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.contains("__")
        && !name.ends_with('_')
}

impl Variables {
    /// Read `[variables]` and `[component.<component>.variables]` from a manifest.
    pub fn from_manifest(path: &Path, component: &str) -> Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Self::from_manifest_text(&text, component).with_context(|| format!("in {}", path.display()))
    }

    pub fn from_manifest_text(text: &str, component: &str) -> Result<Self> {
        let doc: toml::Table = text.parse().context("spin.toml is not valid TOML")?;
        let mut declarations = BTreeMap::new();
        if let Some(vars) = doc.get("variables") {
            let vars = vars.as_table().ok_or_else(|| anyhow!("[variables] must be a table"))?;
            for (name, decl) in vars {
                if !is_valid_name(name) {
                    bail!("invalid variable name `{name}`");
                }
                let decl = decl.as_table().ok_or_else(|| anyhow!("variable `{name}` must be a table"))?;
                let default = match decl.get("default") {
                    Some(v) => {
                        Some(v.as_str().ok_or_else(|| anyhow!("default of `{name}` must be a string"))?.to_string())
                    }
                    None => None,
                };
                let required = decl.get("required").and_then(|v| v.as_bool()).unwrap_or(false);
                let secret = decl.get("secret").and_then(|v| v.as_bool()).unwrap_or(false);
                if required == default.is_some() {
                    bail!("variable `{name}` must have exactly one of `default` or `required = true`");
                }
                declarations.insert(name.clone(), Declaration { default, required, secret });
            }
        }
        let mut templates = BTreeMap::new();
        let component_vars = doc
            .get("component")
            .and_then(|c| c.get(component))
            .ok_or_else(|| anyhow!("no [component.{component}] in the manifest"))?
            .get("variables");
        if let Some(vars) = component_vars {
            let vars = vars.as_table().ok_or_else(|| anyhow!("component variables must be a table"))?;
            for (name, template) in vars {
                let template =
                    template.as_str().ok_or_else(|| anyhow!("component variable `{name}` must be a string"))?;
                templates.insert(name.clone(), template.to_string());
            }
        }
        let vars = Variables { declarations, templates, provided: BTreeMap::new() };
        for template in vars.templates.values() {
            for name in template_references(template)? {
                if !vars.declarations.contains_key(&name) {
                    bail!("component variable refers to undeclared variable `{name}`");
                }
            }
        }
        Ok(vars)
    }

    pub fn declarations(&self) -> &BTreeMap<String, Declaration> {
        &self.declarations
    }

    /// Give an application variable a value (as `--variable` does).
    pub fn provide(&mut self, name: &str, value: &str) -> Result<()> {
        if !self.declarations.contains_key(name) {
            bail!("variable `{name}` is not declared in spin.toml");
        }
        self.provided.insert(name.to_string(), value.to_string());
        Ok(())
    }

    /// Take `SPIN_VARIABLE_<NAME>` values from an environment, as Spin's environment
    /// provider does. Unknown names are ignored, like Spin.
    pub fn provide_from_env<I: IntoIterator<Item = (String, String)>>(&mut self, env: I) {
        for (key, value) in env {
            if let Some(name) = key.strip_prefix("SPIN_VARIABLE_") {
                let name = name.to_ascii_lowercase();
                if self.declarations.contains_key(&name) {
                    self.provided.insert(name, value);
                }
            }
        }
    }

    /// The value an application variable has now, if any.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.provided
            .get(name)
            .map(String::as_str)
            .or_else(|| self.declarations.get(name).and_then(|d| d.default.as_deref()))
    }

    /// For each component variable, the application variables its template refers to (in
    /// order, repeats kept): what Spin looks up through its providers on every read.
    pub fn provider_lookups(&self) -> BTreeMap<String, Vec<String>> {
        self.templates
            .iter()
            .map(|(name, template)| (name.clone(), template_references(template).unwrap_or_default()))
            .collect()
    }

    /// Required variables that have no value.
    pub fn missing_required(&self) -> Vec<String> {
        self.declarations
            .iter()
            .filter(|(name, d)| d.required && !self.provided.contains_key(*name))
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// Render every component variable. A reference to a required variable with no value
    /// is left out of the map, so the component sees it as unset (and fails closed).
    pub fn resolve(&self) -> Result<BTreeMap<String, String>> {
        let mut out = BTreeMap::new();
        'vars: for (name, template) in &self.templates {
            let mut rendered = String::new();
            let mut rest = template.as_str();
            while let Some(start) = rest.find("{{") {
                rendered.push_str(&rest[..start]);
                let end = rest[start..].find("}}").ok_or_else(|| anyhow!("unclosed `{{{{` in `{name}`"))? + start;
                let reference = rest[start + 2..end].trim();
                match self.value(reference) {
                    Some(v) => rendered.push_str(v),
                    None => continue 'vars,
                }
                rest = &rest[end + 2..];
            }
            rendered.push_str(rest);
            out.insert(name.clone(), rendered);
        }
        Ok(out)
    }
}

/// A whole `spin.toml` for certgate.wasm (at `source`) declaring only the variables
/// `names`, in the table's order, with the table's defaults and `secret` flags: what
/// `certgate-host manifest` prints. An unknown name is refused.
pub fn manifest_declaring<S: AsRef<str>>(names: &[S], source: &str) -> Result<String> {
    let names: Vec<&str> = names.iter().map(AsRef::as_ref).collect();
    let unknown: Vec<&str> = names.iter().copied().filter(|n| certgate::vars::find(n).is_none()).collect();
    if !unknown.is_empty() {
        bail!("not a certgate variable: {} (docs/configuration.md lists them)", unknown.join(", "));
    }
    let (app, component) = certgate::vars::spin_declarations(&names);
    let source = toml::Value::String(source.to_string());
    Ok(format!(
        "spin_manifest_version = 2\n\n[application]\nname = \"certgate\"\nversion = \"0.1.0\"\n\n\
         # Only the variables this deployment sets (certgate-host manifest); any other reads as unset.\n\
         [variables]\n{app}\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"certgate\"\n\n\
         [component.certgate]\nsource = {source}\nallowed_outbound_hosts = []\n\n\
         [component.certgate.variables]\n{component}"
    ))
}

fn template_references(template: &str) -> Result<Vec<String>> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let end = rest[start..].find("}}").ok_or_else(|| anyhow!("unclosed `{{{{` in a template"))? + start;
        names.push(rest[start + 2..end].trim().to_string());
        rest = &rest[end + 2..];
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"
spin_manifest_version = 2
[application]
name = "x"
[variables]
allowed_thumbprints = { required = true, secret = true }
platform = { default = "" }
[component.c]
source = "c.wasm"
[component.c.variables]
allowed_thumbprints = "{{ allowed_thumbprints }}"
platform = "{{platform}}"
"#;

    #[test]
    fn manifest_env_and_flags() {
        let mut v = Variables::from_manifest_text(MANIFEST, "c").unwrap();
        assert_eq!(v.missing_required(), vec!["allowed_thumbprints".to_string()]);
        let resolved = v.resolve().unwrap();
        assert_eq!(resolved.get("platform").map(String::as_str), Some(""));
        assert!(!resolved.contains_key("allowed_thumbprints"));
        v.provide_from_env([
            ("SPIN_VARIABLE_ALLOWED_THUMBPRINTS".to_string(), "aa".to_string()),
            ("SPIN_VARIABLE_UNKNOWN".to_string(), "zz".to_string()),
        ]);
        v.provide("platform", "envoy").unwrap();
        assert!(v.provide("nope", "1").is_err());
        let resolved = v.resolve().unwrap();
        assert_eq!(resolved["allowed_thumbprints"], "aa");
        assert_eq!(resolved["platform"], "envoy");
        assert!(v.missing_required().is_empty());
    }

    #[test]
    fn bad_manifests() {
        assert!(Variables::from_manifest_text("[variables]\nA = { default = \"\" }\n[component.c]\n", "c").is_err());
        assert!(Variables::from_manifest_text("[variables]\na = { }\n[component.c]\n", "c").is_err());
        assert!(Variables::from_manifest_text("[component.c.variables]\nx = \"{{ y }}\"\n", "c").is_err());
        assert!(Variables::from_manifest_text("[component.d]\n", "c").is_err());
    }
}
