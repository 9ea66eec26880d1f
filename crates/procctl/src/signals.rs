//! Signal registration: a flag set by the signal, or a byte written to a socket that wakes
//! a `poll(2)` loop (the self-pipe). Nothing else runs in the handlers.

use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

/// A handler could not be installed.
#[derive(Debug, thiserror::Error)]
#[error("cannot handle signal {signal}")]
pub struct SignalError {
    /// The signal number.
    pub signal: i32,
    /// Why.
    #[source]
    pub source: std::io::Error,
}

/// Sets `flag` whenever one of `signals` arrives (a signal that is only set there is, in
/// effect, ignored: HUP for the agents).
pub fn flag(signals: &[i32], flag: &Arc<AtomicBool>) -> Result<(), SignalError> {
    for &signal in signals {
        signal_hook::flag::register(signal, flag.clone())
            .map_err(|source| SignalError { signal, source })?;
    }
    Ok(())
}

/// Writes a byte to `wake` whenever one of `signals` arrives, so that a loop sleeping in
/// `poll(2)` on the other end of the socket pair wakes at once.
pub fn wake(signals: &[i32], wake: &UnixStream) -> Result<(), SignalError> {
    for &signal in signals {
        let w = wake
            .try_clone()
            .map_err(|source| SignalError { signal, source })?;
        signal_hook::low_level::pipe::register(signal, w)
            .map_err(|source| SignalError { signal, source })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::sync::atomic::Ordering;

    #[test]
    fn a_signal_sets_the_flag_and_wakes_the_loop() {
        let f = Arc::new(AtomicBool::new(false));
        flag(&[libc::SIGUSR2], &f).expect("flag");
        let (mut r, w) = UnixStream::pair().expect("pair");
        w.set_nonblocking(true).expect("nonblocking");
        wake(&[libc::SIGUSR2], &w).expect("wake");
        // SAFETY: raise(3) to this process, whose handler was installed above.
        unsafe { libc::raise(libc::SIGUSR2) };
        assert!(f.load(Ordering::Relaxed));
        let mut b = [0u8; 1];
        assert_eq!(r.read(&mut b).expect("read"), 1);
    }
}
