//! A TCP stream that fails with `TimedOut` once no byte has moved in either
//! direction for its idle timeout, and that holds its connection's place
//! against the caps for as long as the socket lives (through a WebSocket
//! upgrade too).

use crate::conn_caps::Slot;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};

/// A connection's socket with an idle deadline.
pub(crate) struct IdleStream {
    inner: TcpStream,
    idle: Duration,
    /// When a byte last moved; the timer is moved forward lazily, only when it fires.
    last: Instant,
    timer: Pin<Box<Sleep>>,
    _slot: Slot,
}

impl IdleStream {
    /// Wraps `inner`, which may stay idle for `idle` at most.
    pub(crate) fn new(inner: TcpStream, idle: Duration, slot: Slot) -> IdleStream {
        let last = Instant::now();
        IdleStream { inner, idle, last, timer: Box::pin(tokio::time::sleep_until(last + idle)), _slot: slot }
    }

    fn moved(&mut self, bytes: usize) {
        if bytes > 0 {
            self.last = Instant::now();
        }
    }

    /// Called when the socket is not ready: `Ready` with the error once the
    /// connection has been idle too long; otherwise the timer will wake us.
    fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        loop {
            ready!(self.timer.as_mut().poll(cx));
            let deadline = self.last + self.idle;
            if deadline <= Instant::now() {
                return Poll::Ready(io::Error::new(io::ErrorKind::TimedOut, "no traffic within the idle timeout"));
            }
            self.timer.as_mut().reset(deadline);
        }
    }

    /// The result of an I/O call: counts progress, and turns `Pending` into
    /// the idle error once the deadline has passed.
    fn settle<T>(&mut self, cx: &mut Context<'_>, polled: Poll<io::Result<T>>, bytes: impl Fn(&T) -> usize) -> Poll<io::Result<T>> {
        match polled {
            Poll::Ready(Ok(v)) => {
                self.moved(bytes(&v));
                Poll::Ready(Ok(v))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => self.poll_idle(cx).map(Err),
        }
    }
}

impl AsyncRead for IdleStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        let read = buf.filled().len().saturating_sub(before);
        this.settle(cx, polled, |_| read)
    }
}

impl AsyncWrite for IdleStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.settle(cx, polled, |n| *n)
    }

    fn poll_write_vectored(self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[io::IoSlice<'_>]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.settle(cx, polled, |n| *n)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_flush(cx);
        this.settle(cx, polled, |_| 0)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_shutdown(cx);
        this.settle(cx, polled, |_| 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conn_caps::ConnCaps;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn pair(idle: Duration) -> (IdleStream, TcpStream) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
        let (server, peer) = listener.accept().await.unwrap();
        let slot = ConnCaps::new(1, 1).take(peer.ip(), false).unwrap();
        (IdleStream::new(server, idle, slot), client)
    }

    #[tokio::test]
    async fn silence_times_out_and_traffic_does_not() {
        let (mut server, mut client) = pair(Duration::from_millis(300)).await;
        let started = std::time::Instant::now();
        // Traffic every 100 ms keeps it alive well past the timeout.
        let talker = tokio::spawn(async move {
            for _ in 0..8 {
                client.write_all(b"x").await.unwrap();
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            client
        });
        let mut got = 0;
        let mut buf = [0u8; 16];
        let err = loop {
            match server.read(&mut buf).await {
                Ok(n) => got += n,
                Err(e) => break e,
            }
        };
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert_eq!(got, 8);
        let elapsed = started.elapsed();
        assert!(elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(5), "{elapsed:?}");
        drop(talker.await.unwrap());
    }

    #[tokio::test]
    async fn a_peer_that_stops_reading_times_out_the_writer() {
        let (mut server, client) = pair(Duration::from_millis(300)).await;
        let chunk = vec![0u8; 64 * 1024];
        let result: io::Result<()> = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                server.write_all(&chunk).await?;
            }
        })
        .await
        .expect("the write gave up within 10 s");
        let err: io::Error = result.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        drop(client);
    }
}
