// TEMPORARY stub until the policy compiler lands.
import Glibc
public struct PolicyError: Error, CustomStringConvertible, Sendable {
    public var file: String; public var line: Int; public var column: Int; public var message: String
    public var sourceLine: String
    public var description: String { "\(file):\(line):\(column): \(message)" }
}
public struct SeccompArch: Hashable, Sendable, CustomStringConvertible {
    public static let native = SeccompArch(name: "x86_64")!
    public init?(name: String) { self.name = name }
    public var name: String
    public var auditValue: UInt32 { 0xC000003E }
    public var description: String { name }
}
public struct PolicySource: Sendable {
    public var text: String; public var file: String
    public init(text: String, file: String) { self.text = text; self.file = file }
    public static func read(path: String) throws(PolicyError) -> PolicySource { PolicySource(text: "", file: path) }
}
public enum PolicyAction: Equatable, Sendable { case allow, killProcess, killThread, errno(Int32), log, trap, report }
public struct PolicyLoadError: Error { public var errno: Int32 }
public struct CompiledPolicy: Sendable {
    public var file: String = ""
    public var hash: String = ""
    public var arch: SeccompArch = .native
    public var program: [UInt8] = []
    public var instructionCount: Int = 0
    public var needsListener: Bool = false
    public var allowedSyscalls: [String: Int] = [:]
    public var defaultAction: PolicyAction = .killProcess
    public func allows(_ syscallName: String) -> Bool { true }
    public func syscallName(number: Int) -> String? { nil }
    public func load() throws(PolicyLoadError) -> Int32 { -1 }
}
public enum PolicyCompiler {
    public static func compile(_ source: PolicySource, arch: SeccompArch = .native, extraArches: [SeccompArch] = []) throws(PolicyError) -> CompiledPolicy { CompiledPolicy() }
}
