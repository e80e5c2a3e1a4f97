/// `restart_with`: a jail that holds something another jail makes anew at each start is restarted when that
/// jail comes back. smbd binds the named-pipe sockets samba-dcerpcd creates in its directory (a bind holds the
/// inode, and a restarted samba-dcerpcd unlinks and binds new ones): without this, share listings would fail
/// after a samba-dcerpcd restart until smbd restarted too.
extension JailSet {
    func becameRunning(_ slot: JailSlot, now: Int64) {
        slot.phase = .running
        slot.runs += 1
        if let port = slot.config.readyTCPPort {
            say("\(slot.config.name) ready: accepts on \(slot.config.readyTCPHost):\(port) (pid \(slot.process?.pid ?? 0))")
        }
        guard slot.runs > 1 else { return }
        for dependent in slots where dependent !== slot && dependent.config.restartWith.contains(slot.config.name) {
            // As `pit restart`: a running dependent is stopped and started again with the same config; one that is
            // not running (held, crash loop, waiting in order) is left to its own state.
            guard dependent.process != nil, dependent.phase == .running || dependent.phase == .starting else { continue }
            emit(SupervisorEvent(kind: .restart, jail: dependent.config.name,
                                 message: "\(dependent.config.name) restarts: \(slot.config.name), which it binds from, came back"))
            dependent.replacement = dependent.config
            stop(dependent, now: now)
        }
    }
}
