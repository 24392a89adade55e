//! CIM instances out of WS-Enumeration replies, streamed from the text
//! with no DOM. Public so fuzz targets and benchmarks can call the
//! parsers on arbitrary input: none of them panics.
//!
//! Shapes handled (MS-WSMV 3.1.4.1.26): `SELECT *` items named after the
//! class in `…/wmi/<ns>/<Class>`; `SELECT a,b` items as `w:XmlFragment`
//! with unqualified children; `xsi:nil`; repeated elements as arrays;
//! `cim:Datetime`/`cim:Interval` (unqualified inside fragments); EPR
//! references; embedded instances (nested typed elements).

use super::instance::{Instance, Reference, Value};
use super::namespaces::Ns;
use super::parse_error::{MAX_INSTANCES, MAX_PROPERTIES, ParseError};
use super::xml::{Tok, XmlReader};
use quick_xml::events::BytesStart;

/// One Enumerate or Pull response.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EnumerationPage {
    /// The context for the next Pull; `None` when absent or empty (an
    /// empty element comes with EndOfSequence).
    pub context: Option<String>,
    pub items: Vec<Instance>,
    pub end_of_sequence: bool,
}

/// Parses one standalone instance element (e.g. an item cut out of a
/// reply, or a fixture).
pub fn parse_instance(xml: &str) -> Result<Instance, ParseError> {
    let mut r = XmlReader::new(xml);
    let inst = match r.next()? {
        Tok::Start(e, ns) => read_instance(&mut r, &e, ns, 0)?,
        _ => return Err(ParseError::MissingElement("instance element")),
    };
    match r.next()? {
        Tok::Eof => Ok(inst),
        _ => Err(ParseError::TrailingContent),
    }
}

/// Reads the children of `EnumerateResponse`/`PullResponse` (start tag
/// already consumed) up to its end tag.
pub(crate) fn read_page(r: &mut XmlReader<'_>) -> Result<EnumerationPage, ParseError> {
    let mut page = EnumerationPage::default();
    loop {
        match r.next()? {
            Tok::Start(e, ns) => match (ns, e.local_name().into_inner()) {
                (Ns::Enumeration, "EnumerationContext") => {
                    let t = r.trimmed_text()?;
                    page.context = (!t.is_empty()).then_some(t);
                }
                // Items and EndOfSequence are in wsman inside EnumerateResponse
                // (OptimizeEnumeration) and in wsen inside PullResponse.
                (Ns::Enumeration | Ns::Wsman, "Items") => read_items(r, &mut page.items)?,
                (Ns::Enumeration | Ns::Wsman, "EndOfSequence") => {
                    page.end_of_sequence = true;
                    r.skip()?;
                }
                _ => r.skip()?,
            },
            Tok::End => return Ok(page),
            Tok::Text(_) => {}
            Tok::Eof => return Err(ParseError::Truncated),
        }
    }
}

fn read_items(r: &mut XmlReader<'_>, items: &mut Vec<Instance>) -> Result<(), ParseError> {
    // Items of one reply are one class: size each from the previous one.
    let mut props_hint = 0;
    loop {
        match r.next()? {
            Tok::Start(e, ns) => {
                if items.len() >= MAX_INSTANCES {
                    return Err(ParseError::TooManyInstances {
                        limit: MAX_INSTANCES,
                    });
                }
                let inst = read_instance(r, &e, ns, props_hint)?;
                props_hint = inst.props.len();
                items.push(inst);
            }
            Tok::End => return Ok(()),
            Tok::Text(_) => {}
            Tok::Eof => return Err(ParseError::Truncated),
        }
    }
}

/// One item; its start tag `e` was just read.
fn read_instance(
    r: &mut XmlReader<'_>,
    e: &BytesStart<'_>,
    ns: Ns,
    props_hint: usize,
) -> Result<Instance, ParseError> {
    let class = e.local_name().into_inner().to_string();
    let resource_uri = if ns == Ns::Wsman && class == "XmlFragment" {
        None
    } else {
        r.ns_uri(e)
    };
    let mut props = Vec::with_capacity(props_hint.min(MAX_PROPERTIES));
    read_props(r, &mut props)?;
    Ok(Instance {
        class,
        resource_uri,
        props,
    })
}

/// Reads property elements up to the end tag of their parent.
fn read_props(r: &mut XmlReader<'_>, props: &mut Vec<(String, Value)>) -> Result<(), ParseError> {
    let mut count = props.len();
    loop {
        match r.next()? {
            Tok::Start(e, _) => {
                count += 1;
                if count > MAX_PROPERTIES {
                    return Err(ParseError::TooManyProperties);
                }
                let value = read_value(r, &e)?;
                add_prop(props, e.local_name().into_inner(), value);
            }
            Tok::End => return Ok(()),
            Tok::Text(_) => {}
            Tok::Eof => return Err(ParseError::Truncated),
        }
    }
}

