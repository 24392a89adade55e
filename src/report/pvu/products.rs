//! Products and regions in the report (`shared/spec/pvu.md`, "Regions and
//! products"): what `--product NAME=FILE` (or `--vms FILE`) names, and the
//! per-region figures of one product from its priced runs.

use std::collections::BTreeSet;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::price::Priced;
use super::regions::overall;
use super::vm_filter::VmFilter;
use super::{DayLine, arith, time};
use crate::report::ReportError;
use crate::store::read::VmFacts;

/// The product every VM belongs to when no list is given.
pub const ALL_VMS: &str = "all VMs";

/// One product of the report (`products[]` in `hvinv.pvu/1`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProductLine {
    pub name: String,
    /// The list it was read from (null for "all VMs").
    pub source: Option<String>,
    /// Distinct VMs of the product counted in at least one run.
    pub vms_matched: usize,
    pub regions: Vec<RegionLine>,
    /// Σ of the regional sub-capacity peaks: the product's figure.
    pub sub_capacity_pvu: i64,
    /// Σ of the regional full-capacity peaks.
    pub full_capacity_pvu: i64,
    /// min(full capacity, sub-capacity): the entitlement needed.
    pub entitlement_pvu: i64,
    /// List entries that matched no VM in the period.
    pub unmatched: Vec<String>,
    /// The product's worst run of each day, host by host (CSV rows).
    #[serde(skip)]
    pub days: Vec<DayLine>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegionLine {
    pub region: String,
    pub sub_capacity_peak_pvu: i64,
    pub sub_capacity_peak_run: i64,
    #[serde(with = "time::serde_z")]
    pub sub_capacity_peak_at: DateTime<Utc>,
    pub full_capacity_pvu: i64,
    pub full_capacity_run: i64,
}

/// A product as asked for: its name and VM list (`None`: every VM).
pub struct ProductSpec {
    pub name: String,
    pub filter: Option<VmFilter>,
}

/// The products of the options, in the order given. `--product` and
/// `--vms` together are refused; neither gives the one product "all VMs".
pub fn specs(
    products: &[(String, PathBuf)],
    vms_file: Option<&std::path::Path>,
) -> Result<Vec<ProductSpec>, ReportError> {
    if !products.is_empty() && vms_file.is_some() {
        return Err(ReportError::Option(
            "give either --vms FILE or --product NAME=FILE, not both".into(),
        ));
    }
    if let Some(path) = vms_file {
        return Ok(vec![ProductSpec {
            name: path.display().to_string(),
            filter: Some(VmFilter::from_file(path)?),
        }]);
    }
    if products.is_empty() {
        return Ok(vec![ProductSpec {
            name: ALL_VMS.to_string(),
            filter: None,
        }]);
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (name, path) in products {
        if name.trim().is_empty() {
            return Err(ReportError::Option(format!(
                "--product {}: the product needs a name (NAME=FILE)",
                path.display()
            )));
        }
        if !seen.insert(name.as_str()) {
            return Err(ReportError::Option(format!(
                "--product {name:?} is given twice"
            )));
        }
        out.push(ProductSpec {
            name: name.clone(),
            filter: Some(VmFilter::from_file(path)?),
        });
    }
    Ok(out)
}

/// Parses `NAME=FILE` (the name may not contain `=`; the file may).
pub fn parse_product_arg(s: &str) -> Result<(String, PathBuf), String> {
    match s.split_once('=') {
        Some((name, file)) if !name.trim().is_empty() && !file.is_empty() => {
            Ok((name.trim().to_string(), PathBuf::from(file)))
        }
        _ => Err(format!("expected NAME=FILE, got {s:?}")),
    }
}

/// One product's line from its priced runs.
pub(super) fn product_line(
    spec: &ProductSpec,
    priced: &Priced<'_>,
    vm_facts: &[VmFacts],
    at: impl Fn(i64) -> DateTime<Utc>,
    days: Vec<DayLine>,
) -> ProductLine {
    let peaks = priced.region_peaks();
    let (sub, full) = overall(&peaks);
    let regions = peaks
        .into_iter()
        .map(|(region, p)| RegionLine {
            region,
            sub_capacity_peak_pvu: p.sub_capacity.value,
            sub_capacity_peak_run: p.sub_capacity.run_id,
            sub_capacity_peak_at: at(p.sub_capacity.run_id),
            full_capacity_pvu: p.full_capacity.value,
            full_capacity_run: p.full_capacity.run_id,
        })
        .collect();
    let vms_matched: BTreeSet<i64> = vm_facts
        .iter()
        .filter(|v| priced.counted_rows.get(&v.id).copied().unwrap_or(false))
        .map(|v| v.vm_id)
        .collect();
    ProductLine {
        name: spec.name.clone(),
        source: spec.filter.as_ref().map(|f| f.source.clone()),
        vms_matched: vms_matched.len(),
        regions,
        sub_capacity_pvu: sub,
        full_capacity_pvu: full,
        entitlement_pvu: arith::entitlement(full, sub),
        unmatched: spec
            .filter
            .as_ref()
            .map(VmFilter::unmatched)
            .unwrap_or_default(),
        days,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_argument_is_name_equals_file() {
        assert_eq!(
            parse_product_arg("Db2=db2-vms.txt").unwrap(),
            ("Db2".to_string(), PathBuf::from("db2-vms.txt"))
        );
        // Only the first '=' splits: a file name may hold one.
        assert_eq!(
            parse_product_arg("MQ=lists/a=b.txt").unwrap().1,
            PathBuf::from("lists/a=b.txt")
        );
        assert!(parse_product_arg("Db2").is_err());
        assert!(parse_product_arg("=file").is_err());
        assert!(parse_product_arg("Db2=").is_err());
    }

    #[test]
    fn without_lists_there_is_one_product_all_vms() {
        let s = specs(&[], None).unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].name, ALL_VMS);
        assert!(s[0].filter.is_none());
    }

    #[test]
    fn vms_and_product_together_are_refused() {
        let p = vec![("A".to_string(), PathBuf::from("a.txt"))];
        assert!(matches!(
            specs(&p, Some(std::path::Path::new("b.txt"))),
            Err(ReportError::Option(_))
        ));
    }
}
