import ArgumentParser
import PitUplink

/// `pit uplink-agent --config DEVICE_TOML`: the delivery loop, spawned by the supervisor. Logic in PitUplink.
struct UplinkAgentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "uplink-agent",
        abstract: "Deliver spooled events to the configured [[uplink]] transports (run by the supervisor).")

    @Option(name: .long, help: "The device config (TOML).")
    var config: String = "/etc/pit/device.toml"

    func run() throws {
        var agent = UplinkAgent(config: try UplinkConfig.load(devicePath: config))
        try agent.run()
    }
}

/// `pit uplink status|test`.
struct UplinkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "uplink", abstract: "Inspect and test event delivery.",
        subcommands: [UplinkStatusCommand.self, UplinkTestCommand.self])
}

struct UplinkStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show each transport's delivery state (from DATA/uplink/state.json).")

    @Option(name: .customLong("data-dir"), help: "The data directory.")
    var dataDirectory: String = "/var/lib/pit"

    @Flag(help: "Print the state file's JSON.")
    var json = false

    func run() throws {
        let state = try UplinkState.load(dataDirectory: dataDirectory)
        if json {
            print(String(decoding: state.jsonData(), as: UTF8.self),
                  terminator: "")
        } else {
            print(state.text, terminator: "")
        }
    }
}

struct UplinkTestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test", abstract: "Send an uplink_test event through every transport, bypassing the spool.")

    @Option(name: .long, help: "The device config (TOML).")
    var config: String = "/etc/pit/device.toml"

    func run() throws {
        let results = UplinkTester.run(try UplinkConfig.load(devicePath: config))
        if results.isEmpty { print("no [[uplink]] transports configured") }
        for result in results {
            print("\(result.name) (\(result.type)): " + (result.error.map { "FAILED: \($0)" } ?? "OK"))
        }
        if results.contains(where: { $0.error != nil }) { throw ExitCode(1) }
    }
}
