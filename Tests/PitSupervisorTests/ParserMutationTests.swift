import Glibc
import PitBoard
import PitConsole
import PitJail
import PitPersona
import PitPolicy
@testable import PitSupervisor
import PitTOML
import XCTest

/// Seeded mutation runs over the libFuzzer seed corpora (Tests/Fuzz/corpus), for CI, which does not build
/// libFuzzer: each parser gets its seeds mutated deterministically (bit flips, inserted tokens such as `[`, `"`,
/// `=`, `\u`, huge numbers, deep nesting, truncation, splicing two seeds) and must answer every input, a value or
/// its typed error, within a time bound. A trap ends the test process, so the suite fails.
///
/// The seed is printed. To reproduce: `PIT_MUTATION_SEED=<seed> swift test --filter ParserMutationTests/<test>`;
/// `PIT_MUTATION_TRACE=1` prints every input before it is parsed, so the last one printed is the one that trapped.
/// `PIT_MUTATION_ITERATIONS` overrides the per-parser iteration count.
final class ParserMutationTests: XCTestCase {
    static let corpus: String = {
        var path = #filePath
        for _ in 0..<2 { path = String(path[..<path.lastIndex(of: "/")!]) }
        return path + "/Fuzz/corpus"
    }()

    /// Inputs for `target`'s parser: `iterations` mutations of its seeds (`extraSeeds` are other targets' seed
    /// directories, spliced in too), each parsed by `parse` within `boundMs`.
    func run(_ target: String, extraSeeds: [String] = [], iterations: Int, tokens: [String] = [], boundMs: Int64 = 2_000,
             file: StaticString = #filePath, line: UInt = #line, _ parse: ([UInt8]) -> Void) {
        let env = ProcessInfoLite.self
        let seed = env.uint64("PIT_MUTATION_SEED") ?? 0x5EED_0018
        let count = env.int("PIT_MUTATION_ITERATIONS") ?? iterations
        let trace = env.int("PIT_MUTATION_TRACE") == 1
        let seeds = ([target] + extraSeeds).flatMap { readDirectory(Self.corpus + "/" + $0) }
        XCTAssertFalse(seeds.isEmpty, "no seeds in \(Self.corpus)/\(target)", file: file, line: line)
        guard !seeds.isEmpty else { return }
        var mutator = Mutator(seed: seed ^ fnv1a(target), seeds: seeds, tokens: tokens)
        let start = monotonicMs()
        var slowest: (ms: Int64, iteration: Int) = (0, 0)
        for iteration in 0..<count {
            let input = iteration < seeds.count ? seeds[iteration] : mutator.next()
            if trace { print("[\(target) \(iteration)] \(escaped(input))") }
            let before = monotonicMs()
            parse(input)
            let took = monotonicMs() - before
            if took > slowest.ms { slowest = (took, iteration) }
            if took > boundMs {
                XCTFail("\(target): iteration \(iteration) (seed \(hex(seed))) took \(took) ms, bound \(boundMs) ms: " +
                        "\(escaped(Array(input.prefix(300))))\(input.count > 300 ? "... (\(input.count) bytes)" : "")", file: file, line: line)
                return
            }
        }
        print("ParserMutationTests: \(target): \(count) inputs (\(seeds.count) seeds), seed \(hex(seed)), " +
              "\(monotonicMs() - start) ms, slowest \(slowest.ms) ms (iteration \(slowest.iteration))")
    }

    func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    func test_tomlParserAnswersEveryMutatedInput() {
        run("toml", extraSeeds: ["board", "device"], iterations: 6_000) { bytes in
            _ = try? TOML.parse(text(bytes), file: "/mutation/x.toml")
        }
    }

    func test_policyParserAndCompilerAnswerEveryMutatedInput() {
        let policyTokens = ["POLICY p {", "USE p DEFAULT KILL", "ALLOW {", "}", "(", ")", "&&", "||", "!", "#define X ",
                            "SYSCALL[", "0xffffffffffffffff", "ERRNO(1)", "read(fd, buf, count) { fd == 0 }", "/*", "*/"]
        run("policy", iterations: 1_500, tokens: policyTokens, boundMs: 3_000) { bytes in
            let policy = text(bytes)
            // `#include` resolves against the current directory: never let a mutation name a device or procfs.
            if policy.contains("#include") && (policy.contains("/dev") || policy.contains("/proc") || policy.contains("/sys")) { return }
            guard let ast = try? PolicyCompiler.parse(PolicySource(text: policy, file: "<mutation>")) else { return }
            _ = try? PolicyCompiler.compile(ast, arch: .x86_64)
        }
    }

