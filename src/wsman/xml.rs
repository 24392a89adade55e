//! A thin, strict layer over `quick_xml::NsReader`: namespace-resolved
//! start tags, text with references resolved, depth limit, no DOCTYPE,
//! no undeclared prefixes. Every reply parser reads through this.

use super::namespaces::Ns;
use super::parse_error::{MAX_DEPTH, ParseError, clip};
use quick_xml::XmlVersion;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::{QName, ResolveResult};
use quick_xml::reader::NsReader;
use std::borrow::Cow;

pub enum Tok<'i> {
    /// A start tag (empty elements are expanded into Start + End).
    Start(BytesStart<'i>, Ns),
    End,
    /// Character data: text, CDATA, or one resolved reference. Callers
    /// concatenate consecutive pieces; nothing is trimmed.
    Text(Cow<'i, str>),
    Eof,
}

pub struct XmlReader<'i> {
    r: NsReader<&'i [u8]>,
    depth: usize,
    seen_root: bool,
}

impl<'i> XmlReader<'i> {
    pub fn new(xml: &'i str) -> Self {
        let mut r = NsReader::from_str(xml);
        let cfg = r.config_mut();
        cfg.expand_empty_elements = true;
        cfg.trim_text(false);
        cfg.check_end_names = true;
        XmlReader {
            r,
            depth: 0,
            seen_root: false,
        }
    }

    fn xml_err(&self, e: impl std::fmt::Display) -> ParseError {
        ParseError::Xml {
            position: self.r.buffer_position(),
            reason: clip(&e.to_string()),
        }
    }

    /// The namespace URI of `e`, the element `next` just returned (for
    /// error messages that must tell two same-named elements apart).
    pub fn namespace_uri(&self, e: &BytesStart<'_>) -> Option<String> {
        match self.r.resolver().resolve_element(e.name()).0 {
            ResolveResult::Bound(n) => Some(clip(n.into_inner())),
            _ => None,
        }
    }

