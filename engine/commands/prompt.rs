//! Questions on the terminal: the manual steps' answers and the operator's
//! name. Asked on stderr (stdout may carry JSON), read from stdin; only when
//! both are terminals. End of input stops asking: what was not answered
//! stays `pending`. An item whose attested evidence failed is not asked.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};

use crate::record::{RunRecord, StepResult, Verdict, attest};
use crate::report::answers::{Answer, parse_verdict};

/// Whether a person is there to answer.
pub fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Asks about every pending manual step, in order.
pub fn ask_manual(record: &RunRecord) -> BTreeMap<String, Answer> {
    let pending: Vec<_> = record.steps.iter().filter(|s| s.verdict == Verdict::Pending).collect();
    let mut answers = BTreeMap::new();
    if pending.is_empty() {
        return answers;
    }
    eprintln!("\nManual checks ({}): answer p(ass), f(ail) or s(kip); an empty line leaves it pending.", pending.len());
    for (n, step) in pending.iter().enumerate() {
        eprintln!("\n[{}/{}] {}  [{}]", n + 1, pending.len(), step.title, step.id);
        // Nobody is asked to vouch for evidence that failed: the evidence verdict wins.
        if let Some(why) = evidence_failed(record, step, &answers) {
            eprintln!("      fails, not asked: {why}");
            continue;
        }
        eprintln!("      {}", step.message);
        let verdict = loop {
            let Some(line) = ask("      pass / fail / skip? ") else { return answers };
            if line.trim().is_empty() {
                break None;
            }
            match parse_verdict(&line) {
                Ok(v) => break Some(v),
                Err(e) => eprintln!("      {e}"),
            }
        };
        let Some(verdict) = verdict else { continue };
        let comment = ask("      comment (optional): ").map(|c| c.trim().to_owned()).filter(|c| !c.is_empty());
        answers.insert(step.id.clone(), Answer { verdict, comment });
    }
    answers
}

/// Why `step` fails on its attested evidence, counting the answers given so far.
fn evidence_failed(record: &RunRecord, step: &StepResult, answers: &BTreeMap<String, Answer>) -> Option<String> {
    let evidence = step.attests.iter().filter_map(|id| {
        let recorded = || record.steps.iter().find(|s| &s.id == id).map(|s| s.verdict);
        Some((id.as_str(), answers.get(id).map(|a| a.verdict).or_else(recorded)?))
    });
    attest::blocked(evidence)
}

/// Asks who signs the run off; `None` on an empty answer or end of input.
pub fn ask_operator() -> Option<String> {
    ask("\nOperator (signs this run off): ").map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// One line from stdin after `question`; `None` at end of input.
fn ask(question: &str) -> Option<String> {
    let mut stderr = std::io::stderr();
    let _ = write!(stderr, "{question}");
    let _ = stderr.flush();
    let mut line = String::new();
    match std::io::stdin().lock().read_line(&mut line) {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(line.trim_end_matches(['\n', '\r']).to_owned()),
    }
}
