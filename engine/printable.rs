//! Text from playbooks and probed systems as a terminal may show it: a
//! control character (ESC starting a terminal sequence, NUL, BEL, a C1 code)
//! becomes its visible picture (`␛`, `␀`), one character for one, so a hostile
//! value can neither drive the operator's terminal nor shift a caret under a
//! snippet. Line breaks and tabs stay.

/// `text` with every control character but `\n` and `\t` made visible.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(hidden) {
        return std::borrow::Cow::Borrowed(text);
    }
    std::borrow::Cow::Owned(text.chars().map(|c| if hidden(c) { picture(c) } else { c }).collect())
}

fn hidden(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\t'
}

/// U+2400.. for C0 controls, `␡` for DEL, `�` for the C1 block.
fn picture(c: char) -> char {
    match c as u32 {
        n @ 0..0x20 => char::from_u32(0x2400 + n).unwrap_or('\u{fffd}'),
        0x7f => '\u{2421}',
        _ => '\u{fffd}',
    }
}

/// Whether any string in `value` holds a control character [`printable`] would change.
pub fn json_has_hidden(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::String(s) => s.chars().any(hidden),
        serde_json::Value::Array(items) => items.iter().any(json_has_hidden),
        serde_json::Value::Object(map) => map.iter().any(|(k, v)| k.chars().any(hidden) || json_has_hidden(v)),
        _ => false,
    }
}

/// Every string in `value` made [`printable`].
pub fn printable_json(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(s) => {
            if let std::borrow::Cow::Owned(clean) = printable(s) {
                *s = clean;
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(printable_json),
        serde_json::Value::Object(map) => map.values_mut().for_each(printable_json),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_become_pictures_one_for_one() {
        assert_eq!(printable("a\u{1b}[31mred\u{7}\u{0}"), "a␛[31mred␇␀");
        assert_eq!(printable("x\u{9b}y\u{7f}"), "x\u{fffd}y␡");
        assert_eq!(printable("line\nnext\tcol"), "line\nnext\tcol");
        let mut value = serde_json::json!({"m": ["\u{1b}]0;title\u{7}"]});
        printable_json(&mut value);
        assert_eq!(value, serde_json::json!({"m": ["␛]0;title␇"]}));
    }
}
