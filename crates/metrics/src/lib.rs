//! What operators scrape: metric families rendered in the Prometheus text format (0.0.4),
//! served at `/metrics` by a small HTTP listener bound to loopback unless asked otherwise,
//! or written atomically to a file for node_exporter's textfile collector.
//!
//! The text format 0.0.4 rather than OpenMetrics: node_exporter's textfile collector and
//! `promtool check metrics` read 0.0.4, Prometheus scrapes both, and one encoder serves
//! both outputs. The same families also render as JSON for `--status --json`.

mod args;
mod exposition;
mod listen;
mod textfile;

pub use args::{Exporters, MetricsArgs, StartError};
pub use exposition::{Exposition, Family, Kind};
pub use listen::{ListenError, Listener, Route, parse_listen, route};
pub use textfile::{Textfile, write_atomic};

/// Renders the current figures; called by the listener's thread for each scrape and by the
/// textfile writer's thread.
pub type Render = std::sync::Arc<dyn Fn() -> Exposition + Send + Sync>;
