// Test helper for PitPersonaTests: applies a persona or reads an interface back, printing one JSON
// object on stdout. The tests run it inside a throwaway network (and UTS) namespace, which is why it
// is a separate process: namespaces belong to processes, and the test runner must keep the host's.
//
//   persona-probe apply PERSONA.toml [--machine-id PATH] [--no-hostname]
//   persona-probe read IFACE
//   persona-probe smbconf PERSONA DATA_DIR PORT
//
// Exit status: 0 ok, 1 apply/read failed (PersonaError on stderr), 2 persona file error, 64 usage.
import Glibc
import PitPersona
import PitTOML

func fail(_ status: Int32, _ message: String) -> Never {
    let line = Array((message + "\n").utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(status)
}

func currentHostname() -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    _ = gethostname(&buffer, buffer.count - 1)
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

func jsonString(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        default: if scalar.value < 0x20 { out += "?" } else { out.unicodeScalars.append(scalar) }
        }
    }
    return out + "\""
}

var arguments = Array(CommandLine.arguments.dropFirst())
guard let command = arguments.first else { fail(64, "usage: persona-probe apply FILE [--machine-id PATH] [--no-hostname] | read IFACE") }
arguments.removeFirst()

switch command {
case "apply":
    guard let file = arguments.first else { fail(64, "apply: missing persona file") }
    var machineID = Persona.defaultMachineIDPath
    var options = ApplyOptions()
    var i = 1
    while i < arguments.count {
        switch arguments[i] {
        case "--machine-id" where i + 1 < arguments.count: machineID = arguments[i + 1]; i += 1
        case "--no-hostname": options.setHostname = false
        default: fail(64, "apply: unknown argument \(arguments[i])")
        }
        i += 1
    }
    let persona: Persona
    do { persona = try Persona.load(contentsOf: file, machineIDPath: machineID) } catch { fail(2, error.description) }
    do {
        let report = try persona.apply(options)
        let state = try LinkState.read(interface: persona.interface)
        print("{\"changes\":[\(report.changes.map(jsonString).joined(separator: ","))],\"hostname\":\(jsonString(currentHostname())),\"state\":\(state.json)}")
    } catch {
        fail(1, error.description)
    }
case "read":
    guard let name = arguments.first else { fail(64, "read: missing interface") }
    do { print(try LinkState.read(interface: name).json) } catch { fail(1, error.description) }
case "smbconf":
    // persona-probe smbconf PERSONA DATA_DIR PORT: prints the rendered smb.conf (for manual testparm runs).
    guard arguments.count == 3, let port = UInt16(arguments[2]) else { fail(64, "smbconf: PERSONA DATA_DIR PORT") }
    do {
        let persona = try Persona.load(contentsOf: arguments[0])
        print(SmbConf.render(persona, paths: SambaPaths(dataDirectory: arguments[1]), port: port), terminator: "")
    } catch { fail(2, error.description) }
default:
    fail(64, "unknown command \(command)")
}
