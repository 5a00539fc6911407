//! The Nagios plugin output format (monitoring-plugins' development
//! guidelines): a status line, optional long text on later lines, and
//! performance data after a `|`, on the first line and after the first `|` of a
//! later line (everything from there on is perfdata):
//!
//! ```text
//! DISK OK - free space: / 3326 MB (56%); | /=2643MB;5948;5958;0;5968
//! / 15272 MB (77%);
//! /boot 68 MB (69%); | /boot=68MB;88;93;0;98
//! /home=69357MB;253404;253409;0;253414
//! ```
//!
//! Each perfdata item is `'label'=value[UOM];[warn];[crit];[min];[max]`: a label
//! with spaces is quoted, `''` inside quotes is one quote; trailing fields may be
//! left out or empty; `warn` and `crit` are ranges (`10`, `10:`, `~:10`, `@10:20`)
//! and stay text. Plugins' output is untrusted: anything that does not parse is
//! listed as a problem, never a panic.

use serde::Serialize;

/// One perfdata item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Perf {
    pub label: String,
    /// `None` when the plugin said `U` (could not determine the value).
    pub value: Option<f64>,
    /// The unit of measurement as written: `s`, `ms`, `us`, `%`, `B`, `KB`, `MB`, `GB`, `TB`, `c`, or empty.
    pub uom: String,
    /// The value in the unit's base (seconds for times, bytes for sizes), so values from
    /// plugins that pick different units compare; the value itself for other units.
    pub base: Option<f64>,
    /// `s` for times, `B` for sizes, else the unit as written.
    pub base_uom: String,
    pub warn: Option<String>,
    pub crit: Option<String>,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

/// A plugin's output, split.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PluginOutput {
    /// The status line, without its perfdata.
    pub status: String,
    /// The lines after the status line, without perfdata.
    pub long_text: Vec<String>,
    pub perfdata: Vec<Perf>,
    /// Items that did not parse, each with why.
    pub problems: Vec<String>,
}

/// Splits a plugin's standard output into text and perfdata.
pub fn parse_output(stdout: &str) -> PluginOutput {
    let mut lines = stdout.lines();
    let first = lines.next().unwrap_or("");
    let (status, mut perf_text) = match first.split_once('|') {
        Some((text, perf)) => (text.trim().to_owned(), perf.to_owned()),
        None => (first.trim().to_owned(), String::new()),
    };
    let mut long_text = Vec::new();
    let mut in_perf = false;
    for line in lines {
        if in_perf {
            perf_text.push(' ');
            perf_text.push_str(line);
        } else if let Some((text, perf)) = line.split_once('|') {
            in_perf = true;
            push_text(&mut long_text, text);
            perf_text.push(' ');
            perf_text.push_str(perf);
        } else {
            push_text(&mut long_text, line);
        }
    }
    let (perfdata, problems) = parse_perfdata(&perf_text);
    PluginOutput { status, long_text, perfdata, problems }
}

fn push_text(out: &mut Vec<String>, text: &str) {
    let text = text.trim_end();
    if !text.is_empty() {
        out.push(text.to_owned());
    }
}

/// Parses space-separated perfdata items; what does not parse is a problem.
pub fn parse_perfdata(text: &str) -> (Vec<Perf>, Vec<String>) {
    let mut items = Vec::new();
    let mut problems = Vec::new();
    for raw in split_items(text) {
        match parse_item(&raw) {
            Ok(item) => items.push(item),
            Err(why) => problems.push(format!("`{raw}`: {why}")),
        }
    }
    (items, problems)
}

/// Splits at whitespace outside single quotes (a quoted label may hold spaces; `''` is a quote).
fn split_items(text: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                current.push(c);
            }
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    items.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        items.push(current);
    }
    items
}

fn parse_item(raw: &str) -> Result<Perf, String> {
    let (label, rest) = split_label(raw)?;
    let mut fields = rest.split(';');
    let (value, uom) = split_value(fields.next().unwrap_or(""))?;
    let mut text = || fields.next().map(str::trim).filter(|f| !f.is_empty()).map(str::to_owned);
    let warn = text();
    let crit = text();
    let min = text().map(|t| number(&t, "min")).transpose()?;
    let max = text().map(|t| number(&t, "max")).transpose()?;
    let (factor, base_uom) = base_of(&uom);
    Ok(Perf { label, value, base: value.map(|v| v * factor), base_uom: base_uom.to_owned(), uom, warn, crit, min, max })
}

/// The label and what follows its `=`.
fn split_label(raw: &str) -> Result<(String, &str), String> {
    if let Some(quoted) = raw.strip_prefix('\'') {
        let mut label = String::new();
        let mut chars = quoted.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c != '\'' {
                label.push(c);
            } else if chars.peek().is_some_and(|(_, n)| *n == '\'') {
                chars.next();
                label.push('\'');
            } else {
                let rest = &quoted[i + 1..];
                let value = rest.strip_prefix('=').ok_or("no `=` after the quoted label")?;
                return non_empty(label).map(|l| (l, value));
            }
        }
        return Err("the label's quote is not closed".to_owned());
    }
    let (label, value) = raw.split_once('=').ok_or("no `=`")?;
    non_empty(label.to_owned()).map(|l| (l, value))
}

fn non_empty(label: String) -> Result<String, String> {
    if label.is_empty() { Err("the label is empty".to_owned()) } else { Ok(label) }
}

