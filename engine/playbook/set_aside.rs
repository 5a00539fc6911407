//! The parts of a broken playbook's text that `load_all` sets aside to read on past a
//! problem, beyond block-style steps: a flow-style step (`{id: a, …}`, on its own line, in a
//! flow list or over several lines) becomes a placeholder step with the same id; a top-level
//! entry or a section's entry other than `name` and `steps` is blanked. Every line keeps its
//! number and, where the placeholder fits, every later character its column.

use super::tree::{self, Node};

/// What setting a part aside did to the text.
pub struct SetAside {
    pub text: String,
    /// False when an entry the playbook needs (`vars`, `defaults`, …) was blanked: what then
    /// loads is not the playbook, and checks beyond its structure wait for the next round.
    pub trusted: bool,
    /// An entry was blanked (not a step replaced): a field then missing is its doing.
    pub blanked_entry: bool,
}

/// The flow-style step that holds `line`:`column`, replaced by `placeholder(id)`.
pub fn flow_step(
    text: &str,
    steps: &[&Node],
    line: u32,
    column: u32,
    placeholder: &dyn Fn(&str) -> String,
) -> Option<String> {
    let at = offset(text, line, column)?;
    for step in steps {
        let start = offset(text, step.at.line, step.at.column)?;
        if !text[start..].starts_with('{') {
            continue;
        }
        let end = flow_end(text, start)?;
        if (start..end).contains(&at) {
            let id = step.get("id").and_then(|e| e.value.scalar()).filter(|id| !id.is_empty());
            let id = id.map_or_else(|| format!("rb-set-aside-{}-{}", step.at.line, step.at.column), str::to_owned);
            return Some(overwrite(text, start, end, &placeholder(&id)));
        }
    }
    None
}

/// `text` with the entry that holds `line` blanked: a top-level entry other than a list of
/// `sections`, or an entry of a section other than `name` and `steps`. `harmless`: the
/// problem is the entry's own key, one the playbook does not know, so blanking it changes
/// nothing else. A
/// section that lacks `name` or `steps` (`nam:`, `stepz:`) gets one in the blanked entry's
/// place, so the next round does not report a missing field the test itself made.
pub fn entry(text: &str, root: &Node, problem: &super::Diagnostic, unknown_key: bool) -> Option<SetAside> {
    let line = problem.line;
    let sections = root.get("sections").map(|e| items(&e.value)).unwrap_or_default();
    let section_entries = sections
        .iter()
        .flat_map(|s| entries(s).iter().map(move |e| (e, Some(s))))
        .filter(|(e, _)| e.key != "name" && e.key != "steps");
    let top = entries(root)
        .iter()
        .filter(|e| !(e.key == "sections" && matches!(e.value.value, tree::Value::List(_))))
        .map(|e| (e, None));
    let lines: Vec<&str> = text.lines().collect();
    for (e, section) in top.chain(section_entries) {
        let (first, last) = entry_lines(&lines, e);
        if !(first..=last).contains(&(line as usize)) {
            continue;
        }
        let start = offset(text, e.key_at.line, e.key_at.column)?;
        let end = lines.iter().take(last).map(|l| l.len() + 1).sum::<usize>().min(text.len());
        let (with, trusted) = match section {
            // Its steps are gone: references to them would read as mistakes.
            Some(s) if s.get("steps").is_none() => ("steps: []", false),
            Some(s) if s.get("name").is_none() => ("name: \"-\"", true),
            Some(_) => ("", true),
            None => ("", unknown_key && (e.key_at.line, e.key_at.column) == (problem.line, problem.column)),
        };
        return Some(SetAside { text: overwrite(text, start, end.max(start), with), trusted, blanked_entry: true });
    }
    None
}

fn items(node: &Node) -> &[Node] {
    match &node.value {
        tree::Value::List(items) => items,
        _ => &[],
    }
}

fn entries(node: &Node) -> &[tree::Entry] {
    match &node.value {
        tree::Value::Map(entries) => entries,
        _ => &[],
    }
}

/// The 1-based first and last lines of a block entry: its key's line and the lines below that
/// sit right of the key (or, at the key's own indent, continue a list under it).
fn entry_lines(lines: &[&str], e: &tree::Entry) -> (usize, usize) {
    let first = e.key_at.line as usize;
    let key_indent = (e.key_at.column as usize).saturating_sub(1);
    let own_line_indent = lines.get(first.saturating_sub(1)).map_or(0, |l| indent(l));
    let mut last = first;
    for (i, line) in lines.iter().enumerate().skip(first) {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let deeper = indent(line) > key_indent;
        let list_under = indent(line) == own_line_indent && key_indent == own_line_indent && trimmed.starts_with("- ");
        if !(deeper || list_under) {
            break;
        }
        last = i + 1;
    }
    (first, last)
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// The byte offset of 1-based `line`:`column` (columns count characters).
fn offset(text: &str, line: u32, column: u32) -> Option<usize> {
    let start: usize = text.split_inclusive('\n').take((line as usize).checked_sub(1)?).map(str::len).sum();
    let rest = text.get(start..)?;
    let skip = (column as usize).checked_sub(1)?;
    Some(start + rest.char_indices().nth(skip).map_or(rest.len(), |(i, _)| i))
}

/// The offset just past the flow collection that opens at `start`, quotes respected.
fn flow_end(text: &str, start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut chars = text[start..].char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '{' | '[' => depth += 1,
            '}' | ']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(start + i + 1);
                }
            }
            '"' => {
                while let Some((_, q)) = chars.next() {
                    match q {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
            }
            '\'' => {
                // `''` inside single quotes is one quote: leaving and re-entering comes out the same.
                for (_, q) in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                }
            }
            '#' if text[..start + i].ends_with([' ', '\t']) => {
                for (_, q) in chars.by_ref() {
                    if q == '\n' {
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    None
}

/// `text` with `start..end` blanked (line breaks kept) and `with` written at its start; the
/// characters after it keep their columns when `with` fits on the range's first line.
fn overwrite(text: &str, start: usize, end: usize, with: &str) -> String {
    let blank: String = text[start..end].chars().map(|c| if c == '\n' { '\n' } else { ' ' }).collect();
    let first_line = blank.find('\n').unwrap_or(blank.len());
    let room = with.len().min(first_line);
    format!("{}{with}{}{}", &text[..start], &blank[room..], &text[end..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flow_collection_ends_at_its_matching_bracket_whatever_the_quotes_hold() {
        let text = r#"x: {a: "}", b: '}]', c: [1, {d: 2}]} # }"#;
        assert_eq!(flow_end(text, 3), Some(text.len() - 4));
        assert_eq!(flow_end("{a: [", 0), None);
    }

    #[test]
    fn overwriting_keeps_lines_and_later_columns() {
        assert_eq!(overwrite("- {id: abcdefgh}, z", 2, 16, "{P}"), "- {P}           , z");
        assert_eq!(overwrite("a {b\nc} d", 2, 7, "{P}"), "a {P}\n   d");
    }
}
