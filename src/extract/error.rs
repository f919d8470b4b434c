//! Why no certificate could be read from the request headers: [`ExtractError`], with the
//! reason code, the client's text and the operator's log text all derived from the value.
//!
//! No variant holds bytes of the request: only counts, offsets and positions, names from
//! the configuration (header names, configured flag values) and names from the code (XFCC
//! keys, PEM labels).

use std::fmt;

use crate::certificate::CertificateError;
use crate::reason::Reason;

/// Why the certificate headers of a request yield no certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExtractError {
    /// The configured certificate header is absent.
    HeaderAbsent {
        /// The configured header name.
        header: String,
    },
    /// The header is there but empty, or carries a terminator's "no certificate" sentinel.
    NoCertificate {
        /// The configured header name.
        header: String,
    },
    /// A header that must occur at most once occurs several times.
    HeaderRepeated {
        /// The configured header name.
        header: String,
        /// How many times it occurs.
        count: usize,
    },
    /// The XFCC header occurs several times and one of its lines is in the JSON form,
    /// which never spans lines.
    JsonXfccRepeated {
        /// The configured header name.
        header: String,
        /// How many times it occurs.
        count: usize,
    },
    /// A header value is over `max_header_bytes` (all its lines together).
    TooLarge {
        /// Which of the configured headers.
        header: HeaderRole,
        /// Its size, all lines together.
        bytes: usize,
        /// The configured limit.
        limit: usize,
    },
    /// More of something than certgate reads at all.
    TooMany {
        /// What was counted.
        what: Counted,
        /// The fixed limit that was passed.
        limit: usize,
    },
    /// One header's value held more certificates than certgate reads.
    CertificatesInHeader {
        /// How many.
        count: usize,
        /// The fixed limit.
        limit: usize,
    },
    /// The request forwarded more certificates (leaf and chain) than `max_chain_certificates`.
    CertificatesForwarded {
        /// How many, leaf included.
        count: usize,
        /// The limit in force.
        limit: usize,
    },
    /// The terminator's too-large flag header says it left the certificate out.
    FlaggedTooLarge {
        /// The configured flag header name.
        header: String,
        /// The configured flag value the header carried (compared without regard to case).
        value: String,
    },
    /// A header value is not UTF-8.
    NotUtf8,
    /// A header value contains control characters other than tab, CR and LF.
    ControlCharacters,
    /// An empty value where base64 was expected.
    EmptyBase64,
    /// The value is not base64 (standard or URL-safe alphabet).
    Base64(Base64Problem),
    /// A comma-separated base64 list has an empty entry.
    EmptyListEntry {
        /// The 1-based position of the empty entry.
        position: usize,
    },
    /// An empty value where hexadecimal DER was expected.
    EmptyHex,
    /// Hexadecimal DER with an odd number of digits.
    OddHexDigits,
    /// A character in hexadecimal DER that is not a hex digit.
    NotHex {
        /// The 1-based position of the pair it is in.
        position: usize,
    },
    /// The value does not begin with the PEM armour line.
    PemBeginMissing {
        /// The PEM label expected.
        label: &'static str,
    },
    /// A PEM block has no END line.
    PemEndMissing {
        /// The PEM label expected.
        label: &'static str,
    },
    /// A PEM block's body contains another armour line.
    PemArmourInBody,
    /// There is no PEM block at all.
    NoPemBlock {
        /// The PEM label expected.
        label: &'static str,
    },
    /// A `%` not followed by two hex digits.
    PercentEscape {
        /// Offset of the `%` in the value, in bytes.
        offset: usize,
    },
    /// The percent-decoded value is not UTF-8.
    PercentNotUtf8,
    /// An RFC 9440 value that is not a byte sequence `:base64:`.
    Rfc9440NotByteSequence,
    /// An RFC 9440 byte sequence without its closing `:`.
    Rfc9440Unclosed,
    /// An RFC 9440 byte sequence with characters outside base64.
    Rfc9440NotBase64,
    /// Text after an RFC 9440 byte sequence that is not `;parameters`.
    Rfc9440TrailingText,
    /// The XFCC header (after joining its lines) is empty.
    XfccEmpty,
    /// A format the single-value decoders do not read reached them (a defect: `auto` is
    /// resolved and XFCC read before). Refused rather than trusted to be impossible.
    UnsupportedFormat,
    /// The XFCC text form breaks its grammar.
    XfccSyntax(XfccSyntax),
    /// `xfcc-json` is configured and the value is not Envoy's JSON form.
    XfccNotJsonForm,
    /// A JSON XFCC value that does not parse, or is not shaped as Envoy writes it.
    XfccJson(XfccJsonProblem),
    /// XFCC holds no element (an empty JSON array).
    XfccNoElement,
    /// The XFCC element to use carries no certificate.
    XfccNoCertificate {
        /// Which XFCC form (the keys are spelt differently).
        form: XfccForm,
    },
    /// Several XFCC elements where `xfcc_elements` is `single`.
    XfccElements {
        /// How many elements.
        count: usize,
    },
    /// A key that may occur once occurs several times in a text XFCC element.
    XfccKeyRepeated {
        /// The key, lowercase.
        key: &'static str,
    },
    /// A certificate key (`By`, `Hash`, `Cert`, `Chain`) after a descriptive one (`Subject`,
    /// `URI`, `DNS`): text a client put into a SAN value.
    XfccKeyAfterDescription {
        /// The certificate key, lowercase.
        key: &'static str,
    },
    /// A text XFCC `Cert` holds more than one certificate.
    XfccCertHoldsSeveral,
    /// A JSON XFCC key in another case than Envoy's, or twice in one object.
    XfccJsonKey {
        /// The key, as Envoy spells it.
        key: &'static str,
        /// What is wrong with it.
        problem: JsonKeyProblem,
    },
    /// A JSON XFCC `cert` or `chain` entry holds other than one certificate.
    XfccJsonEntry {
        /// `cert` or `chain`.
        key: &'static str,
        /// How many certificates it holds.
        count: usize,
    },
    /// An XFCC chain does not start with the element's certificate.
    XfccChainNotLeaf {
        /// Which XFCC form.
        form: XfccForm,
    },
    /// An XFCC hash is not the SHA-256 of the element's certificate.
    XfccHashMismatch {
        /// Which XFCC form.
        form: XfccForm,
    },
    /// An XFCC element's URI/DNS values are not its certificate's SANs.
    XfccSansDiffer,
    /// A certificate an XFCC element carries does not decode.
    Certificate(CertificateError),
    /// The configured digest header is absent.
    DigestAbsent {
        /// The configured header name.
        header: String,
    },
    /// The configured digest header occurs several times.
    DigestRepeated {
        /// The configured header name.
        header: String,
        /// How many times it occurs.
        count: usize,
    },
    /// The digest header's value is not a SHA-256 in hex or base64.
    DigestUnreadable {
        /// The configured header name.
        header: String,
    },
    /// The digest header's SHA-256 is not the forwarded certificate's.
    DigestMismatch {
        /// The configured header name.
        header: String,
    },
}

