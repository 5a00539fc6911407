//! Decoded views of a text: what a reader of each escaping scheme would see.
//! A secret echoed by a client or server comes back escaped (JSON, URL, HTML
//! or XML, shell quoting) — often partly, as each encoder leaves different
//! characters alone. Decoding the text instead of encoding the secret catches
//! every mix and case. Each decoded byte remembers the source span it came
//! from, so a match is masked in the original text, escapes and all.

/// A decoded text: `bytes[i]` came from `source[from[i]..to[i]]`.
pub struct View {
    pub bytes: Vec<u8>,
    pub from: Vec<u32>,
    pub to: Vec<u32>,
}

/// One escaping scheme's decoder.
#[derive(Clone, Copy, Debug)]
pub enum Scheme {
    /// `\"`, `\\`, `\/`, `\n`…, `\uXXXX` (surrogate pairs too), `\xHH`, `\ ` (JSON, C, `printf %q`).
    Backslash,
    /// `%HH` in either case (`encodeURIComponent`, RFC 3986).
    Percent,
    /// `%HH` and `+` for a space (HTML forms, `application/x-www-form-urlencoded`).
    Form,
    /// `&quot;` `&amp;` `&lt;` `&gt;` `&apos;` `&#39;` `&#x27;` (HTML and XML).
    Entity,
    /// `'\''` and `'"'"'` for a quote inside single quotes (POSIX shell).
    Shell,
}

pub const SCHEMES: [Scheme; 5] = [Scheme::Backslash, Scheme::Percent, Scheme::Form, Scheme::Entity, Scheme::Shell];

impl Scheme {
    /// The view of `text`, or `None` when nothing in it is escaped this way
    /// (most texts: then no copy is made).
    pub fn decode(self, text: &[u8]) -> Option<View> {
        let trigger: &[u8] = match self {
            Scheme::Backslash => b"\\",
            Scheme::Percent => b"%",
            // Without a `+` this is the percent view, already searched.
            Scheme::Form => b"+",
            Scheme::Entity => b"&",
            Scheme::Shell => b"'",
        };
        if !text.iter().any(|b| trigger.contains(b)) || u32::try_from(text.len()).is_err() {
            return None;
        }
        let mut view = View { bytes: Vec::with_capacity(text.len()), from: Vec::new(), to: Vec::new() };
        let mut at = 0;
        while at < text.len() {
            let (decoded, used) = match self {
                Scheme::Backslash => backslash(&text[at..]),
                Scheme::Percent => percent(&text[at..], false),
                Scheme::Form => percent(&text[at..], true),
                Scheme::Entity => entity(&text[at..]),
                Scheme::Shell => shell(&text[at..]),
            }
            .unwrap_or_else(|| (Decoded::Byte(text[at]), 1));
            view.push(decoded, at, at + used);
            at += used;
        }
        Some(view)
    }
}

/// What one escape stands for.
enum Decoded {
    Byte(u8),
    Char(char),
}

impl View {
    /// `outer`, a view of this view's bytes, as a view of the original source.
    pub fn compose(&self, mut outer: View) -> View {
        for (from, to) in outer.from.iter_mut().zip(outer.to.iter_mut()) {
            *from = self.from[*from as usize];
            *to = self.to[*to as usize - 1];
        }
        outer
    }

    fn push(&mut self, decoded: Decoded, from: usize, to: usize) {
        let mut buf = [0; 4];
        let bytes: &[u8] = match decoded {
            Decoded::Byte(b) => {
                buf[0] = b;
                &buf[..1]
            }
            Decoded::Char(c) => c.encode_utf8(&mut buf).as_bytes(),
        };
        for &b in bytes {
            self.bytes.push(b);
            // Both fit: `decode` refuses texts longer than u32::MAX.
            self.from.push(from as u32);
            self.to.push(to as u32);
        }
    }
}

fn hex(digits: &[u8]) -> Option<u32> {
    let text = std::str::from_utf8(digits).ok()?;
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(text, 16).ok()
}

