//! Expressions against real observations: mixed int/double arithmetic, the
//! ops helpers (`num`, `bytes`, `pct`, `abs`), macros over the sysinfo disks.

use crate::service;
use crate::util::run_playbook;

#[test]
fn mixed_int_and_double_arithmetic_and_the_helpers_hold() {
    let service = service::start();
    let out = run_playbook(
        &format!(
            r#"
name: helpers
sections:
  - name: s
    steps:
      - id: metrics
        title: Numbers of every kind
        http: {{ url: "{}/metrics" }}
        capture: {{ cpu_pct: $.body.cpu_pct, min_price: $.body.min_price }}
        expect:
          - 'cpu_pct * 2 < 200'
          - 'cpu_pct - 70 > 3'
          - '100 - cpu_pct < 30'
          - 'num(min_price) < num("0.0001")'
          - 'num(min_price) * 2 == 0.0001'
          - 'bytes("200MB") == 200 * 1024 * 1024'
          - 'bytes("1.5GiB") > bytes("1GB")'
          - 'pct(1, 4) == 25.0'
          - 'pct(3, 0) == 0.0'
          - 'abs(-3) == 3'
          - 'abs(70 - cpu_pct) > 3.1'
"#,
            service.url
        ),
        &["--format", "json"],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.step("metrics")["verdict"], "pass", "{}", out.stdout);
}

#[test]
fn a_helper_that_misses_shows_the_raw_value() {
    let service = service::start();
    let out = run_playbook(
        &format!(
            r#"
name: helpers
sections:
  - name: s
    steps:
      - id: price
        title: Minimum price at least one cent
        http: {{ url: "{}/metrics" }}
        capture: {{ min_price: $.body.min_price }}
        expect: ['num(min_price) >= 0.01']
"#,
            service.url
        ),
        &["--format", "json"],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(out.step("price")["message"], "min_price = \"0.00005\" → expected num(min_price) >= 0.01");
}

#[test]
fn sysinfo_observes_the_host_and_macros_range_over_its_disks() {
    let out = run_playbook(
        r#"
name: host
sections:
  - name: Resources
    steps:
      - id: host
        title: Host resources readable
        sysinfo: {}
        expect:
          - 'size(disks) > 0'
          - 'disks.all(d, d.free_pct > 0 && d.total > 0 && d.mount != "")'
          - 'min_disk_free_pct <= 100'
          - 'cpu_pct * 2 <= 200'
          - 'cpu_pct >= 0'
          - 'uptime_s + 0.5 > 0'
          - 'cpus >= 1'
          - 'mem_used_pct - 100 <= 0'
          - 'load1 >= 0.0 && load5 >= 0 && load15 >= 0'
          - 'swap_used_pct >= 0'
"#,
        &["--format", "json"],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.step("host")["verdict"], "pass", "{}", out.stdout);
}

#[test]
fn a_sysinfo_miss_names_the_observed_value() {
    let out = run_playbook(
        r#"
name: host
sections:
  - name: Resources
    steps:
      - id: cpus
        title: A machine with a million cores
        sysinfo: {}
        expect: ['cpus > 1000000']
"#,
        &["--format", "json"],
    );
    assert_eq!(out.code, 1, "{out:?}");
    let cpus = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let message = out.step("cpus")["message"].as_str().unwrap().to_owned();
    assert!(message.ends_with(" → expected cpus > 1000000"), "{message}");
    // sysinfo counts the host's CPUs, which a cgroup limit can make more than we may use.
    let observed: usize = message.trim_start_matches("cpus = ").split(' ').next().unwrap().parse().unwrap();
    assert!(observed >= cpus, "{message} vs {cpus} available");
}
