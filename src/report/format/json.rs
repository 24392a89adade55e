//! JSON: pretty, deterministic (field order is struct order; reports sort
//! their lists before they get here), newline-terminated.

use std::io::Write;

use serde::Serialize;

use crate::report::ReportError;

pub fn write<T: Serialize>(value: &T, out: &mut dyn Write) -> Result<(), ReportError> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    out.write_all(b"\n")?;
    Ok(())
}
