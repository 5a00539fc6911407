//! The report formats: the one list that names them all. A file report's
//! format comes from `--report-format` or the file's extension; markdown is
//! the default when the extension says nothing.

use std::path::Path;

/// How a format is produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A handlebars template; `html` escapes values for HTML.
    Template { builtin: &'static str, html: bool },
    /// The run record as pretty JSON.
    Json,
    /// JUnit XML for CI servers.
    Junit,
    /// A Nagios plugin's answer (status line, long text, perfdata).
    Nagios,
    /// TAP version 13.
    Tap,
}

/// One report format.
#[derive(Debug)]
pub struct ReportFormat {
    pub name: &'static str,
    /// File extensions that select it, without the dot.
    pub extensions: &'static [&'static str],
    pub shape: Shape,
}

/// Every report format.
pub static FORMATS: &[ReportFormat] = &[
    ReportFormat {
        name: "markdown",
        extensions: &["md", "markdown"],
        shape: Shape::Template { builtin: include_str!("../templates/report.md.hbs"), html: false },
    },
    ReportFormat {
        name: "html",
        extensions: &["html", "htm"],
        shape: Shape::Template { builtin: include_str!("../templates/report.html.hbs"), html: true },
    },
    ReportFormat {
        name: "text",
        extensions: &["txt", "text"],
        shape: Shape::Template { builtin: include_str!("../templates/report.txt.hbs"), html: false },
    },
    ReportFormat { name: "json", extensions: &["json"], shape: Shape::Json },
    ReportFormat { name: "junit", extensions: &["xml"], shape: Shape::Junit },
    ReportFormat { name: "nagios", extensions: &[], shape: Shape::Nagios },
    ReportFormat { name: "tap", extensions: &["tap"], shape: Shape::Tap },
];

/// The names, for help and errors.
pub fn names() -> Vec<&'static str> {
    FORMATS.iter().map(|f| f.name).collect()
}

/// A format name that is none of [`FORMATS`]; `suggestion` is the nearest one, if any is near.
#[derive(Debug, thiserror::Error)]
#[error(
    "unknown report format `{name}`; {}the formats are {}",
    .suggestion.map(|s| format!("did you mean `{s}`? ")).unwrap_or_default(),
    names().join(", ")
)]
pub struct UnknownFormat {
    pub name: String,
    pub suggestion: Option<&'static str>,
}

/// The format called `name`.
pub fn by_name(name: &str) -> Result<&'static ReportFormat, UnknownFormat> {
    FORMATS
        .iter()
        .find(|f| f.name == name)
        .ok_or_else(|| UnknownFormat { name: name.to_owned(), suggestion: crate::suggest::did_you_mean(name, names()) })
}

/// The format a file's extension names, markdown when it names none.
pub fn for_path(path: &Path) -> &'static ReportFormat {
    let extension = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).unwrap_or_default();
    FORMATS.iter().find(|f| f.extensions.contains(&extension.as_str())).unwrap_or(&FORMATS[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extension_picks_the_format_and_markdown_is_the_default() {
        assert_eq!(for_path(Path::new("out.HTML")).name, "html");
        assert_eq!(for_path(Path::new("a/b.xml")).name, "junit");
        assert_eq!(for_path(Path::new("report")).name, "markdown");
        assert_eq!(for_path(Path::new("day.log")).name, "markdown");
    }

    #[test]
    fn a_misspelt_name_gets_a_suggestion() {
        assert!(by_name("htm").unwrap_err().to_string().contains("did you mean `html`?"));
    }
}
