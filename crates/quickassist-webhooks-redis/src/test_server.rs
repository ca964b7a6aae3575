//! [`RedisServer`]: a throwaway `redis-server` on a free loopback port, for tests
//! (feature `test-server`). Real Redis, not a mock: the binary comes from `PATH`.

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// A `redis-server` child process, killed when dropped.
///
/// ```no_run
/// # fn demo() -> std::io::Result<()> {
/// let server = quickassist_webhooks_redis::test_server::RedisServer::start()?;
/// println!("{}", server.url());
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    extra_args: Vec<String>,
}

impl RedisServer {
    /// Starts `redis-server` on a free port of 127.0.0.1, without persistence, and waits
    /// until it answers `PING`.
    ///
    /// # Errors
    ///
    /// When `redis-server` is not on `PATH` (`scripts/test` installs it) or does not answer
    /// within 10 seconds.
    pub fn start() -> std::io::Result<Self> {
        Self::start_with(Vec::new())
    }

    fn start_with(extra_args: Vec<String>) -> std::io::Result<Self> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let mut server = Self {
            child: None,
            port,
            extra_args,
        };
        server.spawn()?;
        Ok(server)
    }

    /// `redis://127.0.0.1:<port>/`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The server's port.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills the server (as a crash would).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port (after [`stop`](Self::stop)); its data is
    /// gone, as after a crash without persistence.
    ///
    /// # Errors
    ///
    /// As [`start`](Self::start).
    pub fn restart(&mut self) -> std::io::Result<()> {
        self.stop();
        self.spawn()
    }

    fn spawn(&mut self) -> std::io::Result<()> {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--protected-mode", "no"])
            .args(&self.extra_args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|error| {
                std::io::Error::new(
                    error.kind(),
                    format!("cannot run redis-server ({error}): install it (apt-get install redis-server) or run scripts/test"),
                )
            })?;
        self.child = Some(child);
        self.wait_ready()
    }

    /// Retries `PING` until `+PONG`, with a deadline: no fixed sleep.
    fn wait_ready(&self) -> std::io::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(10);
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        loop {
            if let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(100)) {
                let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
                let mut reply = [0u8; 7];
                if stream.write_all(b"PING\r\n").is_ok()
                    && stream.read_exact(&mut reply).is_ok()
                    && &reply == b"+PONG\r\n"
                {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "redis-server did not answer PING within 10 s",
                ));
            }
            std::thread::yield_now();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A three-node Redis Cluster (no replicas) on free loopback ports, killed when dropped.
#[derive(Debug)]
pub struct RedisCluster {
    nodes: Vec<RedisServer>,
    dir: std::path::PathBuf,
}

impl RedisCluster {
    /// Starts three `redis-server --cluster-enabled yes` nodes, joins them with
    /// `redis-cli --cluster create`, and waits until the cluster reports `cluster_state:ok`.
    ///
    /// # Errors
    ///
    /// When the binaries are missing or the cluster does not form within 20 seconds.
    pub fn start() -> std::io::Result<Self> {
        static CLUSTERS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = CLUSTERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "quickassist-redis-cluster-{}-{n}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir)?;
        let mut nodes = Vec::new();
        for n in 0..3 {
            let config = dir.join(format!("nodes-{n}.conf"));
            nodes.push(RedisServer::start_with(vec![
                "--cluster-enabled".into(),
                "yes".into(),
                "--cluster-config-file".into(),
                config.display().to_string(),
                "--cluster-node-timeout".into(),
                "2000".into(),
            ])?);
        }
        let addresses: Vec<String> = nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port()))
            .collect();
        let status = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(&addresses)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()?;
        if !status.success() {
            return Err(std::io::Error::other("redis-cli --cluster create failed"));
        }
        let cluster = Self { nodes, dir };
        cluster.wait_ok()?;
        Ok(cluster)
    }

    /// `redis://127.0.0.1:<port>` for every node.
    #[must_use]
    pub fn urls(&self) -> Vec<String> {
        self.nodes
            .iter()
            .map(|n| format!("redis://127.0.0.1:{}", n.port()))
            .collect()
    }

    fn wait_ok(&self) -> std::io::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(20);
        for node in &self.nodes {
            loop {
                let output = Command::new("redis-cli")
                    .args(["-p", &node.port().to_string(), "cluster", "info"])
                    .output()?;
                if String::from_utf8_lossy(&output.stdout).contains("cluster_state:ok") {
                    break;
                }
                if Instant::now() > deadline {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "the cluster did not reach cluster_state:ok within 20 s",
                    ));
                }
                std::thread::yield_now();
            }
        }
        Ok(())
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        self.nodes.clear();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
