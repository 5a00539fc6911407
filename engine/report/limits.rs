//! What a user's handlebars template may cost, for reports and notification
//! messages alike. No inline partials: one can include itself, handlebars has
//! no depth limit, and the overflowed stack aborts the process before the run's
//! report and history are written. At most [`MAX_OUTPUT_BYTES`] written:
//! nested `each` blocks multiply (eight steps in ten levels are a billion
//! lines), and memory must stay bounded.

use handlebars::{Context, Decorator, Handlebars, RenderContext, RenderError, RenderErrorReason};
use serde_json::Value;

/// The most a template may write.
pub const MAX_OUTPUT_BYTES: usize = 64 * 1024 * 1024;

/// A registry with runbook's helpers ([`super::helpers`]) and these limits.
pub fn registry() -> Handlebars<'static> {
    let mut registry = Handlebars::new();
    super::helpers::register(&mut registry);
    registry.register_decorator("inline", Box::new(refuse_inline_partial));
    registry
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
        registry.register_template_string("t", template).map_err(|e| e.to_string())?;
        render(&registry, "t", data).map_err(|e| e.to_string())
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
