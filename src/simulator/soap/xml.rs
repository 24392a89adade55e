//! XML text escaping for the simulator's own writer.

/// Escapes text for element content and attribute values. Characters XML
/// 1.0 forbids are dropped (Windows never sends them; we never write them).
pub fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
}

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    escape_into(&mut out, s);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_quotes_and_cdata_end() {
        assert_eq!(
            escape("a<b>&\"c\"'d' ]]>"),
            "a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos; ]]&gt;"
        );
        assert_eq!(escape("データ"), "データ");
        assert_eq!(escape("x\u{1}y"), "xy");
    }
}
