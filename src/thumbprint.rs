//! Pinned certificate thumbprints: parsing the configured list in every common spelling
//! and matching a certificate against it.
//!
//! List syntax: entries separated by `,`, `;` or line breaks. Inside an entry, `:`
//! separators, white space, letter case and invisible formatting marks (U+200E and
//! friends, as pasted from Windows certificate dialogs) are ignored. An entry may carry
//! a `sha1:` or `sha256:` prefix. Empty pieces (a trailing separator) are skipped, but
//! any non-empty entry that is not a valid SHA-1 (40 hex) or SHA-256 (64 hex) thumbprint
//! makes the whole list invalid: the configuration fails closed.

use std::fmt;

/// Hash algorithm of a thumbprint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// SHA-1: 20 bytes, 40 hex digits.
    Sha1,
    /// SHA-256: 32 bytes, 64 hex digits.
    Sha256,
}

impl Algorithm {
    /// `sha1` or `sha256`, as logs and `whoami` name it.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Sha1 => "sha1",
            Algorithm::Sha256 => "sha256",
        }
    }

    fn hex_len(self) -> usize {
        match self {
            Algorithm::Sha1 => 40,
            Algorithm::Sha256 => 64,
        }
    }
}

/// One pinned thumbprint, normalised. Fixed-size, so a list of 10,000 costs no
/// allocation per entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Thumbprint {
    /// Which digest of the certificate's DER this is.
    pub algorithm: Algorithm,
    bytes: [u8; 32],
}

impl Thumbprint {
    /// The SHA-256 thumbprint with this digest.
    pub fn sha256(digest: [u8; 32]) -> Self {
        Thumbprint { algorithm: Algorithm::Sha256, bytes: digest }
    }

    /// The digest bytes (20 for SHA-1, 32 for SHA-256).
    pub fn digest(&self) -> &[u8] {
        match self.algorithm {
            Algorithm::Sha1 => &self.bytes[..20],
            Algorithm::Sha256 => &self.bytes,
        }
    }

    /// Whether this thumbprint is one of a certificate's digests.
    pub fn matches(&self, sha1: &[u8; 20], sha256: &[u8; 32]) -> bool {
        match self.algorithm {
            Algorithm::Sha1 => self.digest() == sha1,
            Algorithm::Sha256 => self.digest() == sha256,
        }
    }

    /// Lowercase hex of the digest.
    pub fn hex(&self) -> String {
        hex::encode(self.digest())
    }
}

impl fmt::Display for Thumbprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm.name(), self.hex())
    }
}

/// Why a thumbprint list was refused. Names the entry (1-based) but never echoes its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListError {
    pub entry: usize,
    pub problem: &'static str,
}

impl fmt::Display for ListError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "entry {}: {}", self.entry, self.problem)
    }
}

/// Characters that are invisible or pure formatting, dropped from an entry.
pub(crate) fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}' | '\u{FEFF}')
}

fn is_entry_separator(c: char) -> bool {
    matches!(c, ',' | ';' | '\n' | '\r')
}

/// Split a list on `,` `;` and line breaks into its meaningful entries, each with its
/// 1-based position; pieces that are empty or only white space / invisible marks are
/// skipped. Shared by every list-valued variable.
pub(crate) fn split_entries(raw: &str) -> impl Iterator<Item = (usize, &str)> {
    raw.split(is_entry_separator)
        .enumerate()
        .filter(|(_, piece)| piece.chars().any(|c| !c.is_whitespace() && !is_invisible(c)))
        .map(|(i, piece)| (i + 1, piece))
}

/// Parse a single entry (already split from its list).
pub fn parse_entry(raw: &str) -> Result<Thumbprint, &'static str> {
    if raw.is_ascii() {
        return parse_ascii_entry(raw.as_bytes());
    }
    parse_any_entry(raw)
}

