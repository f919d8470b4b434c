//! What an operator gives `pin`, `revoke`, `remove` and `show`: files of SHA-256
//! thumbprint or key-digest lines, PEM bundles of certificates (and, for keys, public
//! keys), or one DER certificate.
//!
//! Every input is read whole and checked before anything is written, so a bad line
//! anywhere refuses the whole batch. Errors name the input and the line, and never echo
//! a line: a file given by mistake may hold something secret.

use std::fmt;
use std::io::Read;
use std::path::Path;

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use certgate::ClientCertificate;

/// What an input names an entry by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum By {
    /// The certificate: the SHA-256 of its DER (`certgate/v1/cert/<hex>`).
    Thumbprint,
    /// The key: the SHA-256 of the SubjectPublicKeyInfo (`certgate/v1/key/<hex>`), which
    /// stays the same when a certificate is renewed with the same key.
    Key,
}

impl By {
    /// What a count of these entries is called in a summary: `1 certificate`, `2 keys`.
    pub fn noun(self, count: usize) -> &'static str {
        match (self, count) {
            (By::Thumbprint, 1) => "certificate",
            (By::Thumbprint, _) => "certificates",
            (By::Key, 1) => "key",
            (By::Key, _) => "keys",
        }
    }

    /// How the entries are keyed, for a summary.
    pub fn digest_name(self) -> &'static str {
        match self {
            By::Thumbprint => "thumbprint",
            By::Key => "SPKI SHA-256",
        }
    }
}

/// Which of a key's spellings a certificate or public key names, with `--by key`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spellings {
    /// The key as signed only: what a pin names (a key pin trusts only the spelling
    /// pinned, so the store holds exactly what `pin` was given).
    AsSigned,
    /// The key as signed and, when it spells the key another way than usual (a compressed
    /// point), the usual spelling too: what a revocation or a removal names, so it
    /// reaches every certificate with the key (certgate compares both).
    Every,
}

/// A problem with one input: the input's name, the line when there is one, and what is
/// wrong (never the line's text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    /// The input as the operator named it (`<stdin>` for `-`).
    pub source: String,
    /// The 1-based line, when the problem is on one.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{} line {line}: {}", self.source, self.message),
            None => write!(f, "{}: {}", self.source, self.message),
        }
    }
}

impl std::error::Error for InputError {}

/// An input read whole: its name for messages and its bytes.
#[derive(Clone, Debug)]
pub struct Input {
    /// The path as given, or `<stdin>`.
    pub name: String,
    /// Its content.
    pub bytes: Vec<u8>,
}

impl Input {
    /// Read a file, or standard input for `-`.
    pub fn read(path: &Path) -> Result<Input, InputError> {
        if path == Path::new("-") {
            let mut bytes = Vec::new();
            std::io::stdin().read_to_end(&mut bytes).map_err(|e| InputError {
                source: "<stdin>".into(),
                line: None,
                message: format!("cannot be read ({e})"),
            })?;
            return Ok(Input { name: "<stdin>".into(), bytes });
        }
        let name = path.display().to_string();
        match std::fs::read(path) {
            Ok(bytes) => Ok(Input { name, bytes }),
            Err(e) => Err(InputError { source: name, line: None, message: format!("cannot be read ({e})") }),
        }
    }

    /// An input from memory (tests, and callers that already hold the text).
    pub fn from_bytes(name: &str, bytes: impl Into<Vec<u8>>) -> Input {
        Input { name: name.into(), bytes: bytes.into() }
    }

    fn error(&self, line: Option<usize>, message: impl Into<String>) -> InputError {
        InputError { source: self.name.clone(), line, message: message.into() }
    }

    /// The input as text, without a byte-order mark; `None` when it is not UTF-8.
    pub(crate) fn text(&self) -> Option<&str> {
        let text = std::str::from_utf8(&self.bytes).ok()?;
        Some(text.strip_prefix('\u{feff}').unwrap_or(text))
    }
}

