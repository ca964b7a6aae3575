//! [`PostgresServer`]: a throwaway PostgreSQL cluster on a free loopback port, for tests.
//! Real PostgreSQL, not a mock: the binaries come from `$PG_BINDIR`, else the newest
//! `/usr/lib/postgresql/<version>/bin` (Debian's layout), else `PATH`
//! (`apt-get install postgresql`).
//!
//! PostgreSQL refuses to run as root; when the tests run as root (as CI does), `initdb` and
//! `postgres` run as the unprivileged user `nobody` (through `setpriv`, which `exec`s, so the
//! child process is the server itself) and the cluster's directory is handed to that user;
//! the temporary directory (`$TMPDIR`, else `/tmp`) must then be reachable by `nobody`.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    sync::atomic::{AtomicUsize, Ordering},
    time::{Duration, Instant},
};

use crate::process::{adopt, free_ports, on_free_ports, ServerProcess};

/// How long the cluster may take to accept connections.
const READY_WITHIN: Duration = Duration::from_secs(30);

/// How long a fast shutdown may take before the server is killed.
const STOP_WITHIN: Duration = Duration::from_secs(10);

/// The password of the `postgres` superuser of a test cluster (TCP connections need it;
/// the URL carries it, which is why everything that shows a URL redacts passwords).
pub const PASSWORD: &str = "quickassist-test-password";

/// A PostgreSQL cluster in a temporary directory, listening on 127.0.0.1 only (its unix
/// socket inside that directory), shut down and deleted when dropped.
///
/// ```no_run
/// # fn demo() -> std::io::Result<()> {
/// let server = quickassist_webhooks_test::postgres::PostgresServer::start()?;
/// println!("{}", server.port()); // server.url() holds the password: do not print it
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct PostgresServer {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
    bindir: PathBuf,
    /// `Some((uid, gid))` when the server runs as `nobody` because we are root.
    run_as: Option<(u32, u32)>,
    durable: bool,
}

impl PostgresServer {
    /// Creates a cluster with `fsync` off (fast; commits survive a server crash but not a
    /// machine crash, which is all a test needs), starts it and waits until it accepts
    /// connections.
    ///
    /// # Errors
    ///
    /// When the PostgreSQL binaries cannot be found, `initdb` fails, or the server does not
    /// accept connections within 30 seconds.
    pub fn start() -> std::io::Result<Self> {
        Self::create(false)
    }

    /// As [`start`](Self::start), with `fsync` and `synchronous_commit` on: every commit is
    /// flushed to disk before it is acknowledged, for benchmarks of durable commits.
    ///
    /// # Errors
    ///
    /// As [`start`](Self::start).
    pub fn start_durable() -> std::io::Result<Self> {
        Self::create(true)
    }

    fn create(durable: bool) -> std::io::Result<Self> {
        static CLUSTERS: AtomicUsize = AtomicUsize::new(0);
        let n = CLUSTERS.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("quickassist-postgres-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let mut server = Self {
            child: None,
            port: 0,
            dir,
            bindir: bindir()?,
            run_as: unprivileged_user()?,
            durable,
        };
        server.init()?;
        on_free_ports(|| {
            [server.port] = free_ports()?;
            server.spawn()
        })?;
        Ok(server)
    }

    /// `postgres://postgres:<password>@127.0.0.1:<port>/postgres`. It holds the password:
    /// never print it.
    #[must_use]
    pub fn url(&self) -> String {
        format!(
            "postgres://postgres:{PASSWORD}@127.0.0.1:{}/postgres",
            self.port
        )
    }

