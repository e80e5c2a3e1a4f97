import PitJail

/// What the Samba jails need before they start: the Samba tree rendered for the current config (SambaTree),
/// and the VFS modules smbd's smb.conf names present (SambaPreflight).
final class SambaGate {
    /// The config the tree was last prepared for (the supervisor's current one).
    private var config: DeviceConfig
    /// Why the Samba tree could not be prepared, until it can.
    private var treeProblem: String?
    private let preflight = SambaPreflight()
    private let emit: (SupervisorEvent) -> Void

    init(config: DeviceConfig, emit: @escaping (SupervisorEvent) -> Void) {
        self.config = config
        self.emit = emit
    }

    /// Renders the Samba tree (SambaTree) for the current config: at start and when a reload is applied, before
    /// any jail of that config starts. A failure (a symlink a jail planted where a directory belongs) is an
    /// event; the jails that bind the tree then do not start until a later attempt succeeds (`start` retries),
    /// and the others run.
    func prepareTree(for config: DeviceConfig) {
        self.config = config
        prepareTree()
    }

    private func prepareTree() {
        if let problem = config.personaProblem {
            // Reported once per config (the jails' own config_error lines name it too, once per distinct problem).
            if treeProblem != problem { emit(SupervisorEvent(kind: .configError, message: "\(problem): the persona is not applied and the jails that bind the Samba tree do not start")) }
            treeProblem = problem
            return
        }
        guard let persona = config.persona, let root = config.sambaRoot else { treeProblem = nil; return }
        do {
            let warnings = try SambaTree.prepare(persona, root: root, port: config.smbPort, jails: config.jails.map(\.spec))
            treeProblem = nil
            for warning in warnings { emit(SupervisorEvent(kind: .configError, message: "samba tree: \(warning)")) }
        } catch {
            treeProblem = error.description
            emit(SupervisorEvent(kind: .configError, message: "\(error): jails that bind it do not start"))
        }
    }

    /// True when one of the jail's binds comes from the Samba tree.
    private func usesTree(_ spec: JailSpec) -> Bool {
        guard let root = config.sambaRoot else { return false }
        return spec.root.mounts.contains { mount in
            guard case .bind(let source, _, _) = mount else { return false }
            return source == root || source.hasPrefix(root + "/")
        }
    }

    /// True when the jail serves smbd's named pipes: it binds the tree's ncalrpc directory writable (samba-dcerpcd).
    private func servesPipes(_ spec: JailSpec) -> Bool {
        guard let root = config.sambaRoot else { return false }
        return spec.root.mounts.contains { if case .bind(let source, _, true) = $0 { return source == root + "/ncalrpc" } else { return false } }
    }

    /// Right before a jail starts: the pipe server's sockets of its last run go, so readiness waits for new ones.
    func willStart(_ spec: JailSpec) {
        if servesPipes(spec), let root = config.sambaRoot { SambaTree.removeStalePipes(root: root) }
    }

    /// Whether the jail, accepting on its port, is ready for the jails after it: the pipe server also once its
    /// pipes exist (smbd binds them when it starts).
    func ready(_ spec: JailSpec) -> Bool {
        guard servesPipes(spec), let root = config.sambaRoot else { return true }
        return SambaTree.pipesServed(root: root)
    }

    /// Why a jail cannot start now.
    enum StartProblem {
        /// Its configuration (a persona that does not load, smb.conf naming a VFS module this Samba lacks): no
        /// restart or watchdog reset can mend it, so the jail is `misconfigured` and the box stays up for the fix.
        case configuration(String)
        /// The tree could not be made on the device (a link a jail planted where a directory belongs, a full
        /// /run): a failed start like any other, with back-off and crash loop, and down for health when required,
        /// so a jail cannot keep smbd dead behind a fed watchdog.
        case runtime(String)
    }

    /// Why the jail cannot start now, checked before each start: the Samba tree it binds could not be prepared
    /// (tried again here), or smbd's smb.conf names a VFS module this Samba lacks (SambaPreflight).
    func startProblem(_ spec: JailSpec) -> StartProblem? {
        if treeProblem != nil && usesTree(spec) {
            prepareTree()
            if let problem = treeProblem {
                return config.personaProblem != nil ? .configuration(problem) : .runtime(problem)
            }
        }
        return preflight.problem(for: spec).map { .configuration($0) }
    }
}
