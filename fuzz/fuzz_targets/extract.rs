//! Header extraction in every format. Input: one selector byte (format, XFCC mode, line
//! split), then the header value; `\x1e` splits it into several header lines.
#![no_main]

use certgate::internals::{extract, ExtractionSettings, XfccElements};
use certgate::Format;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, value)) = data.split_first() else { return };
    let format = Format::NAMES[usize::from(selector) % Format::NAMES.len()].1;
    let settings = ExtractionSettings {
        header: "x-cert".into(),
        chain_header: (selector & 0x40 != 0).then(|| "x-chain".into()),
        format,
        xfcc_elements: if selector & 0x80 != 0 { XfccElements::Last } else { XfccElements::Single },
        max_header_bytes: 32 * 1024,
        // Selector bits 3..=5 pick the limit, so both the default and the largest are fuzzed.
        max_certificates: 1 + usize::from((selector >> 3) & 0x07) * 2,
        too_large_flag: None,
        digest_header: None,
    };
    let mut parts = value.split(|b| *b == 0x1f);
    let cert: Vec<Vec<u8>> = parts.next().unwrap_or_default().split(|b| *b == 0x1e).map(<[u8]>::to_vec).collect();
    let chain: Vec<Vec<u8>> = parts.next().map(|c| vec![c.to_vec()]).unwrap_or_default();
    if let Ok(found) = extract(&settings, &cert, &chain) {
        assert!(found.chain.len() < settings.max_certificates);
        assert!(found.inline_count <= found.chain.len());
        assert!(found.format != Format::Auto);
    }
});
