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

/// Why a reference cannot stand where it does in a script.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Where it stands, no expansion is safe (`place` says where that is).
    #[error("`{reference}` cannot stand {place}; {fix}", fix = FIX)]
    Place { reference: String, place: &'static str },
    #[error("a value cannot follow `\\` (it would be escaped); {fix}", fix = FIX)]
    Escaped,
    #[error("a value cannot follow `$` (it would name a parameter); {fix}", fix = FIX)]
    AfterDollar,
    #[error("a value cannot be a heredoc delimiter; {fix}", fix = FIX)]
    Delimiter,
    /// The script ends inside a quote or substitution (named).
    #[error("the script leaves {0} open, so where values stand is unclear")]
    Open(&'static str),
}

/// A refusal and the byte offset of the reference it is about.
pub type Refused = (usize, Refusal);

const BACKTICKS_IN_DOUBLE: &str = "inside backticks within double quotes (write `$(…)` instead)";
const UNESCAPED_IN_BACKTICKS: &str = "after `\\\\`, `\\$` or ``\\` `` inside backticks (write `$(…)` instead)";

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
    Heredoc(Heredoc),
}

#[derive(Debug)]
struct Heredoc {
    delimiter: String,
    strip_tabs: bool,
    quoted: bool,
}

/// What a command frame knows when its next byte is read.
#[derive(Clone, Copy)]
struct Here {
    close: Option<u8>,
    parens: usize,
    cases: usize,
    word_start: bool,
}

/// The slot of each reference (`(start, end)` byte ranges in order), or the
/// offset of one that cannot be made safe and why.
pub fn slots(script: &str, refs: &[(usize, usize)]) -> Result<Vec<Slot>, Refused> {
    let mut lexer = Lexer::new(script, refs);
    while lexer.i < lexer.bytes.len() {
        if lexer.heredoc_ends() || lexer.reference()? {
            continue;
        }
        lexer.byte()?;
    }
    lexer.finish()
}

/// The lexer's state: where it is, the open frames and the slots so far.
struct Lexer<'a> {
    script: &'a str,
    bytes: &'a [u8],
    refs: &'a [(usize, usize)],
    stack: Vec<Frame>,
    /// Heredocs whose operator was read, whose bodies start on the next line.
    pending: Vec<Heredoc>,
    out: Vec<Slot>,
    next_ref: usize,
    word_start: bool,
    i: usize,
}

impl<'a> Lexer<'a> {
    fn new(script: &'a str, refs: &'a [(usize, usize)]) -> Self {
        Self {
            script,
            bytes: script.as_bytes(),
            refs,
            stack: vec![Frame::Command { close: None, parens: 0, cases: 0, unsure: None }],
            pending: Vec::new(),
            out: Vec::with_capacity(refs.len()),
            next_ref: 0,
            word_start: true,
            i: 0,
        }
    }

