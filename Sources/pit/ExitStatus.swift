import Glibc
import PitJail

/// Pit's exit statuses: one table for every command (README, "Exit status"; `ExitStatusTests` runs each case).
enum ExitStatus {
    static let success: Int32 = 0
    /// The command ran and the answer is bad news or a refusal: `pit status` not healthy (degraded, starving,
    /// safe mode, a crash loop), an unknown jail, an invalid config or policy, a failed delivery, a damaged spool.
    static let failure: Int32 = 1
    /// Usage: an unknown option, a missing or malformed argument (sysexits' EX_USAGE, as swift-argument-parser).
    static let usage: Int32 = 64
    /// The supervisor is not there to ask: its control socket cannot be reached (EX_UNAVAILABLE).
    static let unavailable: Int32 = 69
    /// `pit run` passes the command's status through (128+N when signal N killed it), so its own failures take
    /// the numbers docker run, env and chroot use: Pit failed before the command ran (usage, spec, set-up)...
    static let runFailed: Int32 = 125
    /// ...the command was found in the jail but could not be executed...
    static let cannotExecute: Int32 = 126
    /// ...or it was not found in the jail.
    static let notFound: Int32 = 127

    /// Which of the three a `pit run` launch failure is.
    static func of(_ error: LaunchError) -> Int32 {
        guard case .setup(let failure) = error, failure.step == "exec" || failure.step == "execve" else { return runFailed }
        return failure.errno == ENOENT ? notFound : cannotExecute
    }
}