fn finish(claimed: Option<Algorithm>, digits: usize, bytes: [u8; 32]) -> Result<Thumbprint, &'static str> {
    if digits == 0 {
        return Err("no hex digits");
    }
    let algorithm = match (claimed, digits) {
        (Some(a), n) if n == a.hex_len() => a,
        (Some(Algorithm::Sha1), _) => return Err("sha1 thumbprint must have 40 hex digits"),
        (Some(Algorithm::Sha256), _) => return Err("sha256 thumbprint must have 64 hex digits"),
        (None, 40) => Algorithm::Sha1,
        (None, 64) => Algorithm::Sha256,
        (None, _) => return Err("not 40 (SHA-1) or 64 (SHA-256) hex digits"),
    };
    Ok(Thumbprint { algorithm, bytes })
}

fn algorithm_prefix(prefix: &[u8]) -> Option<Algorithm> {
    match prefix {
        b"sha1" | b"sha-1" => Some(Algorithm::Sha1),
        b"sha256" | b"sha-256" => Some(Algorithm::Sha256),
        _ => None,
    }
}

/// `char::is_whitespace` for ASCII (which, unlike `u8::is_ascii_whitespace`, includes the
/// vertical tab), so the byte and the char paths skip the same characters.
fn is_ascii_space(b: u8) -> bool {
    b.is_ascii_whitespace() || b == 0x0b
}

/// The fast path for the common case, an ASCII entry: bytes, a lookup per digit.
fn parse_ascii_entry(raw: &[u8]) -> Result<Thumbprint, &'static str> {
    let is_space = |b: &u8| is_ascii_space(*b);
    let mut rest = raw;
    while let [first, tail @ ..] = rest {
        if !is_space(first) {
            break;
        }
        rest = tail;
    }
    let mut claimed = None;
    if rest.first().is_some_and(|b| b.eq_ignore_ascii_case(&b's')) {
        let colon = rest.iter().position(|b| *b == b':').ok_or("not hexadecimal")?;
        let mut prefix = [0u8; 8];
        let mut len = 0;
        for b in rest[..colon].iter().filter(|b| !is_space(b)) {
            if len == prefix.len() {
                return Err("not hexadecimal");
            }
            prefix[len] = b.to_ascii_lowercase();
            len += 1;
        }
        claimed = Some(algorithm_prefix(&prefix[..len]).ok_or("not hexadecimal")?);
        rest = &rest[colon + 1..];
    }
    let mut bytes = [0u8; 32];
    let mut digits = 0usize;
    for &b in rest {
        if b == b':' || is_space(&b) {
            continue;
        }
        let nibble = crate::extract::hex_value(b).ok_or("not hexadecimal")?;
        if digits < 64 {
            bytes[digits / 2] |= if digits % 2 == 0 { nibble << 4 } else { nibble };
        }
        digits += 1;
    }
    finish(claimed, digits, bytes)
}

/// Any entry, with Unicode white space and invisible marks.
fn parse_any_entry(raw: &str) -> Result<Thumbprint, &'static str> {
    // One pass, no allocation: white space and invisible marks are skipped, then an
    // optional `sha1:` / `sha-1:` / `sha256:` / `sha-256:` prefix, then hex with `:`s.
    let mut chars = raw.chars().filter(|c| !c.is_whitespace() && !is_invisible(*c)).peekable();
    let mut claimed = None;
    if chars.peek().is_some_and(|c| c.eq_ignore_ascii_case(&'s')) {
        let mut prefix = [0u8; 8];
        let mut len = 0;
        for c in chars.by_ref() {
            if c == ':' {
                break;
            }
            if len == prefix.len() || !c.is_ascii() {
                return Err("not hexadecimal");
            }
            prefix[len] = c.to_ascii_lowercase() as u8;
            len += 1;
        }
        claimed = Some(algorithm_prefix(&prefix[..len]).ok_or("not hexadecimal")?);
    }
    let mut bytes = [0u8; 32];
    let mut digits = 0usize;
    for c in chars {
        if c == ':' {
            continue;
        }
        let nibble = c.to_digit(16).ok_or("not hexadecimal")? as u8;
        if digits < 64 {
            bytes[digits / 2] |= if digits % 2 == 0 { nibble << 4 } else { nibble };
        }
        digits += 1;
    }
    finish(claimed, digits, bytes)
}

