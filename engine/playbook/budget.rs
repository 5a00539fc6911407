//! The YAML reader refuses input past its limits (nesting depth, aliases,
//! nodes…) so a hostile file cannot exhaust memory or time, but it names the
//! limit with its debug text (`budget breached: Depth { depth: 65 }`). This
//! says it in words, for every YAML file we read (playbooks, notify files,
//! answers files).

const MARK: &str = "budget breached: ";

/// `message` with the reader's debug text of a breached limit, if any, said in words.
pub fn plain(message: &str) -> String {
    let Some(at) = message.find(MARK) else { return message.to_owned() };
    let rest = &message[at + MARK.len()..];
    let name: String = rest.chars().take_while(char::is_ascii_alphanumeric).collect();
    // The debug text is `Name`, or `Name { field: n, … }`.
    let debug_len = match rest[name.len()..].strip_prefix(" {") {
        Some(fields) => fields.find('}').map_or(rest.len(), |end| name.len() + 2 + end + 1),
        None => name.len(),
    };
    let numbers: Vec<&str> = rest[..debug_len].split(|c: char| !c.is_ascii_digit()).filter(|s| !s.is_empty()).collect();
    let n = numbers.first().copied().unwrap_or("too many");
    let what = match name.as_str() {
        "Depth" | "InclusionDepth" | "PropertyExpansionDepth" => format!("it nests {n} levels deep"),
        "Aliases" => format!("it uses {n} aliases (`*name`)"),
        "Anchors" => format!("it defines {n} anchors (`&name`)"),
        "AliasAnchorRatio" => {
            format!("its {n} aliases for {} anchors would expand it too far", numbers.get(1).unwrap_or(&"few"))
        }
        "Events" | "Nodes" => format!("it has {n} YAML nodes"),
        "Documents" => format!("it holds {n} YAML documents"),
        "ScalarBytes" => format!("its values add up to {n} bytes"),
        "MergeKeys" => format!("it uses {n} merge keys (`<<`)"),
        "InputBytes" => format!("it is {n} bytes long"),
        _ => "it is too large or too deeply nested".to_owned(),
    };
    format!(
        "{}the YAML is past what the reader accepts: {what}{}",
        &message[..at],
        &message[at + MARK.len() + debug_len..]
    )
}

#[cfg(test)]
mod tests {
    use super::plain;

    #[test]
    fn a_breached_limit_is_said_in_words() {
        assert_eq!(
            plain("budget breached: Depth { depth: 65 } at line 3"),
            "the YAML is past what the reader accepts: it nests 65 levels deep at line 3"
        );
        assert_eq!(
            plain("x: budget breached: AliasAnchorRatio { aliases: 900, anchors: 2 }"),
            "x: the YAML is past what the reader accepts: its 900 aliases for 2 anchors would expand it too far"
        );
        assert_eq!(
            plain("budget breached: SequenceUnbalanced"),
            "the YAML is past what the reader accepts: it is too large or too deeply nested"
        );
        assert_eq!(plain("unknown field `x`"), "unknown field `x`");
    }
}
