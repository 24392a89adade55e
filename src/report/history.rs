//! `hvinv report history`: where each VM ran over time, from the `vm_facts`
//! intervals, with events (added, removed, migrated, vCPUs or state changed).

use std::collections::{BTreeMap, HashMap};

use super::ok_runs::OkRuns;
use super::{ReportError, time};
use crate::store::read::{Guid, Reader, VmFacts};
use chrono::{DateTime, Utc};
use serde::Serialize;

pub const SCHEMA: &str = "hvinv.history/1";

#[derive(Debug, Clone, Default, PartialEq)]
pub struct HistoryOptions {
    /// One VM by GUID or name (case-insensitive); None for the whole estate.
    pub vm: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryReport {
    pub schema: &'static str,
    pub first_run: RunAt,
    pub last_run: RunAt,
    pub vms: Vec<VmHistory>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunAt {
    pub id: i64,
    #[serde(with = "time::serde_z")]
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VmHistory {
    pub id: Guid,
    /// The newest name seen.
    pub name: Option<String>,
    pub placements: Vec<Placement>,
    pub events: Vec<Event>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Placement {
    pub host_id: i64,
    pub host: String,
    pub from: RunAt,
    pub to: RunAt,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Added,
    Removed,
    Migrated,
    VcpusChanged,
    StateChanged,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Added => "added",
            EventKind::Removed => "removed",
            EventKind::Migrated => "migrated",
            EventKind::VcpusChanged => "vcpus_changed",
            EventKind::StateChanged => "state_changed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub run: RunAt,
    pub kind: EventKind,
    pub host: String,
    /// The value before (host, vCPUs or state), when the event changes one.
    pub before: Option<String>,
    pub after: Option<String>,
}

pub async fn build<'a>(
    db: impl Into<Reader<'a>>,
    opts: HistoryOptions,
) -> Result<HistoryReport, ReportError> {
    let db = db.into();
    let runs = db.runs_between(None, None).await?;
    let period: Vec<_> = runs
        .iter()
        .filter(|r| r.is_complete())
        .filter(|r| opts.from.is_none_or(|f| r.started_at >= f))
        .filter(|r| opts.to.is_none_or(|t| r.started_at <= t))
        .collect();
    let (Some(first), Some(last)) = (period.first(), period.last()) else {
        return Err(ReportError::NoRunInPeriod {
            from: opts.from.as_ref().map_or("the start".into(), time::format),
            to: opts.to.as_ref().map_or("now".into(), time::format),
        });
    };
    let (lo, hi) = (first.id, last.id);
    let run_at: HashMap<i64, DateTime<Utc>> = runs.iter().map(|r| (r.id, r.started_at)).collect();
    let at = |id: i64| RunAt {
        id,
        at: run_at.get(&id).copied().unwrap_or(first.started_at),
    };

    // The whole history up to the period end: events need what came before.
    let facts = db.vm_facts_overlapping(0, hi).await?;
    let mut by_vm: BTreeMap<Guid, Vec<&VmFacts>> = BTreeMap::new();
    for f in &facts {
        by_vm.entry(f.vm.guid.clone()).or_default().push(f);
    }
    if let Some(want) = &opts.vm {
        let guid = Guid::parse(want);
        let name = want.to_lowercase();
        by_vm.retain(|g, rows| match &guid {
            Some(w) => g == w,
            None => rows.iter().any(|r| {
                r.vm.name
                    .as_deref()
                    .is_some_and(|n| n.to_lowercase() == name)
            }),
        });
        if by_vm.is_empty() {
            return Err(ReportError::VmNotFound(want.clone()));
        }
    }
    let ok_runs = OkRuns::new(&db.ok_spans().await?, runs.iter().map(|r| r.id).collect());
    let labels = db.host_labels().await?;
    let label = |h: i64| -> String {
        match labels.get(&h) {
            Some(l) => match (&l.name, &l.address) {
                (Some(n), _) => n.clone(),
                (None, Some(a)) => a.clone(),
                (None, None) => format!("host #{h}"),
            },
            None => format!("host #{h}"),
        }
    };

    let mut vms = Vec::new();
    for (guid, mut rows) in by_vm {
        rows.sort_by_key(|r| (r.first_run_id, r.last_run_id));
        let mut events = Vec::new();
        let mut spans: Vec<(i64, i64, i64)> = Vec::new(); // host, from, to
        let mut prev: Option<&VmFacts> = None;
        for cur in &rows {
            match prev {
                None => {
                    // "Added" only when its host was seen before without it;
                    // a VM present at the first look was not added then.
                    let seen_before = ok_runs
                        .first_between(cur.host_id, None, 0, cur.first_run_id)
                        .is_some();
                    if seen_before {
                        events.push((cur.first_run_id, EventKind::Added, cur.host_id, None, None));
                    }
                }
                Some(p) => {
                    let gone = if cur.first_run_id > p.last_run_id + 1 {
                        ok_runs.first_between(
                            p.host_id,
                            Some(cur.host_id),
                            p.last_run_id,
                            cur.first_run_id,
                        )
                    } else {
                        None
                    };
                    if let Some(x) = gone {
                        events.push((x, EventKind::Removed, p.host_id, None, None));
                        events.push((cur.first_run_id, EventKind::Added, cur.host_id, None, None));
                    } else {
                        if p.host_id != cur.host_id {
                            events.push((
                                cur.first_run_id,
                                EventKind::Migrated,
                                cur.host_id,
                                Some(label(p.host_id)),
                                Some(label(cur.host_id)),
                            ));
                        }
                        if p.vm.vcpus != cur.vm.vcpus {
                            events.push((
                                cur.first_run_id,
                                EventKind::VcpusChanged,
                                cur.host_id,
                                p.vm.vcpus.map(|v| v.to_string()),
                                cur.vm.vcpus.map(|v| v.to_string()),
                            ));
                        }
                        if p.vm.state != cur.vm.state {
                            events.push((
                                cur.first_run_id,
                                EventKind::StateChanged,
                                cur.host_id,
                                Some(p.vm.state.as_str().to_string()),
                                Some(cur.vm.state.as_str().to_string()),
                            ));
                        }
                    }
                    let joined = gone.is_none() && p.host_id == cur.host_id;
                    match spans.last_mut() {
                        Some(s) if joined => s.2 = cur.last_run_id,
                        _ => spans.push((cur.host_id, cur.first_run_id, cur.last_run_id)),
                    }
                }
            }
            if prev.is_none() {
                spans.push((cur.host_id, cur.first_run_id, cur.last_run_id));
            }
            prev = Some(cur);
        }
        if let Some(p) = prev
            && let Some(x) = ok_runs.first_between(p.host_id, None, p.last_run_id, hi + 1)
        {
            events.push((x, EventKind::Removed, p.host_id, None, None));
        }

        let placements: Vec<Placement> = spans
            .into_iter()
            .filter(|(_, f, t)| *t >= lo && *f <= hi)
            .map(|(h, f, t)| Placement {
                host_id: h,
                host: label(h),
                from: at(f.max(lo)),
                to: at(t.min(hi)),
            })
            .collect();
        let events: Vec<Event> = events
            .into_iter()
            .filter(|(r, ..)| *r >= lo && *r <= hi)
            .map(|(r, kind, h, before, after)| Event {
                run: at(r),
                kind,
                host: label(h),
                before,
                after,
            })
            .collect();
        if placements.is_empty() && events.is_empty() {
            continue;
        }
        vms.push(VmHistory {
            id: guid,
            name: rows.last().and_then(|r| r.vm.name.clone()),
            placements,
            events,
        });
    }
    if vms.is_empty()
        && let Some(want) = &opts.vm
    {
        return Err(ReportError::VmNotFound(want.clone()));
    }
    Ok(HistoryReport {
        schema: SCHEMA,
        first_run: at(lo),
        last_run: at(hi),
        vms,
    })
}