/// A parsed, validated thumbprint list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ThumbprintList {
    entries: Vec<Thumbprint>,
}

impl ThumbprintList {
    /// Parse a whole list. An empty list (no entries at all) is returned as such; the
    /// caller decides whether that is acceptable.
    pub fn parse(raw: &str) -> Result<Self, ListError> {
        let mut entries = Vec::new();
        if raw.is_ascii() {
            // The common case, and the one that matters for lists of thousands: split and
            // parse bytes, no UTF-8 decoding. Same pieces, same numbering as `split_entries`.
            let pieces = raw.as_bytes().split(|b| matches!(b, b',' | b';' | b'\n' | b'\r'));
            for (i, piece) in pieces.enumerate() {
                if piece.iter().all(|b| is_ascii_space(*b)) {
                    continue;
                }
                let thumbprint = parse_ascii_entry(piece).map_err(|problem| ListError { entry: i + 1, problem })?;
                entries.push(thumbprint);
            }
            return Ok(ThumbprintList { entries });
        }
        Self::parse_chars(raw)
    }

    /// The general path, for lists with non-ASCII text (invisible marks, Unicode spaces).
    fn parse_chars(raw: &str) -> Result<Self, ListError> {
        let mut entries = Vec::new();
        for (entry, piece) in split_entries(raw) {
            let thumbprint = parse_any_entry(piece).map_err(|problem| ListError { entry, problem })?;
            entries.push(thumbprint);
        }
        Ok(ThumbprintList { entries })
    }

    /// How many thumbprints the list holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the list holds none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Find the first entry matching either digest of a certificate; returns its
    /// 0-based position in the list.
    pub fn find(&self, sha1: &[u8; 20], sha256: &[u8; 32]) -> Option<(usize, &Thumbprint)> {
        self.entries.iter().enumerate().find(|(_, t)| t.matches(sha1, sha256))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The byte fast path and the char path read every ASCII list the same way: the
        /// same entries, or the same error at the same entry.
        #[test]
        fn ascii_list_paths_agree(raw in "[0-9a-fA-FsShH:\\- ,;\r\n\t\x0b\x0cz]{0,200}") {
            prop_assert_eq!(ThumbprintList::parse(&raw), ThumbprintList::parse_chars(&raw));
        }

        #[test]
        fn ascii_list_paths_agree_on_valid_lists(
            entries in proptest::collection::vec((any::<[u8; 32]>(), any::<bool>(), 0usize..4), 0..6),
        ) {
            let raw: String = entries
                .iter()
                .map(|(d, sha1, sep)| {
                    let hex = if *sha1 { hex::encode(&d[..20]) } else { hex::encode(d) };
                    let hex = if d[0] % 2 == 0 { hex.to_uppercase() } else { hex };
                    format!("{hex}{}", [",", ";", "\n", " ;\x0b;\r\n"][*sep])
                })
                .collect();
            let parsed = ThumbprintList::parse(&raw).unwrap();
            prop_assert_eq!(parsed.len(), entries.len());
            prop_assert_eq!(&parsed, &ThumbprintList::parse_chars(&raw).unwrap());
        }
    }

    const SHA1: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678";
    const SHA256: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    #[test]
    fn accepts_every_common_spelling_of_the_same_thumbprint() {
        let canonical = parse_entry(SHA1).unwrap();
        let colon = SHA1
            .as_bytes()
            .chunks(2)
            .map(|c| std::str::from_utf8(c).unwrap().to_uppercase())
            .collect::<Vec<_>>()
            .join(":");
        let spaced = colon.replace(':', " ");
        for spelling in [
            SHA1.to_uppercase(),
            colon,
            spaced,
            format!("\u{200E}{SHA1}"),
            format!("SHA1:{SHA1}"),
            format!("  sha-1:{SHA1}\t"),
            format!("{}\u{200B}{}", &SHA1[..10], &SHA1[10..]),
        ] {
            assert_eq!(parse_entry(&spelling).unwrap(), canonical, "spelling {spelling:?}");
        }
        let t = parse_entry(&format!("sha256:{}", SHA256.to_uppercase())).unwrap();
        assert_eq!(t.algorithm, Algorithm::Sha256);
        assert_eq!(t.hex(), SHA256);
        assert_eq!(t.to_string(), format!("sha256:{SHA256}"));
    }

