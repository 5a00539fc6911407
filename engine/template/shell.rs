//! Where each `{{…}}` stands in a `sh -c` script, by a lexer of POSIX `sh`
//! quoting. A value never becomes script text: it is passed as an environment
//! variable and the `{{…}}` becomes an expansion of it that the shell does not
//! parse again, written for the quoting around it. A place where no expansion
//! is safe (arithmetic, `${…}`, `$'…'`, quoted heredoc bodies, after a `\` or
//! `$`), or where this lexer could disagree with the shell, is refused.

/// How a value is expanded where it stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// Outside quotes: `"${NAME}"`, one word, never split or globbed.
    Unquoted,
    /// Inside `"…"` or an unquoted heredoc body: `${NAME}`.
    Double,
    /// Inside `'…'`: close, expand in double quotes, reopen: `'"${NAME}"'`.
    Single,
}

impl Slot {
    /// The text that expands variable `name` here.
    pub fn expansion(self, name: &str) -> String {
        match self {
            Self::Unquoted => format!("\"${{{name}}}\""),
            Self::Double => format!("${{{name}}}"),
            Self::Single => format!("'\"${{{name}}}\"'"),
        }
    }
}

const FIX: &str = "put the value in `env:` and use \"$NAME\" in a plain or double-quoted place";

#[derive(Debug)]
enum Frame {
    /// Commands: the script, `$(…)` (closed by `)`) or backticks.
    Command {
        close: Option<u8>,
        parens: usize,
        cases: usize,
        unsure: Option<&'static str>,
    },
    Double,
    Single,
    /// `$'…'`, which expands backslash escapes.
    DollarSingle,
    /// `${…}`.
    Param,
    /// `$((…))`, with the depth of parentheses inside.
    Arith(usize),
    /// A heredoc body up to its delimiter line; `quoted` bodies expand nothing.
    Heredoc {
        delimiter: String,
        strip_tabs: bool,
        quoted: bool,
    },
}

struct Heredoc {
    delimiter: String,
    strip_tabs: bool,
    quoted: bool,
}

