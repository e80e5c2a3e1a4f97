import Glibc
import PitProcess
import PitBoard
import PitJail
import PitPersona
import PitUplink
import PitPolicy
import PitTOML

/// The device config (`/etc/pit/device.toml`): everything `pit supervise` runs, validated as a whole
/// before anything starts. Relative paths are taken from the config file's directory.
///
/// ```toml
/// data_dir = "/var/lib/pit"
/// control_socket = "/run/pit/control.sock"
/// board = "board.toml"                 # watchdog, LEDs, console of this hardware
///
/// [watchdog]
/// owner = "pit"                        # "pit": Pit opens the board's device and feeds it (busybox init, procd
///                                      # told to let go); "systemd": systemd's RuntimeWatchdogSec holds the
///                                      # device, Pit never opens it and pings systemd (WatchdogSec= in
///                                      # pit.service) through the same health gate. Either way, when systemd
///                                      # sets WATCHDOG_USEC Pit sends WATCHDOG=1 only while healthy.
/// timeout_s = 30                       # default: the board's, else 30
/// health_grace_s = 60                  # health may fail this long before feeding stops
/// magic_close = false                  # disarm ('V') on an intended stop
/// safe_mode_after = 3                  # consecutive watchdog resets before safe mode
///
/// [[jails]]
/// name = "smbd"
/// spec = "jails/smbd.toml"
/// policy = "jails/smbd.policy"         # optional: overrides the spec's policy
/// required = true                      # the device is unhealthy while it is down
/// ready_tcp = 445                      # ready once 127.0.0.1:445 accepts; absent: ready once exec'd
/// ready_timeout_s = 10
/// restart_delay_ms = 500               # first back-off, doubled up to restart_delay_max_ms
/// restart_delay_max_ms = 30000
/// crash_loop_exits = 5                 # this many exits within crash_loop_window_s: stop restarting
/// crash_loop_window_s = 60
/// stop_grace_s = 5                     # SIGTERM, then SIGKILL after this
/// smb_audit = true                     # its /dev/log is the supervisor's: smb_logon, smb_enumeration, smb_access
/// decoy_audit = true                   # (another decoy) its /dev/log takes `<14>pit-decoy: {json}`: decoy_access
/// restart_with = ["dcerpcd"]           # restarted whenever one of these comes back after a restart
/// ```
/// Jails start in the order listed: samba-dcerpcd (policies/samba/dcerpcd.toml, `ready_tcp = "ADDR:135"`)
/// before smbd, whose named pipes it serves.
public struct DeviceConfig: Sendable {
    public var file: String
    public var dataDirectory: String
    public var controlSocket: String
    public var board: Board?
    /// The network persona (hostname, MAC, addresses, routes, decoy shares), applied before the jails start.
    public var persona: Persona?
    public var watchdog: WatchdogSettingsConfig
    public var jails: [JailConfig]
    /// The `[[uplink]]` transports; when there are any, the supervisor runs `pit uplink-agent` to deliver events.
    public var uplinks: [TransportConfig] = []
    /// The serial console for field diagnostics, when a tty is named here or in the board file.
    public var console: ConsoleSettings?
    /// Where the Samba tree is rendered from the persona (`samba_root`, normalized), when there is a persona.
    public var sambaRoot: String?
    /// The TCP port smb.conf tells smbd to listen on (`smb_port`).
    public var smbPort: UInt16 = 445
    /// Why the persona named could not be used, when the config was loaded with `tolerateDecoyErrors` (at start):
    /// the rest of the device runs (watchdog, console, uplink), the jails that bind the Samba tree do not start
    /// (JailPhase.misconfigured), and this is the config_error that says why.
    public var personaProblem: String?
    /// The text of every file this config was built from (this file, board, persona, each jail's spec and
    /// policy): a SIGHUP that reads the same texts changes nothing, so it records nothing.
    public var sourceText: String = ""
}

public struct ConsoleSettings: Sendable, Equatable {
    public var tty: String
    public var baud: Int
    /// Needed by the commands that change anything; none configured: those commands are refused.
    public var pin: String?
    public var echo: Bool
    public var allowReboot: Bool
}

/// Who holds the hardware watchdog device: one opener at a time (the kernel answers EBUSY to a second).
public enum WatchdogOwner: String, Sendable, Equatable {
    case pit
    case systemd
}

