//! The metrics options of every agent and of simplevisor: one clap definition (help, man
//! pages and completions follow), and what they start.

use std::net::TcpListener;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::{ListenError, Listener, Render, Textfile};

/// `--metrics-listen`, `--metrics-allow-wildcard`, `--metrics-file`, `--metrics-interval`.
#[derive(Debug, Clone, Args)]
pub struct MetricsArgs {
    /// Serve Prometheus metrics at http://ADDR/metrics: PORT alone listens on 127.0.0.1;
    /// HOST:PORT or [IPV6]:PORT for another interface. Every interface (0.0.0.0, ::) also
    /// needs --metrics-allow-wildcard.
    #[arg(long, value_name = "ADDR")]
    pub metrics_listen: Option<String>,
    /// Allow --metrics-listen on a wildcard address (every interface).
    #[arg(long)]
    pub metrics_allow_wildcard: bool,
    /// Write the metrics to this file, replaced whole every --metrics-interval and at exit
    /// (for node_exporter's textfile collector; name it *.prom).
    #[arg(long, value_name = "PATH")]
    pub metrics_file: Option<PathBuf>,
    /// Seconds between two writes of --metrics-file.
    #[arg(long, value_name = "SECONDS", default_value_t = 15.0)]
    pub metrics_interval: f64,
}

/// Why the metrics could not start; each is a bad option (a usage error).
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A bad address, a wildcard not allowed, a taken port.
    #[error(transparent)]
    Listen(#[from] ListenError),
    /// Not a positive number of seconds.
    #[error("invalid metrics-interval {0}: a number of seconds above 0 is expected")]
    Interval(f64),
    /// The file cannot be written.
    #[error("cannot write metrics file {}", .path.display())]
    Textfile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// The running exporters of a process.
pub struct Exporters {
    _listener: Option<Listener>,
    textfile: Option<Textfile>,
}

impl MetricsArgs {
    /// Whether any exporter is asked for.
    pub fn any(&self) -> bool {
        self.metrics_listen.is_some() || self.metrics_file.is_some()
    }

    /// Binds `--metrics-listen` now: before a daemon's fork (the socket survives it, a
    /// thread would not), so that a bad address or a taken port fails the start.
    pub fn bind(&self) -> Result<Option<TcpListener>, StartError> {
        let Some(addr) = &self.metrics_listen else {
            return Ok(None);
        };
        let addr = crate::parse_listen(
            addr,
            self.metrics_allow_wildcard,
            "--metrics-allow-wildcard",
        )?;
        let l = TcpListener::bind(addr).map_err(|source| ListenError::Bind { addr, source })?;
        Ok(Some(l))
    }

    /// Serves the bound listener and starts the textfile writer (its first write now).
    pub fn start(
        &self,
        bound: Option<TcpListener>,
        render: Render,
    ) -> Result<Exporters, StartError> {
        let listener = bound
            .map(|b| Listener::serve(b, render.clone()))
            .transpose()?;
        let textfile = match &self.metrics_file {
            None => None,
            Some(path) => {
                let every = self.metrics_interval;
                if !(every.is_finite() && every > 0.0) {
                    return Err(StartError::Interval(every));
                }
                let t = Textfile::start(path, Duration::from_secs_f64(every), render).map_err(
                    |source| StartError::Textfile {
                        path: path.clone(),
                        source,
                    },
                )?;
                Some(t)
            }
        };
        Ok(Exporters {
            _listener: listener,
            textfile,
        })
    }
}

impl Exporters {
    /// Writes the final figures of `--metrics-file`; the listener lives on with the process.
    pub fn finish(self) -> std::io::Result<()> {
        match self.textfile {
            Some(t) => t.finish(),
            None => Ok(()),
        }
    }
}