/// The slot of each reference (`(start, end)` byte ranges in order), or the
/// offset of one that cannot be made safe and why.
pub fn slots(script: &str, refs: &[(usize, usize)]) -> Result<Vec<Slot>, (usize, String)> {
    let bytes = script.as_bytes();
    let mut stack = vec![Frame::Command { close: None, parens: 0, cases: 0, unsure: None }];
    let mut pending: Vec<Heredoc> = Vec::new();
    let mut out = Vec::with_capacity(refs.len());
    let mut next_ref = 0;
    let mut word_start = true;
    let mut i = 0;
    let ref_at = |i: usize, next: usize| refs.get(next).filter(|r| r.0 == i).copied();
    while i < bytes.len() {
        // A heredoc body is read line by line, to find its delimiter.
        if let Some(Frame::Heredoc { delimiter, strip_tabs, .. }) = stack.last()
            && (i == 0 || bytes[i - 1] == b'\n')
        {
            let end = script[i..].find('\n').map_or(script.len(), |n| i + n);
            let line = &script[i..end];
            let line = if *strip_tabs { line.trim_start_matches('\t') } else { line };
            if line == delimiter && !refs[next_ref..].iter().any(|r| r.0 < end) {
                stack.pop();
                i = (end + 1).min(bytes.len());
                if !pending.is_empty() {
                    let h = pending.remove(0);
                    stack.push(Frame::Heredoc { delimiter: h.delimiter, strip_tabs: h.strip_tabs, quoted: h.quoted });
                }
                continue;
            }
        }
        if let Some((start, end)) = ref_at(i, next_ref) {
            out.push(slot_here(&stack, script, start)?);
            next_ref += 1;
            i = end;
            word_start = false;
            continue;
        }
        let c = bytes[i];
        let top = stack.len() - 1;
        match &mut stack[top] {
            Frame::Single => {
                if c == b'\'' {
                    stack.pop();
                }
                i += 1;
            }
            Frame::DollarSingle => {
                match c {
                    b'\\' => i += 1,
                    b'\'' => {
                        stack.pop();
                    }
                    _ => {}
                }
                i += 1;
            }
            Frame::Heredoc { quoted: true, .. } => i += 1,
            Frame::Arith(depth) => {
                match c {
                    b'(' => *depth += 1,
                    b')' if *depth > 0 => *depth -= 1,
                    b')' if bytes.get(i + 1) == Some(&b')') => {
                        stack.pop();
                        i += 1;
                    }
                    _ => {}
                }
                i += 1;
            }
            Frame::Param => {
                match c {
                    b'}' => {
                        stack.pop();
                    }
                    b'\\' => i += 1,
                    b'\'' => stack.push(Frame::Single),
                    b'"' => stack.push(Frame::Double),
                    b'$' => i = dollar(&mut stack, bytes, i, refs.get(next_ref))? - 1,
                    _ => {}
                }
                i += 1;
            }
            Frame::Double | Frame::Heredoc { .. } => {
                let double = matches!(stack[top], Frame::Double);
                match c {
                    b'"' if double => {
                        stack.pop();
                        i += 1;
                    }
                    b'\\' => i = escaped(bytes, i, refs.get(next_ref))?,
                    b'$' => {
                        i = dollar(&mut stack, bytes, i, refs.get(next_ref))?;
                        word_start = true;
                    }
                    b'`' => {
                        word_start = true;
                        let why = "inside backticks within double quotes (write `$(…)` instead)";
                        stack.push(Frame::Command { close: Some(b'`'), parens: 0, cases: 0, unsure: Some(why) });
                        i += 1;
                    }
                    _ => i += 1,
                }
            }
            Frame::Command { close, parens, cases, .. } => {
                let (close, parens, cases) = (*close, *parens, *cases);
                let was_word_start = word_start;
                word_start = matches!(c, b' ' | b'\t' | b'\n' | b';' | b'&' | b'|' | b'(' | b')' | b'<' | b'>');
                let depth = stack.len();
                match c {
                    b'\'' => {
                        stack.push(Frame::Single);
                        i += 1;
                    }
                    b'"' => {
                        stack.push(Frame::Double);
                        i += 1;
                    }
                    b'\\' => {
                        // In backticks `\\`, `\$` and `` \` `` are unescaped before the inner
                        // command is parsed: this lexer would read that command differently.
                        if close == Some(b'`') && matches!(bytes.get(i + 1), Some(b'\\' | b'$' | b'`')) {
                            set_command(&mut stack, |_, _, unsure| {
                                *unsure =
                                    Some("after `\\\\`, `\\$` or ``\\` `` inside backticks (write `$(…)` instead)")
                            });
                        }
                        i = escaped(bytes, i, refs.get(next_ref))?;
                    }
                    b'$' => i = dollar(&mut stack, bytes, i, refs.get(next_ref))?,
                    b'`' if close == Some(b'`') => {
                        stack.pop();
                        i += 1;
                    }
                    b'`' => {
                        stack.push(Frame::Command { close: Some(b'`'), parens: 0, cases: 0, unsure: None });
                        i += 1;
                    }
                    b'(' => {
                        set_command(&mut stack, |parens, _, _| *parens += 1);
                        i += 1;
                    }
                    b')' if parens > 0 => {
                        set_command(&mut stack, |parens, _, _| *parens -= 1);
                        i += 1;
                    }
                    // `case` patterns end in an unmatched `)`.
                    b')' if close == Some(b')') && cases == 0 => {
                        stack.pop();
                        i += 1;
                    }
                    b'#' if was_word_start => {
                        i = script[i..].find('\n').map_or(script.len(), |n| i + n);
                        let skipped = refs[next_ref..].iter().take_while(|r| r.0 < i).count();
                        out.extend(std::iter::repeat_n(Slot::Unquoted, skipped));
                        next_ref += skipped;
                    }
                    b'<' if bytes.get(i + 1) == Some(&b'<') && bytes.get(i + 2) != Some(&b'<') => {
                        let (heredoc, after) = heredoc_operator(script, i + 2, &refs[next_ref..])?;
                        pending.push(heredoc);
                        i = after;
                    }
                    b'<' if bytes.get(i + 1) == Some(&b'<') => i += 3,
                    b'\n' if !pending.is_empty() => {
                        let h = pending.remove(0);
                        stack.push(Frame::Heredoc {
                            delimiter: h.delimiter,
                            strip_tabs: h.strip_tabs,
                            quoted: h.quoted,
                        });
                        i += 1;
                    }
                    _ if was_word_start && close == Some(b')') && word_is(script, i, "case") => {
                        set_command(&mut stack, |_, cases, _| *cases += 1);
                        i += 4;
                    }
                    _ if was_word_start && cases > 0 && word_is(script, i, "esac") => {
                        set_command(&mut stack, |_, cases, _| *cases -= 1);
                        i += 4;
                    }
                    _ => i += 1,
                }
                if stack.len() > depth {
                    word_start = true;
                }
            }
        }
    }
    if let Some(open) = stack.iter().skip(1).find(|f| !matches!(f, Frame::Heredoc { .. }))
        && let Some(&(start, _)) = refs.first()
    {
        return Err((start, format!("the script leaves {} open, so where values stand is unclear", name(open))));
    }
    Ok(out)
}

