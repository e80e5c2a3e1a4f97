import PitTestSupport
import Glibc
import XCTest

/// `pit jail import-nsjail` (issue 20): NsJail configs (protobuf text) as jail specs that run under
/// `pit run --jail` with NsJail's meaning and defaults, and every field Pit cannot carry refused by name and line.
final class NsJailImportTests: XCTestCase {
    static let config = """
        # a config in NsJail's own style
        name: "sh-demo"
        description: "geteuid answers -1337, as NsJail's bash-with-fake-geteuid"
        mode: ONCE
        hostname: "DEMO"
        time_limit: 30
        port: 31337
        envar: "TERM=linux"
        envar: 'GREETING=hi\\there' "!"
        skip_setsid: true
        rlimit_as: 512
        rlimit_nofile: 40
        uidmap { inside_id: "1000" outside_id: "" count: 1 }
        gidmap < inside_id: "1000" >
        mount_proc: false
        mount { src: "/usr" dst: "/usr" is_bind: true rw: false }
        mount { dst: "/scratch" fstype: "tmpfs" rw: true options: "size=1048576" }
        mount { dst: "/proc" fstype: "proc" }
        mount { src: "/nonexistent_777" dst: "/nonexistent_777" is_bind: true mandatory: false }
        seccomp_string: "ERRNO(1337) { geteuid }"
        seccomp_string: "DEFAULT ALLOW"
        exec_bin {
            path: "/bin/sh"
            arg: "-c"
            arg: "id -u; id -g; hostname; echo \\"$GREETING\\"; df -k /scratch | tail -n 1 | tr -s ' ' | cut -d' ' -f2; grep -E 'address|open files' /proc/self/limits | tr -s ' '; exit 7"
        }
        """

    func test_importedConfigRunsWithNsJailsMeaning() {
        let dir = ScratchDirectory()
        let cfg = dir.write("demo.cfg", Self.config)
        let spec = dir.path + "/demo.toml"
        let imported = Process.run([Pit.executable, "jail", "import-nsjail", cfg, "-o", spec])
        XCTAssertEqual(imported.status, 0, imported.stderr)
        let text = readText(spec) ?? ""
        for line in ["name = \"sh-demo\"", "time_limit = 30", "userns = true", "netns = true", "utsns = true", "default_binds = false",
                     "cpu = \"600:600\"", "fsize = \"1048576:1048576\"", "# port ignored: NsJail reads it in LISTEN mode only"] {
            XCTAssertTrue(text.contains(line + "\n"), "\(line) in\n\(text)")
        }
        let r = Pit.run(["--jail", spec])
        XCTAssertEqual(r.status, 7, r.stderr)
        XCTAssertEqual(lines(r.stdout), ["4294965959", "1000", "DEMO", "hi\there!", "1024",
                                         "Max open files 40 40 files ", "Max address space 536870912 536870912 bytes "], r.stderr)
    }

    /// What NsJail does when a config is silent: a 600 s limit, its rlimits, new user, network and UTS namespaces.
    func test_nsjailsDefaultsAreWrittenOut() {
        let dir = ScratchDirectory()
        let cfg = dir.write("min.cfg", "exec_bin { path: \"/bin/true\" }\n")
        let r = Process.run([Pit.executable, "jail", "import-nsjail", cfg])
        XCTAssertEqual(r.status, 0, r.stderr)
        for line in ["command = [\"/bin/true\"]", "time_limit = 600", "userns = true", "netns = true", "utsns = true",
                     "hostname = \"NSJAIL\"", "as = \"4294967296:4294967296\"", "nofile = \"32:32\"", "core = \"0:0\""] {
            XCTAssertTrue(r.stdout.contains(line + "\n"), "\(line) in\n\(r.stdout)")
        }
    }

    func test_unmappableFieldsAreRefusedByNameAndLineAndNothingIsWritten() {
        let dir = ScratchDirectory()
        let cfg = dir.write("bad.cfg", """
            mode: LISTEN
            keep_caps: true
            pass_fd: 3
            mount { src_content: "x" dst: "/etc/x" }
            mount { dst: "/tmp" fstype: "tmpfs" noexec: true }
            uidmap { inside_id: "0" outside_id: "1000" }
            frobnicate: 1
            exec_bin { path: "/bin/busybox" exec_fd: true }
            """)
        let spec = dir.path + "/bad.toml"
        let r = Process.run([Pit.executable, "jail", "import-nsjail", cfg, "-o", spec])
        XCTAssertEqual(r.status, 1)
        XCTAssertFalse(fileExists(spec))
        let expected = ["1:1: mode: LISTEN mode is not in Pit", "2:1: keep_caps: list the capabilities", "3:1: pass_fd: a jail spec passes no descriptors",
                        "4:9: src_content: a jail spec has no files with given content", "5:1: mount: Pit's mounts are not noexec",
                        "6:1: uidmap: Pit maps the user namespace's ids", "7:1: frobnicate: not a field of NsJail's config.proto",
                        "8:33: exec_fd: Pit executes the command's path inside the jail"]
        let got = lines(r.stderr)
        XCTAssertEqual(got.count, expected.count, r.stderr)
        for (line, want) in zip(got, expected) {
            XCTAssertTrue(line.hasPrefix("pit jail import-nsjail: \(cfg):\(want)"), "\(line)\nwanted \(want)")
        }
    }

    func test_parseErrorsNameTheLineAndColumn() {
        let dir = ScratchDirectory()
        for (text, want) in [("name: \"open\n", "1:12: a string is not closed on its line"), ("mount {\n dst: \"/x\"\n", "3:1: missing '}' at the end"),
                             ("name \"x\"\n", "1:6: expected ':' or '{' after 'name'"), ("envar: \"\\q\"\n", "1:11: unknown escape '\\q'")] {
            let cfg = dir.write("p.cfg", text)
            let r = Process.run([Pit.executable, "jail", "import-nsjail", cfg])
            XCTAssertEqual(r.status, 1)
            XCTAssertEqual(lines(r.stderr), ["pit jail import-nsjail: \(cfg):\(want)"], text)
        }
        // Hostile nesting is one line, not a stack overflow (it was SIGSEGV at 500,000 levels).
        let cfg = dir.write("deep.cfg", String(repeating: "a{", count: 500_000))
        let r = Process.run([Pit.executable, "jail", "import-nsjail", cfg])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertEqual(lines(r.stderr), ["pit jail import-nsjail: \(cfg):1:67: messages nested more than 32 deep"])
    }
}
