import FoundationEssentials
import PitProcess

/// One thing Pit reports: a jail violation, a service that exited or restarted, an SMB access on the bait share...
/// Every kind shares this one flat, versioned record so the spool, the transports and the receiver need a single
/// decoder; the fields a kind does not use are simply absent.
///
/// Wire form (schema version 1): one JSON object on one line, keys sorted, no spaces, absent fields omitted.
/// The keys are part of the contract with the receiver and never change within a version. `EVENTS.md` beside this
/// file is that contract: every key and which kinds carry it (`Kind.keys` below), every kind, every component; a
/// test (EventsDocumentTests) holds the document and these types equal both ways.
public struct PitEvent: Codable, Sendable, Equatable {
    /// The schema version this code writes. A receiver that sees a larger `v` should store the line unparsed.
    public static let schemaVersion = 1

    /// The kinds of event. Raw values are the wire spelling.
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case violation
        case serviceExit = "service_exit"
        case restart
        case crashLoop = "crash_loop"
        case watchdogReset = "watchdog_reset"
        case configError = "config_error"
        case smbAccess = "smb_access"
        case smbLogon = "smb_logon"
        case smbEnumeration = "smb_enumeration"
        case uplinkTest = "uplink_test"
        case boot
        case safeMode = "safe_mode"
        case health
        case configApplied = "config_applied"
        case controlRefused = "control_refused"
        case spoolDamage = "spool_damage"
        case violationsSuppressed = "violations_suppressed"
        case smbAlertsSuppressed = "smb_alerts_suppressed"
        case runtimeFault = "runtime_fault"
        case decoyAccess = "decoy_access"
        case uplinkAlarm = "uplink_alarm"
        case dhcpLease = "dhcp_lease"
        case dhcpLost = "dhcp_lost"
    }

    /// What the seccomp filter did with the offending call (the jail engine's own type).
    public typealias Action = ViolationAction

    /// The part of Pit a `runtime_fault` concerns. Raw values are the wire spelling.
    public enum Component: String, Codable, Sendable, CaseIterable {
        case watchdog
        case leds
        case console
        case systemd
        case persona
        case cgroups
        case supervisor
        case uplinkAgent = "uplink_agent"
        case auditSocket = "audit_socket"
        case dhcp
    }

    public var v: Int
    public var id: String
    /// Nil until the spool stores the event; `Spool.append` returns the event with it set.
    public var seq: UInt64?
    public var time: String
    public var kind: Kind
    public var device: String?
    /// The Pit that made the event (`pit --version`): set by the spool when it stores the event.
    public var pitVersion: String?
    public var jail: String?

    // violation
    public var pid: Int32?
    public var comm: String?
    public var exe: String?
    public var arch: String?
    public var syscall: String?
    public var nr: Int32?
    public var args: [UInt64]?
    public var action: Action?
    public var policy: String?
    public var policyHash: String?

    // service_exit, restart, crash_loop
    public var exitStatus: Int32?
    public var signal: Int32?
    public var restarts: Int32?

    // runtime_fault
    public var component: Component?

    // smb_access, smb_logon, smb_enumeration
    public var user: String?
    public var domain: String?
    public var workstation: String?
    public var client: String?
    public var clientPort: Int32?
    public var share: String?
    public var file: String?
    public var operation: String?
    public var status: String?
    public var success: Bool?
    public var guest: Bool?

    // generic
    public var message: String?
    public var details: [String: String]?

    /// The keys written on the wire; spelled out so a Swift rename can never change the contract.
    enum CodingKeys: String, CodingKey, CaseIterable {
        case v, id, seq, time, kind, device, jail
        case pitVersion = "pit_version"
        case pid, comm, exe, arch, syscall, nr, args, action, policy
        case policyHash = "policy_hash"
        case exitStatus = "exit_status"
        case signal, restarts, component
        case user, domain, workstation, client
        case clientPort = "client_port"
        case share, file, operation, status, success, guest
        case message, details
    }

    /// A fresh event of `kind`, stamped now with a new random id. Kind-specific fields are set afterwards or through
    /// the constructors below.
    public init(kind: Kind, id: String = EventID.make(), time: String = EventTime.now(), device: String? = nil,
                jail: String? = nil, message: String? = nil, details: [String: String]? = nil) {
        self.v = Self.schemaVersion
        self.id = id
        self.time = time
        self.kind = kind
        self.device = device
        self.jail = jail
        self.message = message
        self.details = details
    }

    /// Whether the spool must keep this event until every other kind has been dropped (see `Spool`).
    public var isViolation: Bool { kind == .violation }
}

