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

/// One problem found in a playbook, tied to its file; displayed as its
/// [`Diagnostic::headline`].
#[derive(Debug, Clone, Serialize, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.headline())]
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
        let mut out = crate::printable::printable(&self.headline()).into_owned();
        let line = source.and_then(|s| s.lines().nth(self.line.saturating_sub(1) as usize));
        if let (Some(text), true) = (line, self.line > 0) {
            let number = self.line.to_string();
            let pad = " ".repeat(number.len());
            let shown: String = text.chars().take(200).collect();
            let shown = crate::printable::printable(&shown);
            let caret = " ".repeat(self.column.saturating_sub(1) as usize);
            let _ = write!(out, "\n{pad} |\n{number} | {shown}\n{pad} | {caret}^");
        }
        out
    }
}

/// Where each line of a source starts, so a line and column become a byte
/// offset and back without scanning the source again (a playbook of
/// thousands of steps asks this for every expression it checks).
pub struct Lines<'a> {
    source: &'a str,
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    pub fn new(source: &'a str) -> Self {
        let starts = std::iter::once(0).chain(source.match_indices('\n').map(|(i, _)| i + 1)).collect();
        Self { source, starts }
    }

    /// The byte offset of a 1-based line and column (columns count characters).
    pub fn offset_of(&self, line: u32, column: u32) -> usize {
        let Some(&start) = self.starts.get((line as usize).wrapping_sub(1)) else { return self.source.len() };
        let end = self.starts.get(line as usize).copied().unwrap_or(self.source.len());
        let text = &self.source[start..end];
        start + text.char_indices().nth(column.saturating_sub(1) as usize).map_or(text.len(), |(b, _)| b)
    }

    /// The 1-based line and column of a byte offset.
    pub fn location_of(&self, offset: usize) -> Pos {
        let offset = offset.min(self.source.len());
        let index = self.starts.partition_point(|&start| start <= offset) - 1;
        let column = self.source[self.starts[index]..offset].chars().count() + 1;
        Pos { line: u32::try_from(index + 1).unwrap_or(u32::MAX), column: u32::try_from(column).unwrap_or(u32::MAX) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_turn_places_into_offsets_and_back_counting_characters() {
        let source = "a: 1\nnäme: \"é\"\n\nlast";
        let lines = Lines::new(source);
        for (offset, _) in source.char_indices() {
            let pos = lines.location_of(offset);
            assert_eq!(lines.offset_of(pos.line, pos.column), offset, "{pos:?}");
        }
        assert_eq!(lines.location_of(source.find('ä').unwrap() + 2), Pos { line: 2, column: 3 });
        assert_eq!(lines.offset_of(9, 1), source.len());
        assert_eq!(lines.offset_of(0, 1), source.len());
        assert_eq!(lines.location_of(999), Pos { line: 4, column: 5 });
    }
}
