import FoundationEssentials
import PitProcess

/// One thing Pit reports: a jail violation, a service that exited or restarted, an SMB access on the bait share...
/// Every kind shares this one flat, versioned record so the spool, the transports and the receiver need a single
/// decoder; the fields a kind does not use are simply absent.
///
/// Wire form (schema version 1): one JSON object on one line, keys sorted, no spaces, absent fields omitted.
/// The keys are part of the contract with the receiver and never change within a version; `EVENTS.md` beside this
/// file has the same table.
///
/// | key           | type              | kinds                              | meaning |
/// |---------------|-------------------|------------------------------------|---------|
/// | `v`           | integer           | all                                | schema version, 1 |
/// | `id`          | string, 32 hex    | all                                | random 128-bit id from getrandom(2); the receiver drops duplicates by it |
/// | `seq`         | integer (u64)     | all, once stored                   | per-device sequence number, assigned by the spool at append, starts at 1, never reused |
/// | `time`        | string            | all                                | RFC 3339 UTC with milliseconds, `2026-11-29T01:02:03.456Z` |
/// | `kind`        | string            | all                                | one of `Kind`'s raw values (`EVENTS.md` lists them, a test keeps the two equal) |
/// | `device`      | string            | any                                | device name or serial |
/// | `jail`        | string            | violation, service_exit, restart, crash_loop | the jail (service) concerned |
/// | `pid`         | integer (i32)     | violation                          | offending process, as seen from the host |
/// | `comm`        | string            | violation                          | its `/proc/PID/comm` |
/// | `exe`         | string            | violation                          | its executable path |
/// | `arch`        | string            | violation                          | audit architecture, `x86_64`, `aarch64`, `arm` |
/// | `syscall`     | string            | violation                          | system call name |
/// | `nr`          | integer (i32)     | violation                          | system call number on `arch` |
/// | `args`        | array of 6 u64    | violation                          | the call's six raw arguments (values above 2^53 need a 64-bit-exact JSON reader) |
/// | `action`      | string            | violation                          | what the filter did: `kill`, `errno`, `log` |
/// | `policy`      | string            | violation                          | policy file in force |
/// | `policy_hash` | string            | violation                          | SHA-256 (hex) of that policy file |
/// | `exit_status` | integer (i32)     | service_exit, restart, crash_loop  | exit code when the service exited |
/// | `signal`      | integer (i32)     | service_exit, restart, crash_loop  | signal number when it was killed |
/// | `restarts`    | integer (i32)     | restart, crash_loop                | restarts so far in the current window |
/// | `component`   | string            | runtime_fault                      | the part of Pit that failed: one of `Component`'s raw values |
/// | `user`        | string            | smb_access, smb_logon, smb_enumeration | smb_logon: the account name the client tried (empty: anonymous); else the session's user |
/// | `domain`      | string            | smb_logon, smb_enumeration, smb_access | the domain name the client tried (else: at its latest logon) |
/// | `workstation` | string            | smb_logon, smb_enumeration, smb_access | the workstation name the client gave (likewise) |
/// | `client`      | string            | smb_access, smb_logon, smb_enumeration | client address |
/// | `client_port` | integer (i32)     | smb_logon, smb_enumeration, smb_access | client TCP port (else: of its latest logon) |
/// | `share`       | string            | smb_access, smb_enumeration        | share name (`IPC$` for an enumeration) |
/// | `file`        | string            | smb_access                         | path inside the share |
/// | `operation`   | string            | smb_access, smb_logon, smb_enumeration | `connect`, `open`, `read`, `write`, `delete`, `rename`, `list`, `logon`, `pipe_open`... |
/// | `status`      | string            | smb_access, smb_logon              | NT status or `ok` |
/// | `success`     | boolean           | smb_logon                          | the credentials were accepted (NT_STATUS_OK) |
/// | `guest`       | boolean           | smb_logon                          | the session went on as the guest user (anonymous, or an unknown user mapped to guest) |
/// | `message`     | string            | any                                | human-readable text |
/// | `details`     | object string→string | any                             | extra key/values the kind needs, sorted by key |
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
        case runtimeFault = "runtime_fault"
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
    }

    public var v: Int
    public var id: String
    /// Nil until the spool stores the event; `Spool.append` returns the event with it set.
    public var seq: UInt64?
    public var time: String
    public var kind: Kind
    public var device: String?
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
    enum CodingKeys: String, CodingKey {
        case v, id, seq, time, kind, device, jail
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
