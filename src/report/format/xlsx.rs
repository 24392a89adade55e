//! XLSX: one workbook, a sheet per view, typed cells (numbers as numbers,
//! times as Excel datetimes), a frozen header, an autofilter and widths
//! sized to the content. Built in memory and returned as bytes.

use chrono::{DateTime, Utc};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

use crate::report::ReportError;
use crate::report::topology::TopologyReport;

/// One typed cell.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum XCell {
    Empty,
    Str(String),
    Int(i64),
    Num(f64),
    Bool(bool),
    /// Written as an Excel datetime in UTC (Excel has no zones: the header
    /// says UTC).
    Time(DateTime<Utc>),
}

impl XCell {
    pub(crate) fn s(v: impl ToString) -> XCell {
        XCell::Str(v.to_string())
    }
    pub(crate) fn os(v: &Option<impl ToString>) -> XCell {
        v.as_ref()
            .map_or(XCell::Empty, |v| XCell::Str(v.to_string()))
    }
    pub(crate) fn oi(v: Option<impl Into<i64>>) -> XCell {
        v.map_or(XCell::Empty, |v| XCell::Int(v.into()))
    }
    pub(crate) fn of(v: Option<f64>) -> XCell {
        v.map_or(XCell::Empty, XCell::Num)
    }
    pub(crate) fn ob(v: Option<bool>) -> XCell {
        v.map_or(XCell::Empty, XCell::Bool)
    }

    /// Rough display width in characters, for the column width.
    fn width(&self) -> usize {
        match self {
            XCell::Empty => 0,
            XCell::Str(s) => s.chars().count(),
            XCell::Int(i) => i.to_string().len(),
            XCell::Num(n) => format!("{n}").len(),
            XCell::Bool(_) => 5,
            XCell::Time(_) => 19,
        }
    }
}

/// A sheet: a name, a header row and typed rows.
pub(crate) struct Sheet {
    pub name: &'static str,
    pub header: Vec<&'static str>,
    pub rows: Vec<Vec<XCell>>,
}

const MAX_WIDTH: usize = 60;

pub(crate) fn workbook(sheets: &[Sheet]) -> Result<Vec<u8>, ReportError> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let when = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    for sheet in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(sheet.name)?;
        let mut widths: Vec<usize> = sheet.header.iter().map(|h| h.len()).collect();
        for (c, h) in sheet.header.iter().enumerate() {
            ws.write_string_with_format(0, col(c)?, *h, &bold)?;
        }
        for (r, row) in sheet.rows.iter().enumerate() {
            let r = u32::try_from(r + 1)
                .map_err(|_| ReportError::Option("too many rows for a sheet".into()))?;
            for (c, cell) in row.iter().enumerate() {
                if let Some(w) = widths.get_mut(c) {
                    *w = (*w).max(cell.width());
                }
                let c = col(c)?;
                match cell {
                    XCell::Empty => {}
                    XCell::Str(s) => {
                        ws.write_string(r, c, s)?;
                    }
                    // Excel numbers are doubles; our integers are counts far
                    // below 2^53.
                    XCell::Int(i) => {
                        ws.write_number(r, c, *i as f64)?;
                    }
                    XCell::Num(n) => {
                        ws.write_number(r, c, *n)?;
                    }
                    XCell::Bool(b) => {
                        ws.write_boolean(r, c, *b)?;
                    }
                    XCell::Time(t) => {
                        let dt = ExcelDateTime::from_timestamp(t.timestamp())?;
                        ws.write_datetime_with_format(r, c, dt, &when)?;
                    }
                }
            }
        }
        let last_col = col(sheet.header.len().saturating_sub(1))?;
        let last_row = u32::try_from(sheet.rows.len())
            .map_err(|_| ReportError::Option("too many rows for a sheet".into()))?;
        ws.set_freeze_panes(1, 0)?;
        ws.autofilter(0, 0, last_row, last_col)?;
        for (c, w) in widths.iter().enumerate() {
            // +2 leaves room for the autofilter arrow.
            let w = (*w).min(MAX_WIDTH) + 2;
            ws.set_column_width(col(c)?, w as f64)?;
        }
    }
    Ok(wb.save_to_buffer()?)
}

/// A sheet's integers are signed; memory never comes near the limit.
fn clamp_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn col(c: usize) -> Result<u16, ReportError> {
    u16::try_from(c).map_err(|_| ReportError::Option("too many columns for a sheet".into()))
}

