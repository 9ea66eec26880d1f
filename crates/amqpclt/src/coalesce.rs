//! Frames written together: fe2o3-amqp flushes its connection after every frame (a write
//! per transfer and per disposition). [`Coalesced`] takes those writes into a buffer and
//! lets a task of its own write the buffer once the frames of the current scheduler turn
//! are in, so that a window of transfers or a run of dispositions leaves in one write. At
//! least once is kept: a message counts only when the peer's outcome comes back, which
//! needs the write first.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf, ReadHalf, WriteHalf};
use tokio::sync::Notify;

/// Past this many bytes buffered, writers wait for the writing task.
const HIGH_WATER: usize = 1 << 20;

#[derive(Default)]
struct State {
    buf: Vec<u8>,
    /// The writing task's failure, reported to the next write or flush.
    error: Option<io::ErrorKind>,
    error_text: String,
    /// poll_shutdown asked: the task writes what is left, shuts down, and says so.
    closing: bool,
    closed: bool,
    /// A writer waiting for room, or a shutdown waiting for the end.
    waiting: Option<Waker>,
}

struct Shared {
    state: Mutex<State>,
    wake: Notify,
}

/// A stream whose writes are gathered and written by a task of its own.
pub struct Coalesced<S> {
    read: ReadHalf<S>,
    shared: Arc<Shared>,
}

impl<S> std::fmt::Debug for Coalesced<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Coalesced")
    }
}

impl<S: AsyncRead + AsyncWrite + Send + 'static> Coalesced<S> {
    /// Wraps `stream`; must be called within the tokio runtime (it spawns the writer).
    pub fn new(stream: S) -> Self {
        let (read, write) = tokio::io::split(stream);
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            wake: Notify::new(),
        });
        tokio::spawn(writer(write, shared.clone()));
        Coalesced { read, shared }
    }
}

fn failed(st: &State) -> io::Error {
    io::Error::new(
        st.error.unwrap_or(io::ErrorKind::BrokenPipe),
        st.error_text.clone(),
    )
}

/// Writes the buffer whenever woken, until shut down or failed.
async fn writer<S: AsyncWrite>(mut w: WriteHalf<S>, shared: Arc<Shared>) {
    let mut data = Vec::new();
    loop {
        shared.wake.notified().await;
        loop {
            let closing = {
                let Ok(mut st) = shared.state.lock() else {
                    return;
                };
                std::mem::swap(&mut st.buf, &mut data);
                if let Some(w) = st.waiting.take() {
                    // room again (or the shutdown's turn comes below)
                    w.wake();
                }
                st.closing
            };
            if data.is_empty() {
                if closing {
                    let _ = w.shutdown().await;
                    if let Ok(mut st) = shared.state.lock() {
                        st.closed = true;
                        if let Some(w) = st.waiting.take() {
                            w.wake();
                        }
                    }
                    return;
                }
                break;
            }
            let r = match w.write_all(&data).await {
                Ok(()) => w.flush().await,
                Err(e) => Err(e),
            };
            data.clear();
            if let Err(e) = r {
                if let Ok(mut st) = shared.state.lock() {
                    st.error = Some(e.kind());
                    st.error_text = e.to_string();
                    st.closed = true;
                    if let Some(w) = st.waiting.take() {
                        w.wake();
                    }
                }
                return;
            }
        }
    }
}

impl<S: AsyncRead> AsyncRead for Coalesced<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.read).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite> AsyncWrite for Coalesced<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let Ok(mut st) = self.shared.state.lock() else {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        };
        if st.error.is_some() || st.closed {
            return Poll::Ready(Err(failed(&st)));
        }
        if st.buf.len() >= HIGH_WATER {
            st.waiting = Some(cx.waker().clone());
            drop(st);
            self.shared.wake.notify_one();
            return Poll::Pending;
        }
        let first = st.buf.is_empty();
        st.buf.extend_from_slice(buf);
        drop(st);
        // the task runs once the tasks ready now have had their turn (fe2o3 does not
        // flush after every write: waking it only at flush would hold frames back)
        if first {
            self.shared.wake.notify_one();
        }
        Poll::Ready(Ok(buf.len()))
    }

    /// The writing task has been woken by the first write of the batch: nothing to wait
    /// for (a failure of the task is reported here too).
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let Ok(st) = self.shared.state.lock() else {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        };
        if st.error.is_some() {
            return Poll::Ready(Err(failed(&st)));
        }
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let Ok(mut st) = self.shared.state.lock() else {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        };
        if st.closed {
            return Poll::Ready(match st.error {
                Some(_) => Err(failed(&st)),
                None => Ok(()),
            });
        }
        st.closing = true;
        st.waiting = Some(cx.waker().clone());
        drop(st);
        self.shared.wake.notify_one();
        Poll::Pending
    }
}

impl<S> Drop for Coalesced<S> {
    /// The writing task writes what is left and ends.
    fn drop(&mut self) {
        if let Ok(mut st) = self.shared.state.lock() {
            st.closing = true;
        }
        self.shared.wake.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn writes_gathered_and_all_arrive_in_order() {
        let (a, mut b) = tokio::io::duplex(1 << 16);
        let mut c = Coalesced::new(a);
        for i in 0..1000u32 {
            c.write_all(&i.to_be_bytes()).await.unwrap();
            c.flush().await.unwrap();
        }
        c.shutdown().await.unwrap();
        let mut got = Vec::new();
        b.read_to_end(&mut got).await.unwrap();
        let want: Vec<u8> = (0..1000u32).flat_map(|i| i.to_be_bytes()).collect();
        assert_eq!(got, want);
    }

    #[tokio::test]
    async fn a_failed_write_is_reported() {
        let (a, b) = tokio::io::duplex(64);
        drop(b);
        let mut c = Coalesced::new(a);
        c.write_all(b"x").await.unwrap();
        c.flush().await.unwrap();
        tokio::task::yield_now().await;
        tokio::task::yield_now().await;
        assert!(c.write_all(b"y").await.is_err());
    }
}
