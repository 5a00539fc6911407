//! Every problem that keeps a playbook from loading, not only the first.
//! The YAML reader stops at its first error, so a file with a dozen broken
//! steps used to take a dozen rounds of `validate`. Here the step at fault is
//! set aside (its lines blanked, a placeholder with the same id in its place,
//! so line numbers and references to it stay as they were) and the text is
//! read again, until it loads or a problem lies outside anything that can be set
//! aside. Flow-style steps and top-level and section entries are set aside too
//! (see `set_aside`). What then loads is validated as usual, so the later checks
//! report in the same round, unless an entry the playbook needs was blanked.

use super::diagnostic::Diagnostic;
use super::load::{Loaded, parse};
use super::set_aside;
use super::tree::{self, Node};

/// More rounds than this and the rest waits for the next `validate`.
const MAX_ROUNDS: usize = 200;
/// Nor rounds after this long.
const MAX_TIME: std::time::Duration = std::time::Duration::from_secs(2);

/// The problems of `source` that stops loading at `first`, and the playbook
/// that loads once the steps at fault are set aside (if it does).
pub fn problems(loaded_path: &std::path::Path, source: &str, first: Diagnostic) -> (Vec<Diagnostic>, Option<Loaded>) {
    let file = first.file.clone();
    let mut text = source.to_owned();
    let mut found = vec![first];
    let mut trusted = true;
    let started = std::time::Instant::now();
    for _ in 0..MAX_ROUNDS {
        // Each round reads the whole text again: a file that is slow to read (aliases) gets no more.
        if started.elapsed() > MAX_TIME {
            break;
        }
        let Some(last) = found.last() else { break };
        let Some(patched) = tree::parse(&text).and_then(|root| set_aside(&text, &root, last)) else { break };
        text = patched.text;
        trusted &= patched.trusted;
        let blanked_entry = patched.blanked_entry;
        match parse(&file, &text) {
            Ok(_) if !trusted => break,
            // A field missing once an entry is blanked (`section:` for `sections:`) is that entry.
            Err(next) if blanked_entry && next.message.starts_with("missing field") => break,
            // An alias to an anchor inside what was set aside: that part's doing too.
            Err(next) if next.message.contains("unknown anchor") => break,
            Ok(playbook) => {
                let loaded = Loaded { path: loaded_path.to_path_buf(), shown: file, source: text, playbook };
                return (found, Some(loaded));
            }
            Err(next) if found.iter().any(|d| d.line == next.line && d.message == next.message) => break,
            Err(next) => found.push(next),
        }
    }
    (found, None)
}

/// `text` with the part that holds `problem` set aside: the step there replaced by a
/// placeholder, else the top-level or section entry there blanked. A missing field is not
/// set aside: blanking what stands at its place would only hide it.
fn set_aside(text: &str, root: &Node, problem: &Diagnostic) -> Option<set_aside::SetAside> {
    let line = problem.line;
    let lines: Vec<&str> = text.lines().collect();
    let sections = root.get("sections").map(|e| items(&e.value)).unwrap_or_default();
    let steps: Vec<&Node> = sections.iter().filter_map(|s| s.get("steps")).flat_map(|e| items(&e.value)).collect();
    for step in &steps {
        if let Some((first, last)) = extent(&lines, step)
            && (first..=last).contains(&(line as usize))
        {
            let text = replaced(&lines, first, last, step);
            return Some(set_aside::SetAside { text, trusted: true, blanked_entry: false });
        }
    }
    if let Some(text) = set_aside::flow_step(text, &steps, line, problem.column, &placeholder) {
        return Some(set_aside::SetAside { text, trusted: true, blanked_entry: false });
    }
    if problem.message.starts_with("missing field") {
        return None;
    }
    set_aside::entry(text, root, problem, problem.message.starts_with("unknown field"))
}

/// A one-line step with id `id` that loads whatever the rest says.
fn placeholder(id: &str) -> String {
    format!("{{\"id\": {}, \"title\": \"-\", \"manual\": \"-\"}}", serde_json::to_string(id).unwrap_or_default())
}

/// The 1-based first and last lines of a list item that starts at `item`.
fn extent(lines: &[&str], item: &Node) -> Option<(usize, usize)> {
    let first = item.at.line as usize;
    let start = lines.get(first.checked_sub(1)?)?;
    // Only a block item (`- id: …` opening its own line) can be set aside line by line; a flow
    // list (`steps: [{…}, {…}]`) shares its lines with its neighbours.
    if !start.trim_start().starts_with("- ") || item.at.column as usize != indent(start) + 3 {
        return None;
    }
    // The item's keys sit right of its dash; the item ends at the first line left of them.
    let keys = (item.at.column as usize).saturating_sub(1).max(indent(start) + 1);
    let mut last = first;
    for (i, line) in lines.iter().enumerate().skip(first) {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        if indent(line) < keys {
            break;
        }
        last = i + 1;
    }
    Some((first, last))
}

fn items(node: &Node) -> &[Node] {
    match &node.value {
        tree::Value::List(items) => items,
        _ => &[],
    }
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// The lines with the item's first line a one-line placeholder step (same id) and the rest blank.
fn replaced(lines: &[&str], first: usize, last: usize, step: &Node) -> String {
    let id = step.get("id").and_then(|e| e.value.scalar()).filter(|id| !id.is_empty());
    let id = id.map_or_else(|| format!("rb-set-aside-{first}"), str::to_owned);
    let start = lines[first - 1];
    let dash = start.find("- ").filter(|&i| start[..i].trim().is_empty()).unwrap_or(indent(start));
    let placeholder = format!("{}- {}", " ".repeat(dash), placeholder(&id));
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        let n = i + 1;
        if n == first {
            out.push_str(&placeholder);
        } else if n > first && n <= last {
            // blank: the lines below keep their numbers
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}
