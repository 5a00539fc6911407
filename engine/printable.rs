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

/// Whether `json`, text as `serde_json` writes it, has a string holding a control
/// character [`printable`] would change: one written raw (DEL, C1) or escaped (`\b`,
/// `\f`, `\r`, `\u00XX`, which it uses for no other character). A look at the text,
/// so a record need not become a `Value` tree only to learn it is clean.
pub fn json_text_has_hidden(json: &str) -> bool {
    let mut chars = json.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if matches!(chars.next(), Some('b' | 'f' | 'r' | 'u')) {
                    return true;
                }
            }
            c if hidden(c) => return true,
            _ => {}
        }
    }
    false
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

    proptest::proptest! {
        /// The look at the text finds a hidden character exactly where one is, in keys too.
        #[test]
        fn the_text_has_one_exactly_when_a_string_does(key in "\\PC{0,4}|[\\x00-\\x{a0}]{0,4}", s in "(\\PC|[\\x00-\\x{a0}\\\\\"])*") {
            let value = serde_json::json!({key.clone(): [s.clone(), {"k": 1}]});
            let text = serde_json::to_string(&value).unwrap();
            let expected = key.chars().any(hidden) || s.chars().any(hidden);
            proptest::prop_assert_eq!(json_text_has_hidden(&text), expected, "{}", text);
        }
    }
}
