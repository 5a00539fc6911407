//! Properties of every templating context, over generated hostile values
//! (quotes, `$(…)`, backticks, line breaks, `%`, `&`, `\`, unicode): a script
//! run by the real `sh` prints the value back byte for byte and runs nothing
//! it says; a command line keeps it as one word; a URL parser reads it back
//! from its part; a header never gets a line break; a glob matches only it.

use proptest::prelude::*;
use serde_json::json;

use super::{Bound, Context, fill as render};

fn hostile() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        3 => prop::sample::select(vec![
            "'", "\"", "$(", ")", "`", "\n", "\r\n", "%", "%2F", "&", "=", "+", "#", "?", "/", "\\", " ", "\t",
            ";", "|", "*", "[", "${IFS}", "$x", "EOF", "'\"'\"'", "touch PWNED", "é", "日本", "🦀", ":", "@",
        ])
        .prop_map(str::to_owned),
        1 => any::<char>().prop_filter("a NUL cannot be an environment value", |c| *c != '\0').prop_map(String::from),
    ];
    prop_oneof![
        9 => prop::collection::vec(piece, 0..12).prop_map(|pieces| pieces.concat()),
        // Whole dot segments, which a URL parser would resolve away.
        1 => prop::sample::select(vec![".", ".."]).prop_map(str::to_owned),
    ]
}

/// Scripts printing `{{vars.v}}` in each quoting context, with what they print around it.
const SCRIPTS: [(&str, &str, &str); 8] = [
    ("printf %s {{vars.v}}", "", ""),
    ("printf %s \"{{vars.v}}\"", "", ""),
    ("printf %s '{{vars.v}}'", "", ""),
    ("printf %s \"<\"'{{vars.v}}'\">\"", "<", ">"),
    ("x=\"$(printf '%s.' {{vars.v}})\"; printf %s \"${x%.}\"", "", ""),
    ("x=`printf '%s.' \"{{vars.v}}\"`; printf %s \"${x%.}\"", "", ""),
    ("cat <<EOF\n{{vars.v}}\nEOF", "", "\n"),
    ("printf %s {{vars.v}} # {{vars.v}}", "", ""),
];

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = text.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("UTF-8")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    #[test]
    fn a_script_prints_the_value_and_runs_nothing(value in hostile()) {
        let dir = tempfile::tempdir().expect("temp dir");
        let scope = json!({"vars": {"v": value}});
        for (script, before, after) in SCRIPTS {
            let filled = render(script, &scope, Context::Shell).expect("renders");
            let Bound::Env(env) = filled.bound else { panic!("a script binds environment variables") };
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(&filled.text)
                .envs(env)
                .current_dir(dir.path())
                .output()
                .expect("sh runs");
            prop_assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{before}{value}{after}"), "{}", script);
            prop_assert!(!dir.path().join("PWNED").exists(), "{} ran {:?}", script, value);
        }
    }

    #[test]
    fn a_command_word_holds_the_value_whole(value in hostile()) {
        let scope = json!({"vars": {"v": value}});
        let filled = render("MGET {{vars.v}} \"k {{vars.v}}\" x", &scope, Context::Words).expect("renders");
        let words = vec!["MGET".to_owned(), value.clone(), format!("k {value}"), "x".to_owned()];
        prop_assert_eq!(filled.bound, Bound::Words(words));
    }

    #[test]
    fn a_url_part_holds_the_value_whole(value in hostile()) {
        let scope = json!({"vars": {"v": value}});
        let template = "http://u:{{vars.v}}@127.0.0.1:1/p/{{vars.v}}?q={{vars.v}}&x=1#{{vars.v}}";
        let dots = !value.is_empty() && value.bytes().all(|b| b == b'.');
        let filled = match render(template, &scope, Context::Url) {
            Ok(filled) => filled,
            Err(_) if dots => return Ok(()),
            Err(e) => panic!("{value:?} does not render: {e}"),
        };
        prop_assert!(!dots, "a dot segment {:?} was let into the path", value);
        let url = reqwest::Url::parse(&filled.text).expect("a URL");
        prop_assert_eq!(url.host_str(), Some("127.0.0.1"));
        prop_assert_eq!(url.port(), Some(1));
        prop_assert_eq!(decode(url.password().unwrap_or("")), value.clone());
        let segments: Vec<String> = url.path_segments().expect("a path").map(decode).collect();
        prop_assert_eq!(segments, vec!["p".to_owned(), value.clone()]);
        let pairs: Vec<(String, String)> = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        prop_assert_eq!(pairs, vec![("q".to_owned(), value.clone()), ("x".to_owned(), "1".to_owned())]);
        prop_assert_eq!(decode(url.fragment().unwrap_or("")), value);
    }

    #[test]
    fn a_header_or_host_never_gets_structure(value in hostile()) {
        let scope = json!({"vars": {"v": value}});
        match render("a{{vars.v}}", &scope, Context::Header) {
            Ok(filled) => prop_assert_eq!(filled.text, format!("a{value}")),
            Err(_) => prop_assert!(value.contains(['\r', '\n'])),
        }
        let host = value.chars().all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c));
        prop_assert_eq!(render("{{vars.v}}", &scope, Context::Host).is_ok(), host);
    }

    #[test]
    fn a_glob_value_matches_only_itself(value in hostile()) {
        let scope = json!({"vars": {"v": value}});
        let filled = render("{{vars.v}}", &scope, Context::Glob).expect("renders");
        let pattern = glob::Pattern::new(&filled.text).expect("a pattern");
        prop_assert!(pattern.matches(&value));
        let longer = format!("{value}x");
        prop_assert!(value.is_empty() || !pattern.matches(&longer));
    }
}