    /// The next reference not yet given a slot.
    fn next(&self) -> Option<&'a (usize, usize)> {
        self.refs.get(self.next_ref)
    }

    /// At the start of a heredoc body's line that is its delimiter (read line
    /// by line): ends the body and starts the next pending one.
    fn heredoc_ends(&mut self) -> bool {
        let Some(Frame::Heredoc(heredoc)) = self.stack.last() else { return false };
        let i = self.i;
        if i != 0 && self.bytes[i - 1] != b'\n' {
            return false;
        }
        let end = self.script[i..].find('\n').map_or(self.script.len(), |n| i + n);
        let line = &self.script[i..end];
        let line = if heredoc.strip_tabs { line.trim_start_matches('\t') } else { line };
        if line != heredoc.delimiter || self.refs[self.next_ref..].iter().any(|r| r.0 < end) {
            return false;
        }
        self.stack.pop();
        self.i = (end + 1).min(self.bytes.len());
        self.start_pending_heredoc();
        true
    }

    fn start_pending_heredoc(&mut self) {
        if !self.pending.is_empty() {
            let heredoc = self.pending.remove(0);
            self.stack.push(Frame::Heredoc(heredoc));
        }
    }

    /// At a reference: its slot, and past it.
    fn reference(&mut self) -> Result<bool, Refused> {
        let Some(&(start, end)) = self.next().filter(|r| r.0 == self.i) else { return Ok(false) };
        self.out.push(slot_here(&self.stack, self.script, start)?);
        self.next_ref += 1;
        self.i = end;
        self.word_start = false;
        Ok(true)
    }

    /// Reads the byte at `i` in the innermost frame.
    fn byte(&mut self) -> Result<(), Refused> {
        let c = self.bytes[self.i];
        match self.stack.last() {
            Some(Frame::Single) => self.in_single(c),
            Some(Frame::DollarSingle) => self.in_dollar_single(c),
            Some(Frame::Heredoc(Heredoc { quoted: true, .. })) => self.i += 1,
            Some(Frame::Arith(_)) => self.in_arith(c),
            Some(Frame::Param) => self.in_param(c)?,
            Some(Frame::Double | Frame::Heredoc(_)) => self.in_double(c)?,
            Some(Frame::Command { close, parens, cases, .. }) => {
                let here = Here { close: *close, parens: *parens, cases: *cases, word_start: self.word_start };
                self.in_command(c, here)?;
            }
            None => self.i += 1,
        }
        Ok(())
    }

    /// Pushes `frame`, opened by the byte at `i`, and goes past that byte.
    fn open(&mut self, frame: Frame) {
        self.stack.push(frame);
        self.i += 1;
    }

    /// Pops the innermost frame, closed by the byte at `i`, and goes past that byte.
    fn close(&mut self) {
        self.stack.pop();
        self.i += 1;
    }

    fn in_single(&mut self, c: u8) {
        if c == b'\'' {
            self.stack.pop();
        }
        self.i += 1;
    }

    fn in_dollar_single(&mut self, c: u8) {
        match c {
            b'\\' => self.i += 1,
            b'\'' => {
                self.stack.pop();
            }
            _ => {}
        }
        self.i += 1;
    }

    fn in_arith(&mut self, c: u8) {
        let closes = self.bytes.get(self.i + 1) == Some(&b')');
        if let Some(Frame::Arith(depth)) = self.stack.last_mut() {
            match c {
                b'(' => *depth += 1,
                b')' if *depth > 0 => *depth -= 1,
                b')' if closes => {
                    self.stack.pop();
                    self.i += 1;
                }
                _ => {}
            }
        }
        self.i += 1;
    }

    fn in_param(&mut self, c: u8) -> Result<(), Refused> {
        match c {
            b'}' => {
                self.stack.pop();
            }
            b'\\' => self.i += 1,
            b'\'' => self.stack.push(Frame::Single),
            b'"' => self.stack.push(Frame::Double),
            b'$' => self.i = self.dollar()? - 1,
            _ => {}
        }
        self.i += 1;
        Ok(())
    }

    /// In `"…"` or an unquoted heredoc body.
    fn in_double(&mut self, c: u8) -> Result<(), Refused> {
        match c {
            b'"' if matches!(self.stack.last(), Some(Frame::Double)) => self.close(),
            b'\\' => self.i = self.escaped()?,
            b'$' => {
                self.i = self.dollar()?;
                self.word_start = true;
            }
            b'`' => {
                self.word_start = true;
                self.open(Frame::Command { close: Some(b'`'), parens: 0, cases: 0, unsure: Some(BACKTICKS_IN_DOUBLE) });
            }
            _ => self.i += 1,
        }
        Ok(())
    }

    /// In commands: quotes and substitutions, grouping, comments and heredocs, `case`.
    fn in_command(&mut self, c: u8, here: Here) -> Result<(), Refused> {
        self.word_start = matches!(c, b' ' | b'\t' | b'\n' | b';' | b'&' | b'|' | b'(' | b')' | b'<' | b'>');
        let depth = self.stack.len();
        let read = self.quote_or_substitution(c, here)?
            || self.grouping(c, here)
            || self.comment_or_heredoc(c, here)?
            || self.case_word(here);
        if !read {
            self.i += 1;
        }
        if self.stack.len() > depth {
            self.word_start = true;
        }
        Ok(())
    }

    fn quote_or_substitution(&mut self, c: u8, here: Here) -> Result<bool, Refused> {
        match c {
            b'\'' => self.open(Frame::Single),
            b'"' => self.open(Frame::Double),
            b'\\' => {
                // In backticks `\\`, `\$` and `` \` `` are unescaped before the inner
                // command is parsed: this lexer would read that command differently.
                if here.close == Some(b'`') && matches!(self.bytes.get(self.i + 1), Some(b'\\' | b'$' | b'`')) {
                    set_command(&mut self.stack, |_, _, unsure| *unsure = Some(UNESCAPED_IN_BACKTICKS));
                }
                self.i = self.escaped()?;
            }
            b'$' => self.i = self.dollar()?,
            b'`' if here.close == Some(b'`') => self.close(),
            b'`' => self.open(Frame::Command { close: Some(b'`'), parens: 0, cases: 0, unsure: None }),
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn grouping(&mut self, c: u8, here: Here) -> bool {
        match c {
            b'(' => set_command(&mut self.stack, |parens, _, _| *parens += 1),
            b')' if here.parens > 0 => set_command(&mut self.stack, |parens, _, _| *parens -= 1),
            // `case` patterns end in an unmatched `)`.
            b')' if here.close == Some(b')') && here.cases == 0 => {
                self.stack.pop();
            }
            _ => return false,
        }
        self.i += 1;
        true
    }

    fn comment_or_heredoc(&mut self, c: u8, here: Here) -> Result<bool, Refused> {
        let (second, third) = (self.bytes.get(self.i + 1), self.bytes.get(self.i + 2));
        match c {
            b'#' if here.word_start => self.comment(),
            b'<' if second == Some(&b'<') && third != Some(&b'<') => {
                let (heredoc, after) = heredoc_operator(self.script, self.i + 2, &self.refs[self.next_ref..])?;
                self.pending.push(heredoc);
                self.i = after;
            }
            b'<' if second == Some(&b'<') => self.i += 3,
            b'\n' if !self.pending.is_empty() => {
                self.start_pending_heredoc();
                self.i += 1;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Past a comment, to the end of its line; a reference in it stays as it is.
    fn comment(&mut self) {
        self.i = self.script[self.i..].find('\n').map_or(self.script.len(), |n| self.i + n);
        let skipped = self.refs[self.next_ref..].iter().take_while(|r| r.0 < self.i).count();
        self.out.extend(std::iter::repeat_n(Slot::Unquoted, skipped));
        self.next_ref += skipped;
    }

    /// `case` and `esac` in a `$(…)`, whose patterns end in an unmatched `)`.
    fn case_word(&mut self, here: Here) -> bool {
        if !here.word_start {
            return false;
        }
        if here.close == Some(b')') && word_is(self.script, self.i, "case") {
            set_command(&mut self.stack, |_, cases, _| *cases += 1);
        } else if here.cases > 0 && word_is(self.script, self.i, "esac") {
            set_command(&mut self.stack, |_, cases, _| *cases -= 1);
        } else {
            return false;
        }
        self.i += 4;
        true
    }

    /// Past a `\` and the byte it escapes; a value cannot be escaped.
    fn escaped(&self) -> Result<usize, Refused> {
        if let Some(&(start, _)) = self.next().filter(|r| r.0 == self.i + 1) {
            return Err((start, Refusal::Escaped));
        }
        Ok((self.i + 2).min(self.bytes.len()))
    }

    /// Past a `$` and what it opens (`$(`, `$((`, `${`, `$'`), pushing its frame.
    fn dollar(&mut self) -> Result<usize, Refused> {
        let i = self.i;
        if let Some(&(start, _)) = self.next().filter(|r| r.0 == i + 1) {
            return Err((start, Refusal::AfterDollar));
        }
        let (frame, after) = match (self.bytes.get(i + 1), self.bytes.get(i + 2)) {
            (Some(b'('), Some(b'(')) => (Frame::Arith(0), i + 3),
            (Some(b'('), _) => (Frame::Command { close: Some(b')'), parens: 0, cases: 0, unsure: None }, i + 2),
            (Some(b'{'), _) => (Frame::Param, i + 2),
            (Some(b'\''), _) if !matches!(self.stack.last(), Some(Frame::Double | Frame::Heredoc(_))) => {
                (Frame::DollarSingle, i + 2)
            }
            // `$#`, `$$`, `$'` in double quotes, `$"`: one special parameter or a literal.
            (Some(b'#' | b'$' | b'\\'), _) => return Ok(i + 2),
            _ => return Ok(i + 1),
        };
        self.stack.push(frame);
        Ok(after)
    }

    /// The slots, unless the script ends with a quote or substitution open.
    fn finish(self) -> Result<Vec<Slot>, Refused> {
        if let Some(open) = self.stack.iter().skip(1).find(|f| !matches!(f, Frame::Heredoc(_)))
            && let Some(&(start, _)) = self.refs.first()
        {
            return Err((start, Refusal::Open(name(open))));
        }
        Ok(self.out)
    }
}

/// Changes the innermost frame, a command frame.
fn set_command(stack: &mut [Frame], change: impl FnOnce(&mut usize, &mut usize, &mut Option<&'static str>)) {
    if let Some(Frame::Command { parens, cases, unsure, .. }) = stack.last_mut() {
        change(parens, cases, unsure);
    }
}

/// The slot for a reference at `start`, or why the place cannot hold a value.
fn slot_here(stack: &[Frame], script: &str, start: usize) -> Result<Slot, Refused> {
    if let Some(place) = stack.iter().find_map(unsafe_place) {
        let reference = script[start..].find("}}").map_or(&script[start..], |e| &script[start..start + e + 2]);
        return Err((start, Refusal::Place { reference: reference.to_owned(), place }));
    }
    Ok(match stack.last() {
        Some(Frame::Double | Frame::Heredoc(_)) => Slot::Double,
        Some(Frame::Single) => Slot::Single,
        _ => Slot::Unquoted,
    })
}

/// Where a value inside `frame` would stand, if no expansion is safe there.
fn unsafe_place(frame: &Frame) -> Option<&'static str> {
    match frame {
        Frame::Arith(_) => Some("inside `$((…))`, where it would be evaluated as arithmetic"),
        Frame::Param => Some("inside `${…}`"),
        Frame::DollarSingle => Some("inside `$'…'`, where its backslashes would be escapes"),
        Frame::Heredoc(Heredoc { quoted: true, .. }) => Some("in a quoted heredoc body, which expands nothing"),
        Frame::Command { unsure, .. } => *unsure,
        _ => None,
    }
}

/// Reads the delimiter word after `<<` (`-` and blanks first); a value in it is refused.
fn heredoc_operator(script: &str, from: usize, refs: &[(usize, usize)]) -> Result<(Heredoc, usize), Refused> {
    let bytes = script.as_bytes();
    let strip_tabs = bytes.get(from) == Some(&b'-');
    let mut start = from + usize::from(strip_tabs);
    while matches!(bytes.get(start), Some(b' ' | b'\t')) {
        start += 1;
    }
    let end = word_end(bytes, start);
    let word = &script[start..end];
    if let Some(&(at, _)) = refs.iter().find(|r| r.0 >= start && r.0 < end.max(start + 1)) {
        return Err((at, Refusal::Delimiter));
    }
    let quoted = word.contains(['\'', '"', '\\']);
    let delimiter = word.chars().filter(|c| !matches!(c, '\'' | '"' | '\\')).collect();
    Ok((Heredoc { delimiter, strip_tabs, quoted }, end))
}

/// The end of the shell word starting at `start`, quotes and escapes included.
fn word_end(bytes: &[u8], start: usize) -> usize {
    let mut i = start;
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
    i.min(bytes.len())
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
        Frame::Heredoc(_) => "a heredoc",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The slots of every `{{x}}` in `script`.
    fn of(script: &str) -> Result<Vec<Slot>, String> {
        let refs: Vec<(usize, usize)> = script.match_indices("{{x}}").map(|(i, _)| (i, i + 5)).collect();
        slots(script, &refs).map_err(|(at, refusal)| {
            assert!(script[at..].starts_with("{{"), "points at `{{`: {at} in {script}");
            refusal.to_string()
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
