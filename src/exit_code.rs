//! Every way metallab ends, as the shell sees it. `main` exits through [`ExitCode::code`]
//! and nowhere else decides a number; the README's exit-code table lists these.

/// How a run of metallab ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// Done as asked.
    Ok,
    /// The lab is not as planned: checks ran and at least one failed, or `status`
    /// reported a problem.
    NotAsPlanned,
    /// Bad input, or a step failed; the message says which.
    Error,
    /// Stopped by Ctrl-C or SIGTERM (128 + SIGINT, as shells report it).
    Interrupted,
    /// The reader of stdout or stderr went away (128 + SIGPIPE, as shells report a tool
    /// the signal stopped).
    BrokenPipe,
    /// A command run inside a router (or a tool run for the user) ended with this code,
    /// in 1..=255; metallab passes it on.
    Passthrough(u8),
}

impl ExitCode {
    pub fn code(self) -> i32 {
        match self {
            ExitCode::Ok => 0,
            ExitCode::NotAsPlanned => 1,
            ExitCode::Error => 2,
            ExitCode::Interrupted => 130,
            ExitCode::BrokenPipe => 141,
            ExitCode::Passthrough(code) => i32::from(code),
        }
    }

    /// Ends the process with this code.
    pub fn exit(self) -> ! {
        std::process::exit(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_documented_ones() {
        assert_eq!(ExitCode::Ok.code(), 0);
        assert_eq!(ExitCode::NotAsPlanned.code(), 1);
        assert_eq!(ExitCode::Error.code(), 2);
        assert_eq!(ExitCode::Interrupted.code(), 130);
        assert_eq!(ExitCode::BrokenPipe.code(), 128 + 13);
        assert_eq!(ExitCode::Passthrough(3).code(), 3);
        assert_eq!(ExitCode::Passthrough(255).code(), 255);
    }
}
