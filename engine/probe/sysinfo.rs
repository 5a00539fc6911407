//! `sysinfo`: the host's CPU, memory, swap, load, uptime and disks.
//! Observation: `cpu_pct`, `mem_used_pct`, `mem_total`, `mem_used`,
//! `swap_used_pct`, `load1`, `load5`, `load15`, `cpus`, `uptime_s`,
//! `disks` (each `mount`, `fs`, `total`, `free`, `free_pct`) and
//! `min_disk_free_pct`. CPU usage is sampled over 250 ms.

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sysinfo::{Disks, System};

use super::{Probe, ProbeContext, ProbeError};

/// Host resources; takes no parameters (`sysinfo: {}`). Observes `cpu_pct`, `mem_used_pct`,
/// `mem_total` and `mem_used` (bytes), `swap_used_pct`, `load1`, `load5`, `load15`, `cpus`,
/// `uptime_s`, `disks` (each with `mount`, `fs`, `total`, `free`, `free_pct`) and
/// `min_disk_free_pct`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Sysinfo {}

const CPU_SAMPLE: Duration = Duration::from_millis(250);

/// File systems that hold no user data and are always "full" or virtual.
const PSEUDO_FS: &[&str] = &["overlay", "squashfs", "tmpfs", "devtmpfs", "proc", "sysfs", "ramfs", "nsfs", "iso9660"];

fn pct(part: f64, total: f64) -> f64 {
    if total > 0.0 { (part / total * 10_000.0).round() / 100.0 } else { 0.0 }
}

impl Probe for Sysinfo {
    const OBSERVES: Option<&'static [&'static str]> = Some(&[
        "cpu_pct",
        "mem_used_pct",
        "mem_total",
        "mem_used",
        "swap_used_pct",
        "load1",
        "load5",
        "load15",
        "cpus",
        "uptime_s",
        "disks",
        "min_disk_free_pct",
    ]);

    async fn observe(&self, _ctx: &ProbeContext) -> Result<Value, ProbeError> {
        let mut system = System::new().map_err(|e| ProbeError::Io(format!("cannot read system information: {e}")))?;
        system.refresh_cpu_usage();
        tokio::time::sleep(CPU_SAMPLE.max(sysinfo::MINIMUM_CPU_UPDATE_INTERVAL)).await;
        tokio::task::spawn_blocking(move || snapshot(system))
            .await
            .map_err(|e| ProbeError::Other(format!("system information task failed: {e}")))?
    }

    fn describe(&self) -> String {
        "read CPU, memory, swap, load and disk usage".to_owned()
    }
}

fn snapshot(mut system: System) -> Result<Value, ProbeError> {
    system.refresh_cpu_usage();
    system.refresh_memory();
    let load = System::load_average().map_err(|e| ProbeError::Io(format!("cannot read the load average: {e}")))?;
    let uptime = System::uptime().map_err(|e| ProbeError::Io(format!("cannot read the uptime: {e}")))?;
    let disks = Disks::new_with_refreshed_list().map_err(|e| ProbeError::Io(format!("cannot list disks: {e}")))?;
    let mut seen = std::collections::BTreeSet::new();
    let disks: Vec<Value> = disks
        .iter()
        .filter(|d| !PSEUDO_FS.contains(&d.file_system().to_string_lossy().as_ref()) && d.total_space() > 0)
        .filter(|d| seen.insert(d.mount_point().to_path_buf()))
        .map(|d| {
            let (total, free) = (d.total_space(), d.available_space());
            json!({
                "mount": d.mount_point().to_string_lossy(),
                "fs": d.file_system().to_string_lossy(),
                "total": total,
                "free": free,
                "free_pct": pct(free as f64, total as f64),
            })
        })
        .collect();
    let min_free = disks
        .iter()
        .filter_map(|d| d["free_pct"].as_f64())
        .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.min(v))));
    Ok(json!({
        "cpu_pct": (f64::from(system.global_cpu_usage()) * 100.0).round() / 100.0,
        "mem_total": system.total_memory(),
        "mem_used": system.used_memory(),
        "mem_used_pct": pct(system.used_memory() as f64, system.total_memory() as f64),
        "swap_used_pct": pct(system.used_swap() as f64, system.total_swap() as f64),
        "load1": load.one,
        "load5": load.five,
        "load15": load.fifteen,
        "cpus": system.cpus().len(),
        "uptime_s": uptime,
        "disks": disks,
        "min_disk_free_pct": min_free.unwrap_or(100.0),
    }))
}
