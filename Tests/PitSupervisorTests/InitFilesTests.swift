import PitTestSupport
import Glibc
import PitSupervisor
import XCTest

/// The files a firmware image takes from `image/`: the systemd unit as systemd reads it, and the Buildroot
/// package's fields `make legal-info` needs.
final class InitFilesTests: XCTestCase {
    private let root: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)   // Tests/PitSupervisorTests/InitFilesTests.swift
        return parts.joined(separator: "/")
    }()

    func test_systemdUnitPassesSystemdAnalyzeVerify() throws {
        try XCTSkipUnless(fileExists("/usr/bin/systemd-analyze"), "needs systemd-analyze (package systemd)")
        let unit = try XCTUnwrap(readText(root + "/image/init/pit.service"))
        // Ordered as a network manager (it applies the persona), and the watchdog's feeder protected from the
        // OOM killer.
        XCTAssertTrue(unit.contains("\nBefore=network.target\n") && !unit.contains("After=network.target"), unit)
        XCTAssertTrue(unit.contains("\nOOMScoreAdjust=-1000\n"), unit)
        // verify checks that ExecStart's program exists: point it at this build's pit.
        let dir = ScratchDirectory()
        let copy = dir.write("pit.service", unit.replacingOccurrences(of: "/usr/sbin/pit", with: Pit.executable))
        let r = Process.run(["/usr/bin/systemd-analyze", "verify", "--man=no", copy])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertEqual(r.stdout + r.stderr, "", "systemd-analyze has something to say")
    }

    func test_buildrootPackageHasLicenseFieldsAndTheRightArmDependency() throws {
        let mk = try XCTUnwrap(readText(root + "/image/buildroot/package/pit/pit.mk"))
        let fields = Dictionary(lines(mk).compactMap { line -> (String, String)? in
            guard let equals = line.range(of: " = ") else { return nil }
            return (String(line[..<equals.lowerBound]), String(line[equals.upperBound...]))
        }, uniquingKeysWith: { first, _ in first })
        XCTAssertTrue(fields["PIT_LICENSE"]?.hasPrefix("Apache-2.0") ?? false, "\(fields)")
        let files = try XCTUnwrap(fields["PIT_LICENSE_FILES"]).split(separator: " ")
        XCTAssertFalse(files.isEmpty)
        for file in files { XCTAssertTrue(fileExists(root + "/" + file), "PIT_LICENSE_FILES names \(file), which is missing") }
        // PIT_VERSION is read from Package.swift's release: the sed in it must find one.
        let version = try XCTUnwrap(fields["PIT_VERSION"])
        let sed = version.replacingOccurrences(of: "$(shell ", with: "").replacingOccurrences(of: "$(BR2_EXTERNAL_PIT_PATH)/../..", with: root)
        let r = Process.run(["/bin/sh", "-c", String(sed.dropLast())])
        XCTAssertTrue(r.stdout.range(of: #"^\d+\.\d+\.\d+\n$"#, options: .regularExpression) != nil, "PIT_VERSION gives \(r.stdout.debugDescription)")
        // Every init system Buildroot offers gets Pit started: busybox and SysV inittab lines, systemd, OpenRC.
        for hook in ["PIT_INITTAB", "PIT_SYSV_INITTAB", "define PIT_INSTALL_INIT_SYSTEMD", "define PIT_INSTALL_INIT_OPENRC"] {
            XCTAssertTrue(mk.contains(hook), "pit.mk lacks \(hook)")
        }
        XCTAssertEqual(Process.run(["/bin/sh", "-n", root + "/image/init/pit.openrc"]).status, 0)
        let config = try XCTUnwrap(readText(root + "/image/buildroot/package/pit/Config.in"))
        XCTAssertTrue(config.contains("BR2_arm && BR2_ARM_CPU_ARMV7A && BR2_ARM_EABIHF"), config)
    }

    /// OpenWrt: the init script hands the watchdog over with magicclose (procd before 254810d keeps the device open
    /// on "stop" alone; the board VM suite runs procd's watchdog.c through it), keeps the data directory on the overlay, and the feed's Makefile has the license fields, keeps
    /// /etc/pit across sysupgrade and rewrites data_dir into a device config that still loads.
    func test_openWrtPackageAndInitScript() throws {
        let initScript = try XCTUnwrap(readText(root + "/image/init/pit.init"))
        XCTAssertTrue(initScript.contains(#"'{ "magicclose": true, "stop": true }'"#), "hand-over without magicclose")
        XCTAssertTrue(initScript.contains(#"!= "offline""#), "the reply's status is not checked")
        XCTAssertFalse(initScript.contains("/var/lib/pit"), "a data directory on OpenWrt's tmpfs")
        XCTAssertEqual(Process.run(["/bin/sh", "-n", root + "/image/init/pit.init"]).status, 0)
        let makefile = try XCTUnwrap(readText(root + "/image/openwrt/pit/Makefile"))
        let license = try XCTUnwrap(lines(makefile).first { $0.hasPrefix("PKG_LICENSE_FILES:=") })
        for file in license.dropFirst("PKG_LICENSE_FILES:=".count).split(separator: " ") {
            XCTAssertTrue(fileExists(root + "/" + file), "PKG_LICENSE_FILES names \(file), which is missing")
        }
        XCTAssertTrue(makefile.contains("echo /etc/pit/ > $(1)/lib/upgrade/keep.d/pit"), makefile)
        // The same sed the Makefile runs, on the shipped config: data_dir moves to the overlay, the rest loads.
        let dir = ScratchDirectory()
        // The expression as the Makefile writes it (between `sed '` and `'`), not a copy of it.
        let line = try XCTUnwrap(lines(makefile).first { $0.contains("/etc/pit/device.toml > $(1)/etc/pit/device.toml") }, makefile)
        let expression = try XCTUnwrap(line.range(of: "sed '").flatMap { start in
            line[start.upperBound...].range(of: "'").map { String(line[start.upperBound..<$0.lowerBound]) }
        })
        let sed = Process.run(["/bin/sed", expression, root + "/image/rootfs/etc/pit/device.toml"])
        XCTAssertEqual(sed.status, 0)
        XCTAssertTrue(sed.stdout.contains("data_dir = \"/etc/pit/data\"\n"), sed.stdout)
        dir.write("device.toml", sed.stdout)
        XCTAssertEqual(try DeviceConfig.locations(dir.path + "/device.toml").dataDirectory, "/etc/pit/data")
    }

    /// The procd hand-over check (Tests/Fixtures/procd) runs in the board VM, on a real watchdog; here its vendored
    /// procd and libubox code must still build with this toolchain (-Wall -Wextra, no warnings), and the driver must
    /// say so, not pretend, when there is no watchdog: it runs in a mount namespace whose /dev is an empty tmpfs,
    /// so a watchdog of this host is never touched.
    func test_procdWatchdogFixtureBuildsAndNeedsARealWatchdog() throws {
        try XCTSkipUnless(fileExists("/usr/bin/cc") && fileExists("/usr/bin/unshare"), "needs cc (gcc) and unshare (util-linux)")
        let out = ScratchDirectory()
        let build = Process.run(["/bin/sh", root + "/Tests/Fixtures/procd/build", out.path])
        XCTAssertEqual(build.status, 0, build.stderr)
        XCTAssertEqual(build.stdout + build.stderr, "", "the vendored procd code builds with warnings")
        for procd in ["2c1834a", "ca8c302"] {
            let driver = out.path + "/procd-handover-" + procd
            XCTAssertEqual(Process.run([driver]).status, 64, "\(procd): no message is a usage error")
            let r = Process.run(["/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c",
                                 "mount -t tmpfs none /dev && exec \"$0\" magicclose-stop", driver])
            XCTAssertEqual(r.status, 1, r.stdout + r.stderr)
            XCTAssertEqual(r.stdout, "procd-handover boot no-watchdog\n", procd)
        }
    }

    /// The section-5 pages (image/man) reach the image: the install lines of pit.mk and of the OpenWrt Makefile,
    /// run as written (their make variables pointed at a scratch tree), install every page.
    func test_buildrootAndOpenWrtInstallTheFileFormatManPages() throws {
        func list(_ directory: String) -> [String] { lines(Process.run(["/bin/ls", directory]).stdout).sorted() }
        let pages = list(root + "/image/man").filter { $0.hasSuffix(".5") }
        XCTAssertEqual(pages, ["pit-board.toml.5", "pit-device.toml.5", "pit-jail.toml.5", "pit-persona.toml.5"])
        let cases: [(file: String, variables: [String: String])] = [
            ("/image/buildroot/package/pit/pit.mk", ["$(INSTALL)": "install", "$(@D)": root, "$(TARGET_DIR)": "$TARGET"]),
            ("/image/openwrt/pit/Makefile", ["$(INSTALL_DIR)": "install -d -m0755", "$(INSTALL_DATA)": "install -m0644",
                                             "$(PIT_TREE)": root, "$(1)": "$TARGET"]),
        ]
        for (file, variables) in cases {
            let text = try XCTUnwrap(readText(root + file))
            let installLines = lines(text).filter { $0.contains("man5") || $0.contains("image/man/") }
            XCTAssertFalse(installLines.isEmpty, "\(file) does not install the section-5 man pages")
            var script = installLines.joined(separator: "\n")
            for (name, value) in variables { script = script.replacingOccurrences(of: name, with: value) }
            XCTAssertFalse(script.contains("$("), "\(file): a make variable left in \(script)")
            let target = ScratchDirectory()
            let r = Process.run(["/bin/sh", "-ec", "TARGET=\"$0\"\n" + script, target.path])
            XCTAssertEqual(r.status, 0, "\(file): \(script): \(r.stderr)")
            XCTAssertEqual(list(target.path + "/usr/share/man/man5"), pages, file)
        }
    }
}
