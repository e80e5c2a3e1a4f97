/// Delivery cursors: for each transport (`https`, `mqtt`...), the highest seq it has delivered and had
/// acknowledged. One small file per transport, `cursor.NAME`, holding the decimal seq and a newline, replaced
/// atomically (write temporary, fsync, rename, fsync directory) so a crash leaves the old or the new value.
///
/// A crash between a delivery and its commit re-delivers those events after restart (at-least-once); their ids are
/// unchanged so the receiver drops the duplicates.
struct Cursors {
    static let prefix = "cursor."
    private(set) var values: [String: UInt64] = [:]

    /// Transport names become file names: keep them short and plain.
    static func validate(_ transport: String) throws(SpoolError) {
        let ok = !transport.isEmpty && transport.utf8.count <= 32 && transport.utf8.allSatisfy {
            (0x61...0x7a).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2d || $0 == 0x5f
        }
        if !ok { throw .invalid(operation: "cursor \(transport)", reason: "transport names are 1-32 of [a-z0-9_-]") }
    }

    /// Reads every `cursor.NAME`. A damaged one (only disk damage can do that: they are replaced atomically) is
    /// taken as 0 and listed in `damaged`: re-sending everything is the at-least-once side to err on, and refusing
    /// to open would stop the spool from storing anything at all.
    static func load(directory: String, names: [String]) throws(SpoolError) -> (cursors: Cursors, damaged: [String]) {
        var cursors = Cursors()
        var damaged: [String] = []
        for name in names where name.hasPrefix(prefix) && !name.hasSuffix(".tmp") {
            let transport = String(name.dropFirst(prefix.count))
            let path = directory + "/" + name
            let text = String(decoding: try FileIO.readFile(path), as: UTF8.self)
            guard text.hasSuffix("\n"), let seq = UInt64(text.dropLast()) else {
                damaged.append(path)
                cursors.values[transport] = 0
                continue
            }
            cursors.values[transport] = seq
        }
        return (cursors, damaged)
    }

    func value(for transport: String) -> UInt64 { values[transport] ?? 0 }

    /// The seq up to which every transport with a cursor has delivered; 0 (nothing) when there is no cursor.
    var deliveredToAll: UInt64 { values.values.min() ?? 0 }

    mutating func commit(_ seq: UInt64, for transport: String, directory: String) throws(SpoolError) {
        let path = directory + "/" + Self.prefix + transport
        try FileIO.atomicWrite(Array("\(seq)\n".utf8), to: path, directory: directory, operation: "commit")
        values[transport] = seq
    }
}