/// Which configured header a size refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HeaderRole {
    /// The certificate header.
    Certificate,
    /// The separate chain header.
    Chain,
}

/// What a [`ExtractError::TooMany`] counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Counted {
    /// Certificates in one base64 list.
    CertificatesInHeader,
    /// Certificates in the chain header.
    CertificatesInChainHeader,
    /// Certificates across all elements of the XFCC header.
    CertificatesInXfcc,
    /// PEM blocks in one value.
    PemBlocks,
    /// XFCC elements.
    XfccElements,
    /// `key=value` pairs in one XFCC element.
    XfccPairs,
}

/// The two forms of XFCC, which spell their keys differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum XfccForm {
    /// The text grammar (`Cert="…";Chain="…"`).
    Text,
    /// Envoy's JSON form (`[{"cert":"…"}]`).
    Json,
}

/// How a base64 value failed to decode: the base64 crate's error without the offending
/// byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Base64Problem {
    /// A character outside the alphabet, or padding before the end.
    InvalidSymbol {
        /// Offset in the value with white space removed.
        offset: usize,
    },
    /// A length no base64 has.
    InvalidLength {
        /// The length in base64 symbols.
        length: usize,
    },
    /// A last symbol with bits that would be discarded (truncated or corrupted base64).
    InvalidLastSymbol {
        /// Offset in the value with white space removed.
        offset: usize,
    },
    /// Padding that is not where base64 puts it.
    InvalidPadding,
}

