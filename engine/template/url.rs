//! Where each `{{…}}` stands in a URL, read from the template's own text (a
//! value never moves what follows it): a value in the path, query or fragment
//! is percent-encoded as one component (and may not be a whole `.`/`..` path
//! segment, which URL parsers resolve away), in the user info likewise, in the host
//! and port it may hold only host and port characters, and one that starts the
//! URL supplies its scheme and host and must be an absolute URL itself.

/// The part of a URL a value stands in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// At the very start: the scheme and host (and maybe a path), as is.
    Base,
    /// Before the `@` of the authority.
    UserInfo,
    /// The host or the port.
    Host,
    /// The path.
    Path,
    /// The query or the fragment.
    Component,
}

/// A reference in a URL's scheme, which no value may supply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "a value cannot supply part of a URL's scheme; start the URL with it (`{{{{vars.base_url}}}}/path`) or write the scheme out"
)]
pub struct InScheme;

/// Why a value cannot go in its part of a URL (said after "the value of `{{…}}`").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unfit {
    #[error("is not an absolute URL (`scheme://host…`)")]
    NotAbsolute,
    #[error("may hold only a host name, an address or a port (letters, digits, `.`, `-`, `:`, `[`, `]`)")]
    NotHost,
    #[error("is a `.`/`..` path segment, which would move the URL's path")]
    DotSegment,
}

/// The part each reference (`(start, end)` byte ranges in order) stands in, or
/// the offset of one in the scheme, which no value may supply.
pub fn parts(url: &str, refs: &[(usize, usize)]) -> Result<Vec<Part>, (usize, InScheme)> {
    // The literal text with every reference blanked out, so it alone decides the structure.
    let mut literal: Vec<u8> = url.as_bytes().to_vec();
    for &(start, end) in refs {
        literal[start..end].fill(0);
    }
    let scheme_like =
        |end: usize| literal[..end].iter().all(|c| *c == 0 || c.is_ascii_alphanumeric() || b"+-.".contains(c));
    let separator = literal.windows(3).position(|w| w == b"://").filter(|&p| p > 0 && scheme_like(p));
    let colon = literal.iter().position(|&c| c == b':').filter(|&p| p > 0 && scheme_like(p));
    let (authority, path_start) = match (refs.first(), separator, colon) {
        (Some(&(0, end)), ..) => (None, end),
        (_, Some(p), _) => {
            let start = p + 3;
            let end = literal[start..].iter().position(|c| b"/?#".contains(c)).map_or(literal.len(), |n| start + n);
            (Some((start, end)), end)
        }
        (_, None, Some(colon)) => (None, colon + 1),
        _ => (None, 0),
    };
    let query_start =
        literal[path_start..].iter().position(|c| b"?#".contains(c)).map_or(literal.len(), |n| path_start + n);
    refs.iter()
        .map(|&(start, _)| {
            if start == 0 {
                return Ok(Part::Base);
            }
            match authority {
                Some((from, to)) if (from..to).contains(&start) => {
                    let at = literal[from..to].iter().rposition(|&c| c == b'@').map(|n| from + n);
                    Ok(if at.is_some_and(|at| start < at) { Part::UserInfo } else { Part::Host })
                }
                _ if start < path_start => Err((start, InScheme)),
                _ if start < query_start => Ok(Part::Path),
                _ => Ok(Part::Component),
            }
        })
        .collect()
}

/// `value` as it goes in `part`, or why it cannot.
pub fn fill(part: Part, value: &str) -> Result<String, Unfit> {
    match part {
        Part::Base => {
            let scheme = value.find(':').map_or("", |colon| &value[..colon]);
            let absolute = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
            if absolute { Ok(value.to_owned()) } else { Err(Unfit::NotAbsolute) }
        }
        Part::Host => {
            let host = |c: char| c.is_ascii_alphanumeric() || ".-:[]".contains(c);
            if value.chars().all(host) { Ok(value.to_owned()) } else { Err(Unfit::NotHost) }
        }
        // `.` and `..` (even as `%2E`) are resolved away by every URL parser: `/p/{{x}}` with `..` is `/`.
        Part::Path if !value.is_empty() && value.bytes().all(|b| b == b'.') => Err(Unfit::DotSegment),
        Part::UserInfo | Part::Path | Part::Component => Ok(percent_encode(value)),
    }
}

/// Every byte but the unreserved ones (`A-Z a-z 0-9 - . _ ~`) as `%XX`.
pub fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(url: &str) -> Result<Vec<Part>, (usize, InScheme)> {
        let refs: Vec<(usize, usize)> = url.match_indices("{{x}}").map(|(i, _)| (i, i + 5)).collect();
        parts(url, &refs)
    }

    use Part::*;

    #[test]
    fn each_reference_gets_its_part() {
        assert_eq!(of("{{x}}/a/{{x}}?q={{x}}#{{x}}").unwrap(), [Base, Path, Component, Component]);
        assert_eq!(of("http://{{x}}:{{x}}/p").unwrap(), [Host, Host]);
        assert_eq!(of("redis://:{{x}}@{{x}}:6379").unwrap(), [UserInfo, Host]);
        assert_eq!(of("postgres://u:{{x}}@h/{{x}}").unwrap(), [UserInfo, Path]);
        assert_eq!(of("sqlite:{{x}}").unwrap(), [Path]);
        assert_eq!(of("http://h/{{x}}#{{x}}?{{x}}").unwrap(), [Path, Component, Component]);
        assert_eq!(of("ht{{x}}tp://h/").unwrap_err().0, 2);
    }

    #[test]
    fn values_are_encoded_or_checked() {
        assert_eq!(fill(Component, "a/b?c#d&e=f+g h%").unwrap(), "a%2Fb%3Fc%23d%26e%3Df%2Bg%20h%25");
        assert_eq!(fill(Component, "é").unwrap(), "%C3%A9");
        assert_eq!(fill(Component, "..").unwrap(), "..", "harmless in a query");
        assert!(fill(Path, "..").is_err() && fill(Path, ".").is_err());
        assert_eq!(fill(Path, "..a").unwrap(), "..a");
        assert_eq!(fill(Host, "[::1]:8080").unwrap(), "[::1]:8080");
        assert!(fill(Host, "evil.example/x?").is_err());
        assert!(fill(Host, "a@b").is_err());
        assert_eq!(fill(Base, "http://h:1/api").unwrap(), "http://h:1/api");
        assert!(fill(Base, "/etc/passwd").is_err());
        assert!(fill(Base, "h:80").is_ok(), "h: is a scheme as far as a URL goes");
    }
}
