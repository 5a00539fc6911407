//! The live progress line on a terminal (stderr): a bar, the count, and the
//! steps still in flight. Nothing when stderr is not a terminal, `NO_COLOR`
//! is set or `TERM` is `dumb`.

use std::collections::BTreeSet;
use std::io::{self, IsTerminal};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle, TermLike};

use crate::runner::Event;

/// How many in-flight step ids the line names before it says `+N`.
const NAMED: usize = 3;

pub struct Progress {
    bar: Option<ProgressBar>,
    ids: Vec<String>,
    running: BTreeSet<usize>,
}

impl Progress {
    /// A progress line over the steps `ids`, shown only when `allowed` and on a terminal.
    pub fn new(ids: Vec<String>, allowed: bool) -> Self {
        let show = allowed && io::stderr().is_terminal() && super::fancy_terminal();
        let bar = show.then(|| {
            let target = ProgressDrawTarget::term_like_with_hz(Box::new(Narrow(console::Term::stderr())), 20);
            let bar = ProgressBar::with_draw_target(Some(ids.len() as u64), target);
            bar.set_style(
                ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        });
        Self { bar, ids, running: BTreeSet::new() }
    }

    pub fn on(&mut self, event: &Event) {
        let Some(bar) = &self.bar else { return };
        match event {
            Event::Started { index } => {
                self.running.insert(*index);
            }
            Event::Finished { index, .. } => {
                self.running.remove(index);
                bar.inc(1);
            }
        }
        let named: Vec<&str> = self.running.iter().take(NAMED).map(|&i| self.ids[i].as_str()).collect();
        let more = self.running.len().saturating_sub(NAMED);
        let more = if more > 0 { format!(" +{more}") } else { String::new() };
        bar.set_message(if named.is_empty() { String::new() } else { format!("running {}{more}", named.join(", ")) });
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// The terminal, drawn as if three columns narrower. indicatif pads its line
/// to the full width, so the `^C` a terminal echoes on Ctrl-C would wrap to a
/// new line, and clearing the bar would clear that line and leave the bar.
#[derive(Debug)]
struct Narrow(console::Term);

impl TermLike for Narrow {
    fn width(&self) -> u16 {
        self.0.size().1.saturating_sub(3).max(1)
    }

    fn height(&self) -> u16 {
        self.0.size().0
    }

    fn move_cursor_up(&self, n: usize) -> io::Result<()> {
        self.0.move_cursor_up(n)
    }

    fn move_cursor_down(&self, n: usize) -> io::Result<()> {
        self.0.move_cursor_down(n)
    }

    fn move_cursor_right(&self, n: usize) -> io::Result<()> {
        self.0.move_cursor_right(n)
    }

    fn move_cursor_left(&self, n: usize) -> io::Result<()> {
        self.0.move_cursor_left(n)
    }

    fn write_line(&self, s: &str) -> io::Result<()> {
        self.0.write_line(s)
    }

    fn write_str(&self, s: &str) -> io::Result<()> {
        self.0.write_str(s)
    }

    fn clear_line(&self) -> io::Result<()> {
        self.0.clear_line()
    }

    fn flush(&self) -> io::Result<()> {
        self.0.flush()
    }
}