/// CIM arrays arrive as repeated sibling elements: fold them into one
/// `Value::Array`, in document order. WinRM writes an array's elements
/// next to each other, so only the previous property is compared (a
/// search over all of them cost a third of the parse time).
fn add_prop(props: &mut Vec<(String, Value)>, name: &str, value: Value) {
    match props.last_mut() {
        Some((n, Value::Array(items))) if n == name => items.push(value),
        Some((n, slot)) if n == name => {
            let first = std::mem::replace(slot, Value::Null);
            *slot = Value::Array(vec![first, value]);
        }
        _ => props.push((name.to_string(), value)),
    }
}

/// What the attributes of a property element say.
struct PropAttrs {
    nil: bool,
    /// From `xsi:type="p:Class_Type"`: class name and its namespace URI.
    type_class: Option<(String, Option<String>)>,
}

fn prop_attrs(r: &XmlReader<'_>, e: &BytesStart<'_>) -> Result<PropAttrs, ParseError> {
    // Fast path: most property elements carry no attributes at all.
    if e.attributes_raw().trim().is_empty() {
        return Ok(PropAttrs {
            nil: false,
            type_class: None,
        });
    }
    let nil = r.is_nil(e)?;
    let type_class = r.attr(e, Ns::Xsi, "type")?.map(|t| {
        let local = t.rsplit(':').next().unwrap_or(&t);
        let class = local.strip_suffix("_Type").unwrap_or(local).to_string();
        (class, r.qname_value_ns(&t))
    });
    Ok(PropAttrs { nil, type_class })
}

/// One property's value; its start tag `e` was just read.
fn read_value(r: &mut XmlReader<'_>, e: &BytesStart<'_>) -> Result<Value, ParseError> {
    let attrs = prop_attrs(r, e)?;
    if attrs.nil {
        r.skip()?;
        return Ok(Value::Null);
    }
    let mut text = String::new();
    let mut special: Option<Value> = None;
    let mut reference: Option<Reference> = None;
    loop {
        match r.next()? {
            Tok::Text(t) => text.push_str(&t),
            Tok::Start(c, cns) => match (cns, c.local_name().into_inner()) {
                (Ns::Cim | Ns::None, "Datetime") => {
                    special = Some(Value::Datetime(r.trimmed_text()?))
                }
                (Ns::Cim | Ns::None, "Interval") => {
                    special = Some(Value::Interval(r.trimmed_text()?))
                }
                // The other cimDateTime choices (DSP0230): only when qualified,
                // since `Date`/`Time` are also plausible embedded property names.
                (Ns::Cim, "Date" | "Time" | "CIM_DateTime") => {
                    special = Some(Value::Datetime(r.trimmed_text()?))
                }
                (Ns::Addressing, "Address") => {
                    reference.get_or_insert_with(Reference::default).address =
                        Some(r.trimmed_text()?);
                }
                (Ns::Addressing, "ReferenceParameters") => {
                    read_reference_parameters(r, reference.get_or_insert_with(Reference::default))?;
                }
                (_, local) => {
                    // A nested property: this element is an embedded instance.
                    let (class, resource_uri) = attrs
                        .type_class
                        .unwrap_or_else(|| (e.local_name().into_inner().to_string(), None));
                    let mut props = Vec::new();
                    let first = read_value(r, &c)?;
                    add_prop(&mut props, local, first);
                    read_props(r, &mut props)?;
                    return Ok(Value::Embedded(Box::new(Instance {
                        class,
                        resource_uri,
                        props,
                    })));
                }
            },
            Tok::End => break,
            Tok::Eof => return Err(ParseError::Truncated),
        }
    }
    Ok(match (special, reference) {
        (Some(v), _) => v,
        (None, Some(rf)) => Value::Reference(rf),
        (None, None) => Value::Text(text),
    })
}

fn read_reference_parameters(r: &mut XmlReader<'_>, rf: &mut Reference) -> Result<(), ParseError> {
    loop {
        match r.next()? {
            Tok::Start(e, Ns::Wsman) if e.local_name().into_inner() == "ResourceURI" => {
                rf.resource_uri = Some(r.trimmed_text()?);
            }
            Tok::Start(e, Ns::Wsman) if e.local_name().into_inner() == "SelectorSet" => loop {
                match r.next()? {
                    Tok::Start(s, Ns::Wsman) if s.local_name().into_inner() == "Selector" => {
                        let name = r.attr(&s, Ns::None, "Name")?.unwrap_or_default();
                        let value = r.text()?;
                        rf.selectors.push((name, value));
                    }
                    Tok::Start(..) => r.skip()?,
                    Tok::End => break,
                    Tok::Text(_) => {}
                    Tok::Eof => return Err(ParseError::Truncated),
                }
            },
            Tok::Start(..) => r.skip()?,
            Tok::End => return Ok(()),
            Tok::Text(_) => {}
            Tok::Eof => return Err(ParseError::Truncated),
        }
    }
}

#[cfg(test)]
#[path = "cim_tests.rs"]
mod tests;
