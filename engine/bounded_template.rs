//! What a user's handlebars template may cost, for reports and notification
//! messages alike. No inline partials: one can include itself, handlebars has
//! no depth limit, and the overflowed stack aborts the process before the run's
//! report and history are written. Nested `each` blocks multiply (eight steps
//! in ten levels are a billion rounds), so a render stops after
//! [`MAX_LOOP_ROUNDS`] rounds of all its loops together and after
//! [`MAX_OUTPUT_BYTES`] written: time and memory stay bounded.

pub mod helpers;
pub mod nesting;

use std::sync::atomic::{AtomicU64, Ordering};

use handlebars::template::{Parameter, Template, TemplateElement};
use handlebars::{
    Context, Decorator, Handlebars, Helper, HelperDef, HelperResult, Output, RenderContext, RenderError,
    RenderErrorReason, TemplateError,
};
use serde_json::Value;

/// The most a template may write.
pub const MAX_OUTPUT_BYTES: usize = 64 * 1024 * 1024;

/// The most rounds of `each` one render may run; a report of thousands of
/// steps with their captured values takes tens of thousands.
pub const MAX_LOOP_ROUNDS: u64 = 1_000_000;

/// The helper every `each` body starts with, added by [`add_template`].
const ROUND_HELPER: &str = "rb_loop_round";

/// A registry with runbook's helpers ([`super::helpers`]) and these limits;
/// use one registry per render, since the rounds are counted per registry.
pub fn registry() -> Handlebars<'static> {
    let mut registry = Handlebars::new();
    helpers::register(&mut registry);
    registry.register_decorator("inline", Box::new(refuse_inline_partial));
    registry.register_helper(ROUND_HELPER, Box::new(LoopRounds(AtomicU64::new(0))));
    registry
}

/// Compiles `source` as template `name`, each `each` body counting its rounds.
pub fn add_template(registry: &mut Handlebars, name: &str, source: &str) -> Result<(), TemplateError> {
    // Before handlebars parses it: its parser and renderer recurse per level.
    nesting::check(source)?;
    registry.register_template_string(name, source)?;
    let round = Template::compile(&format!("{{{{{ROUND_HELPER}}}}}"))?.elements.swap_remove(0);
    if let Some(template) = registry.get_template(name) {
        let mut counted = template.clone();
        count_rounds(&mut counted, &round);
        registry.register_template(name, counted);
    }
    Ok(())
}

/// How a refused template reads after `bad … template`: ` at LINE:COLUMN: why`
/// when the error knows its place, else `: why` (the error's own text quotes
/// the template's whole line, so only its reason is shown).
pub fn placed(error: &TemplateError) -> String {
    match error.pos() {
        Some((line, column)) => format!(" at {line}:{column}: {}", error.reason()),
        None => format!(": {}", error.reason()),
    }
}

fn count_rounds(template: &mut Template, round: &TemplateElement) {
    for element in &mut template.elements {
        match element {
            TemplateElement::HelperBlock(block) => {
                let is_each = matches!(&block.name, Parameter::Name(name) if name == "each");
                if let Some(body) = &mut block.template {
                    count_rounds(body, round);
                    if is_each {
                        // Keep `mapping` (the source place of each element) in step.
                        let place = body.mapping.first().cloned();
                        body.elements.insert(0, round.clone());
                        body.mapping.splice(0..0, place);
                    }
                }
                if let Some(inverse) = &mut block.inverse {
                    count_rounds(inverse, round);
                }
            }
            TemplateElement::DecoratorBlock(block) | TemplateElement::PartialBlock(block) => {
                if let Some(body) = &mut block.template {
                    count_rounds(body, round);
                }
            }
            _ => {}
        }
    }
}

/// Counts rounds of every loop of one render and stops it past the limit.
struct LoopRounds(AtomicU64);

