#!/usr/bin/env bash
# Measures `runbook validate` on 100 playbooks, as CI runs it: one process
# over a folder. The playbooks are generated (25 steps each, every probe kind
# the Titan runbook leans on, captures, templates, needs, expect/warn/when), so
# the measure does not depend on what playbooks/ holds today.
# Usage: scripts/validate-bench.sh [COUNT] [debug|release]   (release by default)
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-100}
profile=${2:-release}
if [ "$profile" = release ]; then cargo build --release -q; else cargo build -q; fi
bin=$PWD/target/$profile/runbook
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

playbook() {
    printf '# yaml-language-server: $schema=../schemas/playbook.schema.json\n'
    printf 'name: Generated checklist %s\n' "$1"
    printf 'vars:\n  brain_url: http://localhost:3100\n  max_leverage: 5\n  mexc_enabled: false\n'
    printf 'secrets:\n  console_auth: { env: TITAN_CONSOLE_AUTH }\n'
    printf 'defaults: { timeout: 5s, retries: 1 }\nsections:\n'
    for section in 1 2 3 4 5; do
        printf '  - name: Section %s\n    steps:\n' "$section"
        printf '      - id: health_%s\n        title: "Brain: status ok"\n' "$section"
        printf '        http: { url: "{{vars.brain_url}}/health", basic_auth: "{{secrets.console_auth}}" }\n'
        printf '        capture: { health: $.body.status, leverage: $.body.risk.globalLeverage }\n'
        printf "        expect: ['status == 200', 'health == \"ok\"', 'leverage < vars.max_leverage']\n"
        printf "        warn: ['latency_ms < 500']\n"
        printf '      - id: positions_%s\n        title: Positions load\n        needs: [health_%s]\n' "$section" "$section"
        printf '        http: { url: "{{vars.brain_url}}/positions?lev={{steps.health_%s.leverage}}" }\n' "$section"
        printf "        expect: ['body.positions.all(p, abs(p.size) < 100)', 'size(body.positions) >= 0']\n"
        printf '      - id: disk_%s\n        title: Disks have room\n        sysinfo: {}\n' "$section"
        printf "        expect: ['disks.all(d, d.free_pct > 20)', 'mem_used < bytes(\"16GB\")']\n"
        printf '      - id: port_%s\n        title: Redis listens\n        tcp: { host: localhost, port: 6379 }\n' "$section"
        printf "        when: 'vars.mexc_enabled || true'\n        expect: ['open']\n"
        printf '      - id: pm2_%s\n        title: PM2 processes online\n' "$section"
        printf '        shell: { argv: [pm2, jlist], json: true, max_output: 4MB }\n'
        printf "        capture: { online: \"\$.json[?@.pm2_env.status == 'online'].name\" }\n"
        printf "        expect: ['exit_code == 0', 'size(online) >= 1']\n"
    done
}
mkdir "$work/playbooks"
for i in $(seq "$count"); do playbook "$i" > "$work/playbooks/p$i.yaml"; done
"$bin" validate "$work/playbooks" # must be valid: the bench measures the full path
if command -v hyperfine >/dev/null 2>&1; then
    hyperfine --warmup 3 --runs 20 --style basic "$bin validate $work/playbooks"
else
    for _ in 1 2 3; do "$bin" validate "$work/playbooks" >/dev/null; done
    start=$(date +%s%N)
    for _ in $(seq 20); do "$bin" validate "$work/playbooks" >/dev/null; done
    echo "mean of 20: $(( ($(date +%s%N) - start) / 20000000 )) ms for $count playbooks"
fi
