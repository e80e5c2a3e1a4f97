import Glibc
import XCTest
@testable import PitUplink

/// What kill -9 cannot show: that the data reaches the disk before the event is acknowledged. A power cut is not
/// available here (no device-mapper in the test kernel), so the real `spool-writer` runs under strace and its system
/// calls are checked in order: every record written is fsynced before the "SEQ ID" line that acknowledges it, every
/// file is fsynced before it is renamed into place, and the spool directory is fsynced after each rename before
/// anything is acknowledged. Removing any of those fsyncs fails this test.
final class DurabilityOrderTests: XCTestCase {
    func testEveryAcknowledgementFollowsTheFsyncsThatMakeItDurable() throws {
        let strace = "/usr/bin/strace"
        guard access(strace, X_OK) == 0 else { throw XCTSkip("strace is not installed") }
        var dir = TemporaryDirectory("pit-order")
        var trace = dir.path + "/trace"
        // 64 KiB: segments roll every 8 KiB, so 40 events of up to 1.5 KiB create several segment files.
        // Twice in fresh-clone CI runs on this VM the trace came back without a single line from the writer
        // (cause not found; never a wrong order). A trace that saw nothing proves nothing either way, so it is
        // taken again, at most three times; an empty third one still fails below.
        for attempt in 1...3 {
            if attempt > 1 { dir = TemporaryDirectory("pit-order"); trace = dir.path + "/trace" }
            let run = Shell.run([strace, "-f", "-qq", "-s", "48", "-o", trace,
                                 "-e", "trace=openat,open,creat,pwrite64,write,fsync,fdatasync,rename,renameat,renameat2,close",
                                 Shell.built("spool-writer"), dir.spool, "40", String(64 << 10)])
            XCTAssertEqual(run.status, 0)
            XCTAssertEqual(run.stdout.split(separator: "\n").count, 40)
            if String(decoding: Files.read(trace), as: UTF8.self).contains("write(1,") { break }
        }

        var fdPath: [Int: String] = [:]
        var directories: Set<Int> = []
        var unsynced: Set<String> = []      // files written since their last fsync
        var unsyncedRenames: [String] = []  // renames into the spool directory not yet made durable
        var acknowledged = 0, renames = 0, recordWrites = 0
        var problems: [String] = []
        let traceText = String(decoding: Files.read(trace), as: UTF8.self)
        let excerpt = traceText.split(separator: "\n").filter { $0.contains("write(1") || $0.contains("spool") }.prefix(6).joined(separator: "\n")
        for raw in traceText.split(separator: "\n") {
            var line = Substring(raw)
            // strace pads the pid to five columns ("6890  openat(" but "12345 openat("): skip all the spaces.
            // With one skipped, every line of a run under a four-digit pid parsed as an unknown call.
            if let space = line.firstIndex(of: " "), line[..<space].allSatisfy(\.isNumber) {
                line = line[line.index(after: space)...].drop { $0 == " " }
            }
            guard let open = line.firstIndex(of: "(") else { continue }
            let call = String(line[..<open])
            let result = Int(line.split(separator: " = ").last?.prefix { $0 == "-" || $0.isNumber } ?? "") ?? -1
            let quoted = line.split(separator: "\"", omittingEmptySubsequences: false).enumerated()
                .filter { $0.offset % 2 == 1 }.map { String($0.element) }
            let fd = Int(line[line.index(after: open)...].prefix { $0.isNumber }) ?? -1
            switch call {
            case "openat", "open", "creat":
                if result >= 0, let path = quoted.first {
                    fdPath[result] = path
                    if line.contains("O_DIRECTORY") { directories.insert(result) } else { directories.remove(result) }
                }
            case "close":
                fdPath[fd] = nil
                directories.remove(fd)
            case "pwrite64":
                if let path = fdPath[fd], path.hasPrefix(dir.spool + "/") {
                    unsynced.insert(path)
                    if path.hasSuffix(".log") { recordWrites += 1 }
                }
            case "fsync", "fdatasync":
                if directories.contains(fd) {
                    if fdPath[fd] == dir.spool { unsyncedRenames = [] }
                } else if let path = fdPath[fd] {
                    unsynced.remove(path)
                }
            case "rename", "renameat", "renameat2":
                guard quoted.count >= 2 else { continue }
                if unsynced.contains(quoted[0]) { problems.append("\(quoted[0]) renamed before it was fsynced") }
                unsynced.remove(quoted[0])
                unsyncedRenames.append(quoted[1])
                renames += 1
            case "write" where fd == 1:
                acknowledged += 1
                if !unsynced.isEmpty { problems.append("ack \(acknowledged) before fsync of \(unsynced.sorted())") }
                if !unsyncedRenames.isEmpty {
                    problems.append("ack \(acknowledged) before the directory fsync after renaming \(unsyncedRenames)")
                }
            default:
                break
            }
        }
        XCTAssertEqual(problems, [])
        XCTAssertEqual(acknowledged, 40, "every acknowledgement was seen in the trace; excerpt: \(excerpt)\n(\(traceText.utf8.count) bytes)")
        XCTAssertGreaterThanOrEqual(recordWrites, 40)
        XCTAssertGreaterThanOrEqual(renames, 3, "several segment files were created: \(renames)")
    }
}
