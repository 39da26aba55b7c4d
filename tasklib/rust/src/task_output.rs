//! A call's output to the files the governor named (`call.output`, issue 17): while an
//! `OutputRedirect` lives, fd 1 and 2 point at them, so everything the task prints (`println!`,
//! `eprintln!`, programs it starts) is its own output; the executor's descriptors come back after.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;

// The C library's, which std links anyway (no libc crate needed).
extern "C" {
    fn dup(fd: i32) -> i32;
    fn dup2(src: i32, dst: i32) -> i32;
    fn close(fd: i32) -> i32;
}

/// `call.output`: where the task's stdout and stderr go.
#[derive(Deserialize, Debug, Default)]
pub(crate) struct OutputFiles {
    pub stdout: String,
    pub stderr: String,
}

pub(crate) struct OutputRedirect {
    saved: [i32; 2],
}

fn flush_all() {
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
}

impl OutputRedirect {
    /// Without `files` (an older governor) nothing changes.
    pub fn new(files: Option<&OutputFiles>) -> OutputRedirect {
        let mut redirect = OutputRedirect { saved: [-1, -1] };
        let files = match files {
            Some(files) => files,
            None => return redirect,
        };
        flush_all();
        for (i, path) in [&files.stdout, &files.stderr].iter().enumerate() {
            let target = match OpenOptions::new()
                .write(true)
                .create(true)
                // Appending: the governor may empty the file while the call runs.
                .append(true)
                .mode(0o600)
                .open(path)
            {
                Ok(file) => file,
                Err(_) => continue, // the output stays the executor's own
            };
            let fd = i as i32 + 1;
            // SAFETY: plain descriptor calls on descriptors this process owns.
            unsafe {
                redirect.saved[i] = dup(fd);
                dup2(target.as_raw_fd(), fd);
            }
        }
        redirect
    }
}

impl Drop for OutputRedirect {
    fn drop(&mut self) {
        flush_all();
        for (i, saved) in self.saved.iter().enumerate() {
            if *saved < 0 {
                continue;
            }
            // SAFETY: `saved` was returned by dup() above and is closed once.
            unsafe {
                dup2(*saved, i as i32 + 1);
                close(*saved);
            }
        }
    }
}