/// Changes the innermost frame, a command frame.
fn set_command(stack: &mut [Frame], change: impl FnOnce(&mut usize, &mut usize, &mut Option<&'static str>)) {
    if let Some(Frame::Command { parens, cases, unsure, .. }) = stack.last_mut() {
        change(parens, cases, unsure);
    }
}

/// The slot for a reference at `start`, or why the place cannot hold a value.
fn slot_here(stack: &[Frame], script: &str, start: usize) -> Result<Slot, (usize, String)> {
    let reference = script[start..].find("}}").map_or(&script[start..], |e| &script[start..start + e + 2]);
    let refuse = |why: &str| Err((start, format!("`{reference}` cannot stand {why}; {FIX}")));
    for frame in stack {
        match frame {
            Frame::Arith(_) => return refuse("inside `$((…))`, where it would be evaluated as arithmetic"),
            Frame::Param => return refuse("inside `${…}`"),
            Frame::DollarSingle => return refuse("inside `$'…'`, where its backslashes would be escapes"),
            Frame::Heredoc { quoted: true, .. } => {
                return refuse("in a quoted heredoc body, which expands nothing");
            }
            Frame::Command { unsure: Some(why), .. } => return refuse(why),
            _ => {}
        }
    }
    Ok(match stack.last() {
        Some(Frame::Double | Frame::Heredoc { .. }) => Slot::Double,
        Some(Frame::Single) => Slot::Single,
        _ => Slot::Unquoted,
    })
}

/// Past a `\` and the byte it escapes; a value cannot be escaped.
fn escaped(bytes: &[u8], i: usize, next: Option<&(usize, usize)>) -> Result<usize, (usize, String)> {
    if let Some(&(start, _)) = next.filter(|r| r.0 == i + 1) {
        return Err((start, format!("a value cannot follow `\\` (it would be escaped); {FIX}")));
    }
    Ok((i + 2).min(bytes.len()))
}

/// Past a `$` and what it opens (`$(`, `$((`, `${`, `$'`), pushing its frame.
fn dollar(
    stack: &mut Vec<Frame>,
    bytes: &[u8],
    i: usize,
    next: Option<&(usize, usize)>,
) -> Result<usize, (usize, String)> {
    if let Some(&(start, _)) = next.filter(|r| r.0 == i + 1) {
        return Err((start, format!("a value cannot follow `$` (it would name a parameter); {FIX}")));
    }
    Ok(match (bytes.get(i + 1), bytes.get(i + 2)) {
        (Some(b'('), Some(b'(')) => {
            stack.push(Frame::Arith(0));
            i + 3
        }
        (Some(b'('), _) => {
            stack.push(Frame::Command { close: Some(b')'), parens: 0, cases: 0, unsure: None });
            i + 2
        }
        (Some(b'{'), _) => {
            stack.push(Frame::Param);
            i + 2
        }
        (Some(b'\''), _) if !matches!(stack.last(), Some(Frame::Double | Frame::Heredoc { .. })) => {
            stack.push(Frame::DollarSingle);
            i + 2
        }
        // `$#`, `$$`, `$'` in double quotes, `$"`: one special parameter or a literal.
        (Some(b'#' | b'$' | b'\\'), _) => i + 2,
        _ => i + 1,
    })
}

/// Reads the delimiter word after `<<` (`-` and blanks first); a value in it is refused.
fn heredoc_operator(script: &str, from: usize, refs: &[(usize, usize)]) -> Result<(Heredoc, usize), (usize, String)> {
    let bytes = script.as_bytes();
    let mut i = from;
    let strip_tabs = bytes.get(i) == Some(&b'-');
    if strip_tabs {
        i += 1;
    }
    while matches!(bytes.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    let start = i;
    let mut quote = None;
    while let Some(&c) = bytes.get(i) {
        match (quote, c) {
            (None, b' ' | b'\t' | b'\n' | b';' | b'&' | b'|' | b'(' | b')' | b'<' | b'>') => break,
            (None, b'\'' | b'"') => quote = Some(c),
            (Some(q), _) if q == c => quote = None,
            (None, b'\\') => i += 1,
            _ => {}
        }
        i += 1;
    }
    let i = i.min(bytes.len());
    let word = &script[start..i];
    if let Some(&(at, _)) = refs.iter().find(|r| r.0 >= start && r.0 < i.max(start + 1)) {
        return Err((at, format!("a value cannot be a heredoc delimiter; {FIX}")));
    }
    let quoted = word.contains(['\'', '"', '\\']);
    let delimiter = word.chars().filter(|c| !matches!(c, '\'' | '"' | '\\')).collect();
    Ok((Heredoc { delimiter, strip_tabs, quoted }, i))
}

/// Whether the word `word` (a reserved word) starts at `i`.
fn word_is(script: &str, i: usize, word: &str) -> bool {
    script[i..].starts_with(word)
        && script[i + word.len()..].chars().next().is_none_or(|c| c.is_whitespace() || matches!(c, ';' | ')'))
}

fn name(frame: &Frame) -> &'static str {
    match frame {
        Frame::Command { close: Some(b'`'), .. } => "a backtick",
        Frame::Command { .. } => "a `$(`",
        Frame::Double => "a `\"`",
        Frame::Single | Frame::DollarSingle => "a `'`",
        Frame::Param => "a `${`",
        Frame::Arith(_) => "a `$((`",
        Frame::Heredoc { .. } => "a heredoc",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The slots of every `{{x}}` in `script`.
    fn of(script: &str) -> Result<Vec<Slot>, String> {
        let refs: Vec<(usize, usize)> = script.match_indices("{{x}}").map(|(i, _)| (i, i + 5)).collect();
        slots(script, &refs).map_err(|(at, message)| {
            assert!(script[at..].starts_with("{{"), "points at `{{`: {at} in {script}");
            message
        })
    }

    use Slot::*;

    #[test]
    fn quoting_decides_the_slot() {
        assert_eq!(of("echo {{x}} a{{x}}b").unwrap(), [Unquoted, Unquoted]);
        assert_eq!(of(r#"echo "x{{x}}y" 'a{{x}}' "#).unwrap(), [Double, Single]);
        assert_eq!(of(r#"echo "it's {{x}}" 'say "{{x}}"'"#).unwrap(), [Double, Single]);
        assert_eq!(of(r#"echo \" {{x}} \' {{x}}"#).unwrap(), [Unquoted, Unquoted]);
        assert_eq!(of(r#"echo "a\"{{x}}""#).unwrap(), [Double]);
    }

    #[test]
    fn command_substitutions_start_over() {
        assert_eq!(of(r#"echo "$(echo {{x}} "{{x}}")" {{x}}"#).unwrap(), [Unquoted, Double, Unquoted]);
        assert_eq!(of("echo $( (echo {{x}}) ) {{x}}").unwrap(), [Unquoted, Unquoted]);
        assert_eq!(of("echo `echo {{x}} '{{x}}'` {{x}}").unwrap(), [Unquoted, Single, Unquoted]);
        assert_eq!(of(r#"x=$(case a in a) echo "{{x}}";; esac) {{x}}"#).unwrap(), [Double, Unquoted]);
    }

    #[test]
    fn comments_and_special_parameters() {
        assert_eq!(of("echo a#{{x}} # it's {{x}}\necho '{{x}}'").unwrap(), [Unquoted, Unquoted, Single]);
        assert_eq!(of("echo $# $$ \"$#{{x}}\"").unwrap(), [Double]);
    }

    #[test]
    fn heredocs() {
        assert_eq!(of("cat <<EOF\nv={{x}} \"q\" 'q'\nEOF\necho {{x}}").unwrap(), [Double, Unquoted]);
        assert_eq!(
            of("cat <<-EOF; echo {{x}}\n\tv=$(echo {{x}})\n\tEOF\n'{{x}}'").unwrap(),
            [Unquoted, Unquoted, Single]
        );
        assert!(of("cat <<'EOF'\n{{x}}\nEOF").unwrap_err().contains("quoted heredoc"));
        assert!(of("cat <<\\EOF\n{{x}}\nEOF").unwrap_err().contains("quoted heredoc"));
        assert!(of("cat <<{{x}}\nEOF").unwrap_err().contains("delimiter"));
        assert_eq!(of("cat <<< {{x}}").unwrap(), [Unquoted]);
    }

    #[test]
    fn unsafe_places_are_refused() {
        assert!(of("echo $(( {{x}} + 1 ))").unwrap_err().contains("arithmetic"));
        assert!(of("echo \"$(( 1 + ({{x}}) ))\"").unwrap_err().contains("arithmetic"));
        assert!(of("echo ${a:-{{x}}}").unwrap_err().contains("${…}"));
        assert!(of("echo \"${a:-\"{{x}}\"}\"").unwrap_err().contains("${…}"));
        assert!(of("echo $'a{{x}}'").unwrap_err().contains("$'…'"));
        assert!(of("echo \\{{x}}").unwrap_err().contains("`\\`"));
        assert!(of("echo \"\\{{x}}\"").unwrap_err().contains("`\\`"));
        assert!(of("echo ${{x}}").unwrap_err().contains("`$`"));
        assert!(of("echo \"`echo {{x}}`\"").unwrap_err().contains("backticks within double quotes"));
        assert!(of("echo `echo \\`a\\` {{x}}`").unwrap_err().contains("inside backticks"));
        assert!(of("echo '{{x}}").unwrap_err().contains("open"));
        assert!(of("echo \"$(echo {{x}}\"").unwrap_err().contains("open"));
    }

    #[test]
    fn expansions() {
        assert_eq!(Unquoted.expansion("T1"), "\"${T1}\"");
        assert_eq!(Double.expansion("T1"), "${T1}");
        assert_eq!(Single.expansion("T1"), "'\"${T1}\"'");
    }
}
