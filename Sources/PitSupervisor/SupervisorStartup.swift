import Glibc
import PitBoard
import PitJail
import PitPersona
import PitProcess

/// The start-up steps `Supervisor.run` takes before the loop, in its order.
extension Supervisor {
    /// The uplink agent and helpers inherit fds 0-2 (jails get their own: /dev/null and a pipe, JailOutput.swift).
    /// Under init, stdin is the console, whose input (the PIN included) nothing Pit starts may read; under a test
    /// harness or a pipe it may be at EOF. Pit never reads its stdin, so it becomes /dev/null for everyone.
    func detachStandardInput() {
        // Not O_CLOEXEC: with stdin closed the open lands on fd 0 itself, which must survive execve.
        let null = open("/dev/null", O_RDONLY)
        if null >= 0 {
            if null != 0 { _ = dup2(null, 0); close(null) }
        } else {
            // No /dev/null: an empty pipe rather than the console. Not a closed fd 0: the next descriptor Pit opens
            // would take its number, and a jail's stdin put in place over it would land on that descriptor.
            var ends: [Int32] = [-1, -1]
            guard pipe(&ends) == 0 else { return }
            if ends[0] != 0 { _ = dup2(ends[0], 0); close(ends[0]) }
            close(ends[1])
        }
    }

    /// The process that feeds the watchdog is the last the kernel's OOM killer should pick: killing it resets the
    /// board. Unless something already chose (systemd's OOMScoreAdjust=, an init script), Pit takes -1000. Its
    /// jails never share that protection: they get what Pit was started with, but never below 0 (raising needs
    /// no privilege), so a memory-hungry jail is killed, never Pit.
    func protectFromOOMKiller() {
        let path = "/proc/self/oom_score_adj"
        guard let text = readText(path), let current = Int32(text.trimmingCharacters()) else { return }
        jails.jailOOMScoreAdj = max(current, 0)
        guard current == 0 else { return }
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        _ = write(fd, "-1000\n", 6)
    }

    func prepareDataDirectory() throws(SupervisorError) {
        var path = ""
        for part in config.dataDirectory.split(separator: "/") {
            path += "/" + part
            if mkdir(path, 0o700) != 0 && errno != EEXIST { throw SupervisorError("data directory \(path): \(String(cString: strerror(errno)))") }
        }
    }

    func recordBoot() throws(SupervisorError) {
        let counter = BootCounter(directory: config.dataDirectory, threshold: config.watchdog.safeModeAfter)
        let watchdogReset = (feeder.bootStatus ?? 0) & Int(WatchdogFlags.cardReset.rawValue) != 0
        let reset = SupervisorEvent(kind: .watchdogReset, message: "the last boot was caused by the watchdog (bootstatus \(feeder.bootStatus ?? 0))")
        let record: BootRecord
        do { record = try counter.recordBoot(watchdogReset: watchdogReset, bootID: BootCounter.currentBootID()) } catch {
            if watchdogReset { emit(reset) }
            throw SupervisorError("boot counter: \(error)")
        }
        // Once per kernel boot: a respawned Pit reads the same bootstatus, and the reset was reported already.
        if watchdogReset && !record.countedBefore { emit(reset) }
        jails.safeMode = record.safeMode
    }

    /// A previous Pit killed with -9 (or crashed) left its jails' cgroups: under an init that respawns Pit, every
    /// crash would add more. Those whose Pit is gone are removed (anything left inside killed first).
    func removeLeftoverCgroups() {
        let removed = JailCgroup.removeStale()
        if !removed.isEmpty {
            emit(SupervisorEvent(kind: .boot, message: "removed \(removed.count) jail cgroups a previous Pit left: " + removed.joined(separator: ", ")))
        }
    }

    /// The device's face on the customer network: hostname, MAC, addresses and routes, natively over rtnetlink.
    /// A failure is reported and the jails still start (a canary that is up but mis-addressed is visible in
    /// its events; one that refuses to start is not).
    func applyPersona() {
        guard let persona = config.persona else { return }
        var options = ApplyOptions()
        if let settings = persona.dhcp {
            let link = DhcpLink(persona: persona, settings: settings, dataDirectory: config.dataDirectory, emit: emit)
            link.say = { [unowned self] in self.say($0) }
            dhcp = link
            // The remembered lease's address stays while INIT-REBOOT confirms it (ApplyOptions.keepAddress).
            options.keepAddress = link.remembered
        }
        do {
            let report = try persona.apply(options)
            if !report.changes.isEmpty {
                emit(SupervisorEvent(kind: .boot, message: "persona \(persona.hostname): " + report.changes.joined(separator: "; ")))
            }
        } catch {
            emit(.fault(.persona, "persona: \(error)"))
        }
    }
}