/// The SHA-256 digests an input names, in input order (duplicates kept): one per line of a
/// digest file, one per certificate of a PEM bundle or DER file, one per public key of a
/// PEM bundle (`--by key` only), each key in the `spellings` asked for.
pub fn digests(input: &Input, by: By, spellings: Spellings) -> Result<Vec<[u8; 32]>, InputError> {
    let Some(text) = input.text() else {
        // Binary: one DER certificate, or nothing certgate-kv reads.
        if input.bytes.first() == Some(&0x30) {
            let cert = ClientCertificate::from_der(&input.bytes)
                .map_err(|e| input.error(None, format!("not a DER certificate certgate reads ({e})")))?;
            return Ok(certificate_digests(&cert, by, spellings));
        }
        return Err(input.error(None, "neither text (digest lines, PEM) nor a DER certificate"));
    };
    if text.lines().any(is_begin_line) {
        return pem_digests(input, text, by, spellings);
    }
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let Some(content) = line_content(line) else { continue };
        out.push(parse_digest(content, by).map_err(|m| input.error(Some(i + 1), m))?);
    }
    Ok(out)
}

/// A line without its `#` comment and surrounding spaces; `None` when nothing is left.
fn line_content(line: &str) -> Option<&str> {
    let content = line.split('#').next().unwrap_or_default().trim();
    (!content.is_empty()).then_some(content)
}

/// What a certificate is written under: its thumbprint, or its key in the `spellings`
/// asked for.
fn certificate_digests(cert: &ClientCertificate, by: By, spellings: Spellings) -> Vec<[u8; 32]> {
    match (by, spellings) {
        (By::Thumbprint, _) => vec![cert.sha256],
        (By::Key, Spellings::AsSigned) => vec![cert.spki_sha256],
        (By::Key, Spellings::Every) => cert.key_digests().copied().collect(),
    }
}

const SHA1_THUMBPRINT: &str = "a SHA-1 thumbprint (40 hex digits): the store keys certificates by SHA-256; give the \
     certificate's PEM or its SHA-256 thumbprint (64 hex digits)";
const SHA1_KEY: &str = "a SHA-1 key digest: the store keys public keys by the SHA-256 of the SubjectPublicKeyInfo; \
     give the certificate's PEM or that SHA-256 (64 hex digits or base64 of 32 bytes)";

/// Base64 as key pins are written (`sha256/<base64>`), padded or not.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// One SHA-256 digest as an operator writes it.
///
/// Thumbprints are 64 hex digits in either case, optionally in `:`-separated pairs
/// (`AB:CD:…`), optionally after OpenSSL's `sha256 Fingerprint=`. Key digests are the
/// same, or base64 of 32 bytes, each optionally after `sha256/`. A SHA-1 (40 hex digits,
/// or 20 bytes of base64) is refused with what to give instead: the store has no SHA-1
/// keys, and a SHA-1 written as if it were another digest would never match.
pub fn parse_digest(text: &str, by: By) -> Result<[u8; 32], String> {
    let mut t = text.trim();
    if let Some(rest) = strip_prefix_ignore_case(t, "sha256 fingerprint=") {
        t = rest.trim();
    } else if strip_prefix_ignore_case(t, "sha1 fingerprint=").is_some() {
        return Err(match by {
            By::Thumbprint => SHA1_THUMBPRINT.into(),
            By::Key => SHA1_KEY.into(),
        });
    }
    if by == By::Key {
        if let Some(rest) = strip_prefix_ignore_case(t, "sha256/") {
            t = rest;
        }
    }
    let hex_digits = hex_digits(t);
    if let Some(digits) = &hex_digits {
        match digits.len() {
            64 => {
                let mut out = [0u8; 32];
                // 64 ASCII hex digits always decode.
                hex::decode_to_slice(digits, &mut out).map_err(|e| e.to_string())?;
                return Ok(out);
            }
            40 => {
                return Err(match by {
                    By::Thumbprint => SHA1_THUMBPRINT.into(),
                    By::Key => SHA1_KEY.into(),
                })
            }
            _ if by == By::Thumbprint => {
                return Err(format!(
                    "{} hex digits: a SHA-256 thumbprint has 64 (`:` between pairs allowed)",
                    digits.len()
                ))
            }
            _ => {}
        }
    }
    match by {
        By::Thumbprint => Err("not a SHA-256 thumbprint (64 hex digits, `:` between pairs allowed)".into()),
        By::Key => match BASE64.decode(t) {
            Ok(bytes) if bytes.len() == 32 => {
                let mut out = [0u8; 32];
                out.copy_from_slice(&bytes);
                Ok(out)
            }
            Ok(bytes) if bytes.len() == 20 => Err(SHA1_KEY.into()),
            Ok(bytes) => Err(format!("base64 of {} bytes: a SHA-256 key digest is 32", bytes.len())),
            Err(_) => Err(match hex_digits {
                Some(d) => format!("{} hex digits: a SHA-256 key digest has 64", d.len()),
                None => {
                    "not a SHA-256 key digest (64 hex digits, or base64 of 32 bytes, optionally after sha256/)".into()
                }
            }),
        },
    }
}

