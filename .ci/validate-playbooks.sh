#!/usr/bin/env bash
# Every playbook in the repository validates, twice: with `runbook validate`
# (everything a schema cannot check) and with an independent JSON Schema
# validator (check-jsonschema, from PyPI), which proves the committed schema
# is standard. The independent validator must also reject a playbook with an
# unknown field, or the schema is too loose to protect anyone.
set -euo pipefail
cd "$(dirname "$0")/.."

folders=()
for folder in playbooks examples; do
    [[ -d $folder ]] && folders+=("$folder/")
done
if ((${#folders[@]} == 0)); then
    echo "no playbooks/ or examples/ folder: nothing to validate"
    exit 0
fi

# The fleet recipes' YAML is Ansible's and Kubernetes' (tests/integration/fleet_recipes.rs checks it).
mapfile -t files < <(find "${folders[@]}" \( -path examples/fleet/ansible -o -path examples/fleet/kubernetes \) -prune \
    -o \( -name '*.yaml' -o -name '*.yml' \) -print | sort)
cargo build --quiet
./target/debug/runbook validate "${files[@]}"

if ! command -v check-jsonschema >/dev/null 2>&1; then
    python3 -m pip install --quiet --disable-pip-version-check check-jsonschema
fi
check-jsonschema --schemafile schemas/playbook.schema.json "${files[@]}"

if check-jsonschema --schemafile schemas/playbook.schema.json tests/malformed/unknown-step-field.yaml >/dev/null; then
    echo "check-jsonschema accepted tests/malformed/unknown-step-field.yaml: the schema lets unknown fields through" >&2
    exit 1
fi
echo "check-jsonschema rejects an unknown step field, as it must"
