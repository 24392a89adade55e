//! Writes CIM instances the way the Windows WMI plugin does: full typed
//! instances for `SELECT *`, `w:XmlFragment` for explicit property lists.

use super::ns;
use super::xml::escape_into;
use crate::simulator::classes::{CimValue, Embedded, Namespace, Row, Selection};

fn value_into(out: &mut String, prefix: &str, name: &str, v: &CimValue) {
    let open = |out: &mut String| {
        out.push('<');
        if !prefix.is_empty() {
            out.push_str(prefix);
            out.push(':');
        }
        out.push_str(name);
    };
    let close = |out: &mut String| {
        out.push_str("</");
        if !prefix.is_empty() {
            out.push_str(prefix);
            out.push(':');
        }
        out.push_str(name);
        out.push('>');
    };
    match v {
        CimValue::Null => {
            open(out);
            out.push_str(" xsi:nil=\"true\"/>");
        }
        CimValue::Array(items) if items.is_empty() => {
            open(out);
            out.push_str(" xsi:nil=\"true\"/>");
        }
        CimValue::Array(items) => {
            for item in items {
                value_into(out, prefix, name, item);
            }
        }
        CimValue::DateTime(s) => {
            open(out);
            out.push_str("><cim:Datetime>");
            escape_into(out, s);
            out.push_str("</cim:Datetime>");
            close(out);
        }
        CimValue::Embedded(e) => {
            open(out);
            embedded_into(out, e);
            close(out);
        }
        CimValue::Str(s) => {
            open(out);
            out.push('>');
            escape_into(out, s);
            close(out);
        }
        CimValue::UInt(n) => {
            open(out);
            out.push('>');
            out.push_str(&n.to_string());
            close(out);
        }
        CimValue::Int(n) => {
            open(out);
            out.push('>');
            out.push_str(&n.to_string());
            close(out);
        }
        CimValue::Bool(b) => {
            open(out);
            out.push('>');
            out.push_str(if *b { "true" } else { "false" });
            close(out);
        }
    }
}

/// Attributes and children of an embedded instance (after the property's
/// element name): `xsi:type` names the embedded class (DSP0230).
fn embedded_into(out: &mut String, e: &Embedded) {
    out.push_str(" xmlns:q=\"");
    out.push_str(ns::WMI_BASE);
    out.push_str(Namespace::Cluster.path());
    out.push('/');
    out.push_str(e.class);
    out.push_str("\" xsi:type=\"q:");
    out.push_str(e.class);
    out.push_str("_Type\">");
    for (name, v) in &e.props {
        value_into(out, "q", name, v);
    }
}

fn prop<'a>(row: &'a Row, name: &str) -> &'a CimValue {
    row.get(name).unwrap_or(&CimValue::Null)
}

/// One item of a result, as XML.
pub fn item(ns_path: &str, sel: &Selection, row: &Row) -> String {
    let mut out = String::with_capacity(2048);
    match &sel.fragment {
        Some(names) => {
            out.push_str("<w:XmlFragment>");
            for n in names {
                value_into(&mut out, "", n, prop(row, n));
            }
            out.push_str("</w:XmlFragment>");
        }
        None => {
            let class = sel.class;
            out.push_str("<p:");
            out.push_str(class);
            out.push_str(" xmlns:p=\"");
            out.push_str(ns::WMI_BASE);
            out.push_str(ns_path);
            out.push('/');
            out.push_str(class);
            out.push_str("\" xmlns:cim=\"");
            out.push_str(ns::CIM);
            out.push_str("\" xmlns:xsi=\"");
            out.push_str(ns::XSI);
            out.push_str("\" xsi:type=\"p:");
            out.push_str(class);
            out.push_str("_Type\">");
            for n in &sel.all {
                value_into(&mut out, "p", n, prop(row, n));
            }
            out.push_str("</p:");
            out.push_str(class);
            out.push('>');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(fragment: Option<Vec<&'static str>>) -> Selection {
        Selection {
            class: "Win32_Thing",
            fragment,
            all: vec!["A", "B", "D", "E"],
            rows: vec![],
        }
    }

    #[test]
    fn full_instance_declares_its_own_namespace_and_nils() {
        let row = Row::new()
            .set("A", CimValue::s("x & <y>"))
            .set("D", CimValue::DateTime("2020-01-01T00:00:00Z".into()))
            .set(
                "E",
                CimValue::Array(vec![CimValue::UInt(1), CimValue::UInt(2)]),
            );
        let x = item("root/cimv2", &sel(None), &row);
        assert_eq!(
            x,
            "<p:Win32_Thing xmlns:p=\"http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/Win32_Thing\" xmlns:cim=\"http://schemas.dmtf.org/wbem/wscim/1/common\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"p:Win32_Thing_Type\"><p:A>x &amp; &lt;y&gt;</p:A><p:B xsi:nil=\"true\"/><p:D><cim:Datetime>2020-01-01T00:00:00Z</cim:Datetime></p:D><p:E>1</p:E><p:E>2</p:E></p:Win32_Thing>"
        );
    }

    #[test]
    fn fragment_has_unqualified_children() {
        let row = Row::new().set("A", CimValue::Bool(true));
        let x = item("root/cimv2", &sel(Some(vec!["A", "B"])), &row);
        assert_eq!(
            x,
            "<w:XmlFragment><A>true</A><B xsi:nil=\"true\"/></w:XmlFragment>"
        );
    }
}
