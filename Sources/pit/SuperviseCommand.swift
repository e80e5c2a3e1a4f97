import FoundationEssentials
import ArgumentParser
import Glibc
import PitProcess
import PitSupervisor

/// `pit supervise` as swift-argument-parser shows it in `pit --help`; the real parsing is SuperviseMain's.
struct Supervise: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the appliance: jails in order, restarts, the health-gated watchdog, LEDs, the control socket.",
        usage: "pit supervise [--config PATH] [--check]",
        discussion: SuperviseMain.help)
    @Argument(parsing: .captureForPassthrough, help: "OPTIONS (below)",
              completion: .custom { _, _, prefix in SuperviseMain.options.map(\.name).filter { $0.hasPrefix(prefix) } })
    var arguments: [String] = []
    func run() throws { SuperviseMain.main(arguments) }
}

enum SuperviseMain {
    /// The options SuperviseMain's parser takes: its help, `pit help supervise` and completions say these.
    static let options: [(name: String, value: String?, help: String)] = [
        ("--config", "PATH", "the device config (default \(DeviceConfig.defaultPath))"),
        ("--check", nil, "validate the config and every file it names, then exit"),
    ]
    static var help: String {
        "OPTIONS:\n" + options.map { "  " + ($0.name + ($0.value.map { " " + $0 } ?? "")).padding(to: 16) + $0.help }.joined(separator: "\n")
    }

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
                print("USAGE: pit supervise [--config PATH] [--check]\n\n" + help)
                exit(0)
            default:
                let hint = Suggestion.closest(to: arguments[index], in: options.map(\.name)).map { " (did you mean \($0)?)" } ?? ""
                writeError("pit supervise: unknown argument \(arguments[index])\(hint); see pit supervise --help\n")
                exit(ExitStatus.usage)
            }
            index += 1
        }
        let device: DeviceConfig
        // Running, a broken persona leaves the rest of the device up (DeviceConfig.personaProblem); --check refuses it.
        do { device = try DeviceConfig.load(config, tolerateDecoyErrors: !check) } catch {
            writeError("pit supervise: \(error)\n")
            exit(ExitStatus.failure)
        }
        if check {
            print("\(config): ok (\(device.jails.count) jails: \(device.jails.map(\.name).joined(separator: ", ")))")
            exit(0)
        }
        let recorder: EventRecorder
        do { recorder = try EventRecorder.open(dataDirectory: device.dataDirectory) } catch {
            writeError("pit supervise: \(error)\n")
            exit(ExitStatus.failure)
        }
        let supervisor = Supervisor(configPath: config, config: device, emit: recorder.record)
        supervisor.recentEvents = { recorder.recent }
        supervisor.logLinesDropped = { recorder.log?.dropped }
        supervisor.say = recorder.say
        recorder.say("supervising \(device.jails.count) jail(s) from \(config): \(device.jails.map(\.name).joined(separator: ", ")); "
            + "control socket \(device.controlSocket), data \(device.dataDirectory)")
        let status: Int32
        do { status = try supervisor.run() } catch {
            recorder.log?.flush()
            writeError("pit supervise: \(error)\n")
            exit(ExitStatus.failure)
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
    @Option(name: .long, help: "The supervisor's control socket (default: the config's control_socket).")
    var socket: String?

    @Option(name: .long, help: "The device config whose control_socket to use (default \(DeviceConfig.defaultPath)).")
    var config: String?

    func validate() throws {
        if socket != nil && config != nil { throw ValidationError("give --socket or --config, not both") }
    }

    /// --socket, else the control_socket of --config, else the default config's if it can be read, else the default.
    var path: String {
        get throws {
            if let socket { return socket }
            do { return try DeviceConfig.locations(config ?? DeviceConfig.defaultPath).controlSocket } catch {
                if config == nil { return DeviceConfigDefaults.socket }
                writeError("pit: \(error)\n")
                throw ExitCode(ExitStatus.failure)
            }
        }
    }

    func send(_ request: String) throws -> String {
        let socket = try path
        do { return try ControlClient.request(request, socketPath: socket) } catch {
            writeError("pit: \(error)\n")
            throw ExitCode(ExitStatus.unavailable)
        }
    }
}

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the supervisor's state (exit status 1 when it is not healthy).",
        discussion: "Not healthy: the health gate failing or starving the watchdog, safe mode, a jail crash-looping or failing to start, or an uplink alarm (events that could be lost: pit uplink status).")
    @OptionGroup var socket: SocketOption
    @Flag(name: .long, help: "Print the JSON the supervisor answers.") var json = false

    func run() throws {
        let answer = try socket.send("status")
        print(json ? answer : StatusText.render(answer))
        // Like `systemctl is-system-running`: a script asks "is the box well?" with the exit status alone.
        if let problem = StatusText.problem(answer) {
            if !json { writeError("pit status: not healthy: \(problem)\n") }
            throw ExitCode(ExitStatus.failure)
        }
    }
}

struct Restart: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Restart a jail (its crash-loop count is cleared).")
    @OptionGroup var socket: SocketOption
    @Argument var jail: String
    func run() throws { try answer(socket.send("restart \(jail)"), command: "restart \(jail)") }
}

struct Stop: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Stop a jail until `pit start`; returns once it has stopped (as systemctl stop does).")
    @OptionGroup var socket: SocketOption
    @Flag(name: .long, help: "Return once the stop is asked for, without waiting for the jail to end.")
    var noBlock = false
    @Option(name: .long, help: "Seconds to wait for the jail to end (exit status 1 past them).")
    var timeout: Int = 90
    @Argument var jail: String

    func run() throws {
        try answer(socket.send("stop \(jail)"), command: "stop \(jail)")
        guard !noBlock else { return }
        // The supervisor sends SIGTERM, then SIGKILL after the jail's stop grace: poll until it has seen the end.
        // Four times a second against the clock: each status is built on the supervisor's loop.
        let deadline = monotonicMilliseconds() + Int64(max(timeout, 0)) * 1000
        while monotonicMilliseconds() < deadline {
            let status = try? JSONDecoder().decode(SupervisorStatus.self, from: Data(try socket.send("status").utf8))
            if status?.jails.first(where: { $0.name == jail })?.state == "stopped" { return }
            usleep(250_000)
        }
        writeError("pit stop \(jail): still stopping after \(timeout) s\n")
        throw ExitCode(ExitStatus.failure)
    }
}

struct Start: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Start a stopped (or crash-looping) jail.")
    @OptionGroup var socket: SocketOption
    @Argument var jail: String
    func run() throws { try answer(socket.send("start \(jail)"), command: "start \(jail)") }
}

/// A control reply: `{"ok":true}`, or `{"ok":false,"error":"..."}` said as one plain line.
private func answer(_ line: String, command: String) throws {
    guard line.contains("\"ok\":true") else {
        let error = ControlReply.error(in: line) ?? line
        writeError("pit \(command): \(Printable.escaped(error))\n")
        throw ExitCode(ExitStatus.failure)
    }
}

struct ClearSafeMode: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clear-safe-mode", abstract: "Leave safe mode: reset the watchdog boot counter and start the jails.")
    @OptionGroup var socket: SocketOption
    func run() throws { try answer(socket.send("clear-safe-mode"), command: "clear-safe-mode") }
}
