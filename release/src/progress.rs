//! Progress bars for hashing and packing (indicatif on stderr; nothing is drawn when stderr is
//! not a terminal, or when the caller asks for none).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A byte-counting progress bar, or nothing.
pub struct Bar(Option<ProgressBar>);

impl Bar {
    /// A bar of `total` bytes labelled `label`, drawn only if `show` and stderr is a terminal.
    pub fn bytes(show: bool, label: &str, total: u64) -> Bar {
        if !show {
            return Bar(None);
        }
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template(
            "{msg:>10} [{bar:30}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} {eta}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(label.to_string());
        Bar(Some(bar))
    }

    /// Adds `n` bytes.
    pub fn inc(&self, n: u64) {
        if let Some(bar) = &self.0 {
            bar.inc(n);
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}
