//! Configuration parsing: every variable at once. Input: `name=value` records separated
//! by `\x1e`; names are taken modulo the list of variables certgate reads.
#![no_main]

use std::collections::HashMap;

use certgate::config::{var, Config};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut vars = HashMap::new();
    for record in text.split('\x1e') {
        let (name, value) = record.split_once('=').unwrap_or((record, ""));
        let name = var::ALL.iter().find(|v| **v == name).copied().unwrap_or_else(|| var::ALL[name.len() % var::ALL.len()]);
        vars.insert(name.to_string(), value.to_string());
    }
    // Must never panic; when it loads, it has a trust source.
    if let Ok(config) = Config::load(&vars) {
        let p = &config.policy;
        assert!(!p.thumbprints.is_empty() || !p.pins.is_empty() || !p.trust.is_empty());
    }
    let _ = certgate::thumbprint::ThumbprintList::parse(text);
    let _ = certgate::policy::names::parse_rules(text);
    let _ = certgate::policy::pins::parse_pins_json(text, "pins");
    let _ = certgate::policy::revocation::Denylist::parse(text);
});