/// `12.5ms` → (12.5, "ms"); `U` → undetermined.
fn split_value(field: &str) -> Result<(Option<f64>, String), String> {
    let field = field.trim();
    if field == "U" {
        return Ok((None, String::new()));
    }
    let end =
        field.find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'))).unwrap_or(field.len());
    let (number_text, uom) = field.split_at(end);
    let value = number(number_text, "value")?;
    if !uom.chars().all(|c| c.is_alphabetic() || c == '%') {
        return Err(format!("`{uom}` is not a unit"));
    }
    Ok((Some(value), uom.to_owned()))
}

fn number(text: &str, what: &str) -> Result<f64, String> {
    // A comma decimal separator is what some locales make plugins print.
    let value: f64 = text.replace(',', ".").parse().map_err(|_| format!("{what} `{text}` is not a number"))?;
    if value.is_finite() { Ok(value) } else { Err(format!("{what} `{text}` is not a finite number")) }
}

/// The factor to the unit's base and the base unit's name.
fn base_of(uom: &str) -> (f64, &str) {
    match uom {
        "us" => (1e-6, "s"),
        "ms" => (1e-3, "s"),
        "s" => (1.0, "s"),
        "B" => (1.0, "B"),
        "KB" => (1024.0, "B"),
        "MB" => (1024.0 * 1024.0, "B"),
        "GB" => (1024.0 * 1024.0 * 1024.0, "B"),
        "TB" => (1024.0 * 1024.0 * 1024.0 * 1024.0, "B"),
        other => (1.0, other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Perf {
        let (items, problems) = parse_perfdata(text);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(items.len(), 1, "{items:?}");
        items.into_iter().next().unwrap()
    }

    #[test]
    fn a_full_item_has_its_value_unit_thresholds_and_bounds() {
        let p = one("time=0.012345s;1.000000;2.000000;0.000000;10.000000");
        assert_eq!((p.label.as_str(), p.value, p.uom.as_str()), ("time", Some(0.012345), "s"));
        assert_eq!((p.warn.as_deref(), p.crit.as_deref()), (Some("1.000000"), Some("2.000000")));
        assert_eq!((p.min, p.max), (Some(0.0), Some(10.0)));
    }

    #[test]
    fn quoted_labels_keep_spaces_and_doubled_quotes_and_empty_fields_are_absent() {
        let p = one("'free space on /var'=56%;;;0;100");
        assert_eq!(p.label, "free space on /var");
        assert_eq!((p.warn, p.crit, p.min, p.max), (None, None, Some(0.0), Some(100.0)));
        assert_eq!(one("'it''s'=1").label, "it's");
        let bare = one("users=3");
        assert_eq!((bare.value, bare.uom.as_str(), bare.warn), (Some(3.0), "", None));
    }

    #[test]
    fn units_have_a_base_so_values_in_different_units_compare() {
        assert_eq!(one("t=250ms").base, Some(0.25));
        assert_eq!(one("t=250ms").base_uom, "s");
        assert_eq!(one("d=2KB").base, Some(2048.0));
        assert_eq!(one("c=17c").base_uom, "c");
        assert_eq!(one("u=U;1;2").value, None);
    }

    #[test]
    fn ranges_stay_text() {
        let p = one("load1=0.5;@1:5;~:10");
        assert_eq!((p.warn.as_deref(), p.crit.as_deref()), (Some("@1:5"), Some("~:10")));
    }

    #[test]
    fn perfdata_on_later_lines_follows_the_first_bar_of_a_long_text_line() {
        let out = parse_output(
            "DISK OK - free space: / 3326 MB (56%); | /=2643MB;5948;5958;0;5968\n/ 15272 MB (77%);\n/boot 68 MB (69%); | /boot=68MB;88;93;0;98\n/home=69357MB;253404;253409;0;253414\n",
        );
        assert_eq!(out.status, "DISK OK - free space: / 3326 MB (56%);");
        assert_eq!(out.long_text, ["/ 15272 MB (77%);", "/boot 68 MB (69%);"]);
        let labels: Vec<&str> = out.perfdata.iter().map(|p| p.label.as_str()).collect();
        assert_eq!(labels, ["/", "/boot", "/home"]);
        assert!(out.problems.is_empty());
    }

    #[test]
    fn what_does_not_parse_is_a_problem_and_the_rest_is_kept() {
        let (items, problems) = parse_perfdata("ok=1 =2 bad=x4 unit=5$ 'open=3");
        assert_eq!(items.len(), 1);
        assert_eq!(problems.len(), 4, "{problems:?}");
        let (items, problems) = parse_perfdata("a=1 b=nope c=inf");
        assert_eq!(items.len(), 1);
        assert_eq!(problems.len(), 2, "{problems:?}");
    }

    proptest::proptest! {
        #[test]
        fn hostile_output_never_panics(text in "\\PC*") {
            let out = parse_output(&text);
            for p in &out.perfdata {
                proptest::prop_assert!(!p.label.is_empty());
                proptest::prop_assert!(p.value.is_none_or(f64::is_finite));
            }
        }

        #[test]
        fn perfdata_shaped_noise_never_panics(text in "['= ;|0-9a-zA-Z.%@~:\\-\n]{0,80}") {
            let _ = parse_output(&text);
        }

        #[test]
        fn a_written_item_reads_back(label in "[a-z /']{1,12}", value in -1e9f64..1e9, warn in "[0-9:@~]{0,5}") {
            let quoted = format!("'{}'", label.replace('\'', "''"));
            let (items, problems) = parse_perfdata(&format!("{quoted}={value}ms;{warn};;0"));
            proptest::prop_assert!(problems.is_empty(), "{:?}", problems);
            proptest::prop_assert_eq!(&items[0].label, &label);
            proptest::prop_assert_eq!(items[0].value, Some(value));
            proptest::prop_assert_eq!(items[0].warn.clone(), Some(warn).filter(|w| !w.is_empty()));
        }
    }
}