pub fn topology(r: &TopologyReport) -> Result<Vec<u8>, ReportError> {
    let mut hosts = Sheet {
        name: "Hosts",
        header: vec![
            "run",
            "address",
            "status",
            "error kind",
            "error",
            "warnings",
            "name",
            "fqdn",
            "uuid",
            "serial",
            "manufacturer",
            "model",
            "os",
            "sockets",
            "cores",
            "logical processors",
            "memory MB",
            "processor vendor",
            "processor model",
            "cluster",
            "VMs",
        ],
        rows: Vec::new(),
    };
    let mut vms = Sheet {
        name: "VMs",
        header: vec![
            "host address",
            "host name",
            "id",
            "name",
            "bios guid",
            "state",
            "vcpus",
            "cpu limit %",
            "memory MB",
            "dynamic memory",
            "replication",
            "generation",
            "clustered",
        ],
        rows: Vec::new(),
    };
    for h in &r.hosts {
        let f = h.facts_or_empty();
        hosts.rows.push(vec![
            XCell::Int(r.run.id),
            XCell::s(&h.address),
            XCell::s(h.status),
            h.error.as_ref().map_or(XCell::Empty, |e| XCell::s(&e.kind)),
            h.error
                .as_ref()
                .map_or(XCell::Empty, |e| XCell::s(&e.message)),
            XCell::s(h.warnings.join("; ")),
            XCell::os(&f.name),
            XCell::os(&f.fqdn),
            XCell::os(&f.identity.uuid),
            XCell::os(&f.serial),
            XCell::os(&f.manufacturer),
            XCell::os(&f.model),
            XCell::os(&f.os),
            XCell::oi(f.sockets),
            XCell::oi(f.cores),
            XCell::oi(f.logical_processors),
            XCell::oi(f.memory_mb.map(clamp_i64)),
            XCell::os(&f.processor_vendor),
            XCell::os(&f.processor_model),
            XCell::os(&h.cluster),
            XCell::Int(h.vms.len() as i64),
        ]);
        for v in &h.vms {
            vms.rows.push(vec![
                XCell::s(&h.address),
                XCell::os(&f.name),
                XCell::s(&v.guid),
                XCell::os(&v.name),
                XCell::os(&v.bios_guid),
                XCell::s(v.state),
                XCell::oi(v.vcpus),
                XCell::of(v.cpu_limit_pct),
                XCell::oi(v.memory_mb.map(clamp_i64)),
                XCell::ob(v.dynamic_memory),
                XCell::s(v.replication.as_str()),
                XCell::oi(v.generation),
                XCell::Bool(v.clustered),
            ]);
        }
    }
    let clusters = Sheet {
        name: "Clusters",
        header: vec!["name", "fqdn", "nodes"],
        rows: r
            .clusters
            .iter()
            .map(|c| {
                vec![
                    XCell::s(&c.name),
                    XCell::os(&c.fqdn),
                    XCell::s(c.nodes.join(", ")),
                ]
            })
            .collect(),
    };
    let run = Sheet {
        name: "Run",
        header: vec!["run", "started at (UTC)", "finished at (UTC)"],
        rows: vec![vec![
            XCell::Int(r.run.id),
            XCell::Time(r.run.started_at),
            r.run.finished_at.map_or(XCell::Empty, XCell::Time),
        ]],
    };
    workbook(&[hosts, vms, clusters, run])
}