    func test_boardParserAnswersEveryMutatedInput() {
        run("board", iterations: 5_000, tokens: ["[leds.status]", "gpio = { chip = \"/dev/gpiochip0\", line = ", "/dev/", "nics = ["]) { bytes in
            _ = try? Board.parse(text(bytes), file: "/mutation/board.toml")
        }
    }

    func test_jailSpecParserAnswersEveryMutatedInput() {
        run("jailspec", iterations: 4_000, tokens: ["binds = [", "[rlimits]", "[landlock]", "bind_tcp = [", ":", "../", "64M"]) { bytes in
            _ = try? JailSpecFile.parse(text(bytes), file: "/mutation/jails/spec.toml")
        }
    }

    func test_personaParserAnswersEveryMutatedInput() {
        let personaTokens = ["routes = [{ to = \"default\" }]", "{ to = \"::/0\", via = \"", "/129", "::ffff:", "2001:db8::",
                             "mac_oui = \"", "[[shares]]", "%", ".", "-", "255.255.255.255/32",
                             "imitate = \"", "windows-server-2019", "smb_min_protocol = \"", "smb_max_protocol = \"SMB3_11\"",
                             "smb_signing = \"", "NT1", "[dhcp]", "profile = \"custom\"", "options = [", "parameter_request_list = [",
                             "vendor_class = \"", "max_message_size = "]
        // A machine-id every Linux host has; the parse only reads it (for mac_oui without device_id).
        run("persona", iterations: 5_000, tokens: personaTokens) { bytes in
            _ = try? Persona.parse(text(bytes), file: "/mutation/persona.toml", machineIDPath: "/proc/sys/kernel/random/boot_id")
        }
    }

    func test_deviceConfigParserAnswersEveryMutatedInput() throws {
        let files = try Self.memoryFiles()
        run("device", iterations: 3_000, tokens: ["[[jails]]", "restart_with = [\"", "ready_tcp = \"", "[[uplink]]", "type = \"dns\"",
                                                   "[watchdog]", "owner = \"systemd\"", "[console]",
                                                   "decoy_audit = true", "smb_audit = true", "sd_id = \"", "@32473"]) { bytes in
            _ = try? DeviceConfig.parse(text(bytes), file: "/mutation/device.toml", files: files)
        }
    }

    /// DHCPv4 from a hostile LAN: each input as an IPv4/UDP datagram, as a DHCP message (which must round-trip) and
    /// as a stored lease, and every message that parses answered to a client in SELECTING, REQUESTING and RENEWING
    /// with the client's own xid, as Tests/Fuzz/fuzz-dhcp.swift does.
    func test_dhcpParserAndClientAnswerEveryMutatedInput() {
        // ASCII only (the tokens are Strings): message types, overload values, option 121 widths, lengths.
        let dhcpTokens = ["\u{35}\u{01}\u{05}", "\u{35}\u{01}\u{02}", "\u{35}\u{01}\u{06}", "\u{34}\u{01}\u{03}",
                          "\u{79}\u{01}\u{21}", "\u{79}\u{05}\u{00}", "\u{33}\u{04}\u{00}\u{00}", "\u{7F}", "address="]
        let mac: [UInt8] = [0x00, 0x11, 0x32, 0xAA, 0xBB, 0xCC]
        func message(_ bytes: [UInt8]) {
            guard let packet = try? DhcpPacket.parse(bytes) else { return }
            let encoded = packet.encoded()
            if encoded.count <= DhcpPacket.maxMessageBytes {
                XCTAssertEqual(try? DhcpPacket.parse(encoded), packet, "round trip changed the message")
            }
            _ = try? packet.classlessRoutes()
            var client = DhcpClient(.init(profile: .windows10, mac: mac, hostname: "fs01"), seed: 9)
            var now: Int64 = 0
            _ = client.start(now: now, remembered: nil)
            var reply = packet
            reply.chaddr = mac
            for _ in 0..<3 {
                reply.xid = client.transactionID
                now += 100
                let step = client.received(reply, now: now)
                if let deadline = step.deadline { XCTAssertGreaterThanOrEqual(deadline, now) }
                if client.state == .checking { _ = client.checked(conflict: false, now: now) }
                if let lease = client.lease {
                    if client.state == .bound && now < lease.renewMs { now += 10; _ = client.linkUp(now: now) } else { now = lease.renewMs; _ = client.timeout(now: now) }
                }
            }
            _ = client.stop(now: now)
        }
        run("dhcp", iterations: 8_000, tokens: dhcpTokens, boundMs: 500) { bytes in
            if let datagram = try? DhcpFrame.decode(bytes) { message(datagram.payload) }
            message(bytes)
            _ = DhcpLease.rememberedAddress(in: bytes)
        }
    }

