//! [`RedisServer`] and [`RedisCluster`]: throwaway `redis-server`s on free loopback ports,
//! for tests. Real Redis, not a mock: the binaries (`redis-server`, and `redis-cli` for a
//! cluster) come from `PATH` (`apt-get install redis-server`).

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    time::Duration,
};

use crate::process::{adopt, free_ports, on_free_ports, wait_until_ready, ServerProcess};

/// How long a server may take to answer `PING`, and a cluster to report `cluster_state:ok`.
const READY_WITHIN: Duration = Duration::from_secs(20);

/// A `redis-server` child process without persistence, killed when dropped.
///
/// ```no_run
/// # fn demo() -> std::io::Result<()> {
/// let server = quickassist_webhooks_test::redis::RedisServer::start()?;
/// println!("{}", server.url());
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    /// Cluster mode: the node's config file and its cluster bus port.
    cluster: Option<(PathBuf, u16)>,
}

impl RedisServer {
    /// Starts `redis-server` on a free port of 127.0.0.1, without persistence, and waits
    /// until it answers `PING`.
    ///
    /// # Errors
    ///
    /// When `redis-server` is not on `PATH` or does not answer within 20 seconds.
    pub fn start() -> std::io::Result<Self> {
        Self::start_node(None)
    }

    /// Starts a node with `--cluster-enabled yes`, its config file in `dir`.
    fn start_node(cluster_dir: Option<&Path>) -> std::io::Result<Self> {
        on_free_ports(|| {
            let [port, bus_port] = free_ports()?;
            let mut server = Self {
                child: None,
                port,
                cluster: cluster_dir.map(|dir| (dir.join(format!("nodes-{port}.conf")), bus_port)),
            };
            server.spawn().map(|()| server)
        })
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

    /// Kills the server (as a crash would) and waits for it to exit.
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
    /// As [`start`](Self::start), or when another process took the port meanwhile.
    pub fn restart(&mut self) -> std::io::Result<()> {
        self.stop();
        self.spawn()
    }

    fn spawn(&mut self) -> std::io::Result<()> {
        let mut command = Command::new("redis-server");
        command
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--protected-mode", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some((config, bus_port)) = &self.cluster {
            // An explicit bus port: the default (port + 10000) overflows for ports above
            // 55535, which the kernel hands out as free ports.
            command
                .args(["--cluster-enabled", "yes", "--cluster-node-timeout", "2000"])
                .arg("--cluster-config-file")
                .arg(config)
                .args(["--cluster-port", &bus_port.to_string()]);
        }
        let child = command.spawn().map_err(|error| {
            std::io::Error::new(
                error.kind(),
                format!(
                    "cannot run redis-server ({error}): install it \
                     (apt-get install redis-server) or run scripts/test"
                ),
            )
        })?;
        adopt(self, child)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `true` when the server at `addr` answers `PING` with `+PONG`.
fn ping(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(100)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let mut reply = [0u8; 7];
    stream.write_all(b"PING\r\n").is_ok()
        && stream.read_exact(&mut reply).is_ok()
        && &reply == b"+PONG\r\n"
}

/// A three-node Redis Cluster (three primaries, no replicas) on free loopback ports,
/// killed when dropped.
#[derive(Debug)]
pub struct RedisCluster {
    nodes: Vec<RedisServer>,
    dir: PathBuf,
}

impl RedisCluster {
    /// Starts three `redis-server --cluster-enabled yes` nodes, joins them with
    /// `redis-cli --cluster create`, and waits until every node reports `cluster_state:ok`.
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
        // Built before the nodes start, so that the directory goes even if one fails.
        let mut cluster = Self {
            nodes: Vec::new(),
            dir,
        };
        for _ in 0..3 {
            cluster
                .nodes
                .push(RedisServer::start_node(Some(&cluster.dir))?);
        }
        let output = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(cluster.addresses())
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdin(Stdio::null())
            .output()?;
        if !output.status.success() {
            return Err(std::io::Error::other(format!(
                "redis-cli --cluster create failed: {}",
                String::from_utf8_lossy(&output.stdout)
            )));
        }
        cluster.wait_ok()?;
        Ok(cluster)
    }

    /// `redis://127.0.0.1:<port>` for every node.
    #[must_use]
    pub fn urls(&self) -> Vec<String> {
        self.addresses()
            .map(|address| format!("redis://{address}"))
            .collect()
    }

    fn addresses(&self) -> impl Iterator<Item = String> + '_ {
        self.nodes
            .iter()
            .map(|node| format!("127.0.0.1:{}", node.port()))
    }

    /// Waits until every node, in turn, reports `cluster_state:ok`.
    fn wait_ok(&self) -> std::io::Result<()> {
        let mut ok = 0;
        let pauses = (Duration::from_millis(1), Duration::from_millis(50));
        let not_ok = "the cluster did not reach cluster_state:ok";
        wait_until_ready(not_ok, READY_WITHIN, pauses, || {
            while let Some(node) = self.nodes.get(ok) {
                let output = Command::new("redis-cli")
                    .args(["-p", &node.port().to_string(), "cluster", "info"])
                    .stdin(Stdio::null())
                    .output()?;
                if !String::from_utf8_lossy(&output.stdout).contains("cluster_state:ok") {
                    return Ok(false);
                }
                ok += 1;
            }
            Ok(true)
        })
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        self.nodes.clear();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl ServerProcess for RedisServer {
    const NOT_READY: &'static str = "redis-server did not answer PING";
    const READY_WITHIN: Duration = READY_WITHIN;
    const PAUSES: (Duration, Duration) = (Duration::from_millis(1), Duration::from_millis(20));

    fn child(&mut self) -> &mut Option<Child> {
        &mut self.child
    }

    fn answers(&mut self) -> std::io::Result<bool> {
        Ok(ping(SocketAddr::from(([127, 0, 0, 1], self.port))))
    }

    fn exited(&self, status: ExitStatus) -> std::io::Error {
        std::io::Error::new(
            std::io::ErrorKind::AddrInUse,
            format!(
                "redis-server exited ({status}) before answering on port {}",
                self.port
            ),
        )
    }

    fn halt(&mut self) {
        self.stop();
    }
}