public struct WatchdogSettingsConfig: Sendable, Equatable {
    public var owner: WatchdogOwner = .pit
    public var enabled: Bool
    public var device: String?
    public var timeoutSeconds: Int
    public var pretimeoutSeconds: Int
    public var healthGraceSeconds: Int
    public var magicClose: Bool
    public var safeModeAfter: Int
    /// The event loop is "late" (unhealthy) beyond this many milliseconds past its deadline.
    public var maxLoopLatencyMs: Int
}

public struct JailConfig: Sendable {
    public var name: String
    public var specFile: String
    public var spec: JailSpec
    public var policy: JailPolicy?
    /// Text of the spec and policy as read: a reload restarts the jail only when these change.
    public var fingerprint: String
    public var required: Bool
    public var readyTCPPort: UInt16?
    /// The IPv4 address the readiness check connects to (default 127.0.0.1).
    public var readyTCPHost: String
    public var readyTimeoutMs: Int64
    public var restart: RestartPolicy
    public var stopGraceMs: Int64
    /// Where this jail's /dev/log is bound, when Samba's full_audit lines become smb_access events.
    public var auditSocket: String?
    /// What that socket's lines are: Samba's (`smb_audit`) or a decoy's own (`decoy_audit`).
    public var auditFormat: AuditFormat = .samba
    /// Jails whose return restarts this one: each time one of them becomes running again after its first start,
    /// this jail is restarted as `pit restart` would (smbd binds samba-dcerpcd's sockets, which a restarted
    /// samba-dcerpcd makes anew: see SambaTree.prepareNamedPipes).
    public var restartWith: [String] = []
}

public struct ConfigLoadError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

/// The files a device config names (board, persona, jail specs, policies, decoy templates), reached through
/// here. `load` uses the host's (`.host`); the fuzz harness serves fixed ones from memory, so that parsing
/// mutated configs opens nothing a mutation names (`/dev/watchdog`, `/dev/stdin`).
public struct DeviceConfigFiles: Sendable {
    public var board: @Sendable (String) throws(TOMLError) -> Board
    public var persona: @Sendable (String) throws(TOMLError) -> Persona
    /// Refuses a persona whose decoy templates are missing (SambaTree.validate).
    public var checkTemplates: @Sendable (Persona) throws(SambaTreeError) -> Void
    public var jailSpec: @Sendable (String) throws(ConfigError) -> JailOptions
    /// Resolves a jail's options against the host: users, bind sources, the policy file.
    public var resolve: @Sendable (JailOptions) throws(ConfigError) -> ResolvedJail
    /// Text of a spec or policy file, for the reload fingerprint.
    public var text: @Sendable (String) -> String?

    public init(board: @escaping @Sendable (String) throws(TOMLError) -> Board,
                persona: @escaping @Sendable (String) throws(TOMLError) -> Persona,
                checkTemplates: @escaping @Sendable (Persona) throws(SambaTreeError) -> Void,
                jailSpec: @escaping @Sendable (String) throws(ConfigError) -> JailOptions,
                resolve: @escaping @Sendable (JailOptions) throws(ConfigError) -> ResolvedJail,
                text: @escaping @Sendable (String) -> String?) {
        self.board = board
        self.persona = persona
        self.checkTemplates = checkTemplates
        self.jailSpec = jailSpec
        self.resolve = resolve
        self.text = text
    }

    public static let host = DeviceConfigFiles(
        board: { path throws(TOMLError) in try Board.load(contentsOf: path) },
        persona: { path throws(TOMLError) in try Persona.load(contentsOf: path) },
        checkTemplates: { persona throws(SambaTreeError) in try SambaTree.validate(persona) },
        jailSpec: { path throws(ConfigError) in try JailSpecFile.load(path) },
        resolve: { options throws(ConfigError) in try options.resolve() },
        text: { path in readText(path) })
}

extension DeviceConfig {
    public static let defaultPath = "/etc/pit/device.toml"

