//! Questions on the terminal: the manual steps' answers and the operator's
//! name. Asked on stderr (stdout may carry JSON), read from stdin; only when
//! both are terminals. End of input stops asking: what was not answered
//! stays `pending`. An item whose attested evidence failed is not asked.
//!
//! Ctrl-C (or SIGTERM) while a question waits stops the questions at once:
//! nothing more is asked, not even the operator's name, and `run` exits 130.
//! The run's own signal listener cannot see it then (its runtime waits on
//! this thread), so the terminal is read on a thread of its own and a second
//! small listener races it.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Mutex, OnceLock};

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

/// Whether a signal stopped the questions.
pub fn stopped() -> bool {
    STOPPED.load(Ordering::SeqCst)
}

static STOPPED: AtomicBool = AtomicBool::new(false);

/// What the terminal gave: a line, the end of input, or a stop.
enum Input {
    Line(String),
    End,
    Stopped,
}

/// One line from stdin after `question`; `None` at end of input or once stopped.
fn ask(question: &str) -> Option<String> {
    if stopped() {
        return None;
    }
    let mut stderr = std::io::stderr();
    let _ = write!(stderr, "{question}");
    let _ = stderr.flush();
    let inputs = inputs().lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    match inputs.recv() {
        Ok(Input::Line(line)) => Some(line),
        Ok(Input::End) | Err(_) => None,
        Ok(Input::Stopped) => {
            STOPPED.store(true, Ordering::SeqCst);
            eprintln!("\ninterrupted: no more questions");
            None
        }
    }
}

/// The terminal's lines and the stop signals, started at the first question.
fn inputs() -> &'static Mutex<Receiver<Input>> {
    static INPUTS: OnceLock<Mutex<Receiver<Input>>> = OnceLock::new();
    INPUTS.get_or_init(|| {
        let (tx, rx) = channel();
        let lines = tx.clone();
        // Each thread ends with the process; a failure to start one leaves the other.
        let _ = std::thread::Builder::new().name("terminal".into()).spawn(move || read_lines(&lines));
        let _ = std::thread::Builder::new().name("prompt-signals".into()).spawn(move || wait_for_stop(&tx));
        Mutex::new(rx)
    })
}

fn read_lines(tx: &Sender<Input>) {
    loop {
        let mut line = String::new();
        let input = match std::io::stdin().lock().read_line(&mut line) {
            Ok(0) | Err(_) => Input::End,
            Ok(_) => Input::Line(line.trim_end_matches(['\n', '\r']).to_owned()),
        };
        let end = matches!(input, Input::End);
        if tx.send(input).is_err() || end {
            return;
        }
    }
}

/// Sends `Stopped` at the first Ctrl-C or SIGTERM. Tokio delivers a signal to
/// every listener in the process, so the run's own listener still counts it.
fn wait_for_stop(tx: &Sender<Input>) {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
    runtime.block_on(async {
        let (Ok(mut interrupt), Ok(mut term)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate()))
        else {
            return;
        };
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = term.recv() => {}
        }
    });
    let _ = tx.send(Input::Stopped);
}
