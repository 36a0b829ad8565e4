//! Connection workers: one single-threaded tokio runtime per core. Each accepted connection is
//! handed to the worker serving the fewest, and stays on that thread until it closes.
//!
//! Why not tokio's multi-thread scheduler: there a request wakes more than the thread that reads
//! it (a worker with a new task unparks an idle one to steal it, and the I/O driver is handed
//! between workers), and on a virtual machine each wake-up of a sleeping vCPU costs tens of
//! microseconds. On one connection that was most of a 4 KiB GET's time. A connection pinned to
//! one thread is read, answered and polled again by that thread alone. Long or blocking engine
//! work still goes to the blocking pool (`ops::on_store`), so one slow request does not hold
//! the other connections of its worker.

use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use tokio::runtime::Handle;
use tokio::sync::oneshot;

/// The worker threads; dropping this stops them (after the serving loops have drained).
pub struct Workers {
    workers: Arc<[Worker]>,
    threads: Vec<(oneshot::Sender<()>, JoinHandle<()>)>,
}

struct Worker {
    handle: Handle,
    /// Connections this worker serves now: new ones go to the least loaded.
    open: AtomicUsize,
}

/// A cheap handle for placing connections on the workers.
#[derive(Clone)]
pub struct Placement(Arc<[Worker]>);

impl Workers {
    /// Starts `count` worker threads (at least one), each running its own runtime.
    pub fn start(count: usize) -> io::Result<Workers> {
        let mut workers = Vec::new();
        let mut threads = Vec::new();
        for i in 0..count.max(1) {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            workers.push(Worker {
                handle: runtime.handle().clone(),
                open: AtomicUsize::new(0),
            });
            let (stop, stopped) = oneshot::channel::<()>();
            let thread = std::thread::Builder::new()
                .name(format!("lapis-worker-{i}"))
                .spawn(move || {
                    runtime.block_on(async {
                        let _ = stopped.await;
                    });
                })?;
            threads.push((stop, thread));
        }
        Ok(Workers {
            workers: workers.into(),
            threads,
        })
    }

    pub fn placement(&self) -> Placement {
        Placement(self.workers.clone())
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        for (stop, thread) in self.threads.drain(..) {
            let _ = stop.send(());
            let _ = thread.join();
        }
    }
}

impl Placement {
    /// Runs `serve` for `socket` on the least loaded worker. The socket leaves the accepting
    /// runtime's reactor and joins the worker's.
    pub fn spawn<F, Fut>(&self, socket: tokio::net::TcpStream, serve: F) -> io::Result<()>
    where
        F: FnOnce(tokio::net::TcpStream) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let index = (0..self.0.len())
            .min_by_key(|&i| self.0[i].open.load(Ordering::Relaxed))
            .unwrap_or(0);
        let socket = socket.into_std()?;
        let workers = self.0.clone();
        workers[index].open.fetch_add(1, Ordering::Relaxed);
        self.0[index].handle.spawn(async move {
            let _open = OpenConnection(&workers[index].open);
            match tokio::net::TcpStream::from_std(socket) {
                Ok(socket) => serve(socket).await,
                Err(e) => tracing::warn!(error = %e, "could not hand a connection to a worker"),
            }
        });
        Ok(())
    }
}

/// Counts a connection as open on its worker until it ends, however it ends.
struct OpenConnection<'a>(&'a AtomicUsize);

impl Drop for OpenConnection<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_go_to_the_least_loaded_worker_and_are_counted_until_they_end() {
        let workers = Workers::start(2).unwrap();
        let placement = workers.placement();
        let main = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        main.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let (release, released) = tokio::sync::watch::channel(false);
            let mut clients = Vec::new();
            for _ in 0..3 {
                clients.push(tokio::net::TcpStream::connect(addr).await.unwrap());
                let (socket, _) = listener.accept().await.unwrap();
                let mut released = released.clone();
                placement
                    .spawn(socket, move |_socket| async move {
                        let _ = released.wait_for(|r| *r).await;
                    })
                    .unwrap();
            }
            let open = |p: &Placement| -> Vec<usize> {
                p.0.iter().map(|w| w.open.load(Ordering::Relaxed)).collect()
            };
            let mut counts = open(&placement);
            counts.sort();
            assert_eq!(counts, vec![1, 2]);
            release.send(true).unwrap();
            for _ in 0..200 {
                if open(&placement) == vec![0, 0] {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            assert_eq!(open(&placement), vec![0, 0]);
        });
        drop(workers);
    }
}
