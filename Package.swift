// swift-tools-version:6.0
import PackageDescription

// Release builds of `pit` lay out the code `pit run` executes (glibc and Swift runtime start-up, option parsing,
// the jail engine) contiguously, in the order of Sources/pit/launch.order (image/launch-order regenerates it):
// every function the launch touches elsewhere in the 40 MB executable costs a page fault that maps 64 KiB, and
// the exit unmaps it again. That needs lld (it ships with the Swift toolchain) and a section per function.
let packageDirectory = String(#filePath.dropLast("/Package.swift".count))
let launchOrder: [LinkerSetting] = [
    .unsafeFlags(["-use-ld=lld",
                  "-Xlinker", "--symbol-ordering-file=\(packageDirectory)/Sources/pit/launch.order",
                  "-Xlinker", "--no-warn-symbol-ordering"], .when(configuration: .release)),
]

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

        .target(name: "PitTOML"),
        // Process-level helpers shared by the long-running processes (supervisor, uplink agent).
        .target(name: "PitProcess"),
        // SHA-256 shared by policy hashes, the policy cache and persona MAC derivation.
        .target(name: "PitHash"),
        .target(name: "PitPolicy", dependencies: ["CSeccomp", "CPitShim", "PitHash"]),
        .target(name: "PitJail", dependencies: [
            "CPitShim", "CCap", "PitPolicy", "PitTOML", "PitHash", "PitProcess",
            .product(name: "SystemPackage", package: "swift-system"),
        ]),
        .target(name: "PitBoard", dependencies: [
            "CPitShim", "CGpiod", "PitTOML",
            .product(name: "SystemPackage", package: "swift-system"),
        ]),
        // OpenSSL's CPU detection moved from every process start to OpenSSL's first use (cpuid.c). -u keeps
        // the wrapped function linked: with --wrap, nothing else would pull it out of libcrypto.a.
        .target(name: "COpenSSLStart", linkerSettings: [
            .unsafeFlags(["-Xlinker", "--wrap=OPENSSL_cpuid_setup", "-Xlinker", "-u", "-Xlinker", "OPENSSL_cpuid_setup"],
                         .when(configuration: .release)),
        ]),
        .target(name: "PitUplink", dependencies: ["PitTOML", "COpenSSL", "COpenSSLStart", "PitProcess", "CZlib"], exclude: ["EVENTS.md"]),
        .executableTarget(name: "uplink-bench", dependencies: ["PitUplink"]),
        .executableTarget(name: "dns-bench", dependencies: ["PitUplink"]),
        .target(name: "PitConsole"),
        .executableTarget(name: "console-fuzz", dependencies: ["PitConsole"]),
        .target(name: "PitPersona", dependencies: ["PitTOML", "CPersonaShim", "PitHash"]),
        .executableTarget(name: "persona-probe", dependencies: ["PitPersona"]),
        .executableTarget(name: "policy-bench", dependencies: ["PitPolicy", "CPitShim"]),
        .executableTarget(name: "launch-bench", dependencies: ["PitJail"]),
        .executableTarget(name: "spool-writer", dependencies: ["PitUplink"]),
        .executableTarget(name: "spool-bench", dependencies: ["PitUplink"]),
        .target(name: "PitSupervisor", dependencies: ["CPitShim", "PitProcess", "PitJail", "PitPolicy", "PitBoard", "PitTOML", "PitUplink", "PitPersona", "PitConsole",
                                                     .product(name: "SystemPackage", package: "swift-system")]),
        // Start-up of the `pit` executable: its arguments taken from glibc instead of /proc/self/maps (argv.c).
        .target(name: "CPitStart"),
        .executableTarget(name: "pit", dependencies: [
            "PitJail", "PitPolicy", "PitSupervisor", "PitUplink", "CPitStart",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], exclude: ["launch.order"], linkerSettings: launchOrder),

        .testTarget(name: "PitTOMLTests", dependencies: ["PitTOML"]),
        .testTarget(name: "PitPolicyTests", dependencies: ["PitPolicy", "PitHash"]),
        .testTarget(name: "PitBoardTests", dependencies: ["PitBoard", "PitTOML", "CPitShim"]),
        .testTarget(name: "PitUplinkTests", dependencies: ["PitUplink", "spool-writer", "pit", "PitTestSupport"]),
        .testTarget(name: "PitConsoleTests", dependencies: ["PitConsole", "CPitShim"]),
        // Helpers for tests that drive the real `pit` (spawn, capture, scratch directories).
        .target(name: "PitTestSupport", path: "Tests/PitTestSupport"),
        .testTarget(name: "PitPersonaTests", dependencies: ["PitPersona", "PitTOML", "PitHash", "PitTestSupport", "persona-probe"], exclude: ["golden"]),
        .testTarget(name: "PitSupervisorTests", dependencies: ["PitSupervisor", "PitUplink", "CPitShim", "PitTestSupport", "pit"]),
        .testTarget(name: "PitJailTests", dependencies: ["PitJail", "PitTestSupport", "pit"], exclude: ["Fixtures"]),
    ]
)

// A section per function (release) in every target of this package, so the linker can order them (above).
// And type metadata reached through its accessor rather than through a mangled name: the first use of each
// generic type (an array of a new element type) otherwise runs the runtime's demangler; eight of the thirteen
// such lookups of a `pit run` go (interleaved A/B of fresh copies: about -20 us, within the noise).
for target in package.targets where target.type != .system && target.type != .test {
    target.swiftSettings = (target.swiftSettings ?? []) + [.unsafeFlags(["-Xfrontend", "-function-sections",
        "-Xfrontend", "-disable-concrete-type-metadata-mangled-name-accessors"], .when(configuration: .release))]
    target.cSettings = (target.cSettings ?? []) + [.unsafeFlags(["-ffunction-sections"], .when(configuration: .release))]
}