/// How the XFCC text form breaks its grammar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum XfccSyntax {
    /// A pair without `=`.
    PairWithoutEquals {
        /// Offset of the pair, in bytes.
        offset: usize,
    },
    /// A key with characters other than letters, digits, `-` and `_`, or none.
    InvalidKey {
        /// Offset of the key, in bytes.
        offset: usize,
    },
    /// A quoted value without its closing quote.
    UnterminatedQuote,
    /// A `\` at the very end of a quoted value.
    DanglingEscape,
    /// Text between a quoted value's closing quote and the next `;` or `,`.
    TextAfterQuote {
        /// Offset of the text, in bytes.
        offset: usize,
    },
    /// A `"` inside an unquoted value.
    StrayQuote {
        /// Offset of the quote, in bytes.
        offset: usize,
    },
}

/// How a JSON XFCC value is not what Envoy writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum XfccJsonProblem {
    /// Not JSON: serde_json's syntax message, as fixed text, and where.
    Syntax {
        /// serde_json's message (from a fixed list; `invalid JSON` for one not on it).
        message: &'static str,
        /// 1-based line (0 when unknown).
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// The value is not an array.
    NotAnArray,
    /// An element is not an object.
    ElementNotObject {
        /// 1-based position of the element.
        element: usize,
    },
    /// A known key's value is not of the JSON type Envoy writes for it.
    WrongType {
        /// 1-based position of the element.
        element: usize,
        /// The key.
        key: &'static str,
        /// What it should be.
        expected: JsonType,
    },
}

/// The JSON types XFCC values have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JsonType {
    /// A string (`hash`, `cert`, `subject`).
    String,
    /// An array of strings (`by`, `uri`, `dns`, `chain`).
    Strings,
}

/// What is wrong with a key of a JSON XFCC object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JsonKeyProblem {
    /// The key occurs twice in one object.
    Repeated,
    /// A known key in another case than Envoy's lowercase.
    NotLowercase,
}

impl ExtractError {
    /// The stable reason code.
    pub fn reason(&self) -> Reason {
        use ExtractError::*;
        match self {
            HeaderAbsent { .. } | NoCertificate { .. } | XfccEmpty | XfccNoElement | XfccNoCertificate { .. } => {
                Reason::CertificateMissing
            }
            HeaderRepeated { .. }
            | JsonXfccRepeated { .. }
            | XfccElements { .. }
            | XfccKeyRepeated { .. }
            | XfccKeyAfterDescription { .. }
            | XfccCertHoldsSeveral
            | XfccJsonKey { .. }
            | XfccJsonEntry { .. }
            | XfccChainNotLeaf { .. }
            | XfccHashMismatch { .. }
            | XfccSansDiffer
            | DigestAbsent { .. }
            | DigestRepeated { .. }
            | DigestUnreadable { .. }
            | DigestMismatch { .. } => Reason::CertificateAmbiguous,
            TooLarge { .. }
            | TooMany { .. }
            | CertificatesInHeader { .. }
            | CertificatesForwarded { .. }
            | FlaggedTooLarge { .. } => Reason::CertificateTooLarge,
            Certificate(e) => e.reason(),
            NotUtf8
            | ControlCharacters
            | EmptyBase64
            | Base64(_)
            | EmptyListEntry { .. }
            | EmptyHex
            | OddHexDigits
            | NotHex { .. }
            | PemBeginMissing { .. }
            | PemEndMissing { .. }
            | PemArmourInBody
            | NoPemBlock { .. }
            | PercentEscape { .. }
            | PercentNotUtf8
            | Rfc9440NotByteSequence
            | Rfc9440Unclosed
            | Rfc9440NotBase64
            | Rfc9440TrailingText
            | XfccSyntax(_)
            | XfccNotJsonForm
            | XfccJson(_)
            | UnsupportedFormat => Reason::CertificateMalformed,
        }
    }