/// The hex digits of `t` when it is hex: plain, or pairs separated by `:`.
fn hex_digits(t: &str) -> Option<String> {
    if t.is_empty() {
        return None;
    }
    let pairs = t.contains(':');
    if pairs && !t.split(':').all(|pair| pair.len() == 2) {
        return None;
    }
    let digits: String = t.chars().filter(|c| *c != ':').collect();
    digits.bytes().all(|b| b.is_ascii_hexdigit()).then(|| digits.to_ascii_lowercase())
}

fn strip_prefix_ignore_case<'t>(text: &'t str, prefix: &str) -> Option<&'t str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &text[prefix.len()..])
}

fn is_begin_line(line: &str) -> bool {
    line.trim().starts_with("-----BEGIN ")
}

/// One PEM block: its label, the line its BEGIN is on, and its decoded bytes.
#[derive(Clone, Debug)]
pub(crate) struct PemBlock {
    pub(crate) label: String,
    pub(crate) line: usize,
    pub(crate) der: Vec<u8>,
}

/// The PEM blocks of a text, in order. Text between blocks (OpenSSL's `subject=` lines,
/// comments) is skipped, except a line that reads as a digest: a file mixing certificates
/// and digest lines is refused rather than half read. Lines inside a block may be of any
/// width; RFC 1421 headers (`Proc-Type:`, encrypted PEM) are refused.
pub(crate) fn pem_blocks(input: &Input, text: &str) -> Result<Vec<PemBlock>, InputError> {
    let mut blocks = Vec::new();
    let mut open: Option<(String, usize, String)> = None;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        match &mut open {
            None => {
                if let Some(rest) = line.strip_prefix("-----BEGIN ") {
                    let label = rest
                        .strip_suffix("-----")
                        .ok_or_else(|| input.error(Some(n), "a BEGIN line that does not end with -----"))?;
                    open = Some((label.to_string(), n, String::new()));
                } else if line.starts_with("-----END ") {
                    return Err(input.error(Some(n), "an END line without its BEGIN"));
                } else if let Some(content) = line_content(line) {
                    let digest_like =
                        hex_digits(content).is_some_and(|d| d.len() >= 40) || parse_digest(content, By::Key).is_ok();
                    if digest_like {
                        return Err(input.error(
                            Some(n),
                            "a digest line in a file of PEM blocks: give either PEM certificates or digest lines, \
                             one kind per file",
                        ));
                    }
                }
            }
            Some((label, begin, body)) => {
                if let Some(rest) = line.strip_prefix("-----END ") {
                    if rest.strip_suffix("-----") != Some(label.as_str()) {
                        return Err(
                            input.error(Some(n), format!("the END line does not match BEGIN {label} (line {begin})"))
                        );
                    }
                    let der = BASE64
                        .decode(body.as_bytes())
                        .map_err(|_| input.error(Some(*begin), format!("the {label} block is not base64")))?;
                    blocks.push(PemBlock { label: std::mem::take(label), line: *begin, der });
                    open = None;
                } else if line.contains(':') {
                    return Err(input.error(
                        Some(n),
                        format!("the {label} block has headers (encrypted PEM?): certgate-kv reads plain blocks"),
                    ));
                } else {
                    body.extend(line.chars().filter(|c| !c.is_whitespace()));
                }
            }
        }
    }
    if let Some((label, begin, _)) = open {
        return Err(input.error(Some(begin), format!("the {label} block has no END line")));
    }
    Ok(blocks)
}

