//! A problem in a playbook, with its place: `file:line:column: message`,
//! then the source line and a caret under the spot, as rustc prints them.

use std::fmt::Write as _;

use serde::Serialize;

use super::model::Location;

/// A 1-based line and column in a playbook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

impl From<Location> for Pos {
    fn from(l: Location) -> Self {
        Self {
            line: u32::try_from(l.line()).unwrap_or(u32::MAX),
            column: u32::try_from(l.column()).unwrap_or(u32::MAX),
        }
    }
}

/// One problem found in a playbook.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    /// 1-based; 0 when the problem has no single place (e.g. an unreadable file).
    pub line: u32,
    pub column: u32,
    pub message: String,
}

impl Diagnostic {
    pub fn new(file: &str, line: u32, column: u32, message: impl Into<String>) -> Self {
        Self { file: file.to_owned(), line, column, message: message.into() }
    }

    pub fn at(file: &str, pos: impl Into<Pos>, message: impl Into<String>) -> Self {
        let pos = pos.into();
        Self::new(file, pos.line, pos.column, message)
    }

    /// `file:line:column: message` alone.
    pub fn headline(&self) -> String {
        if self.line == 0 {
            format!("{}: {}", self.file, self.message)
        } else {
            format!("{}:{}:{}: {}", self.file, self.line, self.column, self.message)
        }
    }

    /// The headline, then the source line with a caret under the column.
    pub fn render(&self, source: Option<&str>) -> String {
        let mut out = self.headline();
        let line = source.and_then(|s| s.lines().nth(self.line.saturating_sub(1) as usize));
        if let (Some(text), true) = (line, self.line > 0) {
            let number = self.line.to_string();
            let pad = " ".repeat(number.len());
            let shown: String = text.chars().take(200).collect();
            let caret = " ".repeat(self.column.saturating_sub(1) as usize);
            let _ = write!(out, "\n{pad} |\n{number} | {shown}\n{pad} | {caret}^");
        }
        out
    }
}

/// The byte offset of a 1-based line and column (columns count characters).
pub fn offset_of(source: &str, line: u32, column: u32) -> usize {
    let mut offset = 0;
    for (i, text) in source.split_inclusive('\n').enumerate() {
        if i + 1 == line as usize {
            return offset + text.char_indices().nth(column.saturating_sub(1) as usize).map_or(text.len(), |(b, _)| b);
        }
        offset += text.len();
    }
    source.len()
}

/// The 1-based line and column of a byte offset.
pub fn location_of(source: &str, offset: usize) -> Pos {
    let before = &source[..offset.min(source.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Pos { line: u32::try_from(line).unwrap_or(u32::MAX), column: u32::try_from(column).unwrap_or(u32::MAX) }
}