// MARK: - The keys of each kind

extension PitEvent {
    /// The keys any event may carry, whatever its kind.
    static let commonKeys: [CodingKeys] = [.v, .id, .seq, .time, .kind, .device, .pitVersion, .message, .details]
}

extension PitEvent.Kind {
    /// The keys this kind carries besides the common ones: what `EVENTS.md` promises the receiver for it. A new
    /// kind must say (the switch is exhaustive), and the test compares the answer with the document.
    var keys: [PitEvent.CodingKeys] {
        switch self {
        case .violation: [.jail, .pid, .comm, .exe, .arch, .syscall, .nr, .args, .action, .policy, .policyHash]
        case .serviceExit: [.jail, .exitStatus, .signal]
        case .restart, .crashLoop: [.jail, .restarts, .exitStatus, .signal]
        case .smbAccess: [.jail, .user, .domain, .workstation, .client, .clientPort, .share, .file, .operation, .status]
        case .smbLogon: [.jail, .user, .domain, .workstation, .client, .clientPort, .operation, .status, .success, .guest]
        case .smbEnumeration: [.jail, .user, .domain, .workstation, .client, .clientPort, .share, .operation]
        case .violationsSuppressed: [.jail]
        case .smbAlertsSuppressed: [.jail, .client]
        case .decoyAccess: [.jail, .client, .clientPort, .operation, .file, .user]
        case .runtimeFault: [.component, .jail]
        case .watchdogReset, .configError, .uplinkTest, .boot, .safeMode, .health, .configApplied, .controlRefused,
             .spoolDamage, .uplinkAlarm, .dhcpLease, .dhcpLost: []
        }
    }
}

// MARK: - Constructors, one per kind

extension PitEvent {
    public static func violation(jail: String?, pid: Int32, comm: String?, exe: String?, arch: String, syscall: String,
                                 nr: Int32, args: [UInt64], action: Action, policy: String?, policyHash: String?,
                                 device: String? = nil, message: String? = nil) -> PitEvent {
        var e = PitEvent(kind: .violation, device: device, jail: jail, message: message)
        e.pid = pid
        e.comm = comm
        e.exe = exe
        e.arch = arch
        e.syscall = syscall
        e.nr = nr
        // Always six: the receiver indexes args[0...5] without checking.
        e.args = Array((args + Array(repeating: 0, count: 6)).prefix(6))
        e.action = action
        e.policy = policy
        e.policyHash = policyHash
        return e
    }

    public static func serviceExit(jail: String, exitStatus: Int32? = nil, signal: Int32? = nil,
                                   message: String? = nil, device: String? = nil) -> PitEvent {
        var e = PitEvent(kind: .serviceExit, device: device, jail: jail, message: message)
        e.exitStatus = exitStatus
        e.signal = signal
        return e
    }

    public static func restart(jail: String, restarts: Int32, exitStatus: Int32? = nil, signal: Int32? = nil,
                               message: String? = nil, device: String? = nil) -> PitEvent {
        var e = PitEvent(kind: .restart, device: device, jail: jail, message: message)
        e.restarts = restarts
        e.exitStatus = exitStatus
        e.signal = signal
        return e
    }

    public static func crashLoop(jail: String, restarts: Int32, exitStatus: Int32? = nil, signal: Int32? = nil,
                                 message: String? = nil, device: String? = nil) -> PitEvent {
        var e = PitEvent(kind: .crashLoop, device: device, jail: jail, message: message)
        e.restarts = restarts
        e.exitStatus = exitStatus
        e.signal = signal
        return e
    }

    public static func watchdogReset(message: String? = nil, details: [String: String]? = nil,
                                     device: String? = nil) -> PitEvent {
        PitEvent(kind: .watchdogReset, device: device, message: message, details: details)
    }

    public static func configError(message: String, details: [String: String]? = nil,
                                   device: String? = nil) -> PitEvent {
        PitEvent(kind: .configError, device: device, message: message, details: details)
    }

