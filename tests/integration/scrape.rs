//! Reading `runbook serve`'s `/metrics`: samples by series, and the check
//! `promtool check metrics` makes (skipped, with a note, where promtool is
//! not installed; `.ci/services.sh` installs it).

use std::collections::BTreeMap;

use crate::sim::http;

/// Samples by name and labels (as written) → value.
pub fn parse(text: &str) -> BTreeMap<String, f64> {
    let mut samples = BTreeMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("not a sample: {line}"));
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("not a number in: {line}"));
        assert!(samples.insert(series.to_owned(), value).is_none(), "duplicate series: {series}");
    }
    samples
}

/// `GET {url}/metrics`: the text and its samples.
pub fn scrape(url: &str) -> (String, BTreeMap<String, f64>) {
    let (status, body) = http("GET", &format!("{url}/metrics"), None);
    assert_eq!(status, 200);
    let text = body.as_str().expect("metrics are text").to_owned();
    let parsed = parse(&text);
    (text, parsed)
}

/// Scrapes until `ready` holds; panics with the last page after the background deadline.
pub fn wait_for(
    url: &str,
    what: &str,
    ready: &dyn Fn(&BTreeMap<String, f64>) -> bool,
) -> (String, BTreeMap<String, f64>) {
    let deadline = std::time::Instant::now() + crate::util::BACKGROUND_DEADLINE;
    loop {
        let (text, samples) = scrape(url);
        if ready(&samples) {
            return (text, samples);
        }
        assert!(std::time::Instant::now() < deadline, "timed out waiting for {what}:\n{text}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// `promtool check metrics` accepts `text`.
pub fn promtool_accepts(text: &str) {
    use std::io::Write;
    let spawned = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("note: promtool is not installed (Debian package `prometheus`); the format check is skipped");
            return;
        }
        Err(e) => panic!("cannot run promtool: {e}"),
    };
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool rejected the metrics:\n{}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The server's base URL, from the address `serve` prints on stderr.
pub fn served_url(stderr: &str) -> String {
    stderr
        .split_whitespace()
        .find_map(|w| w.strip_prefix("http://").and_then(|r| r.strip_suffix("/metrics")))
        .map(|a| format!("http://{a}"))
        .expect("serve prints `serving on http://ADDRESS/metrics`")
}