    /// The keys each table takes (anything else is an error with a suggestion); man/pit-device.toml.5 documents
    /// each, and ManPageKeysTests holds the two together. `[[uplink]]`'s are UplinkConfig's.
    static let topLevelKeys: Set<String> = ["data_dir", "control_socket", "board", "persona", "samba_root", "smb_port", "watchdog",
                                            "jails", "uplink", "console"]
    static let consoleKeys: Set<String> = ["tty", "baud", "pin", "echo", "allow_reboot"]
    static let watchdogKeys: Set<String> = ["owner", "enabled", "device", "timeout_s", "pretimeout_s", "health_grace_s", "magic_close",
                                            "safe_mode_after", "max_loop_latency_ms"]
    static let jailKeys: Set<String> = ["name", "spec", "policy", "required", "ready_tcp", "ready_timeout_s", "restart_delay_ms",
                                        "restart_delay_max_ms", "crash_loop_exits", "crash_loop_window_s", "stop_grace_s", "smb_audit", "decoy_audit",
                                        "restart_with"]

    /// Where the config at `path` puts the data directory and the control socket, without loading the rest
    /// (`pit events --config`, `pit status --config`): the same two paths `load` gives.
    public static func locations(_ path: String) throws(ConfigLoadError) -> (dataDirectory: String, controlSocket: String) {
        do throws(TOMLError) {
            let fields = TOMLFields(try TOML.parse(contentsOf: path), file: path)
            let directory = directoryOf(path)
            return try locations(fields, absolute: { $0.hasPrefix("/") ? $0 : directory + "/" + $0 })
        } catch { throw ConfigLoadError(description: error.description) }
    }

    private static func locations(_ fields: TOMLFields, absolute: (String) -> String) throws(TOMLError) -> (String, String) {
        (absolute(try fields.string("data_dir") ?? "/var/lib/pit"), absolute(try fields.string("control_socket") ?? "/run/pit/control.sock"))
    }

    /// `tolerateDecoyErrors`: a persona that does not load (or whose decoy templates are missing) is not an error
    /// but `personaProblem`. `pit supervise` starts this way, so an edit that breaks the persona leaves a
    /// reachable box that says what is wrong instead of one whose supervisor exits before it opens the watchdog,
    /// the console or the uplink. `--check` and reloads stay strict (a reload keeps the running config).
    public static func load(_ path: String, tolerateDecoyErrors: Bool = false) throws(ConfigLoadError) -> DeviceConfig {
        let read: (table: TOMLTable, text: String)
        do { read = try TOML.parseWithText(contentsOf: path) } catch { throw ConfigLoadError(description: error.description) }
        return try decode(read.table, file: path, text: read.text, files: .host, tolerateDecoyErrors: tolerateDecoyErrors)
    }

    /// The same as `load` for text already read; `file` names it in messages and anchors relative paths.
    public static func parse(_ text: String, file: String, files: DeviceConfigFiles = .host) throws(ConfigLoadError) -> DeviceConfig {
        let table: TOMLTable
        do { table = try TOML.parse(text, file: file) } catch { throw ConfigLoadError(description: error.description) }
        return try decode(table, file: file, text: text, files: files)
    }

