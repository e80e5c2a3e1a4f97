import PitTestSupport
import Glibc
import XCTest

/// The architecture-dependent C parts for the ARM targets the appliance ships on, proven on this x86_64
/// machine by image/check-cross-shim (clang --target, the targets' Debian headers and static libraries,
/// fetched by image/install-deps). The syscall tables and foreign-arch filters are PitPolicyTests'.
final class CrossCompileTests: XCTestCase {
    static var repository: String {
        var parts = #filePath.split(separator: "/").map(String.init)
        parts.removeLast(3)   // Tests/PitJailTests/CrossCompileTests.swift
        return "/" + parts.joined(separator: "/")
    }

    func test_cShimCompilesAndLinksForAarch64AndArmv7() {
        // --no-fetch: the tests download nothing; install-deps prepared the sysroots.
        // The test's own PATH: the clang and lld of the Swift toolchain that runs `swift test`.
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/bin:/bin"
        let r = Process.run(["/usr/bin/env", "PATH=\(path)", "/bin/bash", Self.repository + "/image/check-cross-shim", "--no-fetch"])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        let lines = lines(r.stdout)
        XCTAssertTrue(lines.contains { $0.hasPrefix("aarch64-linux-gnu: ok") }, r.stdout + r.stderr)
        XCTAssertTrue(lines.contains { $0.hasPrefix("arm-linux-gnueabihf: ok") }, r.stdout + r.stderr)
    }
}
