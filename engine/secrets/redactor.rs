//! Masks secret values in text, in every form a client or server can echo
//! them: raw; decoded from backslash (JSON), percent (URL, form), entity
//! (HTML, XML) or shell escapes, however partly escaped; hex; and base64,
//! alone or inside a longer encoded string (see [`super::base64`]).
//!
//! The short-secret rule: a secret shorter than [`MIN_DERIVED`] bytes is
//! masked only where it appears raw. Its derived forms are two or three
//! characters that ordinary text holds by chance: matching them would mask
//! half a report and show nothing more than the raw match already hides.

use serde_json::Value;

use super::views::{SCHEMES, View};
use super::{MASK, Secrets, base64};

/// Secrets at least this long are masked in their derived forms too.
pub const MIN_DERIVED: usize = 4;

/// How many layers of escaping deep a secret is looked for (escaped, then escaped again…).
const ROUNDS: usize = 3;

/// Replaces secret values (and their derived forms) with [`MASK`].
#[derive(Default, Clone)]
pub struct Redactor {
    /// Matched in the raw text: every secret, and the hex forms of long ones.
    raw: Vec<Vec<u8>>,
    /// Matched in each decoded view: the secrets of at least [`MIN_DERIVED`] bytes.
    decoded: Vec<Vec<u8>>,
    /// Base64 cores: the whole token around one is masked.
    cores: Vec<Vec<u8>>,
}

impl Redactor {
    pub fn new(secrets: &Secrets) -> Self {
        let mut values: Vec<&str> = Vec::new();
        for value in secrets.values.values() {
            values.push(value);
            // `user:password` secrets also leak as their password alone.
            if let Some((_, password)) = value.split_once(':')
                && password.len() >= MIN_DERIVED
            {
                values.push(password);
            }
        }
        let mut redactor = Self::default();
        for value in values {
            let bytes = value.as_bytes();
            redactor.raw.push(bytes.to_vec());
            if bytes.len() < MIN_DERIVED {
                continue;
            }
            redactor.decoded.push(bytes.to_vec());
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            redactor.raw.push(hex.clone().into_bytes());
            redactor.raw.push(hex.to_ascii_uppercase().into_bytes());
            redactor.cores.extend(base64::cores(bytes));
        }
        for list in [&mut redactor.raw, &mut redactor.decoded, &mut redactor.cores] {
            list.sort();
            list.dedup();
        }
        redactor
    }

    pub fn redact(&self, text: &str) -> String {
        if self.raw.is_empty() {
            return text.to_owned();
        }
        let source = text.as_bytes();
        let mut spans = Vec::new();
        self.find(source, &self.raw, &mut spans);
        if !self.decoded.is_empty() {
            self.find_in_views(source, None, ROUNDS, &mut spans);
        }
        if spans.is_empty() {
            return text.to_owned();
        }
        mask(text, spans)
    }

    /// Finds the secrets in every decoded view of `view` (of `source` when
    /// `None`), then in the views of those: escaped text inside escaped text (a
    /// JSON body echoed in a JSON string, a URL in an HTML page, `%2540`) takes
    /// more rounds. Depth first, so at most `rounds` views are held at once.
    fn find_in_views(&self, source: &[u8], view: Option<&View>, rounds: usize, spans: &mut Vec<(usize, usize)>) {
        if rounds == 0 {
            return;
        }
        let bytes = view.map_or(source, |v| v.bytes.as_slice());
        for scheme in SCHEMES {
            let Some(decoded) = scheme.decode(bytes) else { continue };
            if decoded.bytes == bytes {
                continue;
            }
            let decoded = match view {
                Some(view) => view.compose(decoded),
                None => decoded,
            };
            let mut found = Vec::new();
            self.find(&decoded.bytes, &self.decoded, &mut found);
            let at = |i: usize| decoded.from[i] as usize;
            spans.extend(found.into_iter().map(|(start, end)| (at(start), decoded.to[end - 1] as usize)));
            self.find_in_views(source, Some(&decoded), rounds - 1, spans);
        }
    }

