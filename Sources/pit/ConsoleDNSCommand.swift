import ArgumentParser
import PitUplink

/// `pit console-dns --zone Z --listen ADDR:PORT --keys DIR`: the console end of the DNS transport. Logic in
/// PitUplink (DNSConsole).
struct ConsoleDNSCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console-dns",
        abstract: "Serve a console zone over DNS: receive, verify and acknowledge events sent by the dns uplink.")

    @Option(help: "The zone this server is authoritative for (the devices' `zone`).")
    var zone: String

    @Option(help: "Where to listen, UDP and TCP: IPv4:PORT or [IPv6]:PORT.")
    var listen: String

    @Option(help: "Directory of device keys, <device>.key each (64 hex digits).")
    var keys: String

    @Option(help: "Directory for per-device replay state (<device>.state); default the keys directory.")
    var state: String?

    @Option(help: "Append JSON lines here (fsynced before each acknowledgement) instead of stdout.")
    var output: String?

    @Option(name: .customLong("max-udp"), help: "Largest UDP answer; larger ones are sent truncated (TC) for a TCP retry.")
    var maxUDP: Int = 1232

    @Flag(help: "Log every fragment to stderr.")
    var verbose = false

    func validate() throws {
        guard let name = DNSName(zone), !name.labels.isEmpty else { throw ValidationError("--zone: not a domain name: \(zone)") }
        guard (64...65535).contains(maxUDP) else { throw ValidationError("--max-udp: must be 64-65535") }
    }

    func run() throws {
        var config = DNSConsole.Config(zone: DNSName(zone)!, listen: listen, keysDirectory: keys, stateDirectory: state,
                                       output: output)
        config.maxUDP = maxUDP
        config.verbose = verbose
        var console = try DNSConsole(config: config)
        try console.run()
    }
}
