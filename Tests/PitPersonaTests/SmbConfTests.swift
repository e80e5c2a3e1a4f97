import Glibc
import PitTestSupport
import XCTest
@testable import PitPersona

/// smb.conf rendering: pinned by a golden file, and validated by Samba's own testparm when the
/// machine has it (Debian: samba-common-bin).
final class SmbConfTests: XCTestCase {
    static let persona = Persona(
        file: "persona.toml", hostname: "nas-fin-02", netbiosName: "NAS-FIN-02", workgroup: "ACME",
        serverString: "Finance NAS", interface: "eth0", mac: .keep,
        addresses: [IPPrefix("192.0.2.10/24")!], routes: [],
        shares: [DecoyShare(name: "finance", comment: "Finance department", template: "/unused"),
                 DecoyShare(name: "Scans 2nd floor", comment: "", template: "/unused")])

    func testGoldenFile() throws {
        let rendered = SmbConf.render(Self.persona, paths: SambaPaths(dataDirectory: "/var/lib/pit/samba"), port: 445)
        let goldenPath = testsDirectory + "/golden/smb.conf"
        guard let golden = readText(goldenPath) else { return XCTFail("missing \(goldenPath)") }
        if rendered != golden {
            // Show the first differing line rather than two 40-line blobs.
            let (r, g) = (rendered.split(separator: "\n", omittingEmptySubsequences: false), golden.split(separator: "\n", omittingEmptySubsequences: false))
            let i = zip(r, g).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(r.count, g.count)
            XCTFail("smb.conf differs from \(goldenPath) at line \(i + 1):\n  rendered: \(i < r.count ? r[i] : "<end>")\n  golden:   \(i < g.count ? g[i] : "<end>")")
        }
    }

    func testPortAndPathsFollowTheInputs() {
        let text = SmbConf.render(Self.persona, paths: SambaPaths(dataDirectory: "/data/samba/"), port: 10445)
        XCTAssertTrue(text.contains("\n\tsmb ports = 10445\n"))
        XCTAssertTrue(text.contains("\n\tlock directory = /data/samba/lock\n"), "trailing slash of the data directory is dropped")
        XCTAssertTrue(text.contains("\n[Scans 2nd floor]\n\tpath = /data/samba/shares/Scans 2nd floor\n"))
        XCTAssertEqual(occurrences(of: "vfs objects = full_audit", in: text), 3, "every share is audited, and IPC$ through [global]")
        XCTAssertFalse(text.contains("disable netbios"))
        XCTAssertEqual(occurrences(of: "\n[", in: text), 3, "[global] and one section per share")
    }

    /// The audited operation names must exist in the installed Samba's full_audit module: it
    /// ignores unknown names silently, which would leave the canary blind.
    func testAuditedOperationsExistInSambaFullAudit() throws {
        let module = "/usr/lib/\(Self.multiarch)/samba/vfs/full_audit.so"
        guard let bytes = readBytes(module) else { throw XCTSkip("\(module) not installed (Debian package samba)") }
        for name in SmbConf.auditedOperations + SmbConf.ipcAuditedOperations {
            // Names are NUL-terminated in the module's operation table ("connect" may share its
            // bytes with the tail of "disconnect").
            XCTAssertTrue(contains(bytes, Array(name.utf8) + [0]), "\(name) is not a full_audit operation in \(module)")
        }
        XCTAssertFalse(contains(bytes, Array("\0pread_recvx\0".utf8)), "the search can fail")
    }

    func testTestparmAcceptsTheRenderedFile() throws {
        guard access("/usr/bin/testparm", X_OK) == 0 else {
            throw XCTSkip("testparm not installed: apt-get install samba-common-bin to validate smb.conf")
        }
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let paths = SambaPaths(dataDirectory: dir.path + "/samba")
        for directory in paths.directories(for: Self.persona) { dir.makeDirectory(directory) }
        let conf = dir.write("smb.conf", SmbConf.render(Self.persona, paths: paths, port: 10445))
        let result = Process.run(["testparm", "-s", conf])
        XCTAssertEqual(result.status, 0, result.stderr)
        for complaint in ["Unknown parameter", "Ignoring unknown", "ERROR", "WARNING: The"] {
            XCTAssertFalse(result.stderr.contains(complaint), "testparm: \(result.stderr)")
        }
        // testparm prints the configuration as Samba understood it.
        for line in ["\tnetbios name = NAS-FIN-02\n", "\tworkgroup = ACME\n", "\tserver role = standalone server\n",
                     "\tsmb ports = 10445\n", "\tinterfaces = eth0\n", "\tbind interfaces only = Yes\n",
                     "\tmap to guest = Bad User\n", "\tdisable spoolss = Yes\n", "\tlock directory = \(paths.lockDirectory)\n",
                     "\tfull_audit:success = connect disconnect openat create_file pread_send pread_recv sendfile\n",
                     "[finance]\n", "[Scans 2nd floor]\n"] {
            XCTAssertTrue(result.stdout.contains(line), "testparm output lacks \(line.debugDescription):\n\(result.stdout)")
        }
    }

