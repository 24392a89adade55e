//! Reports (layer 5): read-only views of the store. Each report is built by
//! `<report>::build(reader, …)` from rows the store's read side
//! (`store::read`) returns, into a typed struct, then printed by `render` in
//! one of the formats (`format/`, one file per format).

pub mod coverage;
pub mod error;
pub mod format;
pub mod history;
pub(crate) mod id_map;
pub(crate) mod node_match;
mod ok_runs;
pub mod pvu;
pub mod time;
pub mod topology;

use std::io::Write;
use std::path::Path;

pub use coverage::{CoverageOptions, CoverageReport};
pub use error::ReportError;
pub use history::{HistoryOptions, HistoryReport};
pub use pvu::rates::PvuTable;
pub use pvu::{PvuOptions, PvuReport};
pub use topology::TopologyReport;

/// Output formats. Not every report has every format (`history` has no CSV
/// or XLSX); asking for a missing one is `ReportError::UnsupportedFormat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    #[default]
    Table,
    Json,
    Csv,
    Xlsx,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }

    /// XLSX is binary: the CLI should refuse to write it to a terminal.
    pub fn is_binary(self) -> bool {
        self == Format::Xlsx
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Format {
    type Err = ReportError;
    fn from_str(s: &str) -> Result<Self, ReportError> {
        match s.to_ascii_lowercase().as_str() {
            "table" => Ok(Format::Table),
            "json" => Ok(Format::Json),
            "csv" => Ok(Format::Csv),
            "xlsx" => Ok(Format::Xlsx),
            other => Err(ReportError::Option(format!(
                "unknown format {other:?} (table, json, csv, xlsx)"
            ))),
        }
    }
}

/// A report that can print itself. Formats a report lacks keep the default,
/// which refuses with `UnsupportedFormat`.
pub trait Report {
    /// The report's name in messages ("topology", "pvu", "history").
    fn name(&self) -> &'static str;
    fn write_table(&self, out: &mut dyn Write) -> Result<(), ReportError>;
    fn write_json(&self, out: &mut dyn Write) -> Result<(), ReportError>;
    fn write_csv(&self, _out: &mut dyn Write) -> Result<(), ReportError> {
        Err(ReportError::UnsupportedFormat {
            report: self.name(),
            format: "csv",
        })
    }
    /// The whole workbook as bytes (XLSX is a zip, built in memory).
    fn xlsx_bytes(&self) -> Result<Vec<u8>, ReportError> {
        Err(ReportError::UnsupportedFormat {
            report: self.name(),
            format: "xlsx",
        })
    }
}

/// Prints `report` in `format` to `out`. XLSX bytes go to `out` as well.
pub fn render(
    report: &impl Report,
    format: Format,
    out: &mut dyn Write,
) -> Result<(), ReportError> {
    match format {
        Format::Table => report.write_table(out)?,
        Format::Json => report.write_json(out)?,
        Format::Csv => report.write_csv(out)?,
        Format::Xlsx => out.write_all(&report.xlsx_bytes()?)?,
    }
    out.flush()?;
    Ok(())
}

/// Writes `report` in `format` to a file (the usual way for XLSX).
pub fn render_to_path(
    report: &impl Report,
    format: Format,
    path: &Path,
) -> Result<(), ReportError> {
    let file = std::fs::File::create(path)?;
    let mut out = std::io::BufWriter::new(file);
    render(report, format, &mut out)
}

impl Report for TopologyReport {
    fn name(&self) -> &'static str {
        "topology"
    }
    fn write_table(&self, out: &mut dyn Write) -> Result<(), ReportError> {
        format::table::topology(self, out)
    }
    fn write_json(&self, out: &mut dyn Write) -> Result<(), ReportError> {
        format::json::write(self, out)
    }
    fn write_csv(&self, out: &mut dyn Write) -> Result<(), ReportError> {
        format::csv::topology(self, out)
    }
    fn xlsx_bytes(&self) -> Result<Vec<u8>, ReportError> {
        format::xlsx::topology(self)
    }
}

impl Report for PvuReport {
    fn name(&self) -> &'static str {
        "pvu"
    }
    fn write_table(&self, out: &mut dyn Write) -> Result<(), ReportError> {
        format::table::pvu(self, out)
    }
    fn write_json(&self, out: &mut dyn Write) -> Result<(), ReportError> {
        format::json::write(self, out)
    }
    fn write_csv(&self, out: &mut dyn Write) -> Result<(), ReportError> {
        format::csv::pvu(self, out)
    }
    fn xlsx_bytes(&self) -> Result<Vec<u8>, ReportError> {
        format::xlsx::pvu(self)
    }
}

impl Report for CoverageReport {
    fn name(&self) -> &'static str {
        "coverage"
    }
    fn write_table(&self, out: &mut dyn Write) -> Result<(), ReportError> {
        format::coverage::table(self, out)
    }
    fn write_json(&self, out: &mut dyn Write) -> Result<(), ReportError> {
        format::json::write(self, out)
    }
    fn write_csv(&self, out: &mut dyn Write) -> Result<(), ReportError> {
        format::coverage::csv(self, out)
    }
}

impl Report for HistoryReport {
    fn name(&self) -> &'static str {
        "history"
    }
    fn write_table(&self, out: &mut dyn Write) -> Result<(), ReportError> {
        format::table::history(self, out)
    }
    fn write_json(&self, out: &mut dyn Write) -> Result<(), ReportError> {
        format::json::write(self, out)
    }
}