    /// The spans of `needles`, and of the base64 tokens holding a core, in `hay`.
    fn find(&self, hay: &[u8], needles: &[Vec<u8>], spans: &mut Vec<(usize, usize)>) {
        for needle in needles {
            spans.extend(occurrences(hay, needle).map(|start| (start, start + needle.len())));
        }
        for core in &self.cores {
            spans.extend(occurrences(hay, core).map(|start| base64::token_around(hay, start, start + core.len())));
        }
    }

    /// Redacts every string in a JSON value, keys included.
    /// Whether there is nothing to mask (the playbook has no secrets).
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    pub fn redact_json(&self, value: &mut Value) {
        if self.raw.is_empty() {
            return;
        }
        match value {
            Value::String(s) => *s = self.redact(s),
            Value::Array(items) => items.iter_mut().for_each(|v| self.redact_json(v)),
            Value::Object(fields) => {
                let old = std::mem::take(fields);
                for (k, mut v) in old {
                    self.redact_json(&mut v);
                    fields.insert(self.redact(&k), v);
                }
            }
            _ => {}
        }
    }
}

/// Where `needle` starts in `hay`, overlapping matches included.
fn occurrences<'a>(hay: &'a [u8], needle: &'a [u8]) -> impl Iterator<Item = usize> + 'a {
    let first = needle.first().copied();
    (0..(hay.len() + 1).saturating_sub(needle.len()))
        .filter(move |&i| Some(hay[i]) == first && hay[i..].starts_with(needle))
}

