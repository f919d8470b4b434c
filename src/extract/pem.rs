//! PEM certificates in every shape terminators produce: real line breaks, line breaks
//! turned into spaces (Apache), tab-continued lines (nginx's old `$ssl_client_cert`).

use super::base64_der::decode_base64;
use crate::reason::Refusal;

const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
const END: &str = "-----END CERTIFICATE-----";

/// Decode every `CERTIFICATE` block, in order. Only white space may stand between blocks.
pub fn decode_pem_certificates(text: &str) -> Result<Vec<Vec<u8>>, Refusal> {
    let mut out = Vec::new();
    let mut rest = text;
    loop {
        let trimmed = rest.trim_start();
        if trimmed.is_empty() {
            break;
        }
        let Some(body_and_more) = trimmed.strip_prefix(BEGIN) else {
            return Err(Refusal::malformed("expected `-----BEGIN CERTIFICATE-----`"));
        };
        let Some(end) = body_and_more.find(END) else {
            return Err(Refusal::malformed(
                "PEM block has no `-----END CERTIFICATE-----`",
            ));
        };
        let body = &body_and_more[..end];
        if body.contains("-----") {
            return Err(Refusal::malformed("PEM block contains another armour line"));
        }
        if out.len() >= super::MAX_CERTIFICATES {
            return Err(Refusal::too_large(format!(
                "more than {} certificates in one header",
                super::MAX_CERTIFICATES
            )));
        }
        out.push(decode_base64(body)?);
        rest = &body_and_more[end + END.len()..];
    }
    if out.is_empty() {
        return Err(Refusal::malformed("no PEM certificate"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let newline = "-----BEGIN CERTIFICATE-----\nAQID\nBAUG\n-----END CERTIFICATE-----\n";
        let spaces = newline.replace('\n', " ");
        let tabbed = newline
            .replace("\nB", "\n\tB")
            .replace("\n-----END", "\n\t-----END");
        let crlf = newline.replace('\n', "\r\n");
        for v in [newline.to_string(), spaces, tabbed, crlf] {
            assert_eq!(
                decode_pem_certificates(&v).unwrap(),
                vec![vec![1, 2, 3, 4, 5, 6]],
                "{v:?}"
            );
        }
        let two = format!("{newline}{newline}");
        assert_eq!(decode_pem_certificates(&two).unwrap().len(), 2);
    }

    #[test]
    fn refusals() {
        for bad in [
            "",
            "AQID",
            "-----BEGIN CERTIFICATE-----\nAQID\n",
            "junk -----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----",
            "-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE----- trailing",
            "-----BEGIN PRIVATE KEY-----\nAQID\n-----END PRIVATE KEY-----",
            "-----BEGIN CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----",
        ] {
            assert!(decode_pem_certificates(bad).is_err(), "{bad:?}");
        }
    }
}