pub fn pvu(r: &crate::report::PvuReport) -> Result<Vec<u8>, ReportError> {
    let t = &r.totals;
    let summary = Sheet {
        name: "Summary",
        header: vec!["item", "value", "run", "at (UTC)"],
        rows: vec![
            vec![
                XCell::s("period from (UTC)"),
                XCell::Time(r.period.from),
                XCell::Empty,
                XCell::Empty,
            ],
            vec![
                XCell::s("period to (UTC)"),
                XCell::Time(r.period.to),
                XCell::Empty,
                XCell::Empty,
            ],
            vec![
                XCell::s("sub-capacity peak PVU"),
                XCell::Int(t.sub_capacity_peak_pvu),
                XCell::Int(t.sub_capacity_peak_run),
                XCell::Time(t.sub_capacity_peak_at),
            ],
            vec![
                XCell::s("full capacity PVU"),
                XCell::Int(t.full_capacity_pvu),
                XCell::Int(t.full_capacity_run),
                XCell::Empty,
            ],
            vec![
                XCell::s("entitlement needed PVU"),
                XCell::Int(t.entitlement_pvu),
                XCell::Empty,
                XCell::Empty,
            ],
            vec![
                XCell::s("entitlement basis"),
                XCell::s(t.entitlement_basis),
                XCell::Empty,
                XCell::Empty,
            ],
            vec![
                XCell::s("counted states"),
                XCell::s(r.counted_states.join(", ")),
                XCell::Empty,
                XCell::Empty,
            ],
            vec![
                XCell::s("PVU table"),
                XCell::s(&r.pvu_table),
                XCell::Empty,
                XCell::Empty,
            ],
            vec![
                XCell::s("complete"),
                XCell::Bool(r.complete),
                XCell::Empty,
                XCell::Empty,
            ],
            vec![
                XCell::s("runs used"),
                XCell::s(
                    r.runs
                        .iter()
                        .map(|x| x.id.to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                XCell::Empty,
                XCell::Empty,
            ],
        ],
    };
    let hosts = Sheet {
        name: "PVU per host",
        header: vec![
            "address",
            "name",
            "processor vendor",
            "processor model",
            "sockets",
            "cores",
            "PVU per core",
            "rate row",
            "rate verify",
            "unknown processor",
            "full capacity PVU",
            "peak sub-capacity cores",
            "peak sub-capacity PVU",
            "peak run",
            "peak at (UTC)",
            "peak carried forward",
            "runs counted",
            "runs carried forward",
            "notes",
        ],
        rows: r
            .hosts
            .iter()
            .map(|h| {
                vec![
                    XCell::s(&h.address),
                    XCell::os(&h.name),
                    XCell::os(&h.processor_vendor),
                    XCell::os(&h.processor_model),
                    XCell::oi(h.sockets),
                    XCell::Int(h.cores),
                    XCell::Int(h.rate.pvu_per_core),
                    XCell::os(&h.rate.row),
                    XCell::Bool(h.rate.verify),
                    XCell::Bool(h.rate.unknown_processor),
                    XCell::Int(h.full_capacity_pvu),
                    XCell::Int(h.peak_sub_capacity_cores),
                    XCell::Int(h.peak_sub_capacity_pvu),
                    XCell::Int(h.peak_run),
                    XCell::Time(h.peak_at),
                    XCell::Bool(h.peak_carried_forward),
                    XCell::Int(h.runs_counted as i64),
                    XCell::Int(h.runs_carried_forward as i64),
                    XCell::s(h.notes.join("; ")),
                ]
            })
            .collect(),
    };
    let mut per_day = Sheet {
        name: "PVU per day",
        header: vec![
            "date",
            "address",
            "name",
            "PVU per core",
            "rate row",
            "cores",
            "full capacity PVU",
            "sub-capacity cores",
            "sub-capacity PVU",
            "run",
            "carried forward",
            "day sub-capacity PVU",
            "day full capacity PVU",
        ],
        rows: Vec::new(),
    };
    for d in &r.days {
        let midnight = d.date.and_time(chrono::NaiveTime::MIN).and_utc();
        for h in &d.hosts {
            per_day.rows.push(vec![
                XCell::Time(midnight),
                XCell::s(&h.address),
                XCell::os(&h.name),
                XCell::Int(h.pvu_per_core),
                XCell::os(&h.rate_row),
                XCell::Int(h.cores),
                XCell::Int(h.full_capacity_pvu),
                XCell::Int(h.sub_capacity_cores),
                XCell::Int(h.sub_capacity_pvu),
                XCell::Int(h.run),
                XCell::Bool(h.carried_forward),
                XCell::Int(d.sub_capacity_pvu),
                XCell::Int(d.full_capacity_pvu),
            ]);
        }
    }
    let gaps = Sheet {
        name: "Gaps",
        header: vec![
            "kind",
            "first run",
            "last run",
            "runs",
            "flags incomplete",
            "detail",
        ],
        rows: r
            .gaps
            .iter()
            .map(|g| {
                vec![
                    XCell::s(g.kind),
                    XCell::Int(g.first_run),
                    XCell::Int(g.last_run),
                    XCell::Int(g.runs as i64),
                    XCell::Bool(g.flags_incomplete),
                    XCell::s(&g.message),
                ]
            })
            .collect(),
    };
    let mut peak_vms = Sheet {
        name: "Peak VMs",
        header: vec![
            "host address",
            "host name",
            "carried forward",
            "VM",
            "id",
            "state",
            "vcpus",
            "licensable cores",
        ],
        rows: Vec::new(),
    };
    for h in &r.peak_detail {
        for v in &h.vms {
            peak_vms.rows.push(vec![
                XCell::s(&h.address),
                XCell::os(&h.name),
                XCell::Bool(h.carried_forward),
                XCell::os(&v.vm.name),
                XCell::s(&v.vm.guid),
                XCell::s(v.vm.state),
                XCell::oi(v.vm.vcpus),
                XCell::Int(v.licensable_cores),
            ]);
        }
    }
    workbook(&[summary, regions_sheet(r), hosts, per_day, peak_vms, gaps])
}

/// Each product's peak per licence region, then its figure (the sum of the
/// regional peaks, pvu.md).
fn regions_sheet(r: &crate::report::PvuReport) -> Sheet {
    let mut sheet = Sheet {
        name: "Products and regions",
        header: vec![
            "product",
            "VMs matched",
            "region",
            "sub-capacity peak PVU",
            "peak run",
            "peak at (UTC)",
            "full capacity PVU",
            "entitlement PVU",
        ],
        rows: Vec::new(),
    };
    for p in &r.products {
        for g in &p.regions {
            sheet.rows.push(vec![
                XCell::s(&p.name),
                XCell::Int(p.vms_matched as i64),
                XCell::s(&g.region),
                XCell::Int(g.sub_capacity_peak_pvu),
                XCell::Int(g.sub_capacity_peak_run),
                XCell::Time(g.sub_capacity_peak_at),
                XCell::Int(g.full_capacity_pvu),
                XCell::Empty,
            ]);
        }
        sheet.rows.push(vec![
            XCell::s(&p.name),
            XCell::Int(p.vms_matched as i64),
            XCell::s("all regions (sum of regional peaks)"),
            XCell::Int(p.sub_capacity_pvu),
            XCell::Empty,
            XCell::Empty,
            XCell::Int(p.full_capacity_pvu),
            XCell::Int(p.entitlement_pvu),
        ]);
    }
    sheet
}