    /// What the client is told: fixed text about the request, never about configuration.
    pub fn public_detail(&self) -> &'static str {
        match self {
            ExtractError::Certificate(e) => e.public_detail(),
            _ => self.reason().public_detail(),
        }
    }
}

impl fmt::Display for ExtractError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ExtractError::*;
        match self {
            HeaderAbsent { header } => write!(f, "no `{header}` header"),
            NoCertificate { header } => write!(f, "the `{header}` header carries no certificate"),
            HeaderRepeated { header, count } => write!(f, "the `{header}` header occurs {count} times"),
            JsonXfccRepeated { header, count } => {
                write!(f, "the `{header}` header occurs {count} times, with JSON XFCC")
            }
            TooLarge { header, bytes, limit } => {
                let what = match header {
                    HeaderRole::Certificate => "the certificate header",
                    HeaderRole::Chain => "the chain header",
                };
                write!(f, "{what} is {bytes} bytes; the limit is {limit}")
            }
            TooMany { what, limit } => {
                let what = match what {
                    Counted::CertificatesInHeader => "certificates in one header",
                    Counted::CertificatesInChainHeader => "certificates in the chain header",
                    Counted::CertificatesInXfcc => "certificates in the XFCC header",
                    Counted::PemBlocks => "PEM blocks",
                    Counted::XfccElements => "XFCC elements",
                    Counted::XfccPairs => "pairs in one XFCC element",
                };
                write!(f, "more than {limit} {what}")
            }
            CertificatesInHeader { count, limit } => {
                write!(f, "{count} certificates in one header; the limit is {limit}")
            }
            CertificatesForwarded { count, limit } => {
                write!(f, "{count} certificates forwarded; the limit (max_chain_certificates) is {limit}")
            }
            FlaggedTooLarge { header, value } => {
                write!(f, "the terminator left the certificate out as too large (`{header}`: `{value}`)")
            }
            NotUtf8 => f.write_str("header value is not valid UTF-8"),
            ControlCharacters => f.write_str("header value contains control characters"),
            EmptyBase64 => f.write_str("empty base64 value"),
            Base64(problem) => write!(f, "invalid base64: {problem}"),
            EmptyListEntry { position } => write!(f, "empty certificate at position {position}"),
            EmptyHex => f.write_str("empty hex value"),
            OddHexDigits => f.write_str("hex value has an odd number of digits"),
            NotHex { position } => write!(f, "invalid hex digit near position {position}"),
            PemBeginMissing { label } => write!(f, "expected `-----BEGIN {label}-----`"),
            PemEndMissing { label } => write!(f, "PEM block has no `-----END {label}-----`"),
            PemArmourInBody => f.write_str("PEM block contains another armour line"),
            NoPemBlock { label } => write!(f, "no `{label}` PEM block"),
            PercentEscape { offset } => write!(f, "invalid percent-escape at byte {offset}"),
            PercentNotUtf8 => f.write_str("percent-decoded value is not UTF-8"),
            Rfc9440NotByteSequence => f.write_str("RFC 9440 value must be a byte sequence `:base64:`"),
            Rfc9440Unclosed => f.write_str("RFC 9440 byte sequence is not closed"),
            Rfc9440NotBase64 => f.write_str("RFC 9440 byte sequence contains non-base64 characters"),
            Rfc9440TrailingText => f.write_str("unexpected text after the RFC 9440 byte sequence"),
            XfccEmpty => f.write_str("the XFCC header is empty"),
            UnsupportedFormat => f.write_str("unsupported format"),
            XfccSyntax(problem) => problem.fmt(f),
            XfccNotJsonForm => f.write_str("XFCC is not Envoy's JSON form (`[...]`)"),
            XfccJson(problem) => write!(f, "XFCC is not Envoy's JSON form: {problem}"),
            XfccNoElement => f.write_str("XFCC has no element"),
            XfccNoCertificate { form: XfccForm::Text } => f.write_str("XFCC element carries no `Cert` or `Chain`"),
            XfccNoCertificate { form: XfccForm::Json } => f.write_str("XFCC element carries no `cert` or `chain`"),
            XfccElements { count } => {
                write!(f, "XFCC carries {count} elements (set xfcc_elements = \"last\" to use the nearest proxy's)")
            }
            XfccKeyRepeated { key } => write!(f, "XFCC element has more than one `{key}`"),
            XfccKeyAfterDescription { key } => {
                write!(f, "XFCC `{key}` after a Subject/URI/DNS pair in the same element (text injected through a SAN)")
            }
            XfccCertHoldsSeveral => f.write_str("XFCC `Cert` holds more than one certificate"),
            XfccJsonKey { key, problem } => {
                let what = match problem {
                    JsonKeyProblem::Repeated => "occurs twice",
                    JsonKeyProblem::NotLowercase => "is not in Envoy's lowercase",
                };
                write!(f, "XFCC JSON key `{key}` {what}")
            }
            XfccJsonEntry { key, count } => write!(f, "XFCC JSON `{key}` entry holds {count} certificates"),
            XfccChainNotLeaf { form: XfccForm::Text } => {
                f.write_str("XFCC `Chain` does not start with the element's `Cert`")
            }
            XfccChainNotLeaf { form: XfccForm::Json } => {
                f.write_str("XFCC JSON `chain` does not start with the object's `cert`")
            }
            XfccHashMismatch { form: XfccForm::Text } => {
                f.write_str("XFCC `Hash` is not the SHA-256 of the element's certificate")
            }
            XfccHashMismatch { form: XfccForm::Json } => {
                f.write_str("XFCC JSON `hash` is not the SHA-256 of the object's certificate")
            }
            XfccSansDiffer => f.write_str(
                "XFCC URI/DNS values differ from the SANs of the element's certificate (a SAN value split the element)",
            ),
            Certificate(e) => e.fmt(f),
            DigestAbsent { header } => write!(f, "the terminator sent no `{header}` digest"),
            DigestRepeated { header, count } => write!(f, "the `{header}` digest occurs {count} times"),
            DigestUnreadable { header } => write!(f, "the `{header}` digest is not a SHA-256 in hex or base64"),
            DigestMismatch { header } => {
                write!(f, "the `{header}` digest is not the SHA-256 of the forwarded certificate")
            }
        }
    }
}