    /// The server's port on 127.0.0.1.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether the server process is running (between [`start`](Self::start) or
    /// [`restart`](Self::restart) and [`stop`](Self::stop)).
    #[must_use]
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// Shuts the server down (a fast shutdown: open transactions roll back, connections are
    /// closed) and waits for it to exit; the data stays for [`restart`](Self::restart).
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        // SIGINT is PostgreSQL's fast shutdown. Without `libc` (unsafe code is forbidden
        // here), `kill` sends it.
        let signalled = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        let deadline = Instant::now() + STOP_WITHIN;
        while signalled && Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Starts the server again on the same port and data (after [`stop`](Self::stop)): the
    /// committed rows are still there.
    ///
    /// # Errors
    ///
    /// As [`start`](Self::start), or when another process took the port meanwhile.
    pub fn restart(&mut self) -> std::io::Result<()> {
        self.stop();
        self.spawn()
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn command(&self, program: &str) -> Command {
        let binary = self.bindir.join(program);
        match self.run_as {
            None => Command::new(binary),
            Some((uid, gid)) => {
                let mut command = Command::new("setpriv");
                command
                    .arg(format!("--reuid={uid}"))
                    .arg(format!("--regid={gid}"))
                    .arg("--clear-groups")
                    .arg(binary);
                command
            }
        }
    }

    fn init(&self) -> std::io::Result<()> {
        let password_file = self.dir.join("password");
        std::fs::write(&password_file, PASSWORD)?;
        if let Some((uid, gid)) = self.run_as {
            std::os::unix::fs::chown(&self.dir, Some(uid), Some(gid))?;
            std::os::unix::fs::chown(&password_file, Some(uid), Some(gid))?;
        }
        let output = self
            .command("initdb")
            .arg("-D")
            .arg(self.data())
            .args(["-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"])
            // Cleartext passwords on loopback: SCRAM's deliberately slow key derivation, run
            // by the client in an unoptimised test build, made opening a pool of
            // connections take seconds.
            .args(["--auth-local=trust", "--auth-host=password"])
            .arg(format!("--pwfile={}", password_file.display()))
            .stdin(Stdio::null())
            .output()
            .map_err(|error| not_installed("initdb", error))?;
        if !output.status.success() {
            return Err(std::io::Error::other(format!(
                "initdb failed: {}",
                String::from_utf8_lossy(&output.stderr)
            )));
        }
        Ok(())
    }

    fn spawn(&mut self) -> std::io::Result<()> {
        let durability = if self.durable { "on" } else { "off" };
        let mut command = self.command("postgres");
        command
            .arg("-D")
            .arg(self.data())
            .args(["-p", &self.port.to_string()])
            .args(["-c", "listen_addresses=127.0.0.1"])
            .arg("-c")
            .arg(format!("unix_socket_directories={}", self.dir.display()))
            .args(["-c", &format!("fsync={durability}")])
            .args(["-c", &format!("full_page_writes={durability}")])
            .args(["-c", "synchronous_commit=on"])
            .args(["-c", "max_connections=300"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(self.dir.join("server.log"))?);
        let child = command
            .spawn()
            .map_err(|error| not_installed("postgres", error))?;
        adopt(self, child)
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn not_installed(program: &str, error: std::io::Error) -> std::io::Error {
    std::io::Error::new(
        error.kind(),
        format!(
            "cannot run {program} ({error}): install PostgreSQL \
             (apt-get install postgresql) or run scripts/test"
        ),
    )
}

/// The directory holding `initdb`, `postgres` and `pg_isready`.
fn bindir() -> std::io::Result<PathBuf> {
    let complete = |dir: &Path| {
        ["initdb", "postgres", "pg_isready"]
            .iter()
            .all(|program| dir.join(program).is_file())
    };
    if let Some(dir) = std::env::var_os("PG_BINDIR").map(PathBuf::from) {
        if complete(&dir) {
            return Ok(dir);
        }
    }
    // Debian and Ubuntu: /usr/lib/postgresql/<major>/bin, the newest major first.
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let major = entry.file_name().to_str()?.parse::<u32>().ok()?;
            Some((major, entry.path().join("bin")))
        })
        .collect();
    versions.sort_by_key(|(major, _)| std::cmp::Reverse(*major));
    if let Some((_, dir)) = versions.into_iter().find(|(_, dir)| complete(dir)) {
        return Ok(dir);
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .find(|dir| complete(dir))
        .ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "PostgreSQL binaries (initdb, postgres, pg_isready) not found in $PG_BINDIR, \
                 /usr/lib/postgresql/*/bin or PATH: apt-get install postgresql, or run scripts/test",
            )
        })
}

/// `Some((uid, gid))` of `nobody` when this process is root (PostgreSQL refuses to run as
/// root), `None` otherwise.
fn unprivileged_user() -> std::io::Result<Option<(u32, u32)>> {
    let id = |args: &[&str]| -> std::io::Result<u32> {
        let output = Command::new("id").args(args).output()?;
        String::from_utf8_lossy(&output.stdout)
            .trim()
            .parse()
            .map_err(|_| std::io::Error::other(format!("`id {}` gave no number", args.join(" "))))
    };
    if id(&["-u"])? != 0 {
        return Ok(None);
    }
    Ok(Some((id(&["-u", "nobody"])?, id(&["-g", "nobody"])?)))
}

impl ServerProcess for PostgresServer {
    const NOT_READY: &'static str = "postgres did not accept connections";
    const READY_WITHIN: Duration = READY_WITHIN;
    const PAUSES: (Duration, Duration) = (Duration::from_millis(5), Duration::from_millis(50));

    fn child(&mut self) -> &mut Option<Child> {
        &mut self.child
    }

    fn answers(&mut self) -> std::io::Result<bool> {
        let ready = Command::new(self.bindir.join("pg_isready"))
            .args(["-q", "-h", "127.0.0.1", "-p", &self.port.to_string()])
            .stdin(Stdio::null())
            .status()?;
        Ok(ready.success())
    }

    fn exited(&self, status: ExitStatus) -> std::io::Error {
        let log = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
        let kind = if log.contains("Address already in use") {
            std::io::ErrorKind::AddrInUse
        } else {
            std::io::ErrorKind::Other
        };
        std::io::Error::new(
            kind,
            format!("postgres exited ({status}) on port {}: {log}", self.port),
        )
    }

    fn halt(&mut self) {
        self.stop();
    }
}
