//! Asking the operator before an action step runs (the runner's
//! [`Confirm`]): `--yes` confirms every action; on a terminal each one is
//! shown, fully rendered with secrets masked, and needs a `y`; otherwise
//! actions are refused (see `runner::confirm` for what that does to the run).
//! An action with `approvals: N` instead counts approvers: those of a signed
//! `--approvals` file, then, on a terminal, names typed in one by one, each
//! answering `y` to the action shown. The operator is not counted by being the
//! operator: they approve by typing their name like anyone else.

use std::future::Future;
use std::io::{BufRead, IsTerminal, Write};
use std::pin::Pin;

use super::approvals_file::FileApproval;
use crate::record::approval::{self, Approval};
use crate::runner::confirm::{ActionRequest, Confirm, Decision, NOT_CONFIRMED};

/// How actions get their answer in this run: how they are confirmed, and the approvals read
/// from a signed `--approvals` file.
pub struct Asker {
    how: How,
    from_file: Vec<FileApproval>,
}

/// How actions are confirmed.
enum How {
    /// `--yes`.
    Yes { operator: String },
    /// One prompt at a time on the terminal.
    Terminal { operator: String, one_at_a_time: tokio::sync::Mutex<()> },
    /// Nobody to ask.
    Refuse { operator: String },
}

impl Asker {
    /// The asker for this process: `--yes`, else the terminal when stdin and stderr are one;
    /// `from_file` holds the approvals of a checked `--approvals` file.
    pub fn new(yes: bool, operator: String, from_file: Vec<FileApproval>) -> Self {
        let how = if yes {
            How::Yes { operator }
        } else if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
            How::Terminal { operator, one_at_a_time: tokio::sync::Mutex::new(()) }
        } else {
            How::Refuse { operator }
        };
        Self { how, from_file }
    }

    /// Whether answers are typed on the terminal (nothing else may draw there meanwhile).
    pub fn prompts(&self) -> bool {
        matches!(self.how, How::Terminal { .. })
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
            match &self.how {
                How::Yes { operator } => Decision::Confirmed { by: operator.clone(), how: "--yes".to_owned() },
                How::Refuse { operator } => {
                    Decision::Refused { by: operator.clone(), reason: NOT_CONFIRMED.to_owned() }
                }
                How::Terminal { operator, one_at_a_time } => {
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

    fn approve(&self, request: ActionRequest) -> Pin<Box<dyn Future<Output = Vec<Approval>> + Send + '_>> {
        Box::pin(async move {
            let mut offered: Vec<Approval> =
                self.from_file.iter().filter(|f| f.step == request.step_id).map(|f| f.approval.clone()).collect();
            let How::Terminal { one_at_a_time, .. } = &self.how else { return offered };
            let have = approval::counting(offered.clone(), &request.request);
            if have.len() >= usize::try_from(request.approvals).unwrap_or(usize::MAX) {
                return offered;
            }
            let _turn = one_at_a_time.lock().await;
            let typed = tokio::task::spawn_blocking(move || ask_approvers(&request, have)).await.unwrap_or_default();
            offered.extend(typed);
            offered
        })
    }
}

/// Asks on the terminal for the approvers `request` still lacks beyond `have`: a name, then a
/// `y` to the action shown. An empty name or the end of input stops asking.
fn ask_approvers(request: &ActionRequest, mut have: Vec<Approval>) -> Vec<Approval> {
    let needed = usize::try_from(request.approvals).unwrap_or(usize::MAX);
    let mut typed = Vec::new();
    let mut header = format!(
        "\naction `{}`: {}\n    {}\nneeds {needed} approvals ({} so far)\n",
        request.step_id,
        request.title,
        request.request,
        have.len()
    );
    // Bounded, so a stream of repeated names cannot keep the run waiting for ever.
    for _ in 0..needed.saturating_mul(3) {
        if have.len() >= needed {
            break;
        }
        let question = format!("{header}approver {} of {needed} (name, empty to stop): ", have.len() + 1);
        header.clear();
        let Some(name) = ask(&question).map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()) else { break };
        if have.iter().any(|a| approval::same_approver(&a.approver, &name)) {
            let _ = writeln!(std::io::stderr(), "{name} has already approved; another approver is needed");
            continue;
        }
        let answer = ask(&format!("approve this action as {name}? [y/N] "));
        if !answer.is_some_and(|a| matches!(a.trim().to_ascii_lowercase().as_str(), "y" | "yes")) {
            continue;
        }
        let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let given = Approval { approver: name, at, action: request.request.clone(), via: "interactive".to_owned() };
        have.push(given.clone());
        typed.push(given);
    }
    typed
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