impl HelperDef for LoopRounds {
    fn call<'reg: 'rc, 'rc>(
        &self,
        _: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
        _: &mut dyn Output,
    ) -> HelperResult {
        if self.0.fetch_add(1, Ordering::Relaxed) >= MAX_LOOP_ROUNDS {
            return Err(RenderErrorReason::Other(format!("the loops ran more than {MAX_LOOP_ROUNDS} rounds")).into());
        }
        Ok(())
    }
}

/// Renders the template `name` over `data`, stopping at [`MAX_OUTPUT_BYTES`].
pub fn render(registry: &Handlebars, name: &str, data: &Value) -> Result<String, RenderError> {
    let mut out = Capped(Vec::new());
    registry.render_to_write(name, data, &mut out)?;
    // Every piece written was a `str`, so the whole is UTF-8.
    Ok(String::from_utf8_lossy(&out.0).into_owned())
}

fn refuse_inline_partial(_: &Decorator, _: &Handlebars, _: &Context, _: &mut RenderContext) -> Result<(), RenderError> {
    Err(RenderErrorReason::Other("templates cannot define partials (`{{#*inline}}`)".to_owned()).into())
}

/// The output, refusing to grow past [`MAX_OUTPUT_BYTES`].
struct Capped(Vec<u8>);

impl std::io::Write for Capped {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if self.0.len() + bytes.len() > MAX_OUTPUT_BYTES {
            return Err(std::io::Error::other(format!("the output is longer than {MAX_OUTPUT_BYTES} bytes")));
        }
        self.0.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn rendered(template: &str, data: &Value) -> Result<String, String> {
        let mut registry = registry();
        add_template(&mut registry, "t", template).map_err(|e| e.to_string())?;
        render(&registry, "t", data).map_err(|e| e.to_string())
    }

    #[test]
    fn loops_that_multiply_stop_after_a_million_rounds_even_when_they_write_nothing() {
        // Eight items in ten nested loops: a billion rounds, nothing written.
        let data = json!({"items": (0..8).collect::<Vec<_>>()});
        let template = format!("{}{}", "{{#each @root.items}}".repeat(10), "{{/each}}".repeat(10));
        let started = std::time::Instant::now();
        let error = rendered(&template, &data).unwrap_err();
        assert!(error.contains(&format!("the loops ran more than {MAX_LOOP_ROUNDS} rounds")), "{error}");
        assert!(started.elapsed() < std::time::Duration::from_secs(60), "took {:?}", started.elapsed());
    }

    #[test]
    fn counting_rounds_changes_nothing_a_template_writes() {
        let data = json!({"items": ["a", "b"], "empty": []});
        let template = "{{#each items}}{{@index}}={{this}}{{#if @last}}.{{else}}, {{/if}}{{/each}}\n\
                        {{#each empty}}x{{else}}none{{/each}}";
        assert_eq!(rendered(template, &data).unwrap(), "0=a, 1=b.\nnone");
    }

    #[test]
    fn a_partial_that_includes_itself_is_refused_instead_of_overflowing_the_stack() {
        let error = rendered(r#"{{#*inline "again"}}{{> again}}{{/inline}}{{> again}}"#, &json!({})).unwrap_err();
        assert!(error.contains("templates cannot define partials (`{{#*inline}}`)"), "{error}");
    }

    #[test]
    fn loops_that_multiply_stop_at_the_output_limit() {
        // Eight items in six nested loops: 8^6 = 262,144 lines of 300 bytes, 75 MiB.
        let data = json!({"items": (0..8).map(|i| format!("item{i}")).collect::<Vec<_>>()});
        let line = format!("{{{{this}}}} {}\n", "x".repeat(292));
        let template = format!("{}{line}{}", "{{#each @root.items}}".repeat(6), "{{/each}}".repeat(6));
        let error = rendered(&template, &data).unwrap_err();
        assert!(error.contains(&format!("the output is longer than {MAX_OUTPUT_BYTES} bytes")), "{error}");
    }

    #[test]
    fn an_ordinary_template_renders_with_the_helpers() {
        assert_eq!(rendered("{{#each items}}{{upper this}} {{/each}}", &json!({"items": ["a", "b"]})).unwrap(), "A B ");
    }
}