fn pem_digests(input: &Input, text: &str, by: By, spellings: Spellings) -> Result<Vec<[u8; 32]>, InputError> {
    let mut out = Vec::new();
    for block in pem_blocks(input, text)? {
        let at = Some(block.line);
        match block.label.as_str() {
            "CERTIFICATE" => {
                let cert = ClientCertificate::from_der(&block.der)
                    .map_err(|e| input.error(at, format!("not a certificate certgate reads ({e})")))?;
                out.extend(certificate_digests(&cert, by, spellings));
            }
            "PUBLIC KEY" if by == By::Key => {
                // Hashed as certgate hashes a certificate's key: as written, and its usual
                // spelling when it differs (read either way, so a key certgate refuses is
                // refused here too).
                let digests = certgate::store::key_digests(&block.der)
                    .map_err(|e| input.error(at, format!("not a SubjectPublicKeyInfo ({e})")))?;
                match spellings {
                    Spellings::AsSigned => out.extend(digests.into_iter().take(1)),
                    Spellings::Every => out.extend(digests),
                }
            }
            "PUBLIC KEY" => {
                return Err(input
                    .error(at, "a public key has no certificate thumbprint: use --by key, or give the certificate"))
            }
            "X509 CRL" => return Err(input.error(at, "a CRL: give it to revoke-crl")),
            label if label.contains("PRIVATE KEY") => {
                return Err(input.error(
                    at,
                    "a private key: certgate-kv needs only certificates; take it out of the input (it was not read)",
                ))
            }
            label => return Err(input.error(at, format!("a PEM block of type {label}: give CERTIFICATE blocks"))),
        }
    }
    if out.is_empty() {
        return Err(input.error(None, "has PEM armour but no complete block"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
    use certgate_testkit::{Ca, LeafOptions};
    use sha2::{Digest, Sha256};
    use x509_cert::der::{Decode, Encode};

    use super::*;

    const HEX: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";

    fn sha(der: &[u8]) -> [u8; 32] {
        Sha256::digest(der).into()
    }

    fn expected() -> [u8; 32] {
        let mut out = [0u8; 32];
        hex::decode_to_slice(HEX, &mut out).unwrap();
        out
    }

    fn pairs(hex: &str) -> String {
        (0..hex.len() / 2).map(|i| &hex[2 * i..2 * i + 2]).collect::<Vec<_>>().join(":")
    }

    fn lines(text: &str, by: By) -> Result<Vec<[u8; 32]>, InputError> {
        digests(&Input::from_bytes("list.txt", text), by, Spellings::Every)
    }

    #[test]
    fn every_spelling_of_a_thumbprint_line_is_one_digest() {
        let spellings = [
            HEX.to_string(),
            HEX.to_uppercase(),
            pairs(HEX),
            pairs(&HEX.to_uppercase()),
            format!("  \t{HEX}  "),
            format!("SHA256 Fingerprint={}", pairs(&HEX.to_uppercase())),
            format!("sha256 Fingerprint={HEX}"),
        ];
        for spelling in &spellings {
            assert_eq!(parse_digest(spelling, By::Thumbprint), Ok(expected()), "{spelling}");
            // Key digests are written the same way.
            assert_eq!(parse_digest(spelling, By::Key), Ok(expected()), "{spelling}");
        }
        let file =
            format!("\u{feff}# fleet\r\n\r\n{}\r\n   # indented comment\n{HEX} # device 7\n", spellings.join("\r\n"));
        assert_eq!(lines(&file, By::Thumbprint).unwrap(), vec![expected(); spellings.len() + 1]);
        assert!(lines("", By::Thumbprint).unwrap().is_empty());
        assert!(lines("# nothing\n\n", By::Thumbprint).unwrap().is_empty());
    }

    #[test]
    fn a_bad_line_is_refused_with_its_file_and_line_and_not_echoed() {
        let cases = [
            (&HEX[..63], "63 hex digits: a SHA-256 thumbprint has 64"),
            (&format!("{HEX}00")[..], "66 hex digits"),
            (&format!("{}A:BC", &pairs(HEX)[..92])[..], "not a SHA-256 thumbprint"),
            ("a1b2 c3d4", "not a SHA-256 thumbprint"),
            (&format!("0x{}", &HEX[..62])[..], "not a SHA-256 thumbprint"),
            ("sha256/oaLD1OX2BxgpOktcbX6PkKGyw9Tl9gcYKTpLXG1+j5A=", "not a SHA-256 thumbprint"),
        ];
        for (line, message) in cases {
            let error = lines(&format!("{HEX}\n\n{line}\n"), By::Thumbprint).unwrap_err();
            assert_eq!((error.source.as_str(), error.line), ("list.txt", Some(3)), "{line}");
            assert!(error.message.contains(message), "{line}: {}", error.message);
            assert!(!error.to_string().contains(line), "{line} echoed: {error}");
            assert!(error.to_string().starts_with("list.txt line 3: "), "{error}");
        }
    }

    #[test]
    fn a_sha1_is_refused_with_what_to_give_instead() {
        let sha1 = "0123456789abcdef0123456789abcdef01234567";
        for spelling in
            [sha1.to_string(), sha1.to_uppercase(), pairs(sha1), format!("SHA1 Fingerprint={}", pairs(sha1))]
        {
            let error = lines(&spelling, By::Thumbprint).unwrap_err();
            assert_eq!(error.line, Some(1));
            assert!(error.message.contains("SHA-1"), "{}", error.message);
            assert!(error.message.contains("the store keys certificates by SHA-256"), "{}", error.message);
            assert!(error.message.contains("PEM") && error.message.contains("SHA-256 thumbprint"), "{}", error.message);
            let error = lines(&spelling, By::Key).unwrap_err();
            assert!(error.message.contains("SHA-1 key digest"), "{}", error.message);
        }
        // Twenty bytes of base64 is a SHA-1 key digest too.
        let error = lines(&format!("sha256/{}", STANDARD.encode([9u8; 20])), By::Key).unwrap_err();
        assert!(error.message.contains("SHA-1"), "{}", error.message);
    }

    #[test]
    fn key_digests_in_hex_or_base64_with_or_without_sha256_prefix() {
        let b64 = STANDARD.encode(expected());
        let spellings = [
            b64.clone(),
            STANDARD_NO_PAD.encode(expected()),
            format!("sha256/{b64}"),
            format!("SHA256/{b64}"),
            format!("sha256/{HEX}"),
            format!("  sha256/{b64}  # renewed device"),
        ];
        for spelling in &spellings {
            assert_eq!(lines(spelling, By::Key).unwrap(), vec![expected()], "{spelling}");
        }
        let short = lines(&STANDARD.encode([1u8; 31]), By::Key).unwrap_err();
        assert!(short.message.contains("base64 of 31 bytes"), "{}", short.message);
        let junk = lines("sha256/!!!", By::Key).unwrap_err();
        assert!(junk.message.contains("not a SHA-256 key digest"), "{}", junk.message);
        // A thumbprint list does not take base64.
        assert!(lines(&b64, By::Thumbprint).is_err());
    }

    #[test]
    fn a_pem_bundle_names_each_certificate_and_its_key() {
        let ca = Ca::new("Fleet CA");
        let a = ca.issue(&LeafOptions::named("a"));
        let b = ca.issue(&LeafOptions::named("b"));
        // As OpenSSL prints a bundle: text between blocks, CRLF, trailing spaces.
        let bundle = format!(
            "subject=CN=a\nissuer=CN=Fleet CA\n{}\r\nBag Attributes\n{}  \n",
            a.pem(),
            b.pem().replace('\n', "\r\n")
        );
        let input = Input::from_bytes("bundle.pem", bundle);
        assert_eq!(digests(&input, By::Thumbprint, Spellings::Every).unwrap(), vec![sha(&a.der), sha(&b.der)]);
        let keys = digests(&input, By::Key, Spellings::Every).unwrap();
        assert_eq!(STANDARD.encode(keys[0]), a.key_sha256_b64());
        assert_eq!(STANDARD.encode(keys[1]), b.key_sha256_b64());
        // Base64 lines of any width.
        let wide = format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", STANDARD.encode(&a.der));
        assert_eq!(
            digests(&Input::from_bytes("wide.pem", wide), By::Thumbprint, Spellings::Every).unwrap(),
            vec![sha(&a.der)]
        );
        // One DER certificate.
        let der = Input::from_bytes("a.der", a.der.clone());
        assert_eq!(digests(&der, By::Thumbprint, Spellings::Every).unwrap(), vec![sha(&a.der)]);
        assert_eq!(STANDARD.encode(digests(&der, By::Key, Spellings::Every).unwrap()[0]), a.key_sha256_b64());
    }

    /// A certificate that spells its key unusually (a compressed point) is revoked or
    /// removed under that spelling and the usual one, so a revocation reaches the key
    /// however a later certificate spells it; it is pinned under its own spelling only,
    /// since a key pin trusts only the spelling pinned.
    #[test]
    fn a_key_spelled_unusually_is_revoked_under_both_spellings_and_pinned_as_signed() {
        let ca = Ca::new("Kv CA");
        let usual = ca.issue(&LeafOptions::named("k"));
        let compressed = certgate_testkit::reencode::with_compressed_point(&usual.der, &ca.certificate.key_pem);
        let pem = certgate_testkit::encode::pem(&compressed);
        let keys = digests(&Input::from_bytes("c.pem", pem), By::Key, Spellings::Every).unwrap();
        let spki = |der: &[u8]| x509_cert::Certificate::from_der(der).unwrap().tbs_certificate.subject_public_key_info;
        let own = sha(&spki(&compressed).to_der().unwrap());
        assert_eq!(keys, vec![own, sha(&spki(&usual.der).to_der().unwrap())]);
        assert_eq!(digests(&Input::from_bytes("u.pem", usual.pem()), By::Key, Spellings::Every).unwrap().len(), 1);
        let pinned = digests(
            &Input::from_bytes("c.pem", certgate_testkit::encode::pem(&compressed)),
            By::Key,
            Spellings::AsSigned,
        );
        assert_eq!(pinned.unwrap(), vec![own]);
        let block = format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            STANDARD.encode(spki(&compressed).to_der().unwrap())
        );
        assert_eq!(
            digests(&Input::from_bytes("k.pem", block.clone()), By::Key, Spellings::AsSigned).unwrap(),
            vec![own]
        );
        assert_eq!(digests(&Input::from_bytes("k.pem", block), By::Key, Spellings::Every).unwrap(), keys);
    }

    #[test]
    fn a_public_key_block_is_a_key_digest() {
        let ca = Ca::new("Fleet CA");
        let a = ca.issue(&LeafOptions::named("a"));
        let cert = x509_cert::Certificate::from_der(&a.der).unwrap();
        let spki = cert.tbs_certificate.subject_public_key_info.to_der().unwrap();
        let pem = format!("-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n", STANDARD.encode(&spki));
        let input = Input::from_bytes("key.pem", pem);
        assert_eq!(STANDARD.encode(digests(&input, By::Key, Spellings::Every).unwrap()[0]), a.key_sha256_b64());
        let error = digests(&input, By::Thumbprint, Spellings::Every).unwrap_err();
        assert!(error.message.contains("use --by key"), "{}", error.message);
    }

    #[test]
    fn what_is_not_a_certificate_is_refused_by_line() {
        let ca = Ca::new("Fleet CA");
        let a = ca.issue(&LeafOptions::named("a"));
        let refused =
            |text: String| digests(&Input::from_bytes("in.pem", text), By::Thumbprint, Spellings::Every).unwrap_err();

        let key = refused(format!("{}{}", a.pem(), a.key_pem));
        assert!(key.message.contains("a private key"), "{}", key.message);
        assert!(key.line.is_some_and(|l| l > 1));
        let body: String = a.key_pem.lines().filter(|l| !l.starts_with("-----")).collect();
        assert!(!key.to_string().contains(&body[..20]), "key material echoed");

        let crl = refused("-----BEGIN X509 CRL-----\nMAA=\n-----END X509 CRL-----\n".into());
        assert!(crl.message.contains("revoke-crl"), "{}", crl.message);
        let mixed = refused(format!("{}\n{HEX}\n", a.pem()));
        assert!(mixed.message.contains("one kind per file"), "{}", mixed.message);
        let open = refused("-----BEGIN CERTIFICATE-----\nMIIB\n".into());
        assert_eq!((open.line, open.message.as_str()), (Some(1), "the CERTIFICATE block has no END line"));
        let mismatched = refused("-----BEGIN CERTIFICATE-----\nMIIB\n-----END X509 CRL-----\n".into());
        assert!(mismatched.message.contains("does not match"), "{}", mismatched.message);
        let garbage = refused("-----BEGIN CERTIFICATE-----\nMIIBAAAA\n-----END CERTIFICATE-----\n".into());
        assert!(garbage.message.contains("not a certificate certgate reads"), "{}", garbage.message);
        let not_base64 = refused("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n".into());
        assert!(not_base64.message.contains("not base64"), "{}", not_base64.message);
        let encrypted =
            refused("-----BEGIN CERTIFICATE-----\nProc-Type: 4,ENCRYPTED\n-----END CERTIFICATE-----\n".into());
        assert!(encrypted.message.contains("headers"), "{}", encrypted.message);
        let binary =
            digests(&Input::from_bytes("x.bin", vec![0xff, 0xfe, 0x00]), By::Thumbprint, Spellings::Every).unwrap_err();
        assert!(binary.message.contains("neither text"), "{}", binary.message);
    }
}