    /// Each imitated system's negotiate settings reach smb.conf, and testparm reads them back as set: Samba
    /// accepts every dialect and signing name the persona layer lets through.
    func testImitatedSystemsRenderTheirDialectsAndSigning() throws {
        func render(_ smb: SmbImitation) -> String {
            var persona = Self.persona
            persona.smb = smb
            return SmbConf.render(persona, paths: SambaPaths(dataDirectory: "/var/lib/pit/samba"), port: 445)
        }
        let plain = render(.samba)
        for name in ["server min protocol", "server max protocol", "server signing"] {
            XCTAssertFalse(plain.contains(name), "imitate = samba leaves \(name) at Samba's default")
        }
        let dsm = render(SmbImitation.named("synology-dsm7")!)
        XCTAssertTrue(dsm.contains("\tserver string = Finance NAS\n\tserver min protocol = SMB2\n\tserver max protocol = SMB3\n\tserver signing = auto\n"), dsm)
        var strict = SmbImitation.named("windows-server-2019")!
        strict.signing = .mandatory
        strict.minProtocol = SmbDialect.named("smb3_00")
        let windows = render(strict)
        XCTAssertTrue(windows.contains("\tserver min protocol = SMB3_00\n\tserver max protocol = SMB3_11\n\tserver signing = mandatory\n"), windows)

        guard access("/usr/bin/testparm", X_OK) == 0 else { throw XCTSkip("testparm not installed") }
        let dir = ScratchDirectory()
        defer { dir.remove() }
        var checked: [SmbImitation] = SmbImitation.systems + [strict]
        for dialect in SmbDialect.known { checked.append(SmbImitation(system: "x", minProtocol: dialect, maxProtocol: dialect)) }
        for signing in SmbSigning.allCases { checked.append(SmbImitation(system: "x", signing: signing)) }
        for smb in checked {
            var persona = Self.persona
            persona.smb = smb
            let paths = SambaPaths(dataDirectory: dir.path + "/samba")
            for directory in paths.directories(for: persona) { dir.makeDirectory(directory) }
            let conf = dir.write("smb.conf", SmbConf.render(persona, paths: paths, port: 10445))
            // -v: every parameter, defaults included, so an unset one shows Samba's default.
            let result = Process.run(["testparm", "-s", "-v", conf])
            XCTAssertEqual(result.status, 0, result.stderr)
            for complaint in ["Unknown parameter", "Ignoring unknown", "ERROR", "Invalid"] {
                XCTAssertFalse(result.stderr.contains(complaint), "\(smb): testparm: \(result.stderr)")
            }
            // testparm prints Samba's canonical name of a dialect (SMB2_10 as SMB2, SMB3_11 as SMB3): compared by rank.
            func shown(_ parameter: String) -> SmbDialect? {
                let prefix = "\t\(parameter) = "
                guard let line = result.stdout.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) else { return nil }
                return SmbDialect.named(String(line.dropFirst(prefix.count)))
            }
            if let lowest = smb.minProtocol { XCTAssertEqual(shown("server min protocol")?.rank, lowest.rank, "\(smb)") }
            if let highest = smb.maxProtocol { XCTAssertEqual(shown("server max protocol")?.rank, highest.rank, "\(smb)") }
            if let signing = smb.signing {
                // testparm prints Samba's own name for the value: auto as "if_required", mandatory as "required".
                let shown = ["auto": ["auto", "if_required"], "mandatory": ["mandatory", "required"], "disabled": ["disabled", "No"]][signing.rawValue]!
                XCTAssertTrue(shown.contains { result.stdout.contains("\tserver signing = \($0)\n") }, "\(smb): \(result.stdout)")
            }
        }
    }

    func testTestparmCatchesAMistake() throws {
        // Proves the check above can fail: a misspelt parameter is reported.
        guard access("/usr/bin/testparm", X_OK) == 0 else { throw XCTSkip("testparm not installed") }
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let conf = dir.write("smb.conf", "[global]\n\tserver rol = standalone server\n")
        let result = Process.run(["testparm", "-s", conf])
        XCTAssertTrue(result.stderr.contains("Unknown parameter") || result.stderr.contains("Ignoring unknown"), result.stderr)
    }

    static var multiarch: String {
        #if arch(x86_64)
        return "x86_64-linux-gnu"
        #elseif arch(arm64)
        return "aarch64-linux-gnu"
        #else
        return "arm-linux-gnueabihf"
        #endif
    }

    private func occurrences(of needle: String, in text: String) -> Int {
        let (h, n) = (Array(text.utf8), Array(needle.utf8))
        guard n.count <= h.count else { return 0 }
        return (0...(h.count - n.count)).filter { Array(h[$0..<($0 + n.count)]) == n }.count
    }

    private func readBytes(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            bytes.append(contentsOf: buffer[0..<n])
        }
        return bytes
    }

    private func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard needle.count <= haystack.count, let first = needle.first else { return false }
        var i = 0
        while i <= haystack.count - needle.count {
            if haystack[i] == first && Array(haystack[i..<(i + needle.count)]) == needle { return true }
            i += 1
        }
        return false
    }
}
