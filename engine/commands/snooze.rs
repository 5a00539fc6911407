//! `runbook snooze PLAYBOOK STEP --for 2h --reason TEXT`, `--list [PLAYBOOK]`, `--lift ID`.

use std::fmt::Write as _;
use std::time::Duration;

use super::error::{Outcome, failed, invalid};
use super::exit;
use crate::cli::{Format, SnoozeArgs};
use crate::history::snoozes::{ListedSnooze, NewSnooze};
use crate::session;

/// The longest snooze: longer than this is a waiver (in the playbook, reviewed), not a snooze.
const LONGEST: Duration = Duration::from_secs(30 * 24 * 3600);

pub fn snooze(args: &SnoozeArgs) -> Outcome {
    if let Some(id) = args.lift {
        return lift(args, id);
    }
    if args.list {
        return list(args);
    }
    add(args)
}

fn add(args: &SnoozeArgs) -> Outcome {
    let (Some(file), Some(step)) = (&args.playbook, &args.step) else {
        return Err(invalid("snooze needs a playbook file and a step id (or `--list`, `--lift ID`)"));
    };
    let duration = args.duration.ok_or_else(|| invalid("snooze needs `--for DURATION`, e.g. `--for 2h`"))?;
    if duration.is_zero() || duration > LONGEST {
        return Err(invalid("`--for` must be more than 0 and at most 30d; a longer exception is a waiver"));
    }
    let reason = args.reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
    let reason = reason.ok_or_else(|| invalid("snooze needs `--reason TEXT`: every report shows it"))?;
    let plan = super::load_plan(std::path::Path::new(file), &[])?;
    if !plan.steps.iter().any(|s| &s.id == step) {
        let hint = crate::suggest::did_you_mean(step, plan.steps.iter().map(|s| s.id.as_str()))
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_default();
        return Err(invalid(format!("playbook `{}` has no step `{step}`{hint}", plan.name)));
    }
    let owner = super::confirm::operator_name(args.owner.as_deref());
    let now = crate::history::now_ms();
    let expires_ms = now.saturating_add(i64::try_from(duration.as_millis()).unwrap_or(i64::MAX));
    let new = NewSnooze {
        playbook: &plan.name,
        step,
        host: args.host.as_deref(),
        owner: &owner,
        reason,
        created_ms: now,
        expires_ms,
    };
    let id = session::runtime()?
        .block_on(async { session::open(args.store.history.as_deref()).await?.add_snooze(&new).await })
        .map_err(failed)?;
    let on = args.host.as_deref().map(|h| format!(" on {h}")).unwrap_or_default();
    let until = crate::history::rfc3339(expires_ms);
    println!("snooze {id}: `{}` step `{step}`{on} snoozed by {owner} until {until}: {reason}", plan.name);
    Ok(exit::CLEAN)
}

fn list(args: &SnoozeArgs) -> Outcome {
    let playbook = args.playbook.as_deref().map(super::history::playbook_name).transpose()?;
    let listed = session::runtime()?
        .block_on(async {
            match session::open_to_read(args.store.history.as_deref()).await? {
                Some(store) => store.snoozes_in_force(playbook.as_deref(), crate::history::now_ms()).await,
                None => Ok(Vec::new()),
            }
        })
        .map_err(failed)?;
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&listed).unwrap_or_default()),
        Format::Text => print!("{}", table(&listed)),
    }
    Ok(exit::CLEAN)
}

fn table(listed: &[ListedSnooze]) -> String {
    if listed.is_empty() {
        return "no snoozes in force\n".to_owned();
    }
    let mut out = String::new();
    for l in listed {
        let s = &l.snooze;
        let host = s.host.as_deref().unwrap_or("every host");
        let _ = writeln!(out, "{}  {}  {}  {host}  {}", s.id, l.playbook, s.step, s.describe());
    }
    out
}

fn lift(args: &SnoozeArgs, id: i64) -> Outcome {
    let lifted = session::runtime()?
        .block_on(async {
            session::open(args.store.history.as_deref()).await?.lift_snooze(id, crate::history::now_ms()).await
        })
        .map_err(failed)?;
    if !lifted {
        return Err(invalid(format!("no snooze {id} in force (see `runbook snooze --list`)")));
    }
    println!("snooze {id} lifted");
    Ok(exit::CLEAN)
}
