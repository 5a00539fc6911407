//! A command line split into words (Redis commands): on spaces, with double
//! quotes keeping spaces in (`\"` inside is a quote). A template is split
//! before its values are put in, so a value is part of exactly one word
//! whatever spaces, quotes or line breaks it holds.

/// Why a command line cannot be split into words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The line (given) ends inside double quotes.
    #[error("`{0}`: a double quote is not closed")]
    Unclosed(String),
    #[error("`command` is empty")]
    Empty,
}

/// Splits `line`; `values` holds each reference's `(start, end)` byte range in
/// `line` with the value that replaces it, in order.
pub fn split(line: &str, values: &[(usize, usize, &str)]) -> Result<Vec<String>, Error> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quoted = false;
    let mut values = values.iter().peekable();
    let mut i = 0;
    while i < line.len() {
        if let Some(&&(start, end, value)) = values.peek()
            && start == i
        {
            word.get_or_insert_default().push_str(value);
            values.next();
            i = end;
            continue;
        }
        let Some(c) = line[i..].chars().next() else { break };
        i += c.len_utf8();
        match c {
            '"' if quoted => quoted = false,
            '"' => {
                quoted = true;
                word.get_or_insert_default();
            }
            '\\' if quoted && line[i..].starts_with('"') => {
                word.get_or_insert_default().push('"');
                i += 1;
            }
            c if c.is_whitespace() && !quoted => words.extend(word.take()),
            c => word.get_or_insert_default().push(c),
        }
    }
    if quoted {
        return Err(Error::Unclosed(line.to_owned()));
    }
    words.extend(word);
    if words.is_empty() {
        return Err(Error::Empty);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn splits_on_spaces_outside_quotes() {
        assert_eq!(split(r#"GET "my key" x"#, &[]).unwrap(), ["GET", "my key", "x"]);
        assert_eq!(split(r#"ECHO "say \"hi\"""#, &[]).unwrap(), ["ECHO", r#"say "hi""#]);
        assert_eq!(split(r#"GET """#, &[]).unwrap(), ["GET", ""]);
        assert!(split(r#"GET "x"#, &[]).is_err());
        assert!(split("  ", &[]).is_err());
    }

    #[test]
    fn a_value_stays_in_its_word() {
        let line = "MGET {{k}} p:{{k}}";
        let values = [(5, 10, "a b\r\n\"c"), (13, 18, " ")];
        assert_eq!(split(line, &values).unwrap(), ["MGET", "a b\r\n\"c", "p: "]);
        assert_eq!(split("GET {{k}}", &[(4, 9, "")]).unwrap(), ["GET", ""]);
    }
}
