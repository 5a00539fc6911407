//! Asking the operator before an action step runs (the runner's
//! [`Confirm`]): `--yes` confirms every action; on a terminal each one is
//! shown, fully rendered with secrets masked, and needs a `y`; otherwise
//! actions are refused (see `runner::confirm` for what that does to the run).

use std::future::Future;
use std::io::{BufRead, IsTerminal, Write};
use std::pin::Pin;

use crate::runner::confirm::{ActionRequest, Confirm, Decision, NOT_CONFIRMED};

/// How actions get their answer in this run.
pub enum Asker {
    /// `--yes`.
    Yes { operator: String },
    /// One prompt at a time on the terminal.
    Terminal { operator: String, one_at_a_time: tokio::sync::Mutex<()> },
    /// Nobody to ask.
    Refuse { operator: String },
}

impl Asker {
    /// The asker for this process: `--yes`, else the terminal when stdin and stderr are one.
    pub fn new(yes: bool, operator: String) -> Self {
        if yes {
            Self::Yes { operator }
        } else if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
            Self::Terminal { operator, one_at_a_time: tokio::sync::Mutex::new(()) }
        } else {
            Self::Refuse { operator }
        }
    }

    /// Whether answers are typed on the terminal (nothing else may draw there meanwhile).
    pub fn prompts(&self) -> bool {
        matches!(self, Self::Terminal { .. })
    }
}

/// The operator's name: `--operator`, `RUNBOOK_OPERATOR` (both via clap), else `$USER`.
pub fn operator_name(given: Option<&str>) -> String {
    given
        .map(str::to_owned)
        .or_else(|| std::env::var("USER").ok())
        .filter(|name| !name.trim().is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

impl Confirm for Asker {
    fn confirm(&self, request: ActionRequest) -> Pin<Box<dyn Future<Output = Decision> + Send + '_>> {
        Box::pin(async move {
            match self {
                Self::Yes { operator } => Decision::Confirmed { by: operator.clone(), how: "--yes".to_owned() },
                Self::Refuse { operator } => {
                    Decision::Refused { by: operator.clone(), reason: NOT_CONFIRMED.to_owned() }
                }
                Self::Terminal { operator, one_at_a_time } => {
                    let _turn = one_at_a_time.lock().await;
                    let question = prompt(&request, operator);
                    let answer = tokio::task::spawn_blocking(move || ask(&question)).await.unwrap_or(None);
                    match answer.as_deref().map(|a| a.trim().to_ascii_lowercase()) {
                        Some(a) if a == "y" || a == "yes" => {
                            Decision::Confirmed { by: operator.clone(), how: "terminal".to_owned() }
                        }
                        _ => Decision::Refused {
                            by: operator.clone(),
                            reason: "action declined on the terminal".to_owned(),
                        },
                    }
                }
            }
        })
    }
}

fn prompt(request: &ActionRequest, operator: &str) -> String {
    format!(
        "\naction `{}`: {}\n    {}\nrun it now, as {operator}? [y/N] ",
        request.step_id, request.title, request.request
    )
}

/// Shows `question` on stderr and reads one line from stdin (`None` at end of input).
fn ask(question: &str) -> Option<String> {
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(question.as_bytes());
    let _ = stderr.flush();
    let mut line = String::new();
    match std::io::stdin().lock().read_line(&mut line) {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(line),
    }
}