impl std::error::Error for ExtractError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ExtractError::Certificate(e) => Some(e),
            _ => None,
        }
    }
}

impl From<CertificateError> for ExtractError {
    fn from(e: CertificateError) -> Self {
        ExtractError::Certificate(e)
    }
}

impl fmt::Display for Base64Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The base64 crate's wording, without the offending byte it also prints.
        match self {
            Base64Problem::InvalidSymbol { offset } => write!(f, "Invalid symbol, offset {offset}."),
            Base64Problem::InvalidLength { length } => write!(f, "Invalid input length: {length}"),
            Base64Problem::InvalidLastSymbol { offset } => write!(f, "Invalid last symbol, offset {offset}."),
            Base64Problem::InvalidPadding => f.write_str("Invalid padding"),
        }
    }
}

impl From<base64::DecodeError> for Base64Problem {
    fn from(e: base64::DecodeError) -> Self {
        match e {
            base64::DecodeError::InvalidByte(offset, _) => Base64Problem::InvalidSymbol { offset },
            base64::DecodeError::InvalidLength(length) => Base64Problem::InvalidLength { length },
            base64::DecodeError::InvalidLastSymbol(offset, _) => Base64Problem::InvalidLastSymbol { offset },
            base64::DecodeError::InvalidPadding => Base64Problem::InvalidPadding,
        }
    }
}

