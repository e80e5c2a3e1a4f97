import ArgumentParser
import PitProcess

struct Pit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pit",
        abstract: "Jails, supervises and reports for a honeypot appliance.",
        version: pitVersion,
        subcommands: [Run.self] + extraSubcommands)
}

/// `pit run` as swift-argument-parser sees it: only reached through `pit help run` or odd spellings;
/// the real parsing is RunCommand's.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run one command in a jail, like `nsjail -Mo` (see `pit run --help`).")
    @Argument(parsing: .captureForPassthrough) var arguments: [String] = []
    func run() throws { RunCommand.main(arguments) }
}
