/// How often to feed the watchdog.
///
/// The window in which a feed must land is the timeout minus the pretimeout: the pretimeout
/// governor (panic, log) fires that many seconds before the reset, and Pit must beat it too.
/// Like systemd (`watchdog_runtime_wait()` in src/shared/watchdog.c) Pit feeds at half that
/// window, so one late or lost feed still leaves half the window before anything fires.
/// OpenWrt's procd instead feeds every 5 s against a 30 s timeout (a sixth); half the window is
/// enough for Pit because the health gate, not the feed rate, decides when to stop feeding.
public enum FeedPolicy {
    /// Milliseconds between feeds for a timeout and pretimeout in seconds. A pretimeout of 0,
    /// or one not shorter than the timeout (a driver would refuse it), means "no pretimeout".
    public static func intervalMilliseconds(timeoutSeconds: Int, pretimeoutSeconds: Int = 0) -> Int64 {
        precondition(timeoutSeconds > 0, "watchdog timeout must be positive")
        let window = pretimeoutSeconds > 0 && pretimeoutSeconds < timeoutSeconds
            ? timeoutSeconds - pretimeoutSeconds
            : timeoutSeconds
        return Int64(window) * 1000 / 2
    }
}
