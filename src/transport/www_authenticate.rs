//! `WWW-Authenticate` parsing: which schemes a host offers, and the
//! Negotiate token it sent, if any.

/// One offered scheme, with its token68 (Negotiate/Kerberos) if present.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    pub scheme: String,
    pub token: Option<String>,
}

/// Parses every `WWW-Authenticate` header value. Auth-params (`realm=..`)
/// are skipped; a comma may separate challenges within one value.
pub fn parse<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<Offer> {
    let mut offers = Vec::new();
    for value in values {
        for piece in value.split(',') {
            let piece = piece.trim();
            if piece.is_empty() {
                continue;
            }
            let (first, rest) = match piece.split_once(char::is_whitespace) {
                Some((f, r)) => (f, r.trim()),
                None => (piece, ""),
            };
            // `realm="WSMAN"` continuing the previous challenge.
            if first.contains('=') {
                continue;
            }
            offers.push(Offer {
                scheme: first.to_string(),
                token: is_token68(rest).then(|| rest.to_string()),
            });
        }
    }
    offers
}

/// base64 may end in `=` padding, which looks like an auth-param.
fn is_token68(s: &str) -> bool {
    !s.is_empty()
        && s.trim_end_matches('=')
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+/-._~".contains(c))
}

/// The Negotiate offer, if the host made one.
pub fn negotiate(offers: &[Offer]) -> Option<&Offer> {
    offers
        .iter()
        .find(|o| o.scheme.eq_ignore_ascii_case("Negotiate"))
}

/// `Basic, Kerberos` — for error messages.
pub fn scheme_list(offers: &[Offer]) -> String {
    if offers.is_empty() {
        return "none".to_string();
    }
    offers
        .iter()
        .map(|o| o.scheme.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_default_offers_are_listed() {
        let offers = parse(["Negotiate", "Basic realm=\"WSMAN\"", "Kerberos"]);
        assert_eq!(scheme_list(&offers), "Negotiate, Basic, Kerberos");
        assert_eq!(negotiate(&offers).unwrap().token, None);
    }

    #[test]
    fn negotiate_token_with_padding_is_kept() {
        let offers = parse(["Negotiate TlRMTVNTUAACAAAA=="]);
        assert_eq!(
            negotiate(&offers).unwrap().token.as_deref(),
            Some("TlRMTVNTUAACAAAA==")
        );
        let offers = parse(["negotiate TlRMTVNTUAACAAAA"]);
        assert_eq!(
            negotiate(&offers).unwrap().token.as_deref(),
            Some("TlRMTVNTUAACAAAA")
        );
    }

    #[test]
    fn comma_separated_challenges_in_one_value() {
        let offers = parse(["Basic realm=\"WSMAN\", CredSSP"]);
        assert_eq!(scheme_list(&offers), "Basic, CredSSP");
        assert!(negotiate(&offers).is_none());
        assert_eq!(scheme_list(&parse([""])), "none");
    }
}
