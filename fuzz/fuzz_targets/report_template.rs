//! Report template text rendered against a fixed run record (one step of
//! every verdict), through the renderer `run --report --template` uses: the
//! early compile check, then the render, with text and with HTML escaping.

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use runbook::report::RunRecord;
use runbook::report::format::by_name;
use runbook::report::render::{check_template, render};

static RECORD: LazyLock<RunRecord> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../../tests/report-record.json")).expect("the sample record reads")
});

fuzz_target!(|data: &[u8]| {
    let Ok(template) = std::str::from_utf8(data) else { return };
    for name in ["markdown", "html"] {
        let format = by_name(name).expect("a built-in format");
        if check_template(template, format).is_ok() {
            drop(render(&RECORD, format, Some(template)));
        }
    }
});