    #[test]
    fn ascii_and_unicode_paths_agree() {
        for spelling in [
            SHA1.to_string(),
            format!(" SHA-1 : {} ", SHA1.to_uppercase()),
            format!("sha256:{SHA256}"),
            "sha512:00".to_string(),
            "s:00".to_string(),
            format!("{SHA1}z"),
            format!("sha1:{SHA256}"),
            ":::".to_string(),
        ] {
            assert_eq!(parse_ascii_entry(spelling.as_bytes()), parse_any_entry(&spelling), "{spelling:?}");
        }
    }

    #[test]
    fn rejects_bad_entries() {
        assert!(parse_entry("xyz").is_err());
        assert!(parse_entry(&SHA1[..39]).is_err());
        assert!(parse_entry(&format!("{SHA1}0")).is_err());
        assert!(parse_entry(&format!("sha256:{SHA1}")).is_err());
        assert!(parse_entry(&format!("sha1:{SHA256}")).is_err());
        assert!(parse_entry(&format!("md5:{SHA1}")).is_err());
        assert!(parse_entry("sha1:").is_err());
        assert!(parse_entry(&SHA1.replace('a', "g")).is_err());
        // Longer than any digest: refused by both paths, without writing past the buffer.
        for digits in [65, 66, 128, 1000] {
            let long = "a".repeat(digits);
            let expected = Err("not 40 (SHA-1) or 64 (SHA-256) hex digits");
            assert_eq!(parse_entry(&long), expected, "{digits}");
            assert_eq!(parse_entry(&format!("\u{200E}{long}")), expected, "{digits}");
            assert_eq!(parse_entry(&format!("sha256:{long}")), Err("sha256 thumbprint must have 64 hex digits"));
            assert_eq!(parse_entry(&format!("\u{200E}sha1:{long}")), Err("sha1 thumbprint must have 40 hex digits"));
        }
        // Base64 (as GCP writes SHA-256 fingerprints) is not a thumbprint.
        assert!(parse_entry("ABEiM0RVZneImaq7zN3u/wARIjNEVWZ3iJmqu8zd7v8=").is_err());
    }

    #[test]
    fn list_separators_and_fail_closed() {
        let list = ThumbprintList::parse(&format!("{SHA1};{SHA256}\n{SHA1},\r\n")).unwrap();
        assert_eq!(list.len(), 3);
        assert!(ThumbprintList::parse(" ;, \n").unwrap().is_empty());
        let err = ThumbprintList::parse(&format!("{SHA1};nope;{SHA256}")).unwrap_err();
        assert_eq!(err.entry, 2);
        assert!(!err.to_string().contains("nope"), "error must not echo the value");
    }

    #[test]
    fn find_matches_the_right_algorithm() {
        let sha1: [u8; 20] = hex::decode(SHA1).unwrap().try_into().unwrap();
        let sha256: [u8; 32] = hex::decode(SHA256).unwrap().try_into().unwrap();
        let list = ThumbprintList::parse(&format!("{};{SHA256}", "ff".repeat(20))).unwrap();
        assert_eq!(list.find(&sha1, &sha256).map(|(i, _)| i), Some(1));
        let list = ThumbprintList::parse(&"ff".repeat(32)).unwrap();
        assert!(list.find(&sha1, &sha256).is_none());
        // A SHA-1 pin never matches against the SHA-256 digest's prefix.
        let mut prefix = [0u8; 20];
        prefix.copy_from_slice(&sha256[..20]);
        let list = ThumbprintList::parse(&hex::encode(prefix)).unwrap();
        assert!(list.find(&sha1, &sha256).is_none());
    }
}