    /// Something Pit itself could not do at run time (feed the watchdog, drive an LED, start the uplink agent...):
    /// not a configuration the operator wrote wrong, so not `config_error`.
    public static func runtimeFault(_ component: Component, message: String, jail: String? = nil,
                                    details: [String: String]? = nil, device: String? = nil) -> PitEvent {
        var e = PitEvent(kind: .runtimeFault, device: device, jail: jail, message: message, details: details)
        e.component = component
        return e
    }

    public static func smbAccess(user: String?, client: String, share: String, file: String?, operation: String,
                                 status: String, device: String? = nil) -> PitEvent {
        var e = PitEvent(kind: .smbAccess, device: device)
        e.user = user
        e.client = client
        e.share = share
        e.file = file
        e.operation = operation
        e.status = status
        return e
    }

    /// One authentication attempt (guest, anonymous or named): the names the client tried, whether Samba accepted
    /// them, and whether the session went on as the guest user.
    public static func smbLogon(user: String, domain: String, workstation: String?, client: String, clientPort: Int32?,
                                status: String, success: Bool, guest: Bool, device: String? = nil) -> PitEvent {
        var e = PitEvent(kind: .smbLogon, device: device)
        e.user = user
        e.domain = domain
        e.workstation = workstation
        e.client = client
        e.clientPort = clientPort
        e.operation = "logon"
        e.status = status
        e.success = success
        e.guest = guest
        return e
    }

    /// An RPC pipe opened on IPC$ (share listing through srvsvc, or lsarpc/samr enumeration), once per IPC$ tree
    /// connect. `user`, `domain`, `workstation` and `clientPort` come from the client's latest logon, when known.
    public static func smbEnumeration(user: String?, domain: String?, workstation: String?, client: String,
                                      clientPort: Int32?, share: String, operation: String,
                                      device: String? = nil) -> PitEvent {
        var e = PitEvent(kind: .smbEnumeration, device: device)
        e.user = user
        e.domain = domain
        e.workstation = workstation
        e.client = client
        e.clientPort = clientPort
        e.share = share
        e.operation = operation
        return e
    }

    public static func uplinkTest(message: String? = nil, device: String? = nil) -> PitEvent {
        PitEvent(kind: .uplinkTest, device: device, message: message)
    }

    public static func boot(message: String? = nil, details: [String: String]? = nil,
                            device: String? = nil) -> PitEvent {
        PitEvent(kind: .boot, device: device, message: message, details: details)
    }

    public static func safeMode(message: String, details: [String: String]? = nil,
                                device: String? = nil) -> PitEvent {
        PitEvent(kind: .safeMode, device: device, message: message, details: details)
    }
}

// MARK: - Wire form

/// A line that is not a valid event, with the decoder's reason.
public struct EventDecodingError: Error, CustomStringConvertible, Sendable, Equatable {
    public var line: String
    public var reason: String
    public var description: String { "decode event: \(reason): \(line.prefix(200))" }
}

extension PitEvent {
    /// The canonical encoder: sorted keys make the line byte-stable for a given event (tests and receivers can
    /// compare lines), unescaped slashes keep paths readable.
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// The event as UTF-8 JSON bytes, the spool's record payload.
    public func jsonBytes() -> [UInt8] {
        // Every field is a string, integer, array or string map: encoding cannot fail, so a failure is a bug.
        do { return Array(try Self.encoder().encode(self)) } catch { fatalError("PitEvent encoding failed: \(error)") }
    }

    /// One line, no spaces, no trailing newline. JSON escapes any newline inside a string, so the line is a line.
    public func jsonLine() -> String { String(decoding: jsonBytes(), as: UTF8.self) }

    public static func decode(jsonLine: String) throws(EventDecodingError) -> PitEvent {
        try decode(jsonBytes: Array(jsonLine.utf8), line: jsonLine)
    }

    public static func decode(jsonBytes: [UInt8]) throws(EventDecodingError) -> PitEvent {
        try decode(jsonBytes: jsonBytes, line: nil)
    }

    private static func decode(jsonBytes: [UInt8], line: String?) throws(EventDecodingError) -> PitEvent {
        do {
            return try JSONDecoder().decode(PitEvent.self, from: Data(jsonBytes))
        } catch {
            throw EventDecodingError(line: line ?? String(decoding: jsonBytes, as: UTF8.self), reason: "\(error)")
        }
    }
}