    /// PitConsoleTests/FuzzTests drives the line editor and commands with 100k mutations of typed lines; this one
    /// adds the libFuzzer corpus and raw lines (any byte, any length) handed to the command parser directly.
    func test_consoleLineEditorAndCommandsAnswerEveryMutatedInput() {
        let consoleTokens = ["\r", "\n", "\u{1B}[A", "\u{7F}", "\u{15}", "\u{03}", "json ", "pin 8642", "restart smbd", "jail ",
                             "violations 99999999999999999999", " pin ", "logs ", "logs smbd 99999999999999999999"]
        run("console", iterations: 2_000, tokens: consoleTokens) { bytes in
            var editor = LineEditor(maxLineBytes: 256, echo: true, prompt: "pit> ")
            var commands = ConsoleCommands(pin: "8642", policy: PinGuard.Policy(minIntervalMs: 0, maxFailures: 1_000))
            var context = ConsoleContext(nowMs: 0)
            context.jails = { [ConsoleJail(name: "smbd", state: "running", pid: 7)] }
            context.jail = { $0 == "smbd" ? ConsoleJail(name: "smbd", state: "running") : nil }
            context.restart = { ConsoleActionResult(ok: true, message: "restarting \($0)") }
            let output = editor.feed(bytes)
            for request in output.requests {
                context.nowMs += 1_000
                let answer = commands.execute(request, context: context)
                precondition(!answer.isEmpty, "empty answer")
            }
            // The command parser on its own, with lines the editor would never pass.
            for line in bytes.split(separator: 0x0A) {
                _ = commands.execute(.line(String(decoding: line, as: UTF8.self)), context: context)
            }
        }
    }

    /// The files a fuzzed device config names, served from memory (as Tests/Fuzz/fuzz-device.swift does); the one
    /// jail resolution is done here, once, on a fixed spec.
    static func memoryFiles() throws -> DeviceConfigFiles {
        let board = try String(contentsOfCorpus: "board/raspberrypi4.toml")
        let persona = try String(contentsOfCorpus: "persona/persona.example.toml")
        let spec = "command = [\"/bin/true\"]\nuser = 65534\ndefault_binds = false\ntmpfs = [\"/tmp:1M\"]\n"
        let resolved = try JailSpecFile.parse(spec, file: "/mutation/jails/spec.toml").resolve()
        return DeviceConfigFiles(
            board: { path throws(TOMLError) in try Board.parse(board, file: path) },
            persona: { path throws(TOMLError) in try Persona.parse(persona, file: path, machineIDPath: "/proc/sys/kernel/random/boot_id") },
            checkTemplates: { _ throws(SambaTreeError) in },
            jailSpec: { path throws(ConfigError) in try JailSpecFile.parse(spec, file: path) },
            resolve: { _ throws(ConfigError) in resolved },
            text: { _ in spec })
    }
}

/// A deterministic mutator (SplitMix64): the same seed gives the same inputs on every machine.
private struct Mutator {
    var state: UInt64
    let seeds: [[UInt8]]
    let tokens: [[UInt8]]

    static let commonTokens: [String] = [
        "[", "]", "[[", "]]", "{", "}", "\"", "\"\"\"", "'''", "'", "=", ",", ".", "#", "\n", "\r\n", "\t", " ", "\\", "\\u",
        "\\uD800", "\\U0010FFFF", "\\U00110000", "\\x", "99999999999999999999", "-9223372036854775808", "9223372036854775807",
        "18446744073709551616", "1e400", "-0", "0x", "0xFFFFFFFFFFFFFFFF", "nan", "inf", "true", "false", "\u{0}", "\u{FEFF}",
        "é", "\u{10FFFF}", "a = 1\n", "[a.b.c]\n", "x = [", "x = {", "1979-05-27T07:32:00Z",
    ]

