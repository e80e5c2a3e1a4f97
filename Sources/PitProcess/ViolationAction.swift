/// What the seccomp filter did with a forbidden call, from the jail that saw it to the event on the wire. Defined
/// here, below both the jail engine and the uplink, so the two share one type; raw values are the wire spelling.
public enum ViolationAction: String, Codable, Sendable, CaseIterable {
    case kill, errno, log
}
