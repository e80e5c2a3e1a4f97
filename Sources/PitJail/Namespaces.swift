import CPitShim
import Glibc

extension NamespaceSpec {
    /// The clone(2) flags for the jail. Network and UTS are opt-in: the appliance's services must keep
    /// the host's network and hostname so another process can watch their traffic.
    /// CLONE_NEWCGROUP is not here: the child unshares it after the parent has moved it into its cgroup,
    /// so that cgroup becomes the root of the jail's view.
    var cloneFlags: Int32 {
        var flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC
        if userRangeStart != nil { flags |= CLONE_NEWUSER }
        if network { flags |= CLONE_NEWNET }
        if uts { flags |= CLONE_NEWUTS }
        return Int32(flags)
    }

    /// Parent side: map root of the new user namespace to the configured unprivileged range.
    func writeIDMaps(pid: pid_t) throws(JailError) {
        guard let start = userRangeStart else { return }
        var map = "0 \(start) \(userRangeSize)\n"
        for (index, id) in peerIDs.enumerated() { map += "\(userRangeSize + UInt32(index)) \(id) 1\n" }
        for file in ["uid_map", "gid_map"] {
            try writeFile("/proc/\(pid)/\(file)", map, step: "write " + file)
        }
    }

    /// Child side, once the maps exist: become root of the user namespace (still unprivileged on the host).
    func enterUserNamespace(_ program: inout ChildProgram) {
        guard userRangeStart != nil else { return }
        program.setGroupID(0, step: "setresgid 0 in user namespace")
        program.setUserID(0, step: "setresuid 0 in user namespace")
    }

    /// Lets the jail's user namespace bind its low ports in the host's network namespace: lowers (never raises)
    /// net.ipv4.ip_unprivileged_port_start to the lowest of them. The cost, said in README: from then on any
    /// unprivileged process of the host may bind ports from there up; on the appliance the jails are the only
    /// unprivileged processes, and each binds only what its policy and Landlock rules let it.
    func openLowPorts() throws(JailError) {
        guard let lowest = lowPorts.min(), userRangeStart != nil, !network else { return }
        let path = "/proc/sys/net/ipv4/ip_unprivileged_port_start"
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .sys("open", path) }
        var buffer = [UInt8](repeating: 0, count: 16)
        let n = read(fd, &buffer, buffer.count - 1)
        close(fd)
        guard n > 0, let current = Int(String(decoding: buffer[0..<n], as: UTF8.self).filter(\.isNumber)) else { throw .sys("read", path) }
        if current > Int(lowest) { try writeFile(path, "\(lowest)\n", step: "lower ip_unprivileged_port_start") }
    }

    func configureHost(_ program: inout ChildProgram) {
        if network {
            // A new network namespace starts with loopback down; bring it up so local IPC over 127.0.0.1 works.
            program.bringUpLoopback()
        }
        if uts, let hostname {
            program.setHostname(hostname)
        }
    }
}

func writeFile(_ path: String, _ text: String, step: String) throws(JailError) {
    let fd = open(path, O_WRONLY | O_CLOEXEC)
    guard fd >= 0 else { throw .sys(step, path) }
    defer { close(fd) }
    let written = text.withCString { write(fd, $0, strlen($0)) }
    guard written == text.utf8.count else { throw .sys(step, path) }
}