impl fmt::Display for XfccSyntax {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            XfccSyntax::PairWithoutEquals { offset } => write!(f, "XFCC pair without `=` at byte {offset}"),
            XfccSyntax::InvalidKey { offset } => write!(f, "invalid XFCC key at byte {offset}"),
            XfccSyntax::UnterminatedQuote => f.write_str("unterminated quoted XFCC value"),
            XfccSyntax::DanglingEscape => f.write_str("dangling escape in XFCC value"),
            XfccSyntax::TextAfterQuote { offset } => write!(f, "text after a quoted XFCC value at byte {offset}"),
            XfccSyntax::StrayQuote { offset } => write!(f, "stray quote in XFCC value at byte {offset}"),
        }
    }
}

impl fmt::Display for XfccJsonProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // serde_json's own layout.
            XfccJsonProblem::Syntax { message, line: 0, .. } => f.write_str(message),
            XfccJsonProblem::Syntax { message, line, column } => write!(f, "{message} at line {line} column {column}"),
            XfccJsonProblem::NotAnArray => f.write_str("the value is not an array"),
            XfccJsonProblem::ElementNotObject { element } => write!(f, "element {element} is not an object"),
            XfccJsonProblem::WrongType { element, key, expected } => {
                let expected = match expected {
                    JsonType::String => "a string",
                    JsonType::Strings => "an array of strings",
                };
                write!(f, "`{key}` of element {element} is not {expected}")
            }
        }
    }
}

/// serde_json's syntax messages: fixed text that holds nothing of the input.
const JSON_SYNTAX_MESSAGES: [&str; 23] = [
    "EOF while parsing a list",
    "EOF while parsing an object",
    "EOF while parsing a string",
    "EOF while parsing a value",
    "expected `:`",
    "expected `,` or `]`",
    "expected `,` or `}`",
    "expected ident",
    "expected value",
    "expected `\"`",
    "invalid escape",
    "invalid number",
    "number out of range",
    "invalid unicode code point",
    "control character (\\u0000-\\u001F) found while parsing a string",
    "key must be a string",
    "invalid value: expected key to be a number in quotes",
    "float key must be finite (got NaN or +/-inf)",
    "lone leading surrogate in hex escape",
    "trailing comma",
    "trailing characters",
    "unexpected end of hex escape",
    "recursion limit exceeded",
];

impl From<&serde_json::Error> for XfccJsonProblem {
    /// Keep serde_json's message only when it is one of its fixed syntax messages: the
    /// others (`invalid type: string "…"`) can quote the input.
    fn from(e: &serde_json::Error) -> Self {
        let (line, column) = (e.line(), e.column());
        let text = e.to_string();
        let message = text.strip_suffix(&format!(" at line {line} column {column}")).unwrap_or(&text);
        let message = JSON_SYNTAX_MESSAGES.iter().find(|m| **m == message).copied().unwrap_or("invalid JSON");
        XfccJsonProblem::Syntax { message, line, column }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_messages_are_kept_only_from_the_fixed_list() {
        let e = serde_json::from_str::<serde_json::Value>("[1,").unwrap_err();
        assert_eq!(
            XfccJsonProblem::from(&e),
            XfccJsonProblem::Syntax { message: "EOF while parsing a value", line: 1, column: 3 }
        );
        // A data error quotes the input: its text is not kept.
        let e = serde_json::from_str::<Vec<String>>(r#"["a", 1234567]"#).unwrap_err();
        assert!(e.to_string().contains("1234567"), "{e}");
        let problem = XfccJsonProblem::from(&e);
        assert_eq!(problem, XfccJsonProblem::Syntax { message: "invalid JSON", line: 1, column: 13 });
        assert!(!problem.to_string().contains("1234567"));
    }
}

impl From<ExtractError> for crate::reason::Refusal {
    fn from(e: ExtractError) -> Self {
        crate::reason::Refusal { reason: e.reason(), detail: e.to_string(), public_detail: e.public_detail() }
    }
}
