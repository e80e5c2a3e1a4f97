import PitJail
import PitUplink

/// Something the supervisor reports, told by the part that saw it: the wire kind is chosen there; EventRecorder only
/// adds the device and the kind's own fields, and the spool encodes the result once.
public struct SupervisorEvent: Sendable {
    public var kind: PitEvent.Kind
    public var jail: String?
    /// The part of Pit that failed, for `runtime_fault`.
    public var component: PitEvent.Component?
    public var message: String
    public var violation: Violation?
    public var exitStatus: Int32?
    public var signal: Int32?
    public var restarts: Int?
    public var smb: SmbAlert?
    /// Extra key/values of the event (`violations_suppressed`: syscall name -> count).
    public var details: [String: String]?
    /// The client address `smb_alerts_suppressed` counts alerts of (the alerts themselves carry theirs in `smb`).
    public var client: String?

    /// A `runtime_fault`: something Pit could not do at run time, which no edit of the configuration would fix.
    static func fault(_ component: PitEvent.Component, jail: String? = nil, _ message: String) -> SupervisorEvent {
        SupervisorEvent(kind: .runtimeFault, jail: jail, component: component, message: message)
    }
}