    pub fn next(&mut self) -> Result<Tok<'i>, ParseError> {
        loop {
            let ev = self.r.read_event().map_err(|e| self.xml_err(e))?;
            return Ok(match ev {
                Event::Start(e) => {
                    if self.depth == 0 {
                        if self.seen_root {
                            return Err(ParseError::TrailingContent);
                        }
                        self.seen_root = true;
                    }
                    self.depth += 1;
                    if self.depth > MAX_DEPTH {
                        return Err(ParseError::TooDeep);
                    }
                    let ns = match self.r.resolver().resolve_element(e.name()).0 {
                        ResolveResult::Bound(n) => Ns::of(n.into_inner()),
                        ResolveResult::Unbound => Ns::None,
                        ResolveResult::Unknown(p) => {
                            return Err(ParseError::UndeclaredPrefix(clip(&p)));
                        }
                    };
                    Tok::Start(e, ns)
                }
                Event::End(_) => {
                    self.depth = self.depth.saturating_sub(1);
                    Tok::End
                }
                // Not produced with expand_empty_elements; kept strict anyway.
                Event::Empty(_) => return Err(self.xml_err("unexpected empty element")),
                Event::Text(t) => {
                    if self.depth == 0 {
                        // Only whitespace (and a BOM) may surround the root.
                        if t.chars()
                            .all(|c| c.is_ascii_whitespace() || c == '\u{feff}')
                        {
                            continue;
                        }
                        return Err(ParseError::TrailingContent);
                    }
                    Tok::Text(t.xml10_content())
                }
                Event::CData(c) => {
                    if self.depth == 0 {
                        return Err(ParseError::TrailingContent);
                    }
                    Tok::Text(c.xml10_content())
                }
                Event::GeneralRef(r) => {
                    if self.depth == 0 {
                        return Err(ParseError::TrailingContent);
                    }
                    if r.is_char_ref() {
                        match r.resolve_char_ref() {
                            Ok(Some(c)) => Tok::Text(Cow::Owned(c.to_string())),
                            Ok(None) | Err(_) => return Err(ParseError::UnknownEntity(clip(&r))),
                        }
                    } else {
                        match resolve_predefined_entity(&r) {
                            Some(s) => Tok::Text(Cow::Borrowed(s)),
                            None => return Err(ParseError::UnknownEntity(clip(&r))),
                        }
                    }
                }
                Event::DocType(_) => return Err(ParseError::DocType),
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) => continue,
                Event::Eof => {
                    if self.depth != 0 || !self.seen_root {
                        return Err(ParseError::Truncated);
                    }
                    Tok::Eof
                }
            });
        }
    }

    /// The namespace URI of a start tag just returned by `next`.
    pub fn ns_uri(&self, e: &BytesStart<'_>) -> Option<String> {
        match self.r.resolver().resolve_element(e.name()).0 {
            ResolveResult::Bound(n) => Some(n.into_inner().to_string()),
            _ => None,
        }
    }

    /// The namespace URI bound to the prefix of a QName-valued attribute
    /// (e.g. `xsi:type="p:Foo_Type"`), in the scope of the last start tag.
    pub fn qname_value_ns(&self, value: &str) -> Option<String> {
        match self.r.resolver().resolve_element(QName(value)).0 {
            ResolveResult::Bound(n) => Some(n.into_inner().to_string()),
            _ => None,
        }
    }

    /// Value of the attribute `{ns}local` (`Ns::None` for unqualified
    /// attributes), with references resolved.
    pub fn attr(
        &self,
        e: &BytesStart<'_>,
        ns: Ns,
        local: &str,
    ) -> Result<Option<String>, ParseError> {
        // Without the duplicate check, which is quadratic in the attribute
        // count; the first match wins.
        for a in e.attributes().with_checks(false) {
            let a = a.map_err(|err| self.xml_err(err))?;
            let (res, name) = self.r.resolver().resolve_attribute(a.key);
            let a_ns = match res {
                ResolveResult::Bound(n) => Ns::of(n.into_inner()),
                ResolveResult::Unbound => Ns::None,
                ResolveResult::Unknown(p) => return Err(ParseError::UndeclaredPrefix(clip(&p))),
            };
            if a_ns == ns && name.into_inner() == local {
                let v = a
                    .normalized_value(XmlVersion::Implicit1_0)
                    .map_err(|err| self.xml_err(err))?;
                return Ok(Some(v.into_owned()));
            }
        }
        Ok(None)
    }

    /// `xsi:nil="true"` or `"1"`.
    pub fn is_nil(&self, e: &BytesStart<'_>) -> Result<bool, ParseError> {
        Ok(matches!(
            self.attr(e, Ns::Xsi, "nil")?.as_deref().map(str::trim),
            Some("true" | "1")
        ))
    }

    /// Consumes the rest of the element whose start tag was just read.
    pub fn skip(&mut self) -> Result<(), ParseError> {
        let target = self.depth.saturating_sub(1);
        while self.depth > target {
            if let Tok::Eof = self.next()? {
                return Err(ParseError::Truncated);
            }
        }
        Ok(())
    }

    /// `text()` without surrounding whitespace, for URIs, contexts and
    /// datetimes (never for property values); reuses the buffer when
    /// there is nothing to trim.
    pub fn trimmed_text(&mut self) -> Result<String, ParseError> {
        let t = self.text()?;
        Ok(if t.trim().len() == t.len() {
            t
        } else {
            t.trim().to_string()
        })
    }

    /// Text content of the element whose start tag was just read, child
    /// elements skipped. Not trimmed.
    pub fn text(&mut self) -> Result<String, ParseError> {
        let mut out = String::new();
        loop {
            match self.next()? {
                Tok::Text(t) => out.push_str(&t),
                Tok::Start(..) => self.skip()?,
                Tok::End => return Ok(out),
                Tok::Eof => return Err(ParseError::Truncated),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_text(xml: &str) -> Result<String, ParseError> {
        let mut r = XmlReader::new(xml);
        let mut out = String::new();
        loop {
            match r.next()? {
                Tok::Text(t) => out.push_str(&t),
                Tok::Eof => return Ok(out),
                _ => {}
            }
        }
    }

    #[test]
    fn references_are_resolved_without_trimming() {
        assert_eq!(all_text("<a>VM &amp; Co</a>").unwrap(), "VM & Co");
        assert_eq!(all_text("<a> &lt;&#65;&#x42;&gt; </a>").unwrap(), " <AB> ");
    }

    #[test]
    fn cdata_is_text() {
        assert_eq!(
            all_text("<a>x<![CDATA[<y>&amp;]]>z</a>").unwrap(),
            "x<y>&amp;z"
        );
    }

    #[test]
    fn unknown_entity_is_an_error() {
        assert!(
            matches!(all_text("<a>&xxe;</a>"), Err(ParseError::UnknownEntity(n)) if n == "xxe")
        );
    }

    #[test]
    fn doctype_is_rejected() {
        let xml = "<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>";
        assert_eq!(all_text(xml), Err(ParseError::DocType));
    }

    #[test]
    fn undeclared_element_prefix_is_rejected() {
        assert!(matches!(all_text("<q:a/>"), Err(ParseError::UndeclaredPrefix(p)) if p == "q"));
    }

    #[test]
    fn depth_is_capped() {
        let ok = format!("{}{}", "<a>".repeat(MAX_DEPTH), "</a>".repeat(MAX_DEPTH));
        assert!(all_text(&ok).is_ok());
        let deep = format!(
            "{}{}",
            "<a>".repeat(MAX_DEPTH + 1),
            "</a>".repeat(MAX_DEPTH + 1)
        );
        assert_eq!(all_text(&deep), Err(ParseError::TooDeep));
    }

    #[test]
    fn truncated_and_empty_documents_are_errors() {
        assert_eq!(all_text("<a><b>x</b>"), Err(ParseError::Truncated));
        assert_eq!(all_text(""), Err(ParseError::Truncated));
        assert!(all_text("<a></b>").is_err());
    }

    #[test]
    fn a_second_root_is_rejected() {
        assert_eq!(all_text("<a/><b/>"), Err(ParseError::TrailingContent));
    }

    #[test]
    fn text_outside_the_root_is_rejected_but_whitespace_is_not() {
        assert_eq!(all_text("<a/>junk"), Err(ParseError::TrailingContent));
        assert_eq!(all_text("junk<a/>"), Err(ParseError::TrailingContent));
        assert_eq!(all_text("\u{feff}\r\n <a>x</a>\n\t").unwrap(), "x");
    }

    #[test]
    fn nil_needs_the_xsi_namespace() {
        let xml =
            r#"<a xmlns:i="http://www.w3.org/2001/XMLSchema-instance" i:nil="1" nil="true"/>"#;
        let mut r = XmlReader::new(xml);
        let Ok(Tok::Start(e, _)) = r.next() else {
            panic!("no start")
        };
        assert!(r.is_nil(&e).unwrap());
        let mut r = XmlReader::new(r#"<a nil="true"/>"#);
        let Ok(Tok::Start(e, _)) = r.next() else {
            panic!("no start")
        };
        assert!(!r.is_nil(&e).unwrap());
    }

    #[test]
    fn undeclared_attribute_prefix_is_rejected() {
        let mut r = XmlReader::new(r#"<a q:nil="true"/>"#);
        let Ok(Tok::Start(e, _)) = r.next() else {
            panic!("no start")
        };
        assert!(matches!(r.is_nil(&e), Err(ParseError::UndeclaredPrefix(_))));
    }
}
