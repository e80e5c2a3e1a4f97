import ArgumentParser
import Glibc
import PitUplink

/// `pit console-dns --zone Z --listen ADDR:PORT --keys DIR` (`serve`, the default): the console end of the DNS
/// transport; `pit console-dns keygen DEVICE --keys DIR`: a new device key. Logic in PitUplink (DNSConsole).
struct ConsoleDNSCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console-dns",
        abstract: "The console end of the dns uplink: serve its zone, make device keys.",
        subcommands: [ConsoleDNSServeCommand.self, ConsoleDNSKeygenCommand.self],
        defaultSubcommand: ConsoleDNSServeCommand.self)
}

/// `pit console-dns keygen DEVICE --keys DIR`: writes DIR/DEVICE.key (64 hex digits, mode 600) and refuses to
/// replace an existing one; the device's `key_file` gets a copy of the same file.
struct ConsoleDNSKeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen", abstract: "Write a new random key for DEVICE into the keys directory (mode 600).")

    @Argument(help: "The device id (the uplink's `device`: 1-63 of [a-z0-9-]).")
    var device: String

    @Option(help: "Directory of device keys.")
    var keys: String

    func validate() throws {
        guard DNSTunnel.isValidDevice(device) else { throw ValidationError("DEVICE: must be 1-63 of [a-z0-9-], not starting with '-'") }
    }

    func run() throws {
        let path = keys + "/" + device + ".key"
        // O_EXCL: a key is never overwritten by mistake (rotating one is: write a new file, rename it over).
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw ValidationError("\(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let text = Array(DNSTunnel.keyFileText().utf8)
        guard text.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == text.count, fsync(fd) == 0 else {
            throw ValidationError("\(path): \(String(cString: strerror(errno)))")
        }
        print("wrote \(path): copy it to the device as its key_file (mode 600), device = \"\(device)\"")
    }
}

struct ConsoleDNSServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a console zone over DNS: receive, verify and acknowledge events sent by the dns uplink.")

    @Option(help: "The zone this server is authoritative for (the devices' `zone`).")
    var zone: String

    @Option(help: "Where to listen, UDP and TCP: IPv4:PORT or [IPv6]:PORT.")
    var listen: String

    @Option(help: "Directory of device keys, <device>.key each (64 hex digits; re-read when a file changes).")
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
