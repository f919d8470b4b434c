//! Configuration parsing: every variable at once. Input: `name=value` records separated
//! by `\x1e`; names are taken modulo the list of variables certgate reads.
#![no_main]

use std::collections::HashMap;

use certgate::internals::Config;
use certgate::vars::VARS;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut vars = HashMap::new();
    for record in text.split('\x1e') {
        let (name, value) = record.split_once('=').unwrap_or((record, ""));
        let names: Vec<&str> = VARS.iter().map(|v| v.name).collect();
        let name = names.iter().find(|v| **v == name).copied().unwrap_or_else(|| names[name.len() % names.len()]);
        vars.insert(name.to_string(), value.to_string());
    }
    // Must never panic; when it loads, it has a trust source (a key-value store is one).
    if let Ok(config) = Config::load(&vars) {
        let p = &config.policy;
        assert!(!p.thumbprints.is_empty() || !p.pins.is_empty() || !p.trust.is_empty() || p.store.is_some());
    }
    let _ = certgate::internals::ThumbprintList::parse(text);
    let _ = certgate::internals::parse_rules(text);
    let _ = certgate::internals::parse_pins_json(text, "pins");
    let _ = certgate::internals::Denylist::parse(text);
});
