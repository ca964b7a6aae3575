//! `qa-webhooks listen` as a child process: started on port 0, ready when it says so.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    sync::mpsc::{self, Receiver},
    time::{Duration, Instant},
};

/// How long to wait for a line the receiver should print.
const LINE_DEADLINE: Duration = Duration::from_secs(30);

/// A running `qa-webhooks listen`, killed when dropped.
pub struct Listener {
    child: Child,
    /// `http://127.0.0.1:PORT/webhooks/thequickassist`, from the ready line.
    pub url: String,
    /// The whole ready line (`listening on ...`).
    pub ready: String,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
}

impl Listener {
    /// Starts `qa-webhooks listen --port 0 ARGS` with `envs`, and waits for its ready line.
    pub fn start(args: &[&str], envs: &[(&str, &str)]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_qa-webhooks"));
        command
            .arg("listen")
            .args(["--port", "0"])
            .args(args)
            .env_remove(super::SECRET_ENV)
            .env_remove("REDIS_URL")
            .env_remove("PORT")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in envs {
            command.env(name, value);
        }
        Self::spawn(command)
    }

    /// Spawns `command` (a `listen` with piped stdout and stderr) and waits for its ready line.
    pub fn spawn(mut command: Command) -> Self {
        let mut child = command.spawn().unwrap();
        let stdout = lines(child.stdout.take().unwrap());
        let stderr = lines(child.stderr.take().unwrap());
        let mut listener = Self {
            child,
            url: String::new(),
            ready: String::new(),
            stdout,
            stderr,
        };
        let ready = listener.stderr_line_containing("listening on ");
        listener.url = ready
            .split_whitespace()
            .find(|word| word.starts_with("http://"))
            .unwrap()
            .to_owned();
        listener.ready = ready;
        listener
    }

    /// Stops the receiver and returns everything it printed on stdout and stderr that was not
    /// read yet (by [`Listener::next_event`] or [`Listener::stderr_line_containing`]).
    pub fn finish(mut self) -> (String, String) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // The pipes are closed now: each channel ends once its thread has read the rest.
        let rest = |lines: &Receiver<String>| {
            let mut text = String::new();
            while let Ok(line) = lines.recv_timeout(LINE_DEADLINE) {
                text.push_str(&line);
                text.push('\n');
            }
            text
        };
        (rest(&self.stdout), rest(&self.stderr))
    }

    /// The next line on stdout (a processed event).
    pub fn next_event(&self) -> serde_json::Value {
        let line = self
            .stdout
            .recv_timeout(LINE_DEADLINE)
            .expect("an event line on stdout");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line:?}: {e}"))
    }

    /// Waits for a stderr line containing `needle` and returns it.
    pub fn stderr_line_containing(&self, needle: &str) -> String {
        let deadline = Instant::now() + LINE_DEADLINE;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(line) => seen.push(line),
                Err(_) => panic!("no stderr line containing {needle:?}; saw {seen:#?}"),
            }
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every line `pipe` gives, through a channel fed by a thread.
fn lines(pipe: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    receiver
}
