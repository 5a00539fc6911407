//! A SQLite query that never ends, under `watch`: its timeout makes the step an
//! error, and the query stops inside SQLite too, so the process that keeps
//! watching does not keep a thread burning a core.

use std::time::{Duration, Instant};

use crate::util::{BACKGROUND_DEADLINE, Background, TestDir};

const PLAYBOOK: &str = r#"
name: runaway
sections:
  - name: Data
    steps:
      - id: endless
        title: a recursive CTE without end
        sql: { url: "sqlite::memory:", query: "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) as n from c" }
        timeout: 1s
        expect: ["n > 0"]
"#;

/// sqlx's SQLite worker threads (`sqlx-sqlite-worker-N`, cut to 15 bytes by the kernel).
fn sqlite_workers(pid: u32) -> usize {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return 0 };
    tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with("sqlx-sqlite-wor"))
        .count()
}

/// User and system CPU time of `pid`, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("watch's /proc stat");
    // Fields after the name, which is in parentheses: state is the 3rd field, utime the 14th.
    let fields: Vec<&str> = stat.rsplit_once(')').expect("a stat line").1.split_whitespace().collect();
    fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime")
}

#[test]
fn a_runaway_sqlite_query_stops_at_its_timeout_instead_of_burning_a_core() {
    let dir = TestDir::new();
    dir.write("runaway.yaml", PLAYBOOK);
    let mut watch = Background::spawn(dir.runbook().args(["watch", "runaway.yaml", "--every", "1h"]));
    watch.wait_until("the timed-out step", |out, _| out.contains("timed out after 1s"));
    let pid = watch.pid();

    let deadline = Instant::now() + BACKGROUND_DEADLINE;
    while sqlite_workers(pid) > 0 {
        assert!(Instant::now() < deadline, "the SQLite worker thread still runs the query");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Watch waits an hour for its next run: it should use no CPU at all. The
    // query alone would use two seconds' worth (200 ticks) in these two seconds.
    let before = cpu_ticks(pid);
    std::thread::sleep(Duration::from_secs(2));
    let used = cpu_ticks(pid) - before;
    assert!(used < 50, "watch used {used} ticks of CPU in 2 s while waiting");
    assert_eq!(watch.terminate(), 0);
}
