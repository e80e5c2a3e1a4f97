// swift-tools-version:6.0
import PackageDescription

/// The release this tree is (CHANGELOG.md's newest heading). A build from a commit that is not the release's tag
/// says which commit, and whether the tree had uncommitted changes: `0.7.0-dev+g0123456789ab.dirty`.
let release = "0.7.0"
let version: String = {
    guard let git = Context.gitInformation else { return release }
    if git.currentTag == "v" + release && !git.hasUncommittedChanges { return release }
    return release + "-dev+g" + git.currentCommit.prefix(12) + (git.hasUncommittedChanges ? ".dirty" : "")
}()

let package = Package(
    name: "Pit",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "pit", targets: ["pit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
    ],
    targets: [
        // System C libraries, found through pkg-config.
        .systemLibrary(name: "CSeccomp", pkgConfig: "libseccomp", providers: [.apt(["libseccomp-dev"])]),
        .systemLibrary(name: "CCap", pkgConfig: "libcap", providers: [.apt(["libcap-dev"])]),
        .systemLibrary(name: "CGpiod", pkgConfig: "libgpiod", providers: [.apt(["libgpiod-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // The few things Swift cannot call directly: variadic syscalls, GNU-only constants.
        .target(name: "CPitShim"),
        .target(name: "CPersonaShim"),

        // The small layer under everything else: file system calls (FileIO), the monotonic clock, text from jails
        // made printable, the violation action, "did you mean", Pit's version. No Swift dependencies, so any
        // module may use it.
        .target(name: "PitProcess", dependencies: ["CPitVersion"]),
        .target(name: "CPitVersion", cSettings: [.define("PIT_VERSION", to: "\"\(version)\"")]),
        .target(name: "PitTOML", dependencies: ["PitProcess"]),
        // SHA-256 (OpenSSL's) shared by policy hashes, the policy cache and persona MAC derivation.
        .target(name: "PitHash", dependencies: ["COpenSSL"]),
        .target(name: "PitPolicy", dependencies: ["CSeccomp", "CPitShim", "PitHash", "PitProcess"]),
        .target(name: "PitJail", dependencies: [
            "CPitShim", "CCap", "PitPolicy", "PitTOML", "PitHash", "PitProcess",
            .product(name: "SystemPackage", package: "swift-system"),
        ]),
        .target(name: "PitBoard", dependencies: [
            "CPitShim", "CGpiod", "PitTOML", "PitProcess",
            .product(name: "SystemPackage", package: "swift-system"),
        ]),
        .target(name: "PitUplink", dependencies: ["PitTOML", "COpenSSL", "PitProcess", "CZlib"], exclude: ["EVENTS.md"]),
        .target(name: "PitConsole", dependencies: ["PitProcess"]),
        .target(name: "PitPersona", dependencies: ["PitTOML", "CPersonaShim", "PitHash", "PitProcess"]),
        .target(name: "PitSupervisor", dependencies: ["CPitShim", "PitProcess", "PitJail", "PitPolicy", "PitBoard", "PitTOML", "PitUplink", "PitPersona", "PitConsole",
                                                     .product(name: "SystemPackage", package: "swift-system")]),
        .executableTarget(name: "pit", dependencies: [
            "PitJail", "PitPolicy", "PitProcess", "PitSupervisor", "PitUplink",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Not part of the product: benchmarks, the console fuzzer and the helpers tests drive, kept under Tests/.
        .executableTarget(name: "launch-bench", dependencies: ["PitJail", "CPitShim"], path: "Tests/Benchmarks/launch-bench"),
        .executableTarget(name: "policy-bench", dependencies: ["PitPolicy", "CPitShim"], path: "Tests/Benchmarks/policy-bench"),
        .executableTarget(name: "spool-bench", dependencies: ["PitUplink"], path: "Tests/Benchmarks/spool-bench"),
        .executableTarget(name: "uplink-bench", dependencies: ["PitUplink"], path: "Tests/Benchmarks/uplink-bench"),
        .executableTarget(name: "dns-bench", dependencies: ["PitUplink"], path: "Tests/Benchmarks/dns-bench"),
        .executableTarget(name: "console-fuzz", dependencies: ["PitConsole"], path: "Tests/Fuzz/console-fuzz"),
        .executableTarget(name: "spool-writer", dependencies: ["PitUplink"], path: "Tests/Helpers/spool-writer"),
        .executableTarget(name: "persona-probe", dependencies: ["PitPersona"], path: "Tests/Helpers/persona-probe"),

        .testTarget(name: "PitTOMLTests", dependencies: ["PitTOML", "PitProcess"]),
        .testTarget(name: "PitPolicyTests", dependencies: ["PitPolicy", "PitHash"]),
        .testTarget(name: "PitBoardTests", dependencies: ["PitBoard", "PitTOML", "CPitShim"]),
        .testTarget(name: "PitUplinkTests", dependencies: ["PitUplink", "PitProcess", "spool-writer", "pit", "PitTestSupport"]),
        .testTarget(name: "PitConsoleTests", dependencies: ["PitConsole", "CPitShim"]),
        // Helpers for tests that drive the real `pit` (spawn, capture, scratch directories).
        .target(name: "PitTestSupport", path: "Tests/PitTestSupport"),
        .testTarget(name: "PitPersonaTests", dependencies: ["PitPersona", "PitTOML", "PitHash", "PitTestSupport", "persona-probe"], exclude: ["golden"]),
        .testTarget(name: "PitSupervisorTests", dependencies: ["PitSupervisor", "PitUplink", "PitProcess", "CPitShim", "PitTestSupport", "pit"]),
        .testTarget(name: "PitJailTests", dependencies: ["PitJail", "PitTestSupport", "pit"], exclude: ["Fixtures"]),
    ]
)
