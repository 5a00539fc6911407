//! How deep a user's handlebars template may nest, checked in its text before
//! handlebars compiles it: the parser and the renderer recurse once per block
//! (and per `{{else if}}` of a chain, per `(subexpression)`), with no limit of
//! their own, so 5,000 nested `{{#if}}` overflowed the stack, which aborts the
//! process (a run left no report or history; `serve` died on one `GET /`).
//! Partials are refused here too, before anything renders: an inline one
//! (`{{#*inline}}`) can include itself, and the only template a user's registry
//! holds is the template itself, so `{{> name}}` would include itself forever.

use handlebars::{TemplateError, TemplateErrorReason};

/// The longest template, in bytes.
pub const MAX_BYTES: usize = 1024 * 1024;

/// The deepest blocks (with their `else …` chains) and subexpressions may nest.
pub const MAX_NESTING: usize = 32;

/// Refuses `source` past [`MAX_BYTES`] or [`MAX_NESTING`], or with a partial,
/// at the `{{` at fault. Counted in the text, so it bounds and does not parse:
/// blocks inside a raw block count too.
pub fn check(source: &str) -> Result<(), TemplateError> {
    if source.len() > MAX_BYTES {
        return Err(at(source, 0, format!("the template is {} bytes; the limit is {MAX_BYTES} bytes", source.len())));
    }
    // The weight of each open block: 1, plus 1 per `{{else if …}}` of its chain.
    let mut open: Vec<usize> = Vec::new();
    let mut from = 0;
    while let Some(found) = source[from..].find("{{") {
        let start = from + found;
        let tail = &source[start + 2..];
        let (closer, skip) = if tail.starts_with("!--") { ("--}}", 3) } else { ("}}", 0) };
        let Some(length) = tail[skip..].find(closer) else { break };
        let content = tail[..skip + length].trim_start_matches(['{', '~']).trim_start();
        from = start + 2 + skip + length + closer.len();
        let deeper = match content.as_bytes().first() {
            Some(b'!') => continue,
            Some(b'>') => return Err(at(source, start, "templates cannot include partials (`{{> …}}`)".to_owned())),
            Some(b'#') if content[1..].trim_start().starts_with('*') => {
                return Err(at(source, start, "templates cannot define partials (`{{#*inline}}`)".to_owned()));
            }
            Some(b'#') if content[1..].trim_start().starts_with('>') => {
                return Err(at(source, start, "templates cannot include partials (`{{#> …}}`)".to_owned()));
            }
            Some(b'#') => {
                open.push(1);
                true
            }
            Some(b'^') if !content[1..].trim_matches(['~', '}', ' ']).is_empty() => {
                open.push(1);
                true
            }
            Some(b'/') => {
                open.pop();
                false
            }
            _ if content.strip_prefix("else").is_some_and(|rest| !rest.trim_matches(['~', '}', ' ']).is_empty()) => {
                if let Some(top) = open.last_mut() {
                    *top += 1;
                }
                true
            }
            _ => false,
        };
        let parens = deepest_parens(content);
        if (deeper && open.iter().sum::<usize>() > MAX_NESTING) || parens > MAX_NESTING {
            return Err(at(source, start, format!("blocks and subexpressions nest more than {MAX_NESTING} deep here")));
        }
    }
    Ok(())
}

fn deepest_parens(content: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    for b in content.bytes() {
        match b {
            b'(' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

fn at(source: &str, offset: usize, message: String) -> TemplateError {
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |n| n + 1) + 1;
    TemplateError::of(TemplateErrorReason::InvalidSyntax(message)).at(source, line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(source: &str) -> String {
        let error = check(source).unwrap_err();
        let (line, column) = error.pos().unwrap();
        format!("{line}:{column} {}", error.reason())
    }

    #[test]
    fn five_thousand_nested_ifs_are_refused_at_the_block_past_the_limit() {
        let source = format!("{}x{}", "{{#if a}}".repeat(5000), "{{/if}}".repeat(5000));
        assert_eq!(
            refused(&source),
            "1:289 invalid handlebars syntax: blocks and subexpressions nest more than 32 deep here"
        );
    }

    #[test]
    fn else_if_chains_and_subexpressions_count_as_nesting() {
        let chain = format!("{{{{#if a}}}}{}{{{{/if}}}}", "{{else if b}}".repeat(40));
        assert!(refused(&chain).ends_with("nest more than 32 deep here"));
        let sub = format!("{{{{lookup {}a{}}}}}", "(lookup ".repeat(40), ")".repeat(40));
        assert!(refused(&sub).starts_with("1:1 "));
    }

    #[test]
    fn partials_are_refused() {
        assert!(refused("a\n{{> t}}").starts_with("2:1 invalid handlebars syntax: templates cannot include partials"));
        assert!(refused("{{#> t}}x{{/t}}").contains("cannot include partials"));
    }

    #[test]
    fn the_built_in_templates_and_deep_sequential_blocks_pass() {
        for source in [
            include_str!("../templates/report.html.hbs"),
            include_str!("../templates/report.md.hbs"),
            include_str!("../templates/report.txt.hbs"),
        ] {
            assert!(check(source).is_ok());
        }
        let nested = format!("{}x{{{{else}}}}y{}", "{{#if a}}".repeat(32), "{{/if}}".repeat(32));
        assert!(check(&nested.repeat(100)).is_ok());
        assert!(check("{{! {{#if}} }}{{!-- {{> p}} --}}{{{{raw}}}}{{{{/raw}}}}").is_ok());
    }
}
