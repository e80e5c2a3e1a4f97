import Glibc
import PitJail
import PitProcess
import PitUplink

/// Where the supervisor's events go: the durable spool (for the uplink), a short in-memory history (for
/// the console and status), and one line each on stderr (for the system log).
public final class EventRecorder {
    public let spool: Spool?
    public private(set) var recent: [PitEvent] = []
    public private(set) var lastError: String?
    let device: String?
    static let historyLength = 256
    /// Where the lines go: a queue the loop never waits on (LogWriter.swift); nil writes them directly.
    public var log: LogWriter?

    public init(spool: Spool?, device: String? = nil) {
        self.spool = spool
        self.device = device
    }

    /// Opens DATA/spool; a torn tail found while opening is itself reported as an event.
    public static func open(dataDirectory: String, limitBytes: Int = 4 << 20) throws(SupervisorError) -> EventRecorder {
        let directory = dataDirectory + "/spool"
        var path = ""
        for part in directory.split(separator: "/") {
            path += "/" + part
            if mkdir(path, 0o700) != 0 && errno != EEXIST { throw SupervisorError("spool \(path): \(String(cString: strerror(errno)))") }
        }
        let spool: Spool
        do { spool = try Spool.open(directory: directory, limitBytes: limitBytes) } catch { throw SupervisorError("spool: \(error)") }
        let recorder = EventRecorder(spool: spool)
        recorder.log = LogWriter(fd: 2)
        let recovery = spool.recovery
        if !recovery.truncations.isEmpty {
            recorder.store(PitEvent.boot(message: "spool recovered after an unclean stop: \(recovery.bytesTruncated) bytes of a torn tail dropped"))
        }
        if !recovery.damage.isEmpty {
            // Damage is not a crash's doing: say exactly what was lost, as its own kind, so it can be alerted on.
            let lost = recovery.damage.compactMap(\.lostSeqs).map { $0.count == 1 ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }
            var event = PitEvent(kind: .spoolDamage, message: "spool damaged: " + recovery.damage.map(\.description).joined(separator: "; "))
            event.details = ["bytes": String(recovery.damage.reduce(0) { $0 + $1.bytes }),
                             "lost_seqs": String(recovery.lostSeqCount), "lost": lost.joined(separator: ",")]
            recorder.writeLine("pit: spool_damage: \(event.message ?? "")")
            recorder.store(event)
        }
        return recorder
    }

    public func record(_ event: SupervisorEvent) {
        writeLine("pit: \(event.kind.rawValue)\(event.jail.map { " [\($0)]" } ?? ""): \(event.message)\n")
        store(Self.convert(event, device: device))
    }

    func store(_ event: PitEvent) {
        var stored = event
        stored.pitVersion = pitVersion
        if let spool {
            do { stored = try spool.append(stored) } catch {
                // Never silent: the line goes to stderr and the status shows the last spool error.
                lastError = error.description
                writeLine("pit: spool: \(error): event kept in memory only\n")
            }
        }
        recent.append(stored)
        if recent.count > Self.historyLength { recent.removeFirst(recent.count - Self.historyLength) }
    }

    static func convert(_ event: SupervisorEvent, device: String?) -> PitEvent {
        if let v = event.violation {
            return PitEvent.violation(jail: event.jail, pid: v.pid, comm: v.comm, exe: v.exe, arch: v.arch, syscall: v.syscall,
                                      nr: Int32(v.nr), args: v.args, action: v.action,
                                      policy: v.policyFile, policyHash: v.policyHash, device: device, message: event.message)
        }
        if let smb = event.smb {
            var alert: PitEvent
            switch smb.kind {
            case .access:
                alert = PitEvent.smbAccess(user: smb.user, client: smb.client, share: smb.share, file: smb.file,
                                           operation: smb.operation, status: smb.status, device: device)
                alert.clientPort = smb.clientPort
                alert.domain = smb.domain
                alert.workstation = smb.workstation
            case .logon:
                alert = PitEvent.smbLogon(user: smb.user, domain: smb.domain ?? "", workstation: smb.workstation, client: smb.client,
                                          clientPort: smb.clientPort, status: smb.status, success: smb.success ?? false,
                                          guest: smb.guest ?? false, device: device)
            case .enumeration:
                alert = PitEvent.smbEnumeration(user: smb.user, domain: smb.domain, workstation: smb.workstation, client: smb.client,
                                                clientPort: smb.clientPort, share: smb.share, operation: smb.operation, device: device)
            case .decoy:
                alert = PitEvent(kind: .decoyAccess, device: device)
                alert.client = smb.client
                alert.clientPort = smb.clientPort
                alert.operation = smb.operation
                alert.file = smb.file.isEmpty ? nil : smb.file
                alert.user = smb.user.isEmpty ? nil : smb.user
            }
            alert.jail = event.jail
            alert.message = event.message
            return alert
        }
        var pit = PitEvent(kind: event.kind, device: device, jail: event.jail, message: event.message)
        pit.component = event.component
        pit.exitStatus = event.exitStatus
        pit.signal = event.signal
        pit.restarts = event.restarts.map { Int32($0) }
        pit.details = event.details
        pit.client = event.client
        return pit
    }

    /// One line of the supervisor's log that is not an event (what it is doing: a jail started, ready).
    public func say(_ text: String) { writeLine("pit: \(text)\n") }

    func writeLine(_ text: String) {
        // Events carry what jails said (comm, exe, Samba's audit fields): one escaped line each, never raw.
        let line = Printable.line(text)
        if let log { log.write(line); return }
        _ = line.withCString { write(2, $0, strlen($0)) }
    }
}

extension Violation {
    /// The violation as a durable event (also what `pit run --events-json` writes).
    public func event(jail: String, device: String? = nil) -> PitEvent {
        PitEvent.violation(jail: jail, pid: pid, comm: comm, exe: exe, arch: arch, syscall: syscall, nr: Int32(nr), args: args,
                           action: action, policy: policyFile, policyHash: policyHash,
                           device: device)
    }
}
