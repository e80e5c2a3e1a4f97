import ArgumentParser
import Glibc
import PitSupervisor

/// `pit supervise` as swift-argument-parser shows it in `pit --help`; the real parsing is SuperviseMain's.
struct Supervise: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the appliance: jails in order, restarts, the health-gated watchdog, LEDs, the control socket.",
        discussion: "pit supervise [--config PATH] [--check]   (default config: \(DeviceConfig.defaultPath))")
    @Argument(parsing: .captureForPassthrough) var arguments: [String] = []
    func run() throws { SuperviseMain.main(arguments) }
}

enum SuperviseMain {
    static func main(_ arguments: [String]) -> Never {
        // First, before anything is opened: a closed stdout or stderr (started with >&-) would hand its number to
        // the next fd opened (the spool's lock, a jail's pipe, which then cannot be put on 1 and 2), and every
        // line written to "stderr" would land there. /dev/null holds the places.
        for fd: Int32 in 0...2 where fcntl(fd, F_GETFD) < 0 {
            let null = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY)
            if null >= 0 && null != fd { _ = dup2(null, fd); close(null) }
        }
        var config = DeviceConfig.defaultPath
        var check = false
        var index = 0
        while index < arguments.count {
            switch arguments[index] {
            case "--config" where index + 1 < arguments.count:
                config = arguments[index + 1]
                index += 1
            case let argument where argument.hasPrefix("--config="):
                config = String(argument.dropFirst(9))
            case "--check":
                check = true
            case "--help", "-h":
                print("USAGE: pit supervise [--config PATH] [--check]\n\n  --config PATH   the device config (default \(DeviceConfig.defaultPath))\n  --check         validate the config and exit")
                exit(0)
            default:
                writeError("pit supervise: unknown argument \(arguments[index]) (see pit supervise --help)\n")
                exit(2)
            }
            index += 1
        }
        let device: DeviceConfig
        do { device = try DeviceConfig.load(config) } catch {
            writeError("pit supervise: \(error)\n")
            exit(2)
        }
        if check {
            print("\(config): ok (\(device.jails.count) jails: \(device.jails.map(\.name).joined(separator: ", ")))")
            exit(0)
        }
        let recorder: EventRecorder
        do { recorder = try EventRecorder.open(dataDirectory: device.dataDirectory) } catch {
            writeError("pit supervise: \(error)\n")
            exit(2)
        }
        let supervisor = Supervisor(configPath: config, config: device, emit: recorder.record)
        supervisor.recentEvents = { recorder.recent }
        supervisor.logLinesDropped = { recorder.log?.dropped }
        let status: Int32
        do { status = try supervisor.run() } catch {
            recorder.log?.flush()
            writeError("pit supervise: \(error)\n")
            exit(2)
        }
        recorder.log?.flush()
        exit(status)
    }
}

enum DeviceConfigDefaults {
    static let path = DeviceConfig.defaultPath
    static let socket = "/run/pit/control.sock"
}

/// Shared by the control commands: where the supervisor listens.
struct SocketOption: ParsableArguments {
    @Option(name: .long, help: "The supervisor's control socket.")
    var socket: String = DeviceConfigDefaults.socket

    func send(_ request: String) throws -> String {
        do { return try ControlClient.request(request, socketPath: socket) } catch {
            writeError("pit: \(error)\n")
            throw ExitCode(2)
        }
    }
}

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show the supervisor's state.")
    @OptionGroup var socket: SocketOption
    @Flag(name: .long, help: "Print the JSON the supervisor answers.") var json = false

    func run() throws {
        let answer = try socket.send("status")
        if json { print(answer); return }
        print(StatusText.render(answer))
    }
}

struct Restart: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Restart a jail (its crash-loop count is cleared).")
    @OptionGroup var socket: SocketOption
    @Argument var jail: String
    func run() throws { try answer(socket.send("restart \(jail)")) }
}

struct Stop: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Stop a jail until `pit start`.")
    @OptionGroup var socket: SocketOption
    @Argument var jail: String
    func run() throws { try answer(socket.send("stop \(jail)")) }
}

struct Start: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Start a stopped (or crash-looping) jail.")
    @OptionGroup var socket: SocketOption
    @Argument var jail: String
    func run() throws { try answer(socket.send("start \(jail)")) }
}

private func answer(_ line: String) throws {
    guard line.contains("\"ok\":true") else {
        writeError("pit: \(line)\n")
        throw ExitCode(1)
    }
}

struct ClearSafeMode: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clear-safe-mode", abstract: "Leave safe mode: reset the watchdog boot counter and start the jails.")
    @OptionGroup var socket: SocketOption
    func run() throws { try answer(socket.send("clear-safe-mode")) }
}
