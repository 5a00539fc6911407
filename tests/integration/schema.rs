//! The committed JSON Schema is what the code generates, it is a standard
//! schema another validator accepts, and every playbook in the repository
//! points editors at it and conforms to it.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::{Runbook, TestDir, golden};

const SCHEMA: &str = "schemas/playbook.schema.json";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn committed_schema() -> Value {
    let text = std::fs::read_to_string(repo().join(SCHEMA)).expect("read the committed schema");
    serde_json::from_str(&text).expect("the committed schema is JSON")
}

/// Folders under `examples/` whose YAML is for other tools (Ansible, Kubernetes), not runbook.
pub const NOT_PLAYBOOKS: [&str; 2] = ["examples/fleet/ansible", "examples/fleet/kubernetes"];

/// The playbooks of the repository: every YAML file under `playbooks/` and
/// `examples/` (a folder that does not exist yet has none), but for [`NOT_PLAYBOOKS`].
pub fn repo_playbooks() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for path in entries.flatten().map(|e| e.path()) {
            if NOT_PLAYBOOKS.iter().any(|skip| path == repo().join(skip)) {
                continue;
            }
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    for folder in ["playbooks", "examples"] {
        walk(&repo().join(folder), &mut out);
    }
    out.sort();
    out
}

fn yaml_to_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).expect("read playbook");
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: not YAML: {e}", path.display()))
}

fn schema_problems(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    validator.iter_errors(instance).map(|e| format!("{}: {e}", e.instance_path())).collect()
}

#[test]
fn the_committed_schema_equals_runbook_schema() {
    let out = Runbook::new(repo()).args(["schema"]).run();
    assert_eq!(out.code, 0, "{out:?}");
    golden(SCHEMA, &out.stdout);
}

/// The tables of `docs/playbook.md` are generated from the schema (`runbook::schema::reference`).
#[test]
fn the_committed_reference_is_regenerated() {
    use runbook::schema::reference::{REFERENCE_PATH, regenerate};
    let committed = std::fs::read_to_string(repo().join(REFERENCE_PATH)).expect("read docs/playbook.md");
    golden(REFERENCE_PATH, &regenerate(&committed).expect("markers in docs/playbook.md"));
}

#[test]
fn every_repo_playbook_names_the_schema_on_its_first_line() {
    let schema = repo().join(SCHEMA);
    for path in repo_playbooks() {
        let text = std::fs::read_to_string(&path).expect("read playbook");
        let first = text.lines().next().unwrap_or("");
        let Some(target) = first.strip_prefix("# yaml-language-server: $schema=") else {
            panic!("{}: the first line must be `# yaml-language-server: $schema=<path to {SCHEMA}>`", path.display());
        };
        let resolved = path.parent().expect("folder").join(target.trim());
        assert!(
            resolved.canonicalize().ok() == schema.canonicalize().ok(),
            "{}: `{target}` does not lead to {SCHEMA}",
            path.display()
        );
    }
}

#[test]
fn every_repo_playbook_conforms_to_the_schema_and_validates() {
    let validator = jsonschema::validator_for(&committed_schema()).expect("the schema is a valid JSON Schema");
    let playbooks = repo_playbooks();
    assert!(!playbooks.is_empty(), "no playbooks found under playbooks/ or examples/");
    for path in &playbooks {
        let problems = schema_problems(&validator, &yaml_to_json(path));
        assert!(problems.is_empty(), "{}:\n{}", path.display(), problems.join("\n"));
    }
    let out = Runbook::new(repo()).args(["validate"]).args(&playbooks).run();
    assert_eq!(out.code, 0, "{out:?}");
}

#[test]
fn the_schema_examples_conform_to_the_schema() {
    let schema = committed_schema();
    let validator = jsonschema::validator_for(&schema).expect("valid schema");
    for example in schema["examples"].as_array().expect("examples") {
        assert!(schema_problems(&validator, example).is_empty(), "{example}");
    }
}

/// Durations, sizes and methods the loader reads pass the schema's patterns too.
#[test]
fn the_schema_accepts_the_units_and_methods_the_loader_reads() {
    let validator = jsonschema::validator_for(&committed_schema()).expect("valid schema");
    // Not `name: n`: a generic YAML reader takes a bare `n` for false.
    let step = |extra: &str| {
        format!("name: units\nsections:\n  - name: s\n    steps:\n      - id: a\n        title: t\n{extra}")
    };
    for extra in [
        "        sysinfo: {}\n        timeout: 500ms\n",
        "        sysinfo: {}\n        timeout: 1.5 m\n",
        "        http: { url: 'http://x', method: post, max_body: 1.5GiB }\n",
        "        http: { url: 'http://x', method: '{{vars.method}}', max_body: 512KB }\n",
        "        shell: { run: 'true', max_output: '512' }\n",
    ] {
        let text = step(extra);
        let problems = schema_problems(&validator, &serde_saphyr::from_str(&text).expect("YAML"));
        assert!(problems.is_empty(), "{extra}: {problems:?}");
        let dir = TestDir::new();
        let file = dir.write("case.yaml", &format!("vars: {{ method: GET }}\n{text}"));
        assert_eq!(dir.runbook().args(["validate"]).args([&file]).run().code, 0, "{extra}: runbook refused it");
    }
}

#[test]
fn the_schema_rejects_what_the_loader_rejects() {
    let validator = jsonschema::validator_for(&committed_schema()).expect("valid schema");
    let dir = TestDir::new();
    let step =
        |extra: &str| format!("name: n\nsections:\n  - name: s\n    steps:\n      - id: a\n        title: t\n{extra}");
    let cases = [
        ("unknown step field", step("        shell: { run: 'true' }\n        retry: 2\n"), "/sections/0/steps/0"),
        ("unknown probe field", step("        http: { url: 'http://x', metod: GET }\n"), "/sections/0/steps/0/http"),
        ("two probes", step("        sysinfo: {}\n        shell: { run: 'true' }\n"), "/sections/0/steps/0"),
        ("no probe", step(""), "/sections/0/steps/0"),
        ("wrong type", step("        sysinfo: {}\n        retries: lots\n"), "/sections/0/steps/0/retries"),
        ("unknown top-level field", "name: n\nsection: []\n".to_owned(), ""),
        (
            "a duration in words",
            step("        sysinfo: {}\n        timeout: 5 minutes\n"),
            "/sections/0/steps/0/timeout",
        ),
        (
            "an unknown HTTP method",
            step("        http: { url: 'http://x', method: GTE }\n"),
            "/sections/0/steps/0/http/method",
        ),
        (
            "a size in words",
            step("        http: { url: 'http://x', max_body: lots }\n"),
            "/sections/0/steps/0/http/max_body",
        ),
        (
            "a size unit",
            step("        shell: { run: 'true', max_output: 4 MX }\n"),
            "/sections/0/steps/0/shell/max_output",
        ),
        (
            "a notify target of two kinds",
            "name: n\nsections: []\nnotify:\n  - { webhook: 'http://127.0.0.1:9/', command: ['true'] }\n".to_owned(),
            "/notify/0",
        ),
    ];
    for (what, text, at) in cases {
        let problems = schema_problems(&validator, &serde_saphyr::from_str(&text).expect("YAML"));
        assert!(problems.iter().any(|p| p.starts_with(&format!("{at}: "))), "{what}: {problems:?}");
        let file = dir.write("case.yaml", &text);
        assert_eq!(dir.runbook().args(["validate"]).args([&file]).run().code, 2, "{what}: runbook accepted it");
    }
}
