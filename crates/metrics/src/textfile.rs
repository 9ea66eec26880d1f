//! The textfile output: the same text written whole (a temporary file renamed over the
//! target) so that node_exporter never reads half of it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::Render;

/// Writes `text` to `path` through `PATH.tmp.PID` and a rename.
pub fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp.{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
}

/// Rewrites a file every interval from a thread, and once more when finished.
pub struct Textfile {
    path: PathBuf,
    render: Render,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Textfile {
    /// Writes now (so that an unwritable path fails the start), then every `interval`.
    pub fn start(path: &Path, interval: Duration, render: Render) -> std::io::Result<Self> {
        write_atomic(path, &render().render())?;
        let stop = Arc::new(AtomicBool::new(false));
        let (p, r, s) = (path.to_path_buf(), render.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name("metrics-file".into())
            .spawn(move || {
                let step = Duration::from_millis(100).min(interval);
                let mut waited = Duration::ZERO;
                while !s.load(Ordering::Relaxed) {
                    std::thread::sleep(step);
                    waited += step;
                    if waited >= interval {
                        waited = Duration::ZERO;
                        // a failure here is retried at the next interval; the final one
                        // is reported by finish()
                        let _ = write_atomic(&p, &r().render());
                    }
                }
            })?;
        Ok(Textfile {
            path: path.to_path_buf(),
            render,
            stop,
            thread: Some(thread),
        })
    }

    /// Stops the thread and writes the final figures.
    pub fn finish(mut self) -> std::io::Result<()> {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        write_atomic(&self.path, &(self.render)().render())
    }
}

impl Drop for Textfile {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;

    #[test]
    fn rewritten_and_final() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.prom");
        let n = Arc::new(AtomicU64::new(1));
        let n2 = n.clone();
        let render: Render = Arc::new(move || {
            let mut e = crate::Exposition::new();
            e.gauge("n", "N.")
                .sample(&[], n2.load(Ordering::Relaxed) as f64);
            e
        });
        let t = Textfile::start(&path, Duration::from_millis(50), render).unwrap();
        assert!(std::fs::read_to_string(&path).unwrap().ends_with("\nn 1\n"));
        n.store(2, Ordering::Relaxed);
        std::thread::sleep(Duration::from_millis(300));
        assert!(std::fs::read_to_string(&path).unwrap().ends_with("\nn 2\n"));
        n.store(3, Ordering::Relaxed);
        t.finish().unwrap();
        assert!(std::fs::read_to_string(&path).unwrap().ends_with("\nn 3\n"));
        // nothing left behind but the file
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        let bad = Textfile::start(
            &dir.path().join("no/such.prom"),
            Duration::from_secs(1),
            Arc::new(crate::Exposition::new),
        );
        assert!(bad.is_err());
    }
}
