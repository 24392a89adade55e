//! XML escaping for everything we write into an envelope (WQL text,
//! URLs, contexts): nothing from a caller reaches the wire unescaped.

/// Appends `s` to `out`, escaped for use in text and in double-quoted
/// attribute values.
pub fn push_escaped(out: &mut String, s: &str) {
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let rep = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&apos;",
            // A raw CR would be normalised away by the receiver's parser.
            b'\r' => "&#13;",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        out.push_str(rep);
        start = i + 1;
    }
    out.push_str(&s[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_the_five_predefined_entities() {
        let mut out = String::new();
        push_escaped(&mut out, r#"a<b>&"c'"#);
        assert_eq!(out, "a&lt;b&gt;&amp;&quot;c&apos;");
    }

    #[test]
    fn leaves_plain_and_non_ascii_text_alone() {
        let mut out = String::from("x");
        push_escaped(
            &mut out,
            "SELECT * FROM Msvm_ComputerSystem WHERE Name='été'",
        );
        assert_eq!(
            out,
            "xSELECT * FROM Msvm_ComputerSystem WHERE Name=&apos;été&apos;"
        );
    }
}
