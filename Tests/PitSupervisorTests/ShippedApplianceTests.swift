import PitTestSupport
import Glibc
import PitPersona
import PitSupervisor
import XCTest

/// The firmware image's own config is the appliance (issue 23). The Buildroot package's install commands are run
/// as written (pit.mk through make, with Buildroot's variables stubbed and a scratch TARGET_DIR), and the device
/// config they lay out is checked by `pit supervise --check` as the device would load it: the shipped
/// device.toml, the board file, the persona example, the Samba jails and their policies. Nothing is copied by
/// hand, so neither the config nor the package's file list can drift from the schema unnoticed.
final class ShippedApplianceTests: XCTestCase {
    private let root: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)   // Tests/PitSupervisorTests/ShippedApplianceTests.swift
        return parts.joined(separator: "/")
    }()

    /// A makefile that includes pit.mk with what Buildroot would define around it: `install` runs
    /// PIT_INSTALL_TARGET_CMDS with `$(@D)` = Pit's tree, `finalize` the target-finalize hook.
    private func buildroot(_ dir: ScratchDirectory, target: String, board: String = "raspberrypi4") -> String {
        dir.write("Makefile", """
            BR2_EXTERNAL_PIT_PATH := \(root)/image/buildroot
            TARGET_DIR := \(target)
            INSTALL := install
            TARGET_READELF := readelf
            BR2_x86_64 := y
            BR2_PACKAGE_PIT_BOARD := "\(board)"
            BR2_PACKAGE_PIT_PREBUILT := "\(Pit.executable)"
            qstrip = $(strip $(subst ",,$(1)))
            generic-package :=
            include \(root)/image/buildroot/package/pit/pit.mk
            .PHONY: \(root)/install finalize
            \(root)/install:
            \t$(PIT_INSTALL_TARGET_CMDS)
            finalize:
            \t$(foreach hook,$(PIT_TARGET_FINALIZE_HOOKS),$($(hook)))

            """)
    }

    func test_buildrootPackageSelectsSambaAndInstallsTheAppliance_whoseConfigPassesCheck() throws {
        XCTAssertTrue(fileExists("/usr/bin/make") && fileExists("/usr/bin/rsync"), "needs make and rsync (image/install-deps)")
        try XCTSkipUnless(fileExists("/usr/sbin/smbd") && fileExists("/usr/libexec/samba/samba-dcerpcd"),
                          "needs Samba (image/install-deps installs samba)")
        // Config.in: the package brings Samba with it.
        let configIn = try XCTUnwrap(readText(root + "/image/buildroot/package/pit/Config.in"))
        let pitEntry = try XCTUnwrap(configIn.components(separatedBy: "\nif BR2_PACKAGE_PIT").first)
        XCTAssertTrue(lines(pitEntry).contains("\tselect BR2_PACKAGE_SAMBA4"), "Config.in does not select samba4")
        XCTAssertTrue(pitEntry.contains("depends on BR2_ROOTFS_MERGED_USR"), "the jails need a merged /usr")

        let dir = ScratchDirectory()
        defer { dir.remove() }
        let target = dir.makeDirectory("target")
        let makefile = buildroot(dir, target: target)
        let install = Process.run(["/usr/bin/make", "-s", "-f", makefile, root + "/install"])
        XCTAssertEqual(install.status, 0, install.stdout + install.stderr)
        let etc = target + "/etc/pit"
        for file in ["device.toml", "board.toml", "persona.toml", "decoys/finance/vendor-payments.txt", "decoys/scans/README.txt",
                     "samba/smbd.toml", "samba/smbd.policy", "samba/nmbd.toml", "samba/nmbd.policy", "samba/dcerpcd.toml",
                     "samba/dcerpcd.policy", "examples/decoy-web.toml", "jails/decoy-web.toml", "jails/demo.policy"] {
            XCTAssertTrue(fileExists(etc + "/" + file), "pit.mk does not install /etc/pit/\(file)")
        }
        XCTAssertTrue(fileExists(target + "/usr/sbin/pit"))
        XCTAssertEqual(readText(etc + "/persona.toml"), readText(root + "/policies/persona.example.toml"))

        // The shipped config as the device loads it: the appliance, three Samba jails after the persona.
        let check = Process.run([Pit.executable, "supervise", "--check", "--config", etc + "/device.toml"])
        XCTAssertEqual(check.status, 0, check.stdout + check.stderr)
        XCTAssertTrue(check.stdout.contains("ok (3 jails: dcerpcd, smbd, nmbd)"), check.stdout)
        let config = try DeviceConfig.load(etc + "/device.toml")
        let persona = try XCTUnwrap(config.persona, "the shipped config has no persona")
        XCTAssertEqual(config.jails.first { $0.name == "smbd" }?.auditSocket != nil, true, "smbd's accesses are not alerts")
        // smb.conf binds the persona's interface only: readiness must knock on one of its addresses.
        for jail in config.jails where jail.readyTCPPort != nil {
            XCTAssertTrue(persona.addresses.contains { "\($0.address)" == jail.readyTCPHost },
                          "\(jail.name): ready_tcp \(jail.readyTCPHost) is none of the persona's addresses \(persona.addresses)")
        }
        XCTAssertTrue(config.uplinks.isEmpty, "a fresh image ships no uplink (keys are provisioned per device)")

        // The commented uplinks are valid as soon as they are uncommented (their key files are the device's).
        let shipped = try XCTUnwrap(readText(etc + "/device.toml"))
        var uncommented: [String] = []
        var inUplinks = false
        for line in shipped.components(separatedBy: "\n") {
            if line == "# [[uplink]]" { inUplinks = true }
            if inUplinks, line.range(of: #"^# (\[\[uplink\]\]|[a-z_]+ = .*)$"#, options: .regularExpression) != nil {
                uncommented.append(String(line.dropFirst(2)))
            } else {
                uncommented.append(line)
            }
        }
        let variant = dir.write("target/etc/pit/device-uplinks.toml", uncommented.joined(separator: "\n"))
        let withUplinks = try DeviceConfig.load(variant)
        XCTAssertEqual(withUplinks.uplinks.map(\.name), ["console", "siem", "dns"])

        // The stand-in decoy stays an example that loads.
        let example = Process.run([Pit.executable, "supervise", "--check", "--config", etc + "/examples/decoy-web.toml"])
        XCTAssertEqual(example.status, 0, example.stdout + example.stderr)
        XCTAssertTrue(example.stdout.contains("(1 jails: decoy-web)"), example.stdout)

        // Target finalize: samba-dcerpcd's jail may execute the target's ELF interpreter, found through the
        // target's own links (here Buildroot's: lib64 -> usr/lib), not Debian's path the spec is written with.
        _ = dir.makeDirectory("target/usr/libexec/samba")
        XCTAssertEqual(Process.run(["/bin/cp", "/usr/libexec/samba/samba-dcerpcd", target + "/usr/libexec/samba/"]).status, 0)
        XCTAssertEqual(symlink("usr/lib", target + "/lib64"), 0)
        _ = dir.write("target/usr/lib/ld-linux-x86-64.so.2", "an interpreter")
        let finalize = Process.run(["/usr/bin/make", "-s", "-f", makefile, "finalize"])
        XCTAssertEqual(finalize.status, 0, finalize.stdout + finalize.stderr)
        let dcerpcd = try XCTUnwrap(readText(etc + "/samba/dcerpcd.toml"))
        XCTAssertTrue(dcerpcd.contains(#""/usr/lib/ld-linux-x86-64.so.2"]"#), dcerpcd)
        XCTAssertFalse(dcerpcd.contains("x86_64-linux-gnu"), dcerpcd)
    }
}
