//! Playbook bytes through what `runbook validate` does to a file after reading
//! it: UTF-8, YAML to model, validation to a plan, and every problem rendered
//! as the snippet the user sees.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use runbook::playbook::{load, validate};

fuzz_target!(|data: &[u8]| {
    match load::from_bytes(Path::new("fuzz.yaml"), data.to_vec()) {
        Err(failure) => drop(failure.render()),
        Ok(loaded) => {
            if let Err(problems) = validate::plan(&loaded, &[], &[]) {
                for problem in problems {
                    drop(problem.render(Some(&loaded.source)));
                }
            }
        }
    }
});
