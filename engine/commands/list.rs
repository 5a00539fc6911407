//! `runbook list FILE`: sections and steps, what each would do and when;
//! nothing runs.

use super::error::Outcome;
use super::{exit, load_plan};

pub fn list(file: &std::path::Path) -> Outcome {
    let plan = load_plan(file, &[])?;
    println!("{}  ({})", plan.name, plan.file);
    for (index, section) in plan.sections.iter().enumerate() {
        println!("\n{section}");
        for step in plan.steps.iter().filter(|s| s.section == index) {
            println!("  [{}] {}", step.id, step.title);
            let action = if step.action { "ACTION " } else { "" };
            println!("      {action}{}: {}", step.probe.kind(), step.probe.describe());
            if let Some(when) = &step.when {
                println!("      when: {}", when.source);
            }
            if !step.needs.is_empty() {
                let needs: Vec<&str> = step.needs.iter().map(|&i| plan.steps[i].id.as_str()).collect();
                println!("      needs: {}", needs.join(", "));
            }
            if !step.attests.is_empty() {
                let attests: Vec<&str> = step.attests.iter().map(|&i| plan.steps[i].id.as_str()).collect();
                println!("      attests: {}", attests.join(", "));
            }
        }
    }
    Ok(exit::CLEAN)
}