/// `text` with every span (merged where they overlap, widened to whole
/// characters) replaced by one [`MASK`].
fn mask(text: &str, mut spans: Vec<(usize, usize)>) -> String {
    spans.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut done = 0;
    let mut spans = spans.into_iter().peekable();
    while let Some((mut start, mut end)) = spans.next() {
        while let Some(&(next_start, next_end)) = spans.peek()
            && next_start < end
        {
            end = end.max(next_end);
            spans.next();
        }
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        while !text.is_char_boundary(end) {
            end += 1;
        }
        // Widened to a character, it may reach into the span just masked.
        if start < done {
            done = done.max(end);
            continue;
        }
        out.push_str(&text[done..start]);
        out.push_str(MASK);
        done = end;
    }
    out.push_str(&text[done..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redactor(values: &[&str]) -> Redactor {
        let values = values.iter().enumerate().map(|(i, v)| (format!("s{i}"), (*v).to_owned())).collect();
        Redactor::new(&Secrets { values })
    }

    /// Each row: a text holding the secret `p@ss w0rd"&<'ä` in one form, and what is left of it.
    #[test]
    fn masks_the_secret_in_every_derived_form() {
        let r = redactor(&[r#"p@ss w0rd"&<'ä"#]);
        let m = MASK;
        for (form, text, expected) in [
            ("raw", r#"said p@ss w0rd"&<'ä."#.to_owned(), format!("said {m}.")),
            ("JSON", r#"{"pw":"p@ss w0rd\"&<'ä"}"#.to_owned(), format!(r#"{{"pw":"{m}"}}"#)),
            ("JSON, ASCII only", r#""p@ss w0rd\"&<'\u00e4""#.to_owned(), format!(r#""{m}""#)),
            (
                "JSON in JSON",
                r#"{"body":"{\"pw\":\"p@ss w0rd\\\"&<'ä\"}"}"#.to_owned(),
                format!(r#"{{"body":"{{\"pw\":\"{m}\"}}"}}"#),
            ),
            (
                "URL in HTML",
                "<p>?a=1&amp;pw=p%40ss%20w0rd%22%26%3C%27%C3%A4</p>".to_owned(),
                format!("<p>?a=1&amp;pw={m}</p>"),
            ),
            ("URL twice", "p%2540ss%2520w0rd%2522%2526%253C%2527%25C3%25A4".to_owned(), m.to_owned()),
            ("JSON, Go escapes", r#""p@ss w0rd\"\u0026\u003C\u0027\u00E4""#.to_owned(), format!(r#""{m}""#)),
            ("URL, upper hex", "?pw=p%40ss%20w0rd%22%26%3C%27%C3%A4&x=1".to_owned(), format!("?pw={m}&x=1")),
            ("URL, lower hex", "/p%40ss%20w0rd%22%26%3c%27%c3%a4/".to_owned(), format!("/{m}/")),
            ("encodeURIComponent", "p%40ss%20w0rd%22%26%3C'%C3%A4".to_owned(), m.to_owned()),
            ("form", "pw=p%40ss+w0rd%22%26%3C%27%C3%A4".to_owned(), format!("pw={m}")),
            ("HTML", "<td>p@ss w0rd&quot;&amp;&lt;&#39;ä</td>".to_owned(), format!("<td>{m}</td>")),
            ("HTML hex", "p@ss w0rd&#x22;&#x26;&#x3c;&#x27;&#xe4;".to_owned(), m.to_owned()),
            ("XML", "<v a='p@ss w0rd&quot;&amp;&lt;&apos;ä'/>".to_owned(), format!("<v a='{m}'/>")),
            ("shell", r#"echo 'p@ss w0rd"&<'\''ä'"#.to_owned(), format!("echo '{m}'")),
            ("printf %q", r#"p@ss\ w0rd\"\&\<\'ä"#.to_owned(), m.to_owned()),
            ("hex", "x=70407373207730726422263c27c3a4;".to_owned(), format!("x={m};")),
            ("HEX", "70407373207730726422263C27C3A4".to_owned(), m.to_owned()),
        ] {
            assert_eq!(r.redact(&text), expected, "{form}: {text}");
        }
    }

    #[test]
    fn masks_base64_alone_and_inside_user_colon_secret_for_any_user() {
        let r = redactor(&["hunter2"]);
        let m = MASK;
        // base64("hunter2") and base64("ops:hunter2"), base64("o:hunter2"), base64("op:hunter2").
        for (text, expected) in [
            ("Authorization: Basic aHVudGVyMg==".to_owned(), format!("Authorization: Basic {m}")),
            (r#""auth":"Basic b3BzOmh1bnRlcjI=""#.to_owned(), format!(r#""auth":"Basic {m}""#)),
            ("Basic bzpodW50ZXIy".to_owned(), format!("Basic {m}")),
            ("Basic b3A6aHVudGVyMg".to_owned(), format!("Basic {m}")),
            // URL-safe, unpadded, in a query.
            ("?t=b3BzOmh1bnRlcjI&n=1".to_owned(), format!("?t={m}&n=1")),
        ] {
            assert_eq!(r.redact(&text), expected, "{text}");
        }
        let urlsafe = redactor(&["??>???"]);
        assert_eq!(urlsafe.redact("t=Pz8-Pz8_"), format!("t={m}"));
        assert_eq!(urlsafe.redact("t=Pz8+Pz8/"), format!("t={m}"));
    }

    #[test]
    fn a_short_secret_is_masked_only_where_it_appears_raw() {
        let r = redactor(&["a b"]);
        assert_eq!(r.redact("x a b y"), format!("x {MASK} y"));
        // Derived forms of three bytes are left: `a%20b`, `a+b`, `YSBi` occur by chance.
        assert_eq!(r.redact("a%20b a+b YSBi 612062"), "a%20b a+b YSBi 612062");
        let long = redactor(&["a bc"]);
        assert_eq!(long.redact("a%20bc a+bc"), format!("{MASK} {MASK}"));
    }

    #[test]
    fn overlapping_forms_and_a_secret_inside_another_are_masked_whole() {
        let r = redactor(&["token-1234", "1234"]);
        assert_eq!(r.redact("[token-1234] [1234]"), format!("[{MASK}] [{MASK}]"));
        let r = redactor(&["ops:s3cret-pw"]);
        assert_eq!(r.redact("pw s3cret-pw, whole ops:s3cret-pw"), format!("pw {MASK}, whole {MASK}"));
    }

    #[test]
    fn text_without_secrets_is_unchanged() {
        let r = redactor(&["Zq8-canary"]);
        let text = "plain %20 text &amp; with \\\"escapes\\\" and 'quotes'\\''é";
        assert_eq!(r.redact(text), text);
        assert_eq!(Redactor::default().redact("anything"), "anything");
    }
}