    init(seed: UInt64, seeds: [[UInt8]], tokens: [String]) {
        self.state = seed
        self.seeds = seeds
        self.tokens = (Self.commonTokens + tokens).map { Array($0.utf8) } + [[0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80]]
    }

    mutating func random() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(random() % UInt64(n)) }

    /// One to four stacked mutations of a random seed.
    mutating func next() -> [UInt8] {
        var bytes = seeds[below(seeds.count)]
        for _ in 0...below(4) { mutate(&bytes) }
        return bytes
    }

    mutating func mutate(_ bytes: inout [UInt8]) {
        let at = below(bytes.count + 1)
        switch below(10) {
        case 0 where !bytes.isEmpty:     // flip a bit
            bytes[below(bytes.count)] ^= 1 << UInt8(below(8))
        case 1 where !bytes.isEmpty:     // any byte
            bytes[below(bytes.count)] = UInt8(truncatingIfNeeded: random())
        case 2, 3:                       // an interesting token
            bytes.insert(contentsOf: tokens[below(tokens.count)], at: at)
        case 4:                          // deep nesting
            let open: [[UInt8]] = [Array("[".utf8), Array("{a=".utf8), Array("x=[".utf8), Array("(".utf8), Array("!".utf8), Array("a && ".utf8)]
            let piece = open[below(open.count)]
            let depth = 1 + below(3_000)
            bytes.insert(contentsOf: Array([[UInt8]](repeating: piece, count: depth).joined()), at: at)
        case 5:                          // truncation
            bytes.removeSubrange(at...)
        case 6 where !bytes.isEmpty:     // delete a range
            let end = min(bytes.count, at + 1 + below(64))
            if at < end { bytes.removeSubrange(at..<end) }
        case 7 where !bytes.isEmpty:     // repeat a range (long lines, many keys)
            let start = below(bytes.count)
            let piece = Array(bytes[start..<min(bytes.count, start + 1 + below(80))])
            bytes.insert(contentsOf: Array([[UInt8]](repeating: piece, count: 1 + below(200)).joined()), at: at)
        case 8:                          // splice: this seed's head, another's tail
            let other = seeds[below(seeds.count)]
            bytes = Array(bytes[..<at]) + other[below(other.count + 1)...]
        default:                         // a line of another seed
            let other = seeds[below(seeds.count)]
            let lines = other.split(separator: 0x0A, omittingEmptySubsequences: true)
            if !lines.isEmpty { bytes.insert(contentsOf: lines[below(lines.count)] + [0x0A], at: at) }
        }
    }
}

// MARK: - Helpers (no Foundation)

private enum ProcessInfoLite {
    static func string(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }
    static func int(_ name: String) -> Int? { string(name).flatMap { Int($0) } }
    static func uint64(_ name: String) -> UInt64? {
        guard let text = string(name) else { return nil }
        return text.hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : UInt64(text)
    }
}

private func fnv1a(_ text: String) -> UInt64 {
    text.utf8.reduce(0xCBF2_9CE4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 }
}

private func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }

private func monotonicMs() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1_000 + Int64(ts.tv_nsec) / 1_000_000
}

private func escaped(_ bytes: [UInt8]) -> String {
    bytes.map { $0 >= 0x20 && $0 < 0x7F && $0 != 0x5C ? String(UnicodeScalar($0)) : "\\x" + String($0, radix: 16) }.joined()
}

/// The regular files of a directory, sorted by name (so the seed order, and with it every input, is fixed).
private func readDirectory(_ path: String) -> [[UInt8]] {
    guard let dir = opendir(path) else { return [] }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        if !name.hasPrefix(".") { names.append(name) }
    }
    return names.sorted().compactMap { readBytes(path + "/" + $0) }
}

private func readBytes(_ path: String) -> [UInt8]? {
    guard let file = fopen(path, "rb") else { return nil }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65_536)
    while true {
        let n = fread(&buffer, 1, buffer.count, file)
        if n == 0 { break }
        bytes += buffer[0..<n]
    }
    return bytes
}

private struct MissingSeed: Error { var path: String }

fileprivate extension String {
    init(contentsOfCorpus relative: String) throws {
        guard let bytes = readBytes(ParserMutationTests.corpus + "/" + relative) else { throw MissingSeed(path: relative) }
        self = String(decoding: bytes, as: UTF8.self)
    }
}
