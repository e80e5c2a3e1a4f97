/// The whole of a small file (a /proc or /sys attribute, a config) as text; nil when it cannot be opened or read.
/// One copy for the jail engine and the supervisor, which both read kernel files this way.
public func readText(_ path: String) -> String? {
    try? FileIO<SystemCallError>.read(path, limit: .max)
}
