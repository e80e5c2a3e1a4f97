import PitTestSupport
import Glibc
import XCTest

/// What a user meets before reading any source: help for every option of `pit run` and `pit supervise` (whose
/// parsers are their own), shell completion of their options, and a suggestion for a typo.
final class HelpTests: XCTestCase {
    /// Every option `pit run --help` lists (its own table) is in `pit help run` too, and the reverse.
    func test_helpRunListsEveryOption() {
        let own = Process.run([Pit.executable, "run", "--help"])
        XCTAssertEqual(own.status, 0)
        let names = Set(own.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "," })
            .filter { $0.hasPrefix("-") && $0.count > 1 }.map(String.init))
        XCTAssertGreaterThan(names.count, 40, own.stdout)
        for name in ["--chroot", "--seccomp-string", "--landlock-exec", "--userns", "--time-limit", "-M", "--rlimit_as", "--keep_caps"] {
            XCTAssertTrue(names.contains(name), "\(name) missing from pit run --help")
        }
        let viaParser = Process.run([Pit.executable, "help", "run"])
        XCTAssertEqual(viaParser.status, 0)
        for name in names { XCTAssertTrue(viaParser.stdout.contains(name), "pit help run lacks \(name)") }
        let supervise = Process.run([Pit.executable, "help", "supervise"]).stdout
        XCTAssertTrue(supervise.contains("--config PATH") && supervise.contains("--check"), supervise)
    }

    /// The bash completion script ArgumentParser generates completes `pit run --chr` to `--chroot`, through the
    /// same table (a custom completion), and `pit supervise --ch` to `--check`.
    func test_bashCompletesRunAndSuperviseOptions() throws {
        try XCTSkipUnless(fileExists("/bin/bash"), "needs bash")
        let dir = ScratchDirectory()
        let script = Process.run([Pit.executable, "--generate-completion-script", "bash"])
        XCTAssertEqual(script.status, 0, script.stderr)
        let path = dir.write("pit.bash", script.stdout)
        let bin = String(Pit.executable.dropLast(4))   // the directory holding `pit`
        func complete(_ words: [String]) -> [String] {
            let line = words.joined(separator: " ")
            let driver = """
                source \(path)
                PATH=\(bin):$PATH
                COMP_WORDS=(\(words.joined(separator: " ")))
                COMP_CWORD=\(words.count - 1)
                COMP_LINE="\(line)"
                COMP_POINT=${#COMP_LINE}
                _pit
                printf '%s\\n' "${COMPREPLY[@]}"
                """
            return lines(Process.run(["/bin/bash", "-c", driver]).stdout)
        }
        XCTAssertEqual(complete(["pit", "run", "--chr"]), ["--chroot"])
        XCTAssertTrue(complete(["pit", "run", "--landlock-"]).contains("--landlock-exec"))
        XCTAssertEqual(complete(["pit", "supervise", "--ch"]), ["--check"])
    }

    func test_typosGetASuggestionOnEveryCommand() {
        let run = Pit.run(["--chrot", "/", "--", "/bin/true"])
        XCTAssertEqual(run.status, 125)
        XCTAssertTrue(run.stderr.contains("did you mean --chroot?"), run.stderr)
        let supervise = Process.run([Pit.executable, "supervise", "--chek"])
        XCTAssertEqual(supervise.status, 64)
        XCTAssertTrue(supervise.stderr.contains("did you mean --check?"), supervise.stderr)
        let status = Process.run([Pit.executable, "status", "--jsn"])
        XCTAssertEqual(status.status, 64)
        XCTAssertTrue(status.stderr.contains("--json"), status.stderr)
    }
}

/// `pit policy` writes where a user points it, a pipe included (`-o /dev/stdout | less`): a positioned write
/// there fails with ESPIPE.
final class PolicyOutputTests: XCTestCase {
    func test_policyOutputGoesThroughAPipe() {
        let dir = ScratchDirectory()
        let policy = dir.write("p.policy", "POLICY p { ALLOW { read, write, exit_group } } USE p DEFAULT KILL\n")
        // The filter alone goes into the pipe (fd 3); the summary to /dev/null; pipefail keeps pit's status.
        let r = Process.run(["/bin/bash", "-o", "pipefail", "-c", "\"$0\" policy check --arch x86_64 --export-bpf /dev/fd/3 \"$1\" 3>&1 >/dev/null | wc -c",
                             Pit.executable, policy])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertFalse(r.stderr.contains("Illegal seek"), r.stderr)
        let bytes = Int(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        XCTAssertTrue(bytes > 16 && bytes % 8 == 0, "no whole filter came through the pipe (\(bytes) bytes): \(r.stderr)")
    }
}

/// Man pages: image/gen-man turns `pit --experimental-dump-help` into one page per command.
final class ManPageTests: XCTestCase {
    func test_manPagesAreGeneratedForEveryCommandAndSayTheirOptions() throws {
        try XCTSkipUnless(fileExists("/usr/bin/python3"), "needs python3")
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        let root = parts.joined(separator: "/")
        let dir = ScratchDirectory()
        let r = Process.run(["/usr/bin/python3", root + "/image/gen-man", Pit.executable, dir.path + "/man1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        for command in ["pit", "pit-run", "pit-supervise", "pit-status", "pit-events", "pit-policy-check", "pit-logs"] {
            let text = readText(dir.path + "/man1/\(command).1") ?? ""
            XCTAssertTrue(text.hasPrefix(".TH \(command.uppercased()) 1"), "\(command).1: \(text.prefix(80))")
            XCTAssertTrue(text.contains(".SH EXIT STATUS"), command)
            // Each command's page leads to the file formats (image/man/*.5).
            for format in ["pit\\-device.toml", "pit\\-jail.toml", "pit\\-persona.toml", "pit\\-board.toml"] {
                XCTAssertTrue(text.contains(".BR \(format) (5)"), "\(command).1: SEE ALSO lacks \(format)(5)")
            }
        }
        XCTAssertTrue(readText(dir.path + "/man1/pit-run.1")?.contains("--chroot, -c DIR") ?? false)
        XCTAssertTrue(readText(dir.path + "/man1/pit-supervise.1")?.contains("--check") ?? false)
        XCTAssertTrue(readText(dir.path + "/man1/pit-status.1")?.contains("\\fB--json\\fR") ?? false)
        XCTAssertFalse(fileExists(dir.path + "/man1/pit-uplink-agent.1"), "the internal agent has no page")
    }
}
