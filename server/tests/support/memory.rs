//! A process's peak resident memory, read from `/proc` (Linux): what the memory tests
//! measure around a transfer.

/// Which process to measure: this test's own, or a server it started.
#[derive(Clone, Copy)]
pub enum Process {
    Own,
    Pid(u32),
}

impl Process {
    fn proc_file(self, name: &str) -> String {
        match self {
            Process::Own => format!("/proc/self/{name}"),
            Process::Pid(pid) => format!("/proc/{pid}/{name}"),
        }
    }

    /// The peak resident memory since the last [`reset_peak`](Self::reset_peak), in bytes.
    pub fn peak(self) -> u64 {
        let status = std::fs::read_to_string(self.proc_file("status")).expect("its status");
        let kib: u64 = status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM");
        kib * 1024
    }

    /// Starts measuring the peak from what the process holds now; returns that.
    pub fn reset_peak(self) -> u64 {
        std::fs::write(self.proc_file("clear_refs"), "5").expect("the peak can be reset");
        self.peak()
    }
}
