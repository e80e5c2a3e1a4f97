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
    // Help, man pages and completions come from RunCommand's option table, the one its parser reads.
    static let configuration = CommandConfiguration(
        abstract: "Run one command in a jail, like `nsjail -Mo`.",
        usage: "pit run [OPTIONS] -- COMMAND [ARGS...]",
        discussion: RunCommand.discussion())
    @Argument(parsing: .captureForPassthrough, help: "OPTIONS (below), then -- COMMAND [ARGS...]",
              completion: .custom { _, _, prefix in RunCommand.completions(of: prefix) })
    var arguments: [String] = []
    func run() throws { RunCommand.main(arguments) }
}