    /// `text` is the device config as parsed: the start of `sourceText`, from the same read.
    static func decode(_ table: TOMLTable, file path: String, text: String, files: DeviceConfigFiles,
                       tolerateDecoyErrors: Bool = false) throws(ConfigLoadError) -> DeviceConfig {
        let fields = TOMLFields(table, file: path)
        let directory = directoryOf(path)
        func absolute(_ p: String) -> String { p.hasPrefix("/") ? p : directory + "/" + p }
        do throws(TOMLError) {
            try fields.rejectUnknownKeys(topLevelKeys)
            let (dataDirectory, controlSocket) = try locations(fields, absolute: absolute)
            var sourceText = text + "\u{0}"
            var board: Board?
            if let boardPath = try fields.string("board") {
                sourceText += (files.text(absolute(boardPath)) ?? "") + "\u{0}"
                do { board = try files.board(absolute(boardPath)) } catch {
                    throw fields.error("board", error.description)
                }
            }
            let watchdog = try watchdogSettings(fields.table("watchdog"), board: board)
            // The persona comes before the jails: the Samba jails bind the tree it renders.
            var persona: Persona?
            var sambaRoot: String?
            var smbPort: UInt16 = 445
            var personaProblem: String?
            if let personaPath = try fields.string("persona") {
                sourceText += (files.text(absolute(personaPath)) ?? "") + "\u{0}"
                do { persona = try files.persona(absolute(personaPath)) } catch {
                    let failure = fields.error("persona", error.description)
                    guard tolerateDecoyErrors else { throw failure }
                    personaProblem = failure.description
                }
                var port: UInt16 = 445
                if let given = try fields.int("smb_port") {
                    guard (1...65535).contains(given) else { throw fields.error("smb_port", "must be a TCP port (1-65535)") }
                    port = UInt16(given)
                }
                sambaRoot = JailOptions.absolute(absolute(try fields.string("samba_root") ?? "/run/pit-samba"))
                smbPort = port
                // Only checked here: loading a config (--check, a reload that may be rejected) writes nothing.
                // The supervisor prepares the tree before the jails start (SambaTree.prepare).
                do throws(SambaTreeError) { if let persona { try files.checkTemplates(persona) } } catch {
                    let failure = fields.error("persona", error.description)
                    guard tolerateDecoyErrors else { throw failure }
                    personaProblem = failure.description
                    persona = nil
                }
            }
            let protected = JailExposure.protected(controlSocket: controlSocket, dataDirectory: dataDirectory)
            var jails: [JailConfig] = []
            for (index, jail) in (try fields.tables("jails") ?? []).enumerated() {
                let config = try jailConfig(jail, absolute: absolute, auditDirectory: dataDirectory + "/run", protected: protected,
                                            preparedTrees: sambaRoot.map { [$0] } ?? [], smbPort: sambaRoot == nil ? nil : smbPort,
                                            files: files)
                if jails.contains(where: { $0.name == config.name }) {
                    throw jail.error("name", "jails[\(index)]: a jail named '\(config.name)' is already defined")
                }
                jails.append(config)
            }
            let jailTables = try fields.tables("jails") ?? []
            for (index, jail) in jails.enumerated() {
                for other in jail.restartWith where !jails.contains(where: { $0.name == other }) {
                    throw jailTables[index].error("restart_with", "no jail named '\(other)'")
                }
                // A jail restarted for restart_with comes back too, and restarts its own dependents: a cycle
                // (a restarts with b, b with a) would restart them in turn forever, each restart a fresh
                // config with a fresh crash-loop count, so no crash loop would ever end it.
                if let cycle = restartCycle(from: jail.name, in: jails) {
                    throw jailTables[index].error("restart_with", "\(cycle.joined(separator: " -> ")) restart each other in a loop")
                }
            }
            let uplinks = try UplinkConfig.parse(try fields.tables("uplink") ?? [])
            var console: ConsoleSettings?
            let consoleFields = try fields.table("console")
            if let consoleFields { try consoleFields.rejectUnknownKeys(consoleKeys) }
            if let tty = try consoleFields?.string("tty") ?? board?.console?.tty {
                var baud = board?.console?.baud ?? 115_200
                if let given = try consoleFields?.int("baud") {
                    // Checked here, not first at the console's open, and with Int(exactly:): Int is 32 bits on
                    // armv7, where Int(_:) of a larger TOML integer traps.
                    guard let rate = Int(exactly: given), Board.baudRates.contains(rate) else {
                        throw consoleFields!.error("baud", "\(given) is not a rate termios can set (e.g. 115200, 1500000)")
                    }
                    baud = rate
                }
                let pin = try consoleFields?.string("pin")
                // ASCII digits: the console's line editor passes printable ASCII only, so a PIN of other digits
                // ("٤٤٤٤", "½½½½", which Character.isNumber accepts) could never be typed.
                if let pin, pin.utf8.count < 4 || !pin.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
                    throw consoleFields!.error("pin", "use at least 4 digits")
                }
                console = ConsoleSettings(tty: tty, baud: baud, pin: pin, echo: try consoleFields?.bool("echo") ?? true,
                                          allowReboot: try consoleFields?.bool("allow_reboot") ?? false)
            }
            sourceText += jails.map(\.fingerprint).joined(separator: "\u{0}")
            return DeviceConfig(file: path, dataDirectory: dataDirectory, controlSocket: controlSocket, board: board,
                                persona: persona, watchdog: watchdog, jails: jails, uplinks: uplinks, console: console,
                                sambaRoot: sambaRoot, smbPort: smbPort, personaProblem: personaProblem, sourceText: sourceText)
        } catch {
            throw ConfigLoadError(description: error.description)
        }
    }

    static func watchdogSettings(_ fields: TOMLFields?, board: Board?) throws(TOMLError) -> WatchdogSettingsConfig {
        let boardWatchdog = board?.watchdog
        var settings = WatchdogSettingsConfig(
            enabled: boardWatchdog != nil, device: boardWatchdog?.device, timeoutSeconds: boardWatchdog?.timeoutSeconds ?? 30,
            pretimeoutSeconds: boardWatchdog?.pretimeoutSeconds ?? 0, healthGraceSeconds: 60, magicClose: false,
            safeModeAfter: 3, maxLoopLatencyMs: 2000)
        guard let fields else { return settings }
        try fields.rejectUnknownKeys(watchdogKeys)
        if let device = try fields.string("device") { settings.device = device; settings.enabled = true }
        if let enabled = try fields.bool("enabled") { settings.enabled = enabled }
        func positive(_ key: String, _ range: ClosedRange<Int64>) throws(TOMLError) -> Int? {
            guard let value = try fields.int(key) else { return nil }
            guard range.contains(value) else { throw fields.error(key, "must be from \(range.lowerBound) to \(range.upperBound)") }
            return Int(value)
        }
        settings.timeoutSeconds = try positive("timeout_s", 1...3600) ?? settings.timeoutSeconds
        settings.pretimeoutSeconds = try positive("pretimeout_s", 0...3600) ?? settings.pretimeoutSeconds
        settings.healthGraceSeconds = try positive("health_grace_s", 0...86400) ?? settings.healthGraceSeconds
        settings.safeModeAfter = try positive("safe_mode_after", 1...1000) ?? settings.safeModeAfter
        settings.maxLoopLatencyMs = try positive("max_loop_latency_ms", 10...600_000) ?? settings.maxLoopLatencyMs
        settings.magicClose = try fields.bool("magic_close") ?? false
        if let owner = try fields.string("owner") {
            guard let parsed = WatchdogOwner(rawValue: owner) else {
                throw fields.error("owner", "expected \"pit\" or \"systemd\", got \"\(owner)\"")
            }
            settings.owner = parsed
        }
        if settings.owner == .systemd {
            // The board's device stays described (it is the hardware) but Pit does not open it.
            let device = try fields.string("device"), enabled = try fields.bool("enabled")
            if device != nil || enabled == true {
                throw fields.error("owner", "with owner = \"systemd\" Pit never opens a watchdog device: remove device/enabled (systemd's RuntimeWatchdogSec owns it)")
            }
            settings.enabled = false
            return settings
        }
        if settings.enabled && settings.device == nil {
            throw fields.error("enabled", "a watchdog needs a device (here or in the board file)")
        }
        if settings.pretimeoutSeconds >= settings.timeoutSeconds && settings.pretimeoutSeconds > 0 {
            throw fields.error("pretimeout_s", "must be below timeout_s (\(settings.timeoutSeconds))")
        }
        return settings
    }

    static func jailConfig(_ fields: TOMLFields, absolute: (String) -> String, auditDirectory: String,
                           protected: [JailExposure.Protected], preparedTrees: [String],
                           smbPort: UInt16? = nil, files: DeviceConfigFiles = .host) throws(TOMLError) -> JailConfig {
        try fields.rejectUnknownKeys(jailKeys)
        let name = try fields.require(try fields.string("name"), "name")
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw fields.error("name", "use letters, digits, '-' and '_'")
        }
        let specFile = absolute(try fields.require(try fields.string("spec"), "spec"))
        // The texts the fingerprint compares are read before the files are parsed: if one changes in between, the
        // next reload sees a difference and applies it (read after, a change would look already applied).
        let specText = files.text(specFile) ?? ""
        var options: JailOptions
        do { options = try files.jailSpec(specFile) } catch { throw fields.error("spec", error.description) }
        options.name = Sourced(name, origin: fields.path.isEmpty ? "name" : fields.path + ".name")
        options.preparedTrees = preparedTrees
        if let policy = try fields.string("policy") {
            options.policyFile = Sourced(absolute(policy), origin: "\(fields.path).policy")
            options.seccompString = nil
        }
        let policyText = options.policyFile.map { files.text($0.value) ?? "" } ?? options.seccompString?.value ?? ""
        var resolved: ResolvedJail
        do { resolved = try files.resolve(options) } catch { throw fields.error("spec", "\(specFile): \(error.description)") }
        if let exposed = JailExposure.check(options, spec: resolved.spec, protected: protected) {
            throw fields.error("spec", exposed.description)
        }
        // smb_audit: the supervisor creates a datagram socket and binds it at the jail's /dev/log (it does not
        // exist yet at validation, so it is added here rather than as a checked bind).
        var auditSocket: String?
        let smbAudit = try fields.bool("smb_audit") == true
        // decoy_audit: the same socket for a decoy of the operator's own, which reports touches as DecoyLine says.
        let decoyAudit = try fields.bool("decoy_audit") == true
        if smbAudit && decoyAudit {
            throw fields.error("decoy_audit", "a jail's /dev/log takes Samba's audit lines (smb_audit) or a decoy's own, not both")
        }
        if smbAudit || decoyAudit {
            auditSocket = auditDirectory + "/\(name).audit.sock"
            resolved.spec.root.mounts.append(.bind(source: auditSocket!, destination: "/dev/log", writable: false))
        }
        // The Samba-audited jail is the persona's smbd: under Landlock it may bind the port smb.conf gives it too.
        if smbAudit, let smbPort, resolved.spec.landlock != nil, !(resolved.spec.landlock!.bindTCP.contains(smbPort)) {
            resolved.spec.landlock!.bindTCP.append(smbPort)
        }
        let fingerprint = specText + "\u{0}" + policyText

        func number(_ key: String, default value: Int64, _ range: ClosedRange<Int64>) throws(TOMLError) -> Int64 {
            guard let given = try fields.int(key) else { return value }
            guard range.contains(given) else { throw fields.error(key, "must be from \(range.lowerBound) to \(range.upperBound)") }
            return given
        }
        var port: UInt16?
        var host = "127.0.0.1"
        if let ready = (try? fields.int("ready_tcp")) ?? nil {
            guard (1...65535).contains(ready) else { throw fields.error("ready_tcp", "must be a TCP port (1-65535)") }
            port = UInt16(ready)
        } else if let text = try fields.string("ready_tcp") {
            // "ADDRESS:PORT", for services bound to one interface only.
            let parts = text.split(separator: ":")
            var address = in_addr()
            guard parts.count == 2, let p = UInt16(parts[1]), p > 0, inet_pton(AF_INET, String(parts[0]), &address) == 1 else {
                throw fields.error("ready_tcp", "expected a port or \"IPV4:PORT\"")
            }
            host = String(parts[0])
            port = p
        }
        let restart = RestartPolicy(
            initialDelayMs: try number("restart_delay_ms", default: 500, 1...3_600_000),
            maxDelayMs: try number("restart_delay_max_ms", default: 30_000, 1...86_400_000),
            crashLoopExits: Int(try number("crash_loop_exits", default: 5, 1...1000)),
            crashLoopWindowMs: try number("crash_loop_window_s", default: 60, 1...86_400) * 1000)
        var config = JailConfig(name: name, specFile: specFile, spec: resolved.spec, policy: resolved.policy, fingerprint: fingerprint,
                                required: try fields.bool("required") ?? true, readyTCPPort: port, readyTCPHost: host,
                                readyTimeoutMs: try number("ready_timeout_s", default: 10, 1...3600) * 1000,
                                restart: restart, stopGraceMs: try number("stop_grace_s", default: 5, 0...600) * 1000,
                                auditSocket: auditSocket, auditFormat: decoyAudit ? .decoy : .samba)
        config.restartWith = try fields.strings("restart_with") ?? []
        if config.restartWith.contains(name) { throw fields.error("restart_with", "a jail cannot restart with itself") }
        return config
    }

    /// The jails from `start` along restart_with back to `start` (`a -> b -> a`: b's return restarts a, a's
    /// restarts b), or nil when no such path exists.
    static func restartCycle(from start: String, in jails: [JailConfig]) -> [String]? {
        var visited: Set<String> = []
        func walk(_ path: [String]) -> [String]? {
            guard let jail = jails.first(where: { $0.name == path.last }) else { return nil }
            for next in jail.restartWith {
                if next == start { return path + [next] }
                if visited.insert(next).inserted, let found = walk(path + [next]) { return found }
            }
            return nil
        }
        return walk([start])
    }

    static func directoryOf(_ path: String) -> String {
        let absolute = JailOptions.absolute(path)
        return "/" + absolute.split(separator: "/").dropLast().joined(separator: "/")
    }
}