fn backslash(s: &[u8]) -> Option<(Decoded, usize)> {
    if s.first() != Some(&b'\\') {
        return None;
    }
    let next = *s.get(1)?;
    Some(match next {
        b'u' => {
            let unit = hex(s.get(2..6)?)?;
            if (0xD800..0xDC00).contains(&unit)
                && s.get(6..8) == Some(b"\\u")
                && let Some(low) = s.get(8..12).and_then(hex).filter(|l| (0xDC00..0xE000).contains(l))
            {
                let c = char::from_u32(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))?;
                return Some((Decoded::Char(c), 12));
            }
            (Decoded::Char(char::from_u32(unit)?), 6)
        }
        b'x' => (Decoded::Byte(u8::try_from(hex(s.get(2..4)?)?).ok()?), 4),
        b'n' => (Decoded::Byte(b'\n'), 2),
        b't' => (Decoded::Byte(b'\t'), 2),
        b'r' => (Decoded::Byte(b'\r'), 2),
        b'b' => (Decoded::Byte(0x08), 2),
        b'f' => (Decoded::Byte(0x0C), 2),
        b'0' => (Decoded::Byte(0), 2),
        c if c.is_ascii() => (Decoded::Byte(c), 2),
        _ => return None,
    })
}

fn percent(s: &[u8], plus: bool) -> Option<(Decoded, usize)> {
    match s.first()? {
        b'%' => Some((Decoded::Byte(u8::try_from(hex(s.get(1..3)?)?).ok()?), 3)),
        b'+' if plus => Some((Decoded::Byte(b' '), 1)),
        _ => None,
    }
}

fn entity(s: &[u8]) -> Option<(Decoded, usize)> {
    if s.first() != Some(&b'&') {
        return None;
    }
    // The longest entity we decode is `&#x10FFFF;` (10 bytes).
    let end = s.iter().take(12).position(|&b| b == b';')?;
    let name = &s[1..end];
    let c = match name.to_ascii_lowercase().as_slice() {
        b"quot" => '"',
        b"amp" => '&',
        b"lt" => '<',
        b"gt" => '>',
        b"apos" => '\'',
        [b'#', b'x', digits @ ..] => char::from_u32(hex(digits)?)?,
        [b'#', digits @ ..] if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) => {
            char::from_u32(std::str::from_utf8(digits).ok()?.parse().ok()?)?
        }
        _ => return None,
    };
    Some((Decoded::Char(c), end + 1))
}

fn shell(s: &[u8]) -> Option<(Decoded, usize)> {
    [&b"'\\''"[..], b"'\"'\"'"]
        .into_iter()
        .find(|quote| s.starts_with(quote))
        .map(|quote| (Decoded::Byte(b'\''), quote.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(scheme: Scheme, text: &str) -> String {
        let view = scheme.decode(text.as_bytes()).expect("something to decode");
        String::from_utf8_lossy(&view.bytes).into_owned()
    }

    #[test]
    fn each_scheme_decodes_its_escapes_and_leaves_the_rest() {
        assert_eq!(decoded(Scheme::Backslash, r#"pa\"s\\s\u00e4\u00C4\ud83d\ude00\x41\ \/\n"#), "pa\"s\\säÄ😀A /\n");
        assert_eq!(decoded(Scheme::Backslash, r"\u12 \q \"), r"\u12 q \");
        assert_eq!(decoded(Scheme::Percent, "p%40ss%20w0rd+%c3%a4%zz"), "p@ss w0rd+ä%zz");
        assert_eq!(decoded(Scheme::Form, "p%40ss+w0rd"), "p@ss w0rd");
        assert_eq!(decoded(Scheme::Entity, "&quot;a&amp;b&LT;&#39;&#x27;&#228;&nope;&"), "\"a&b<''ä&nope;&");
        assert_eq!(decoded(Scheme::Shell, r#"'it'\''s' 'it'"'"'s'"#), "'it's' 'it's'");
    }

    #[test]
    fn every_decoded_byte_knows_its_source_span() {
        let view = Scheme::Percent.decode(b"a%C3%A4b").expect("escaped");
        assert_eq!(view.bytes, "aäb".as_bytes());
        assert_eq!(view.from, [0, 1, 4, 7]);
        assert_eq!(view.to, [1, 4, 7, 8]);
    }

    #[test]
    fn a_view_of_a_view_maps_back_to_the_source() {
        // `\\\"` is `\"` once decoded, `"` twice: a JSON body echoed inside a JSON string.
        let text = br#"a\\\"b"#;
        let once = Scheme::Backslash.decode(text).expect("escaped");
        assert_eq!(once.bytes, br#"a\"b"#);
        let twice = once.compose(Scheme::Backslash.decode(&once.bytes).expect("escaped again"));
        assert_eq!(twice.bytes, b"a\"b");
        assert_eq!((twice.from[1], twice.to[1]), (1, 5));
    }

    #[test]
    fn a_text_without_escapes_makes_no_view() {
        assert!(Scheme::Backslash.decode(b"plain text").is_none());
        assert!(Scheme::Entity.decode(b"no entities").is_none());
    }
}
