//! The YAML reader's errors, said for a person. The reader refuses input past
//! its limits (nesting depth, aliases, nodes…) so a hostile file cannot
//! exhaust memory or time; its own wording of a breached limit is debug text
//! (`budget breached: Depth { depth: 65 }`). [`Plain`] words the breach from
//! the [`BudgetBreach`] itself, for every YAML file we read (playbooks,
//! notify files, answers files); every other message is the reader's own.

use std::borrow::Cow;

use serde_saphyr::budget::BudgetBreach;
use serde_saphyr::{DefaultMessageFormatter, Error, MessageFormatter};

/// The reader's message formatter, but with a breached limit said in words.
pub struct Plain;

impl MessageFormatter for Plain {
    fn format_message<'a>(&self, err: &'a Error) -> Cow<'a, str> {
        match err {
            Error::Budget { breach, .. } => match breached(breach) {
                Some(what) => Cow::Owned(format!("the YAML is past what the reader accepts: {what}")),
                None => DefaultMessageFormatter.format_message(err),
            },
            _ => DefaultMessageFormatter.format_message(err),
        }
    }
}

/// What a breached limit means for the file; `None` for the limits the
/// reader already words (property expansion, which we do not use).
fn breached(breach: &BudgetBreach) -> Option<String> {
    Some(match breach {
        BudgetBreach::PropertyExpansionDepth { .. } | BudgetBreach::PropertyInterpolationWork { .. } => return None,
        BudgetBreach::Depth { depth } => format!("it nests {depth} levels deep"),
        BudgetBreach::InclusionDepth { depth } => format!("it nests {depth} levels deep"),
        BudgetBreach::Aliases { aliases } => format!("it uses {aliases} aliases (`*name`)"),
        BudgetBreach::Anchors { anchors } => format!("it defines {anchors} anchors (`&name`)"),
        BudgetBreach::AliasAnchorRatio { aliases, anchors } => {
            format!("its {aliases} aliases for {anchors} anchors would expand it too far")
        }
        BudgetBreach::Events { events: n } | BudgetBreach::Nodes { nodes: n } => format!("it has {n} YAML nodes"),
        BudgetBreach::Documents { documents } => format!("it holds {documents} YAML documents"),
        BudgetBreach::ScalarBytes { total_scalar_bytes } => format!("its values add up to {total_scalar_bytes} bytes"),
        BudgetBreach::MergeKeys { merge_keys } => format!("it uses {merge_keys} merge keys (`<<`)"),
        BudgetBreach::InputBytes { input_bytes } => format!("it is {input_bytes} bytes long"),
        _ => "it is too large or too deeply nested".to_owned(),
    })
}

/// The whole error as the reader renders it (place, snippet), in plain words.
pub fn plain(error: &Error) -> String {
    error.render_with_formatter(&Plain)
}

/// The error the reader reports, under the alias and snippet it may be wrapped in.
pub fn original(mut error: &Error) -> &Error {
    while let Error::AliasError { error: inner, .. } | Error::WithSnippet { error: inner, .. } = error {
        error = inner;
    }
    error
}

/// The message alone, in plain words: no place, no snippet (we print the
/// place ourselves). Control characters are escaped, as the reader's own
/// rendering does, so a key cannot break a terminal line.
pub fn message(error: &Error) -> String {
    escape_controls(&Plain.format_message(original(error)))
}

/// `text` with control characters written as escapes (`\t`, `\u{1b}`).
pub fn escape_controls(text: &str) -> String {
    let unsafe_char = |c: char| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}');
    text.chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if unsafe_char(c) { c.escape_debug().collect() } else { vec![c] };
            escaped
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(yaml: &str) -> Error {
        serde_saphyr::from_str::<serde_json::Value>(yaml).expect_err("past a limit")
    }

    #[test]
    fn a_breached_limit_is_said_in_words() {
        let deep = error_of(&format!("{}{}", "[".repeat(100), "]".repeat(100)));
        assert_eq!(message(&deep), "the YAML is past what the reader accepts: it nests 65 levels deep");
        assert!(plain(&deep).contains("the YAML is past what the reader accepts: it nests 65 levels deep"));
        assert_eq!(
            breached(&BudgetBreach::AliasAnchorRatio { aliases: 900, anchors: 2 }).as_deref(),
            Some("its 900 aliases for 2 anchors would expand it too far")
        );
        assert_eq!(
            breached(&BudgetBreach::SequenceUnbalanced).as_deref(),
            Some("it is too large or too deeply nested")
        );
    }

    #[test]
    fn other_messages_are_the_readers_own() {
        let error = error_of("a: [1,\n");
        assert_eq!(plain(&error), error.to_string());
        assert_eq!(escape_controls("a\tb"), "a\\tb");
    }
}
